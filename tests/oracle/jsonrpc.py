"""Readable pure-Python reference of `pymcp.protocol.jsonrpc.parse` (orjson + plain checks).

The Rust classifier must classify every body exactly like this: same message class, same id, same
error code and message. Decoding is orjson's in both, so parse errors are compared by code only.
"""

from __future__ import annotations

from typing import Any

import orjson

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import (
    InvalidMessage,
    Message,
    Notification,
    Request,
    Response,
)

__all__ = ["classify", "parse"]

_I64 = range(-(2**63), 2**63)


def _invalid(id: str | int | None, message: str) -> InvalidMessage:
    return InvalidMessage(id, MCPError(ErrorCode.INVALID_REQUEST, message))


def _id_problem(id: Any) -> str | None:
    if isinstance(id, bool) or not isinstance(id, str | int):
        return "`id` must be a string or an integer"
    if isinstance(id, int) and id not in _I64:
        return "`id` must fit in a signed 64-bit integer"
    return None


def _is_error_object(error: Any) -> bool:
    if not isinstance(error, dict):
        return False
    code = error.get("code")
    return isinstance(code, int) and not isinstance(code, bool) and isinstance(error.get("message"), str)


def classify(value: Any) -> Message | InvalidMessage:
    """One message (a whole body or a batch element), already decoded."""
    if not isinstance(value, dict):
        return _invalid(None, "message must be a JSON object")
    id_problem = _id_problem(value["id"]) if "id" in value else None
    id = value.get("id") if id_problem is None else None
    if value.get("jsonrpc") != "2.0":
        return _invalid(id, '`jsonrpc` must be "2.0"')

    if "method" in value:  # a request or a notification
        if id_problem:
            return _invalid(None, id_problem)
        if not isinstance(value["method"], str):
            return _invalid(id, "`method` must be a string")
        if "params" in value and not isinstance(value["params"], dict | list):
            return _invalid(id, "`params` must be an object or an array")
        if "id" in value:
            return Request(value["id"], value["method"], value.get("params"))
        return Notification(value["method"], value.get("params"))

    # a response
    if "result" not in value and "error" not in value:
        return _invalid(id, "`method` is missing")
    if "result" in value and "error" in value:
        return _invalid(id, "a response must have exactly one of `result` and `error`")
    if "id" not in value:
        return _invalid(None, "a response must have an `id`")
    if id_problem and not (value["id"] is None and "error" in value):
        return _invalid(None, id_problem)
    if "result" in value:
        return Response(id, result=value["result"])
    if not _is_error_object(value["error"]):
        return _invalid(id, "`error` must be an object with an integer `code` and a string `message`")
    return Response(id, error=value["error"])


def parse(body: bytes) -> Message | InvalidMessage | list[Message | InvalidMessage]:
    """Same contract as `pymcp.protocol.jsonrpc.parse`."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MCPError(ErrorCode.PARSE_ERROR, "body is not valid JSON") from exc
    if isinstance(value, list):
        if not value:
            return _invalid(None, "a batch must not be empty")
        return [classify(element) for element in value]
    return classify(value)
