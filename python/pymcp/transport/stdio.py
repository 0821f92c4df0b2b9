"""stdio transport: newline-delimited JSON-RPC on stdin/stdout, through the same dispatcher as HTTP.

In "dual" and "draft" modes a request whose `params._meta` names its protocol version (2026-07-28) is
served statelessly, beside (or without) the session that `initialize` opens.

There is no authentication on stdio: whoever starts the process is the caller, so the app declares
that `principal` (None for anonymous), and the dispatcher authorizes requests as that principal.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import TYPE_CHECKING, Any, BinaryIO

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import (
    InvalidMessage,
    Notification,
    Request,
    encode_batch,
    encode_error,
    encode_result,
    parse,
)
from pymcp.protocol.stateless.envelope import carries_stateless_meta
from pymcp.protocol.versions import supports_batches

if TYPE_CHECKING:
    from pymcp.security.principal import Principal
    from pymcp.server.dispatch import Dispatcher
    from pymcp.server.session import Session

__all__ = ["StdioTransport", "serve_stdio"]

logger = logging.getLogger("pymcp.transport")
_MAX_CONCURRENT = 32


def _binary(stream: Any, fallback: Any) -> Any:
    stream = stream if stream is not None else fallback
    return getattr(stream, "buffer", stream)


class _StdioConnection:
    def __init__(
        self, dispatcher: Dispatcher, principal: Principal | None, output: BinaryIO, max_line: int
    ) -> None:
        self.dispatcher = dispatcher
        self.principal = principal
        self.output = output
        self.max_line = max_line
        self.session: Session | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self.slots = asyncio.Semaphore(_MAX_CONCURRENT)
        self.drain: asyncio.Task[None] | None = None
        self.stateless = bool(dispatcher.settings.stateless_versions)

    async def write(self, data: bytes) -> None:
        self.output.write(data + b"\n")
        self.output.flush()

    async def _drain_standalone(self, session: Session) -> None:
        queue, backlog = session.standalone.attach(None)
        for _, data in backlog:
            await self.write(data)
        while (item := await queue.get()) is not None:
            await self.write(item[1])

    async def handle_line(self, line: bytes) -> None:
        if not line.strip():
            return
        if len(line) > self.max_line:
            await self.write(
                encode_error(None, MCPError(ErrorCode.INVALID_REQUEST, "the message is too large"))
            )
            return
        try:
            message = parse(line)
        except MCPError as error:
            await self.write(encode_error(None, error))
            return
        if isinstance(message, list):
            await self._batch(message)
        elif isinstance(message, Request) and message.method != "initialize":
            # Requests run concurrently; `initialize` runs inline so that what follows it sees the session.
            await self.slots.acquire()
            task = asyncio.create_task(self._request(message))
            self.tasks.add(task)
            task.add_done_callback(self._done)
        else:
            reply = await self._one(message)
            if reply is not None:
                await self.write(reply)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        self.slots.release()

    async def _request(self, request: Request) -> None:
        reply = await self._one(request)
        if reply is not None:
            await self.write(reply)

    async def _one(self, message: Any) -> bytes | None:
        if isinstance(message, InvalidMessage):
            return encode_error(message.id, message.error)
        if isinstance(message, Request) and self.stateless and carries_stateless_meta(message.params):
            # A 2026-07-28 request describes itself: no session, and no handshake needed before it.
            answer, _ = await self.dispatcher.handle_stateless(message, self.principal, None, self.write)
            return answer
        session = self.session
        if isinstance(message, Request) and message.method == "initialize" and session is None:
            new_session, (body, _) = await self.dispatcher.initialize(message, self.principal, None)
            if new_session is not None:
                self.session = new_session
                self.drain = asyncio.create_task(self._drain_standalone(new_session))
            return body
        if session is None:
            if isinstance(message, Request):
                if message.method == "ping":
                    try:  # authorized like every other request (the declared principal may not ping)
                        if self.dispatcher.gate is not None:
                            self.dispatcher.gate.authorize(self.principal, "ping", message.params)
                    except MCPError as refused:
                        return encode_error(message.id, refused)
                    return encode_result(message.id, {})
                return encode_error(
                    message.id, MCPError(ErrorCode.INVALID_REQUEST, "server not initialized.")
                )
            return None
        if isinstance(message, Request):
            body, _ = await self.dispatcher.handle_request(session, message, self.principal, self.write)
            return body
        if isinstance(message, Notification):
            await self.dispatcher.handle_notification(session, message)
        else:
            self.dispatcher.handle_response(session, message)
        return None

    async def _batch(self, messages: list[Any]) -> None:
        if self.session is None or not supports_batches(self.session.protocol_version):
            await self.write(
                encode_error(
                    None,
                    MCPError(
                        ErrorCode.INVALID_REQUEST,
                        "JSON-RPC batches are only accepted for 2025-03-26 sessions",
                    ),
                )
            )
            return
        replies = [reply for reply in [await self._one(message) for message in messages] if reply is not None]
        if replies:
            await self.write(encode_batch(replies))

    async def close(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self.session is not None:
            self.dispatcher.forget(self.session)
        if self.drain is not None:
            self.drain.cancel()
            await asyncio.gather(self.drain, return_exceptions=True)


async def serve_stdio(
    dispatcher: Dispatcher,
    *,
    principal: Principal | None = None,
    input_stream: Any = None,
    output_stream: Any = None,
    max_line_bytes: int = 4 * 1024 * 1024,
) -> None:
    """Serve one client on stdin/stdout (or the given binary or text streams) until end of input."""
    source = _binary(input_stream, sys.stdin)
    connection = _StdioConnection(dispatcher, principal, _binary(output_stream, sys.stdout), max_line_bytes)
    loop = asyncio.get_running_loop()
    try:
        while True:
            line = await loop.run_in_executor(None, source.readline)
            if not line:
                break
            if isinstance(line, str):
                line = line.encode()
            await connection.handle_line(line)
        if connection.tasks:
            await asyncio.gather(*connection.tasks, return_exceptions=True)
    finally:
        await connection.close()


class StdioTransport:
    """0.3.0's stdio runner: `await StdioTransport().run(app)` serves an app made by `create_app`."""

    def __init__(self, *, input_stream: Any = None, output_stream: Any = None, principal: Any = None) -> None:
        self._input = input_stream
        self._output = output_stream
        self._principal = principal

    async def run(self, app: Any) -> None:
        """Serve until end of input (the app's task engine and store stay open: the app owns them)."""
        dispatcher = getattr(getattr(app, "state", None), "dispatcher", None)
        if dispatcher is None:
            raise TypeError("StdioTransport.run() needs an app made by `pymcp.create_app`")
        await serve_stdio(
            dispatcher,
            principal=self._principal,
            input_stream=self._input,
            output_stream=self._output,
            max_line_bytes=dispatcher.settings.max_request_bytes,
        )
