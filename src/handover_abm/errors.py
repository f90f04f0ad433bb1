"""Errors the command line turns into one paragraph and a non-zero exit (no traceback).

Kept apart from the modules that raise them so that the command line can catch them without
importing those modules' dependencies (pandas, Mesa) before it needs to.
"""

from __future__ import annotations


class OutputError(Exception):
    """An output file that could not be written; the message names it, says why and what to do."""
