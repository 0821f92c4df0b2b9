"""Typed errors that cross layers; they become JSON-RPC error objects in one place (the dispatcher)."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

__all__ = ["ErrorCode", "MCPError"]


class ErrorCode(IntEnum):
    """JSON-RPC 2.0 and MCP error codes (names as in pymcp-kit 0.3.0's `MCPErrorCode`)."""

    PARSE_ERROR = -32700
    INVALID_REQUEST = -32600
    METHOD_NOT_FOUND = -32601
    INVALID_PARAMS = -32602
    INTERNAL_ERROR = -32603
    SESSION_NOT_FOUND = -32001
    RESOURCE_NOT_FOUND = -32002
    TOOL_EXECUTION_FAILED = -32003
    CANCELLED = -32004
    TIMEOUT = -32005
    UNAUTHORIZED = -32006
    FORBIDDEN = -32007
    RATE_LIMITED = -32008
    HEADER_MISMATCH = -32020
    MISSING_REQUIRED_CLIENT_CAPABILITY = -32021
    UNSUPPORTED_PROTOCOL_VERSION = -32022
    URL_ELICITATION_REQUIRED = -32042


class MCPError(Exception):
    """An error that is answered to the client as a JSON-RPC error object.

    `http_status` is used by the HTTP transport when the error answers a whole POST (for example 403
    for a denied request); it never changes the JSON-RPC body.
    """

    def __init__(
        self,
        code: int,
        message: str,
        data: Any = None,
        *,
        http_status: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message
        self.data = data
        self.http_status = http_status
        self.headers = headers or {}

    def to_error(self) -> dict[str, Any]:
        """The JSON-RPC `error` member."""
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error

    def __repr__(self) -> str:
        return f"MCPError(code={self.code}, message={self.message!r})"
