"""SALib wiring checked on functions with known indices."""

from __future__ import annotations

import numpy as np

from handover_abm.sensitivity import analyse, problem_for, sample_unit


def _ishigami(unit: np.ndarray) -> np.ndarray:
    x = -np.pi + 2 * np.pi * unit  # map [0, 1] to [-pi, pi]
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_sobol_recovers_ishigami_indices() -> None:
    """Analytic values (Ishigami & Homma 1990; Saltelli et al. 2008).

    S1 = .314, .442, 0 and ST = .558, .442, .244.
    """
    problem = problem_for(["x1", "x2", "x3"])
    x = sample_unit("sobol", problem, 2048, seed=1)
    table = analyse("sobol", problem, x, _ishigami(x), seed=1)
    assert np.allclose(table["S1"], [0.314, 0.442, 0.0], atol=0.05)
    assert np.allclose(table["ST"], [0.558, 0.442, 0.244], atol=0.05)
    assert (table["ST_conf"] > 0).all()


def test_morris_ranks_a_linear_function() -> None:
    """y = 10 a + 3 b + 0 c: mu* is proportional to the coefficients (exact for a linear function)."""
    problem = problem_for(["a", "b", "c"])
    x = sample_unit("morris", problem, 20, seed=2)
    y = 10 * x[:, 0] + 3 * x[:, 1]
    table = analyse("morris", problem, x, y, seed=2).set_index("parameter")
    assert np.allclose(table.loc[["a", "b", "c"], "mu_star"], [10, 3, 0], atol=1e-9)
    assert np.allclose(table["sigma"], 0, atol=1e-9)
