"""The error tree, and the one place an error becomes a JSON-RPC error object.

```
PymcpError
├── ProtocolError (= MCPError)       answered as a JSON-RPC error: code, message, data
│   └── StoreUnavailable             the state store could not be reached: -32603, HTTP 503
├── AuthenticationError              credentials were sent and are not valid (401)
├── AuthorizationError               the principal may not do this (403, or 401 when anonymous)
├── PolicyError (also ValueError)    a policy that cannot be loaded: rule_index, rule_id, key
├── InvalidArgument                  a call's arguments do not match the input schema
└── TaskCancelled (alias CancelledError in pymcp.tasks)   the task was cancelled
```
Old names stay importable from where they were (`pymcp.security.authz.AuthenticationError`,
`pymcp.server.session.SessionStoreError`, `pymcp.registry.signature.InvalidArgument`, ...).
`jsonrpc_error` turns any exception into the `ProtocolError` to answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any

from pymcp import _core

__all__ = [
    "STORE_UNAVAILABLE",
    "AuthenticationError",
    "AuthorizationError",
    "ErrorCode",
    "InvalidArgument",
    "MCPError",
    "PolicyError",
    "ProtocolError",
    "PymcpError",
    "StoreUnavailable",
    "TaskCancelled",
    "jsonrpc_error",
]


STORE_UNAVAILABLE = "the session store is unavailable"


class PymcpError(Exception):
    """The base of every error pymcp raises on purpose."""


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


class MCPError(PymcpError):
    """An error that is answered to the client as a JSON-RPC error object (`ProtocolError` in the tree;
    the class keeps 0.3.0's name, which shows in tracebacks and logs).

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


ProtocolError = MCPError


class AuthenticationError(PymcpError):
    """The request carried credentials, and they are not valid (answered with 401)."""

    def __init__(self, message: str = "Invalid Bearer token") -> None:
        super().__init__(message)
        self.message = message


class AuthorizationError(PymcpError):
    """The principal may not do this (answered with 403, or 401 for an anonymous caller)."""

    def __init__(self, message: str = "Forbidden", *, required_scopes: Iterable[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.required_scopes: tuple[str, ...] = tuple(required_scopes or ())


class PolicyError(_core.PolicyError, PymcpError):
    """A policy that cannot be loaded: one line naming the rule and the key, with `rule_index`,
    `rule_id` and `key` as attributes (`None` where they do not apply). A `ValueError`."""

    @classmethod
    def from_core(cls, error: _core.PolicyError) -> PolicyError:
        """The same error, in the tree (the Rust core raises `pymcp._core.PolicyError`)."""
        converted = cls(*error.args)
        converted.rule_index, converted.rule_id, converted.key = error.rule_index, error.rule_id, error.key
        return converted


class InvalidArgument(PymcpError):
    """A call's arguments do not match the tool's input schema; the message names the field."""


class StoreUnavailable(MCPError):
    """The state store could not be reached (or gave no connection in time): `-32603` with HTTP 503, for
    any method; the details are logged, never sent."""

    def __init__(self, message: str = STORE_UNAVAILABLE) -> None:
        super().__init__(ErrorCode.INTERNAL_ERROR, message, http_status=503)


class TaskCancelled(PymcpError):
    """Raised in tool code (by `CancellationToken.check_cancelled`) when its task was cancelled."""


def jsonrpc_error(error: BaseException, *, internal: str = "internal error") -> ProtocolError:
    """The JSON-RPC error to answer for `error`.

    A `ProtocolError` is answered as it is; anything else is a bug on our side or in user code,
    answered `-32603` with only `internal` as the message (the caller logs
    the details, the client learns nothing of them). Authentication and authorization failures are the
    security gate's to answer (they carry challenges), so they are not turned into errors here.
    """
    if isinstance(error, ProtocolError):
        return error
    return ProtocolError(ErrorCode.INTERNAL_ERROR, internal)
