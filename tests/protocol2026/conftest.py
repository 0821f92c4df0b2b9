"""Helpers for the 2026-07-28 tests: request envelopes, headers and the official wire types."""

from __future__ import annotations

from typing import Any

from pymcp.protocol.stateless.envelope import CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, PROTOCOL_VERSION_KEY
from support.mcp_schema import wire_errors

VERSION = "2026-07-28"
SUPPORTED = (VERSION,)


def meta(capabilities: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A valid request `_meta`."""
    return {
        PROTOCOL_VERSION_KEY: VERSION,
        CLIENT_INFO_KEY: {"name": "tests", "version": "1.0"},
        CLIENT_CAPABILITIES_KEY: capabilities if capabilities is not None else {},
        **extra,
    }


def schema_errors(definition: str, instance: Any) -> list[str]:
    """Every way `instance` breaks the official 2026-07-28 wire type `definition` (see support.mcp_schema)."""
    return wire_errors(VERSION, definition, instance)
