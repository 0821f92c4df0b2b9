"""Protocol revisions: which ones exist, which a mode serves, and `initialize` version negotiation."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "BATCH_VERSIONS",
    "DRAFT_VERSIONS",
    "KNOWN_VERSIONS",
    "STABLE_VERSIONS",
    "negotiate",
    "supports_batches",
    "versions_for_mode",
]

# Newest first: negotiation answers an unsupported request with the first one.
STABLE_VERSIONS: tuple[str, ...] = ("2025-11-25", "2025-06-18", "2025-03-26")
# 2026-07-28: stateless, no `initialize`; every request names its version in `_meta`.
DRAFT_VERSIONS: tuple[str, ...] = ("2026-07-28",)
KNOWN_VERSIONS: frozenset[str] = frozenset((*STABLE_VERSIONS, *DRAFT_VERSIONS, "2024-11-05"))
# Only 2025-03-26 allows JSON-RPC batches; later revisions removed them.
BATCH_VERSIONS: frozenset[str] = frozenset(("2025-03-26",))


def versions_for_mode(mode: str) -> tuple[str, ...]:
    """The revisions a `protocol_mode` serves ("stable", "draft" or "dual"), newest first."""
    if mode == "stable":
        return STABLE_VERSIONS
    if mode == "draft":
        return DRAFT_VERSIONS
    if mode == "dual":
        return (*DRAFT_VERSIONS, *STABLE_VERSIONS)
    raise ValueError(f"unknown protocol mode `{mode}` (expected `stable`, `draft` or `dual`)")


def negotiate(requested: object, initializable: Sequence[str]) -> str:
    """The version `initialize` answers: the requested one when we speak it, else our latest."""
    if isinstance(requested, str) and requested in initializable:
        return requested
    return initializable[0]


def supports_batches(version: str | None) -> bool:
    """Whether a session negotiated at `version` may send JSON-RPC batches."""
    return version in BATCH_VERSIONS
