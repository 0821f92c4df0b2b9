"""Revision 2026-07-28 POSTs on the endpoint both revisions use: served without a session, answered as
JSON or, once the request emits, as SSE frames without event ids; the client closing the response
cancels it."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import types
from collections.abc import Coroutine, Generator
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import InvalidMessage, Notification, Request, Response, encode_error
from pymcp.protocol.stateless.envelope import http_status_for, validate_notification
from pymcp.protocol.stateless.headers import RequestHeaders
from pymcp.transport.http_reply import Receive, Send, error_headers, reply
from pymcp.transport.sse import KEEPALIVE_SECONDS, StatelessStream, wait_for_disconnect

if TYPE_CHECKING:
    from pymcp.server.dispatch import Dispatcher
    from pymcp.settings import ServerSettings

__all__ = ["resume", "resume_from", "serve_stateless", "watch_request"]

_T = TypeVar("_T")


@types.coroutine
def resume_from(running: Coroutine[Any, Any, _T], waiting_on: Any) -> Generator[Any, Any, _T]:
    """Continue a coroutine whose first step already ran and yielded `waiting_on`, as `await` would have:
    the task driving this waits on what the coroutine waits on, and sends and throws reach it."""
    while True:
        try:
            sent = yield waiting_on
        except BaseException as thrown:  # cancellation too: it belongs to the coroutine
            try:
                waiting_on = running.throw(thrown)
            except StopIteration as finished:
                return cast("_T", finished.value)
        else:
            try:
                waiting_on = running.send(sent)
            except StopIteration as finished:
                return cast("_T", finished.value)


async def resume(running: Coroutine[Any, Any, _T], waiting_on: Any) -> _T:
    """`resume_from` as a coroutine (for `create_task`)."""
    return await resume_from(running, waiting_on)


async def serve_stateless(
    dispatcher: Dispatcher,
    settings: ServerSettings,
    receive: Receive,
    send: Send,
    message: Request | Notification | Response | InvalidMessage | list[Any],
    principal: Any,
    mcp_headers: RequestHeaders,
) -> None:
    """Serve one 2026-07-28 POST: a request, or a notification (accepted and dropped)."""
    if isinstance(message, Notification):
        try:
            validate_notification(mcp_headers, supported_versions=settings.stateless_versions)
        except MCPError as refused:
            await reply(send, http_status_for(refused), encode_error(None, refused))
            return
        await reply(send, 202)
        return
    if not isinstance(message, Request):
        # Batches and client responses do not exist at 2026-07-28.
        request_id = message.id if isinstance(message, InvalidMessage) else None
        invalid = (
            message.error
            if isinstance(message, InvalidMessage)
            else MCPError(ErrorCode.INVALID_REQUEST, "the body must be one JSON-RPC request")
        )
        await reply(send, 400, encode_error(request_id, invalid))
        return
    stream = StatelessStream(send)
    # The first step runs here, in a context of its own: most requests finish without waiting on
    # anything, and then need no task (nor a watch on the client) at all. A request that waits
    # continues as a task in that same context, watched for the client closing the response.
    context = contextvars.copy_context()
    running = dispatcher.handle_stateless(message, principal, mcp_headers, stream.emit)
    try:
        waiting_on = context.run(running.send, None)
    except StopIteration as finished:
        body, error = finished.value
    else:
        loop = asyncio.get_running_loop()
        work = loop.create_task(resume(running, waiting_on), context=context)
        outcome = await watch_request(receive, work, stream)
        if outcome is None:
            return
        body, error = outcome
    if stream.started:
        await stream.finish(body)
    elif error is not None:
        await reply(send, http_status_for(error), body, error_headers(error))
    else:
        await reply(send, 200, body)


async def watch_request(
    receive: Receive, work: asyncio.Task[tuple[bytes, MCPError | None]], stream: StatelessStream
) -> tuple[bytes, MCPError | None] | None:
    """Wait for a stateless request that is still running: keep its stream alive, and cancel it when
    the client goes away (None then: there is nobody to answer)."""
    disconnected = asyncio.ensure_future(wait_for_disconnect(receive))
    try:
        while True:
            done, _ = await asyncio.wait(
                (work, disconnected), timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if work in done:
                break
            if disconnected in done:
                # Closing the response is how a 2026-07-28 client cancels its request.
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await work
                return None
            if stream.started:
                await stream.keepalive()
    finally:
        disconnected.cancel()
    return work.result()
