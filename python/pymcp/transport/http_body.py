"""Reading a request body within the limits: its size (`max_request_bytes`) and its pace
(`body_min_rate` after a short grace, `body_timeout` in all)."""

from __future__ import annotations

import asyncio
import logging
import types
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import encode_error
from pymcp.transport.http_reply import Receive, Send, reply
from pymcp.transport.http_stateless import resume_from

if TYPE_CHECKING:
    from pymcp.settings import ServerSettings

__all__ = ["BODY_GRACE_SECONDS", "read_body"]

logger = logging.getLogger("pymcp.transport")

# Seconds a body may take before `body_min_rate` applies (slow starts, small bodies on slow links).
BODY_GRACE_SECONDS = 5.0
_T = TypeVar("_T")


async def read_body(
    receive: Receive, send: Send, headers: dict[bytes, str], settings: ServerSettings
) -> bytes | None:
    """The request body, or None after answering 413 (too large) or 408 (too slow), or when the client
    left."""
    max_body = settings.max_request_bytes
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_body:
        await _too_large(send, max_body)
        return None
    chunks: list[bytes] = []
    size = 0
    started: float | None = None
    while True:
        pending = receive()
        if type(pending) is not types.CoroutineType:  # ASGI servers' `receive` returns a coroutine
            pending = _as_coroutine(pending)
        try:
            # Most bodies are there already: then the message comes without waiting, and untimed.
            waiting_on = pending.send(None)
        except StopIteration as arrived:
            message = arrived.value
        else:
            # A trickling body holds a connection and a task: it must keep up `body_min_rate` after a
            # short grace, and end within `body_timeout` whatever its pace.
            loop = asyncio.get_running_loop()
            started = loop.time() if started is None else started
            deadline = min(
                started + settings.body_timeout,
                started + BODY_GRACE_SECONDS + size / settings.body_min_rate,
            )
            try:
                async with asyncio.timeout_at(deadline):
                    message = await resume_from(pending, waiting_on)
            except TimeoutError:
                logger.info("a request body arrived too slowly (%d bytes so far)", size)
                too_slow = MCPError(ErrorCode.INVALID_REQUEST, "the body arrived too slowly")
                await reply(send, 408, encode_error(None, too_slow), [(b"connection", b"close")])
                return None
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > max_body:
            await _too_large(send, max_body)
            return None
        if not message.get("more_body", False):
            return b"".join((*chunks, chunk)) if chunks else chunk
        chunks.append(chunk)


async def _too_large(send: Send, max_body: int) -> None:
    too_large = MCPError(ErrorCode.INVALID_REQUEST, f"the body is larger than {max_body} bytes")
    await reply(send, 413, encode_error(None, too_large))


def _as_coroutine(awaitable: Awaitable[_T]) -> Coroutine[Any, Any, _T]:
    """An awaitable that is not a coroutine as one, which can be stepped by hand."""

    async def awaited() -> _T:
        return await awaitable

    return awaited()
