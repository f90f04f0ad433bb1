"""The package loads what it needs when it needs it: the command line answers --help and bad input
without importing Mesa, pandas or SciPy, and the public names stay the functions they name."""

from __future__ import annotations

import subprocess
import sys
from types import ModuleType

import handover_abm as ha

HEAVY = ("mesa", "pandas", "scipy")


def _imported_after(code: str) -> list[str]:
    probe = f"import sys; {code}; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in out.stdout.strip().split(",") if m]


def test_the_command_line_starts_without_the_model_pandas_or_scipy() -> None:
    assert _imported_after("import handover_abm.cli") == []
    assert _imported_after("import handover_abm.config") == []


def test_public_names_are_the_functions_even_after_their_submodules_are_imported() -> None:
    import handover_abm.sensitivity
    import handover_abm.simulate
    import handover_abm.sweep  # noqa: F401 - each sets a package attribute of the same name

    assert sorted(ha.__all__) == sorted(ha._EXPORTS)
    for name in ha.__all__:
        value = getattr(ha, name)
        assert not isinstance(value, ModuleType), name
        assert value.__name__ == name


def test_a_command_says_when_it_must_first_compile_the_kernels(tmp_path, monkeypatch, capsys) -> None:
    """The first run on a machine compiles for about a minute: the command says so instead of
    sitting silent; with the kernels cached for today's sources it says nothing."""
    from handover_abm import cli, kernel_cache
    from handover_abm.simulate import simulate
    from tests.conftest import small_scenario

    simulate(small_scenario(days=5), seed=1)  # compiles the kernels, or loads them from the cache
    assert kernel_cache.cached()
    cli._progress()
    assert "Compiling" not in capsys.readouterr().err
    monkeypatch.setattr(kernel_cache, "STAMP", tmp_path / "kernels.sha256")  # as on a fresh install
    assert not kernel_cache.cached()
    cli._progress()
    assert "Compiling the model's kernels (once per install" in capsys.readouterr().err
