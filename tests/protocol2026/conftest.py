"""Helpers for the 2026-07-28 tests: request envelopes, headers and the official JSON schema."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

from pymcp.protocol.draft.envelope import CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, PROTOCOL_VERSION_KEY

SCHEMA_PATH = Path("/work/shared/spec/mcp-schema-2026-07-28.json")
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


@functools.cache
def _schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())  # type: ignore[no-any-return]


@functools.cache
def _validator(definition: str) -> jsonschema.protocols.Validator:
    schema = _schema()
    wrapper = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    cls = jsonschema.validators.validator_for(wrapper)
    return cls(wrapper, format_checker=cls.FORMAT_CHECKER)  # type: ignore[no-any-return]


def schema_errors(definition: str, instance: Any) -> list[str]:
    """Every way `instance` breaks `$defs/<definition>` of the official 2026-07-28 schema."""
    return [error.message for error in _validator(definition).iter_errors(instance)]
