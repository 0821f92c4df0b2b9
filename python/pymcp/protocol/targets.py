"""Which request names a target, and in which params field: the one table the security layer, the
policy wrapper and the 2026-07-28 `Mcp-Name` header read. The Rust core keeps its own compiled copy
of the kinds (`target_kind` in rust/core/src/policy.rs): it sees target strings, never params."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["SUBSCRIPTION_METHODS", "TARGET_KEYS", "TARGET_KINDS"]

TARGET_KEYS: Final[Mapping[str, str]] = MappingProxyType(
    {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
)
"""Method → the params field naming its one target."""

SUBSCRIPTION_METHODS: Final = frozenset({"resources/subscribe", "resources/unsubscribe"})
"""Methods that may name several resources (`uri`, and `uris` in the 2026-07-28 revision)."""

TARGET_KINDS: Final[Mapping[str, str]] = MappingProxyType(
    {"tools/call": "tool", "prompts/get": "prompt", "resources/read": "resource"}
    | dict.fromkeys(SUBSCRIPTION_METHODS, "resource")
)
"""Method → the policy rule key (`tool`, `prompt`, `resource`) that can target it."""
