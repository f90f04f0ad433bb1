"""handover-abm: an agent-based model (Mesa) of handovers and care fragmentation in primary care."""

from handover_abm.config import ConfigError, Scenario, load_scenario
from handover_abm.model import HandoverModel
from handover_abm.simulate import Outcomes, simulate

__all__ = ["ConfigError", "HandoverModel", "Outcomes", "Scenario", "load_scenario", "simulate"]
