"""The paper style of every figure this package draws, in force only while it draws or saves one.

Importing handover_abm never changes a user's own matplotlib settings (rcParams): each drawing
function runs under `styled`, matplotlib's rc_context, which puts them back afterwards. A figure
handed to a user (the notebook API's `.plot()`) is a `PaperFigure`, which saves with the paper's
settings (300 dpi, SVG text as text) whenever the user saves it. Imports no pyplot, so no backend
is chosen here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import matplotlib as mpl
from matplotlib.figure import Figure

PAPER_STYLE: dict[str, Any] = {
    "figure.dpi": 110,
    "savefig.dpi": 300,  # journals ask for 300 dpi
    "svg.fonttype": "none",  # text in an SVG stays editable text
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
}
SAVE_KEYS = ("savefig.dpi", "svg.fonttype")  # read when a figure is saved, not when it is drawn


def styled[F: Callable[..., Any]](fn: F) -> F:
    """`fn` run with PAPER_STYLE in force; the user's settings are put back after it returns."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mpl.rc_context(PAPER_STYLE):
            return fn(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


class PaperFigure(Figure):
    """A figure that saves with the paper style's save settings, whenever and wherever it is saved
    (pass `dpi=` to override)."""

    def savefig(self, *args: Any, **kwargs: Any) -> None:
        """Figure.savefig with SAVE_KEYS of PAPER_STYLE in force."""
        with mpl.rc_context({key: PAPER_STYLE[key] for key in SAVE_KEYS}):
            super().savefig(*args, **kwargs)
