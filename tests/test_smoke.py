"""The default config validates and a small scenario runs end to end."""

from handover_abm.config import load_scenario
from handover_abm.simulate import simulate
from tests.conftest import CONFIGS, small_scenario


def test_shipped_configs_validate() -> None:
    for path in sorted(CONFIGS.glob("*.yaml")):
        scenario = load_scenario(path)
        assert scenario.team, path


def test_small_run_completes_episodes() -> None:
    out = simulate(small_scenario(), seed=3)
    assert out.summary["episodes_completed"] > 100
    assert len(out.daily["day"]) == 40


def test_core_never_imports_the_ui() -> None:
    import subprocess
    import sys

    code = (
        "import sys, handover_abm, handover_abm.cli, handover_abm.sweep, handover_abm.plots; "
        "print(sorted(m for m in ('solara', 'handover_abm.app', 'distributed') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
