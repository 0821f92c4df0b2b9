"""The official MCP JSON schema files, for `make spec-check` only.

`make check` validates with the official SDK's wire types (`support.mcp_schema`) and reads nothing outside
the repository. `make spec-check` sets `PYMCP_SPEC_DIR` to a folder holding `mcp-schema-<version>.json`
(the official schema files, one per revision) and reruns the wire tests: every message is then checked
against the schema files as well. With `PYMCP_SPEC_DIR` unset, `schema_errors` finds nothing to check.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema

__all__ = ["schema_errors", "spec_dir"]

# The 2025-03-26 and 2025-06-18 schemas name the response envelopes differently.
OLD_ENVELOPES = {"JSONRPCErrorResponse": "JSONRPCError", "JSONRPCResultResponse": "JSONRPCResponse"}


def spec_dir() -> Path | None:
    """The folder named by `PYMCP_SPEC_DIR`, or None when schema files are not to be read."""
    configured = os.environ.get("PYMCP_SPEC_DIR")
    if not configured:
        return None
    folder = Path(configured)
    if not folder.is_dir():
        raise FileNotFoundError(
            f"`PYMCP_SPEC_DIR` is `{configured}`, which is not a folder: it must hold the official "
            "`mcp-schema-<version>.json` files (make spec-check SPEC_DIR=/path/to/spec)"
        )
    return folder


@functools.cache
def _schema(folder: Path, version: str) -> dict[str, Any]:
    path = folder / f"mcp-schema-{version}.json"
    if not path.is_file():
        raise FileNotFoundError(f"`{path}` is missing: the spec folder needs one schema file per revision")
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


@functools.cache
def _validator(folder: Path, version: str, definition: str) -> jsonschema.protocols.Validator:
    schema = _schema(folder, version)
    key = "$defs" if "$defs" in schema else "definitions"
    if definition not in schema[key]:
        definition = OLD_ENVELOPES.get(definition, definition)
    if definition not in schema[key]:
        raise KeyError(f"{definition} is not defined in the {version} schema")
    root = {**schema, "$ref": f"#/{key}/{definition}"}
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(root, format_checker=validator_class.FORMAT_CHECKER)  # type: ignore[no-any-return]


def schema_errors(version: str, definition: str, instance: Any) -> list[str]:
    """Every way `instance` breaks `definition` of the `version` schema file; empty without a spec folder."""
    folder = spec_dir()
    if folder is None:
        return []
    validator = _validator(folder, version, definition)
    return [
        f"schema {list(error.absolute_path)}: {error.message}"
        for error in sorted(validator.iter_errors(instance), key=lambda error: list(error.path))
    ]
