"""Reference glob: Python's own `fnmatch.fnmatchcase` (via the reference policy), which the Rust glob must
equal exactly."""

from __future__ import annotations

from pymcp.security.reference import fnmatchcase

__all__ = ["fnmatchcase", "globset_matches"]


def globset_matches(patterns: list[str], name: str) -> list[int]:
    """Indexes of the patterns matching `name`, ascending (what `GlobSet.matches` returns)."""
    return [index for index, pattern in enumerate(patterns) if fnmatchcase(name, pattern)]
