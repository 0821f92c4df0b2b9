"""Opaque list cursors and page slicing."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from pymcp.errors import ErrorCode, MCPError

__all__ = ["decode_cursor", "encode_cursor", "page"]


def encode_cursor(kind: str, offset: int) -> str:
    """An opaque cursor: clients must not build or interpret them (pagination page)."""
    return base64.urlsafe_b64encode(f"{kind}:{offset}".encode()).decode("ascii").rstrip("=")


def decode_cursor(kind: str, cursor: object) -> int:
    """The offset a cursor of this list stands for; `-32602` for anything we did not hand out."""
    if not isinstance(cursor, str) or len(cursor) > 64:
        raise MCPError(ErrorCode.INVALID_PARAMS, "invalid cursor")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MCPError(ErrorCode.INVALID_PARAMS, "invalid cursor") from None
    prefix, sep, offset = text.partition(":")
    if prefix != kind or not sep or not offset.isdigit():
        raise MCPError(ErrorCode.INVALID_PARAMS, "invalid cursor")
    return int(offset)


def page(kind: str, key: str, items: list[dict[str, Any]], cursor: object, size: int) -> dict[str, Any]:
    """One page of `items` under `key`, with `nextCursor` when more follow."""
    start = 0 if cursor is None else decode_cursor(kind, cursor)
    if start > len(items):
        raise MCPError(ErrorCode.INVALID_PARAMS, "invalid cursor")
    end = start + size
    result: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        result["nextCursor"] = encode_cursor(kind, end)
    return result
