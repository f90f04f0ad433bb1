"""handover-abm: an agent-based model (Mesa) of handovers and care fragmentation in primary care.

The public names below are imported on first use, so that importing one module of the package
(`handover_abm.config`, or the command line answering `--help` or bad input) does not load Mesa,
pandas and SciPy first.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from handover_abm.api import Comparison, SensitivityResult, SweepResult, compare, sensitivity, sweep
    from handover_abm.config import ConfigError, Scenario, load_scenario
    from handover_abm.model import HandoverModel
    from handover_abm.simulate import Outcomes, simulate

_EXPORTS = {  # public name -> the module that defines it
    "Comparison": "api",
    "ConfigError": "config",
    "HandoverModel": "model",
    "Outcomes": "simulate",
    "Scenario": "config",
    "SensitivityResult": "api",
    "SweepResult": "api",
    "compare": "api",
    "load_scenario": "config",
    "sensitivity": "api",
    "simulate": "simulate",
    "sweep": "api",
}
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


class _Package(ModuleType):
    """The package: loads a public name when it is first asked for, and keeps the functions
    `simulate`, `sweep` and `sensitivity` bound when the submodules of the same names are imported
    (the import system would otherwise set the package attribute to the submodule)."""

    def __getattr__(self, name: str) -> Any:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = getattr(import_module(f"{self.__name__}.{module}"), name)
        ModuleType.__setattr__(self, name, value)
        return value

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, ModuleType):
            return  # the submodule stays importable by its full name (sys.modules)
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
