"""A session and its event stream (resumable SSE history, bounded queues): the objects that
`SessionManager` keeps, one worker's view of a session held in the state store."""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections import deque
from typing import Any

__all__ = [
    "EventStream",
    "Session",
    "SessionState",
    "record_fields",
    "record_unchanged",
    "session_record",
]


class SessionState(enum.Enum):
    """Lifecycle of a session: `initialize` → `notifications/initialized` → ready."""

    WAIT_INITIALIZED = "wait_initialized"
    READY = "ready"


class EventStream:
    """One SSE stream of a session: numbered events, a bounded history for `Last-Event-ID`, and the
    queue of the connection currently attached (if any).

    Publishing never blocks: a connection that falls `queue_size` events behind is dropped and can
    resume from the history.
    """

    __slots__ = ("delivered", "finished", "history", "id", "queue", "queue_size", "seq")

    def __init__(self, stream_id: str, *, history_limit: int, queue_size: int) -> None:
        self.id = stream_id
        self.seq = 0
        self.delivered = 0
        self.history: deque[tuple[int, bytes]] = deque(maxlen=max(history_limit, 1))
        self.queue: asyncio.Queue[tuple[int, bytes] | None] | None = None
        self.queue_size = queue_size
        self.finished = False

    def record(self, data: bytes) -> tuple[int, bytes]:
        """Number an event and keep it for replay; returns (seq, data)."""
        self.seq += 1
        event = (self.seq, data)
        self.history.append(event)
        return event

    @property
    def attached(self) -> bool:
        """Whether a connection of this process is reading the stream now."""
        return self.queue is not None

    def publish(self, data: bytes) -> None:
        """Record an event and hand it to the attached connection, if any."""
        event = self.record(data)
        if self.queue is not None:
            try:
                self.queue.put_nowait(event)
            except asyncio.QueueFull:
                self.detach()

    def attach(
        self, after: int | None
    ) -> tuple[asyncio.Queue[tuple[int, bytes] | None], list[tuple[int, bytes]]]:
        """Attach a new connection; returns its queue and the events it must replay first
        (those after `after`, or the ones never delivered when `after` is None)."""
        self.detach()
        start = self.delivered if after is None else after
        backlog = [event for event in self.history if event[0] > start]
        self.queue = asyncio.Queue(self.queue_size)
        if self.finished:
            self.queue.put_nowait(None)
        return self.queue, backlog

    def detach(self, queue: asyncio.Queue[tuple[int, bytes] | None] | None = None) -> None:
        """Detach the connection (only `queue`'s, when given); it is told to stop."""
        if self.queue is None or (queue is not None and queue is not self.queue):
            return
        old, self.queue = self.queue, None
        with contextlib.suppress(asyncio.QueueFull):
            old.put_nowait(None)

    def finish(self) -> None:
        """No more events: an attached connection closes after draining."""
        self.finished = True
        if self.queue is not None:
            try:
                self.queue.put_nowait(None)
            except asyncio.QueueFull:
                self.detach()


class Session:
    """What the server remembers about one client between requests."""

    def __init__(
        self,
        session_id: str | None,
        *,
        owner: str | None,
        protocol_version: str,
        client_info: dict[str, Any],
        client_capabilities: dict[str, Any],
        history_limit: int,
        queue_size: int,
    ) -> None:
        self.id = session_id
        self.owner = owner
        self.protocol_version = protocol_version
        self.client_info = client_info
        self.client_capabilities = client_capabilities
        self.state = SessionState.WAIT_INITIALIZED
        self.created_at = self.last_seen = time.monotonic()
        self.log_level: str | None = None
        self.subscriptions: set[str] = set()
        self.in_flight: dict[str | int, Any] = {}
        self.pending: dict[str | int, asyncio.Future[Any]] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        """The loop serving it, learnt on its first request (see `pymcp.server.dispatch._request_task`)."""
        self.history_limit = history_limit
        self.queue_size = queue_size
        self.streams: dict[str, EventStream] = {}
        self.standalone = EventStream("g", history_limit=history_limit, queue_size=queue_size)
        self.streams["g"] = self.standalone
        self._stream_counter = 0
        self._request_counter = 0
        self.closed = False

    def new_stream(self) -> EventStream:
        """A stream for one POST's SSE response; old finished streams are forgotten first."""
        self._stream_counter += 1
        stream = EventStream(
            f"p{self._stream_counter}", history_limit=self.history_limit, queue_size=self.queue_size
        )
        finished = [key for key, old in self.streams.items() if old.finished]
        for key in finished[: max(0, len(self.streams) - 32)]:
            del self.streams[key]
        self.streams[stream.id] = stream
        return stream

    @property
    def session_id(self) -> str | None:
        """0.3.0 name of `id`."""
        return self.id

    def next_request_id(self) -> str:
        """An id for a server→client request, unique within the session."""
        self._request_counter += 1
        return f"s{self._request_counter}"

    def close(self) -> None:
        """End every stream, fail pending server→client requests and cancel in-flight requests."""
        self.closed = True
        for stream in self.streams.values():
            stream.finish()
        for future in self.pending.values():
            if not future.done():
                future.cancel()
        self.pending.clear()
        for token in list(self.in_flight.values()):
            token.cancel("session closed")


def record_fields(session: Session) -> dict[str, Any]:
    """The fields of a session record that change after `initialize` (compared after every message)."""
    return {
        "status": session.state.value,
        "logLevel": session.log_level,
        "subscriptions": sorted(session.subscriptions),
    }


def record_unchanged(saved: dict[str, Any], session: Session) -> bool:
    """Whether the session's `record_fields` are still what was saved (after every message: no dict
    built)."""
    subscriptions = session.subscriptions
    return (
        saved.get("status") == session.state._value_  # the plain attribute behind the `value` property
        and saved.get("logLevel") == session.log_level
        and saved.get("subscriptions") == (sorted(subscriptions) if subscriptions else [])
    )


def session_record(session: Session) -> dict[str, Any]:
    """What every worker needs to serve a session (streams and pending requests stay where they are)."""
    return {
        "id": session.id,
        "owner": session.owner,
        "protocolVersion": session.protocol_version,
        "clientInfo": session.client_info,
        "clientCapabilities": session.client_capabilities,
        **record_fields(session),
    }
