"""JSON-RPC 2.0 messages: bytes → validated message, and message → bytes.

`parse` never raises for a body that is JSON: every invalid message becomes an `InvalidMessage`
carrying the `-32600` error to answer (with the request `id` whenever it was readable and valid).
Only a body that is not JSON at all raises `MCPError(PARSE_ERROR)`.

orjson decodes the body; the Rust `pymcp._core.MessageClassifier` (rules in rust/core/src/jsonrpc.rs)
validates it and builds the message objects; tests/oracle/jsonrpc.py is the readable reference it is
checked against. (Decoding in Rust with jiter, in the same pass, measured about 1.7 times slower.)

Decisions (all tested in tests/test_jsonrpc.py):
- ids are strings or integers that fit in a signed 64-bit integer; null, booleans, floats and
  larger integers are invalid (MCP forbids null ids; other values could not be echoed back exactly);
- a response (a client's answer to a server→client request) has exactly one of `result` and `error`;
  its id may be null only with an `error`;
- decoding is orjson's: the last of duplicate keys wins; integers beyond 64 bits become floats (so such
  an id is refused as not an integer); lone surrogates (`"\\ud800"`), invalid UTF-8, a byte order
  mark, `NaN`/`Infinity`, numbers beyond the float range and nesting deeper than `MAX_DEPTH` are
  parse errors;
- an empty batch is a single `InvalidMessage`; a non-empty batch is a list with one entry per element.

Encoding is `pymcp._json.dumps` (orjson; pydantic-style models by alias without nulls). A value it
cannot encode raises `MCPError(INTERNAL_ERROR)` with the reason chained as `__cause__`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from pymcp import _core
from pymcp._json import dumps
from pymcp.errors import ErrorCode, MCPError

__all__ = [
    "MAX_DEPTH",
    "InvalidMessage",
    "Message",
    "Notification",
    "Request",
    "Response",
    "encode_batch",
    "encode_error",
    "encode_notification",
    "encode_request",
    "encode_result",
    "parse",
]


@dataclass(frozen=True, slots=True)
class Request:
    """A call that expects a response."""

    id: str | int
    method: str
    params: dict[str, Any] | list[Any] | None


@dataclass(frozen=True, slots=True)
class Notification:
    """A call without an id: it is never answered."""

    method: str
    params: dict[str, Any] | list[Any] | None


@dataclass(frozen=True, slots=True)
class Response:
    """A client's answer to a server→client request: exactly one of `result` and `error` was sent."""

    id: str | int | None
    result: Any = None
    error: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class InvalidMessage:
    """A JSON message (alone or inside a batch) that is not valid JSON-RPC; answer it with `error`."""

    id: str | int | None
    error: MCPError


Message = Request | Notification | Response

MAX_DEPTH = 1024
"""Deepest nesting accepted (orjson's limit): at most this many arrays and objects inside each other."""

_CLASSIFIER = _core.MessageClassifier(Request, Notification, Response, InvalidMessage, MCPError)


def parse(
    body: bytes, *, max_batch: int | None = None
) -> Message | InvalidMessage | list[Message | InvalidMessage]:
    """Parse and validate one JSON-RPC message or batch; raise `MCPError(PARSE_ERROR)` if it is not JSON,
    and `MCPError(INVALID_REQUEST)` for a batch longer than `max_batch` (before any element is looked at)."""
    try:
        decoded = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MCPError(ErrorCode.PARSE_ERROR, _parse_error_message(exc)) from None
    if max_batch is not None and type(decoded) is list and len(decoded) > max_batch:
        raise MCPError(ErrorCode.INVALID_REQUEST, f"a batch may hold at most {max_batch} messages")
    return _CLASSIFIER.classify(decoded)  # type: ignore[no-any-return]


_PARSE_ERRORS = {  # orjson's wording → ours, where ours is clearer
    "Input is a zero-length, empty document": "body is empty",
    "input data is empty": "body is empty",  # only whitespace
    "str is not valid UTF-8: surrogates not allowed": "body is not valid UTF-8",
    "depth limit exceeded": f"body is nested deeper than {MAX_DEPTH} levels",
}


def _parse_error_message(error: orjson.JSONDecodeError) -> str:
    known = _PARSE_ERRORS.get(error.msg)
    return known or f"body is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"


def _dumps(message: dict[str, Any], what: str) -> bytes:
    try:
        return dumps(message)
    except TypeError as exc:  # orjson.JSONEncodeError subclasses TypeError
        raise MCPError(ErrorCode.INTERNAL_ERROR, f"{what} is not JSON-serializable") from exc


def encode_result(id: str | int, result: Any) -> bytes:
    """A success response; raises `MCPError(INTERNAL_ERROR)` if `result` is not JSON-serializable."""
    return _dumps({"jsonrpc": "2.0", "id": id, "result": result}, "the result")


def encode_error(id: str | int | None, error: MCPError) -> bytes:
    """An error response (`"id": null` when the id is unknown); never raises for an id `parse` returned:
    unencodable `data` is dropped and lone surrogates in the message are replaced."""
    try:
        return dumps({"jsonrpc": "2.0", "id": id, "error": error.to_error()})
    except TypeError:
        message = error.message.encode("utf-8", "replace").decode("utf-8")
        return orjson.dumps({"jsonrpc": "2.0", "id": id, "error": {"code": error.code, "message": message}})


def _call(method: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params is not None:
        message["params"] = params if isinstance(params, dict) else dict(params)
    return message


def encode_request(id: str | int, method: str, params: Mapping[str, Any] | None) -> bytes:
    """A server→client request (`params` omitted when None)."""
    message = _call(method, params)
    message["id"] = id
    return _dumps(message, "the request")


def encode_notification(method: str, params: Mapping[str, Any] | None) -> bytes:
    """A notification (`params` omitted when None)."""
    return _dumps(_call(method, params), "the notification")


def encode_batch(encoded: Sequence[bytes]) -> bytes:
    """A JSON array of already encoded messages (`[]` when empty: the caller then sends nothing)."""
    return b"[" + b",".join(encoded) + b"]"
