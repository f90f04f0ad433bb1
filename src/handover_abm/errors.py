"""Errors the command line turns into one paragraph and a non-zero exit (no traceback).

Kept apart from the modules that raise them so that the command line can catch them without
importing those modules' dependencies (pandas, Mesa) before it needs to.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A config, option, spec or input file that cannot be used; the message is meant for the user,
    not a traceback (the command line prints it as one paragraph and exits 2)."""


class OutputError(Exception):
    """An output file that could not be written; the message names it, says why and what to do."""


class RunsFailed(Exception):
    """Runs that raised or that every attempt lost, so the study they belong to has no answer: the
    message says how many, names the first and what to do (the command line exits 1)."""
