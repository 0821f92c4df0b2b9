"""Server-sent events for Streamable HTTP: the SSE framing of a session's `EventStream`s (event ids
`<stream>-<seq>` for `Last-Event-ID`), the response of one POST once it emits, the stateless revision's
id-less streams, and the long-lived GET stream with keep-alives.

The streams' buffering (numbered history, bounded queue) lives with the session (`server/session_model.py`),
where stdio uses it too; only how events go over HTTP is here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymcp.server.session import EventStream, Session

__all__ = [
    "KEEPALIVE_SECONDS",
    "SSE_HEADERS",
    "SSE_RETRY_MS",
    "PostStream",
    "StatelessStream",
    "event_frame",
    "parse_event_id",
    "priming_frame",
    "serve_stream",
    "wait_for_disconnect",
]

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

SSE_RETRY_MS = 1000
KEEPALIVE_SECONDS = 15.0
SSE_HEADERS = [
    (b"content-type", b"text/event-stream"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def parse_event_id(event_id: str) -> tuple[str, int] | None:
    """(stream id, sequence number) of an event id `<stream>-<seq>`, or None if it is not ours."""
    stream_id, sep, seq = event_id.rpartition("-")
    if not sep or not seq.isdigit():
        return None
    return stream_id, int(seq)


def event_frame(stream: EventStream, seq: int, data: bytes) -> bytes:
    """The SSE frame of an event of `stream`."""
    return b"id: %s-%d\nevent: message\ndata: %s\n\n" % (stream.id.encode(), seq, data)


def priming_frame(stream: EventStream) -> bytes:
    """The first event of a stream: an id to resume from, the reconnection delay, and no data."""
    return b"id: %s-%d\nretry: %d\ndata: \n\n" % (stream.id.encode(), stream.seq, SSE_RETRY_MS)


async def wait_for_disconnect(receive: Receive) -> None:
    """Return when the client goes away (a GET's empty request body comes first)."""
    while (await receive())["type"] != "http.disconnect":
        pass


class PostStream:
    """The response of one POST: JSON unless the request emits first, then SSE (priming event first)."""

    __slots__ = ("open", "send", "session", "stream")

    def __init__(self, send: Send, session: Session) -> None:
        self.send = send
        self.session = session
        self.stream: EventStream | None = None
        self.open = False

    async def _start(self) -> EventStream:
        stream = self.session.new_stream()
        self.stream = stream
        self.open = True
        await self.send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        await self.send({"type": "http.response.body", "body": priming_frame(stream), "more_body": True})
        return stream

    async def emit(self, data: bytes) -> None:
        stream = self.stream or await self._start()
        if self.open:
            seq, _ = stream.record(data)
            await self.send(
                {"type": "http.response.body", "body": event_frame(stream, seq, data), "more_body": True}
            )
        else:
            stream.publish(data)

    async def close(self) -> None:
        """End the HTTP response now; later events wait in the stream's history for a resuming GET."""
        if self.stream is None:
            await self._start()
        if self.open:
            self.open = False
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})

    async def finish(self, reply: bytes | None) -> None:
        stream = self.stream
        if stream is None:
            return
        if reply is not None:
            await self.emit(reply)
        stream.finish()
        if self.open:
            self.open = False
            await self.send({"type": "http.response.body", "body": b"", "more_body": False})


class StatelessStream:
    """The response of one stateless POST: JSON unless the request emits first, then SSE without ids
    (2026-07-28 streams cannot be resumed)."""

    __slots__ = ("send", "started")

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def emit(self, data: bytes) -> None:
        if not self.started:
            self.started = True
            await self.send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
        await self.send(
            {"type": "http.response.body", "body": b"event: message\ndata: %s\n\n" % data, "more_body": True}
        )

    async def keepalive(self) -> None:
        await self.send({"type": "http.response.body", "body": b": keep-alive\n\n", "more_body": True})

    async def finish(self, reply: bytes | None) -> None:
        if reply is not None:
            await self.emit(reply)
        await self.send({"type": "http.response.body", "body": b"", "more_body": False})


async def serve_stream(receive: Receive, send: Send, stream: EventStream, after: int | None) -> None:
    """Answer a GET with `stream`: the priming event, the events after `after` (or never delivered), then
    live events with a comment every `KEEPALIVE_SECONDS`, until the stream ends, the client goes away or
    a newer connection takes the stream over."""
    queue, backlog = stream.attach(after)
    await send({"type": "http.response.start", "status": 200, "headers": SSE_HEADERS})
    disconnected = asyncio.ensure_future(wait_for_disconnect(receive))
    waiting: asyncio.Future[tuple[int, bytes] | None] | None = None
    try:
        await send({"type": "http.response.body", "body": priming_frame(stream), "more_body": True})
        for seq, data in backlog:
            await send(
                {"type": "http.response.body", "body": event_frame(stream, seq, data), "more_body": True}
            )
            stream.delivered = max(stream.delivered, seq)
        while stream.queue is queue:  # a newer connection, or a full queue, detaches this one
            if waiting is None:
                waiting = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait(
                (waiting, disconnected), timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if disconnected in done:
                break
            if waiting not in done:
                await send({"type": "http.response.body", "body": b": ping\n\n", "more_body": True})
                continue
            item = waiting.result()
            waiting = None
            if item is None:
                break
            seq, data = item
            await send(
                {"type": "http.response.body", "body": event_frame(stream, seq, data), "more_body": True}
            )
            stream.delivered = max(stream.delivered, seq)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        stream.detach(queue)
        disconnected.cancel()
        if waiting is not None:
            waiting.cancel()
