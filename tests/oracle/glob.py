"""Reference glob: Python's own `fnmatch.fnmatchcase`, which the Rust glob must equal exactly."""

from __future__ import annotations

import fnmatch
import warnings

__all__ = ["fnmatchcase", "globset_matches"]


def fnmatchcase(name: str, pattern: str) -> bool:
    """`fnmatch.fnmatchcase`, with `re`'s "possible nested set" FutureWarnings silenced (harmless)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fnmatch.fnmatchcase(name, pattern)


def globset_matches(patterns: list[str], name: str) -> list[int]:
    """Indexes of the patterns matching `name`, ascending (what `GlobSet.matches` returns)."""
    return [index for index, pattern in enumerate(patterns) if fnmatchcase(name, pattern)]
