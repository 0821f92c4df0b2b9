"""The ASGI types of the HTTP transport and its plain replies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from pymcp.errors import MCPError

__all__ = ["JSON_HEADERS", "Receive", "Scope", "Send", "error_headers", "reply"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

JSON_HEADERS = [(b"content-type", b"application/json")]


async def reply(
    send: Send, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    """Answer with `status` and `body` (JSON when there is one) in one start and one body message."""
    response_headers = list(JSON_HEADERS) if body else []
    # An explicit length: without it servers fall back to chunked encoding (one more write per reply).
    # A 204 must carry none (RFC 9110 §8.6).
    if status != 204:
        response_headers.append((b"content-length", b"%d" % len(body)))
    if headers:
        response_headers.extend(headers)
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})


def error_headers(error: MCPError) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
