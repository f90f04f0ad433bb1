"""handover-abm: an agent-based model (Mesa) of handovers and care fragmentation in primary care."""

from handover_abm.api import Comparison, SensitivityResult, SweepResult, compare, sensitivity, sweep
from handover_abm.config import ConfigError, Scenario, load_scenario
from handover_abm.model import HandoverModel
from handover_abm.simulate import Outcomes, simulate

__all__ = [
    "Comparison",
    "ConfigError",
    "HandoverModel",
    "Outcomes",
    "Scenario",
    "SensitivityResult",
    "SweepResult",
    "compare",
    "load_scenario",
    "sensitivity",
    "simulate",
    "sweep",
]
