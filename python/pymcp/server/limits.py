"""Checks that run before a request is authorized or handled: what a target may look like, what a session
may store. Each refusal is a clear `-32602` naming the limit (docs/security.md lists them all)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from pymcp import _core
from pymcp.errors import ErrorCode, MCPError
from pymcp.registry.resources import check_resource_uri

__all__ = ["check_client_info_size", "check_depth", "check_targets", "params_object"]

_URI_METHODS = frozenset(("resources/read", "resources/subscribe", "resources/unsubscribe"))


def check_targets(method: str, params: Any) -> None:
    """Refuse resource URIs with dot segments before authorization sees them (a `res://public/*` rule
    must not allow `res://public/../admin/x`)."""
    if method not in _URI_METHODS or not isinstance(params, Mapping):
        return
    uri = params.get("uri")
    if isinstance(uri, str):
        check_resource_uri(uri)
    uris = params.get("uris")
    if isinstance(uris, list):
        for item in uris:
            if isinstance(item, str):
                check_resource_uri(item)


def check_client_info_size(
    client_info: Mapping[str, Any], capabilities: Mapping[str, Any], limit: int
) -> None:
    """Refuse an `initialize` whose `clientInfo` and `capabilities` (kept for the session's life) exceed
    `limit` bytes of JSON."""
    try:
        size = len(orjson.dumps(client_info)) + len(orjson.dumps(capabilities))
    except TypeError:
        size = limit + 1
    if size > limit:
        raise MCPError(
            ErrorCode.INVALID_PARAMS,
            f"`clientInfo` and `capabilities` take {size} bytes, more than `max_client_info_bytes` ({limit})",
        )


def check_depth(params: Any, limit: int, max_array: int) -> None:
    """Refuse `params` nested deeper than `limit` arrays and objects (deeper values could not even be
    encoded again: orjson stops at 255), or holding an array longer than `max_array`. One pass in Rust
    over the containers only (rules in rust/core/src/nesting.rs; tests/oracle/nesting.py is the
    reference); the shallowest problem is the one named."""
    violation = _core.nesting_violation(params, limit, max_array)
    if violation == 0:
        return
    if violation < 0:
        raise MCPError(
            ErrorCode.INVALID_PARAMS, f"`params` are nested deeper than `max_json_depth` ({limit})"
        )
    raise MCPError(
        ErrorCode.INVALID_PARAMS,
        f"`params` hold an array of {violation} items, more than `max_json_array_length` ({max_array})",
    )


def params_object(params: dict[str, Any] | list[Any] | None) -> dict[str, Any]:
    """A request's `params` as an object (`{}` when absent); refuses a list or a `_meta` that is not one."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise MCPError(ErrorCode.INVALID_PARAMS, "`params` must be an object")
    if "_meta" in params and not isinstance(params["_meta"], dict):
        raise MCPError(ErrorCode.INVALID_PARAMS, "params._meta must be an object")
    return params
