"""What every handler room uses: reading params, running user code, and gated, paged lists."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError, jsonrpc_error
from pymcp.server.pagination import page

if TYPE_CHECKING:
    from pymcp.security.gate import SecurityGate
    from pymcp.server.call import Call

__all__ = ["Visibility", "object_param", "shielded", "string_param"]

logger = logging.getLogger("pymcp.server")


def string_param(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str):
        raise MCPError(ErrorCode.INVALID_PARAMS, f"`{key}` must be a string")
    return value


def object_param(params: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = params.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MCPError(ErrorCode.INVALID_PARAMS, f"`{key}` must be an object")
    return value


async def shielded(what: str, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run user code: an `MCPError` it raises is answered as is; anything else is logged and becomes
    `-32603 "<what> failed"`, with no detail for the client."""
    try:
        return await work
    except Exception as exc:
        error = jsonrpc_error(exc, internal=f"{what} failed")
        if error is exc:
            raise
        logger.exception("%s failed", what)
        raise error from None


class Visibility:
    """What a caller may see: the gate's filter over `*/list` answers (one page at a time) and its
    verdict on single targets; without a gate everything is visible."""

    __slots__ = ("gate", "page_size")

    def __init__(self, gate: SecurityGate | None, page_size: int) -> None:
        self.gate = gate
        self.page_size = page_size

    def list_page(
        self, call: Call, method: str, kind: str, key: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        gate = self.gate
        if gate is not None:
            items = gate.filter_list(call.principal, method, items)
        return page(kind, key, items, call.params.get("cursor"), self.page_size)

    def allows(self, call: Call, method: str, params: Mapping[str, Any]) -> bool:
        """Whether the caller may make this request (nothing raised, nothing logged)."""
        gate = self.gate
        return gate is None or bool(gate.allows(call.principal, method, params))
