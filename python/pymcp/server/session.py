"""Sessions (kept in the state store) and their event streams (per worker: resumable SSE history,
bounded queues)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, Final

from pymcp.errors import STORE_UNAVAILABLE, StoreUnavailable
from pymcp.server.session_events import SessionEvents, SessionListener
from pymcp.server.session_model import (
    EventStream,
    Session,
    SessionState,
    record_fields,
    record_unchanged,
    session_record,
)
from pymcp.state.base import Store, Subscription, log_store_failure
from pymcp.state.memory import MemoryStore

__all__ = [
    "EventStream",
    "Session",
    "SessionLimitError",
    "SessionManager",
    "SessionState",
    "SessionStoreError",
]


logger = logging.getLogger("pymcp.server")

_NAMESPACE: Final = "session"
_KEPT: Final = "session:kept"  # with ":" and the owner: the store's counter of the owner's sessions
_DELETED: Final = "deleted"
_LIVE: Final = frozenset(("wait_initialized", "ready"))


SessionStoreError = StoreUnavailable  # the name this module always had


class SessionLimitError(Exception):
    """The caller (or the server) holds as many sessions as allowed, none of them idle: answered 429."""


def _log_store_failure(error: Exception) -> None:
    log_store_failure(logger, "sessions", error)


def _unavailable(error: Exception) -> SessionStoreError:
    _log_store_failure(error)
    return SessionStoreError(STORE_UNAVAILABLE)


class SessionManager:
    """Sessions by id (random, unguessable), kept in the store so that every worker can serve them.

    Each worker holds the sessions it served in memory (with their streams, which never leave it) and
    loads the others from the store on first use. The store record (`session_record`) expires after
    `handshake_seconds` until `notifications/initialized`, then after `idle_seconds` without a request:
    its expiry is pushed back at most every quarter of the idle time (one round trip per session per
    `idle_seconds / 4`, not per request), with a quarter of slack so a session is never dropped before
    it was idle for `idle_seconds`. Changes (handshake, log level, subscriptions, DELETE) are written
    through `transition` and announced to every worker, which update or drop their copies.

    A principal's sessions are counted in the store (`Store.admit`, renewed with the record's expiry), so
    `max_per_principal` holds across every worker sharing it; a session counts until it is deleted or
    its record expires. Anonymous callers share one identity: only the per-worker `max_sessions` bounds
    them.

    A local copy is also dropped when it expires locally (handshake not finished, or idle with no open
    stream and nothing running); the store record decides whether a later request finds it again.
    `clock` (monotonic seconds) times both limits. Listeners (`add_listener`) hear of every session
    this worker loads from the store or drops.
    """

    def __init__(
        self,
        *,
        store: Store | None = None,
        max_sessions: int = 10_000,
        max_per_principal: int = 100,
        idle_seconds: float = 600.0,
        handshake_seconds: float = 30.0,
        history_limit: int = 1000,
        queue_size: int = 1000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sessions: dict[str, Session] = {}
        self.store: Store = store if store is not None else MemoryStore()
        self.max_sessions = max_sessions
        self.max_per_principal = max_per_principal
        self._owned: dict[str | None, dict[str, None]] = {}  # owner → its local session ids, oldest first
        self.idle_seconds = idle_seconds
        self.handshake_seconds = handshake_seconds
        self.history_limit = history_limit
        self.queue_size = queue_size
        self.clock = clock  # monotonic seconds; injectable like `MemoryStore`'s (tests move a fake one)
        self._events = SessionEvents()
        self._next_sweep = 0.0
        self._saved: dict[str, dict[str, Any]] = {}  # session id → its changeable fields as last stored
        self._refreshed: dict[str, float] = {}  # session id → when its store expiry was last pushed back
        self._held_since: dict[str, float] = {}  # session id → when this worker took it (handshake limit)
        self._listener: asyncio.Task[None] | None = None

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen to the other workers' session changes (call at startup; idempotent)."""
        if self._listener is None:
            subscription = await self.store.subscribe()
            self._listener = asyncio.create_task(self._listen(subscription), name="pymcp-sessions-listen")

    async def aclose(self) -> None:
        """Drop every local session (ending its streams) and stop listening; the store keeps the records."""
        self.close_all()
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.gather(self._listener, return_exceptions=True)
            self._listener = None

    def add_listener(self, listener: SessionListener) -> None:
        """Tell `listener` about every session this worker loads from the store or drops."""
        self._events.add_listener(listener)

    # -- the transport's calls ----------------------------------------------------------------------------

    def new_id(self) -> str:
        return secrets.token_hex(16)

    def get_session(self, session_id: str) -> Session | None:
        """0.3.0: the session this worker holds under `session_id` (for `send_notification`), or None."""
        return self.sessions.get(session_id)

    async def add(self, session: Session) -> None:
        """A session that just answered `initialize`: hold it here and write it to the store."""
        if session.id is None:
            raise ValueError("an HTTP session needs an id")
        self.sweep(self.clock())
        owned = self._owned.get(session.owner, {})
        if len(self.sessions) >= self.max_sessions and not await self._evict_idle(owned):
            raise SessionLimitError(f"the server holds its limit of {self.max_sessions} sessions")
        try:
            admitted = await self._admit(session)
            # The caller's sessions on other workers count too; only its idle ones held here can be ended.
            if not admitted and await self._evict_idle(owned):
                admitted = await self._admit(session)
        except Exception as error:
            raise _unavailable(error) from error
        if not admitted:
            raise SessionLimitError(
                f"too many open sessions for this caller (limit {self.max_per_principal})"
            )
        self._hold(session.id, session)
        try:
            await self._write(session)
        except Exception as error:
            self.remove(session.id)
            with contextlib.suppress(Exception):  # or its count lingers until the record's ttl ends
                await self._dismiss(session)
            raise _unavailable(error) from error

    def held(self, session_id: str, owner: str | None) -> Session | None:
        """`get` without waiting, when it needs nothing of the store: the session `session_id` of `owner`
        held here, not expired and with no expiry to push back (most requests); else None, and `get`
        decides."""
        session = self.sessions.get(session_id)
        if session is None or session.owner != owner:
            return None
        now = self.clock()
        if self._expired(session, now) or self._refresh_due(session, now):
            return None
        session.last_seen = now
        return session

    async def get(self, session_id: str, owner: str | None) -> Session | None:
        """The session `session_id` of `owner`, from here or from the store; `None` when it is unknown,
        expired, deleted or someone else's (indistinguishable on purpose)."""
        now = self.clock()
        session = self.sessions.get(session_id)
        if session is not None and session.owner != owner:
            return None
        if session is not None and self._expired(session, now):
            self.remove(session_id)
            session = None
        if session is None:
            try:
                record = await self.store.get(_NAMESPACE, _space(owner, session_id), session_id)
            except Exception as error:
                raise _unavailable(error) from error
            if record is None or record["status"] == _DELETED:
                return None
            # A concurrent request may have loaded it meanwhile: one copy per worker.
            session = self.sessions.get(session_id) or self._load(record)
            self._refreshed[session_id] = now
        elif self._refresh_due(session, now):
            try:
                if not await self._refresh(session, now):
                    return None
            except Exception as error:
                # The copy held here keeps serving; the next request tries again.
                _log_store_failure(error)
        session.last_seen = now
        return session

    def unsaved(self, session: Session) -> bool:
        """Whether `save` has something to write (asked without waiting: most messages change nothing)."""
        if session.id is None or session.closed:
            return False
        saved = self._saved.get(session.id)
        return saved is not None and not record_unchanged(saved, session)

    async def save(self, session: Session) -> None:
        """Write what a message changed (handshake, log level, subscriptions); nothing if nothing changed."""
        if not self.unsaved(session):
            return
        assert session.id is not None  # `unsaved` says so
        saved = self._saved[session.id]
        current = record_fields(session)
        changes = {key: value for key, value in current.items() if saved.get(key) != value}
        try:
            await self._save(session, changes, status_changed=saved["status"] != current["status"])
        except Exception as error:
            # The change stays unsaved here and is written with the next one.
            _log_store_failure(error)

    async def _save(self, session: Session, changes: dict[str, Any], *, status_changed: bool) -> None:
        assert session.id is not None
        change = await self.store.transition(
            _NAMESPACE, _space(session.owner, session.id), session.id, changes, from_statuses=_LIVE
        )
        if change.record is None:
            # Expired from the store while this worker still used it: written (and counted) again.
            await self._admit(session)
            await self._write(session)
        elif not change.applied:
            self.remove(session.id)  # deleted through another worker
            await self._dismiss(session)  # already done there, unless that worker stopped before it
        else:
            self._saved[session.id] = change.record
            if status_changed:
                await self._refresh(session, self.clock())  # the handshake TTL becomes the idle TTL

    async def delete(self, session_id: str) -> None:
        """End a session everywhere (HTTP DELETE): the record becomes a tombstone until it expires."""
        session = self.remove(session_id)
        if session is None:
            return
        space = _space(session.owner, session_id)
        try:
            # The transition tells every worker to drop its copy; then the record goes at once (a
            # tombstone kept for the idle TTL made every deleted session cost memory for ten minutes).
            await self.store.transition(
                _NAMESPACE, space, session_id, {"status": _DELETED}, from_statuses=_LIVE
            )
            await self.store.delete(_NAMESPACE, space, session_id)
            await self._dismiss(session)
        except Exception as error:
            raise _unavailable(error) from error

    # -- local copies ---------------------------------------------------------------------------------------

    def _expired(self, session: Session, now: float) -> bool:
        held_since = self._held_since.get(session.id or "", now)
        if session.state is not SessionState.READY and now - held_since > self.handshake_seconds:
            return True
        busy = session.standalone.queue is not None or session.in_flight
        return not busy and now - session.last_seen > self.idle_seconds

    def sweep(self, now: float) -> None:
        """Drop expired local copies (runs at most every few seconds, when sessions are added)."""
        if now < self._next_sweep:
            return
        self._next_sweep = now + 5.0
        for session_id, session in list(self.sessions.items()):
            if self._expired(session, now):
                self.remove(session_id)

    async def _evict_idle(self, owned: dict[str, None]) -> bool:
        """End the caller's own oldest idle session held here (never another caller's); False if none is."""
        for session_id in owned:
            victim = self.sessions[session_id]
            if victim.standalone.queue is None and not victim.in_flight:
                await self.delete(session_id)
                return True
        return False

    def _hold(self, session_id: str, session: Session) -> None:
        session.last_seen = self._held_since[session_id] = self.clock()
        self.sessions[session_id] = session
        self._owned.setdefault(session.owner, {})[session_id] = None

    def remove(self, session_id: str) -> Session | None:
        """Drop the local copy (its streams end); the store record is left alone."""
        session = self.sessions.pop(session_id, None)
        self._saved.pop(session_id, None)
        self._refreshed.pop(session_id, None)
        self._held_since.pop(session_id, None)
        if session is not None:
            owned = self._owned.get(session.owner)
            if owned is not None:
                owned.pop(session_id, None)
                if not owned:
                    del self._owned[session.owner]
            session.close()
            self._events.removed(session)
        return session

    def close_all(self) -> None:
        for session_id in list(self.sessions):
            self.remove(session_id)

    # -- the store ------------------------------------------------------------------------------------------

    def _ttl(self, session: Session) -> float:
        """Seconds the store keeps the session without a request: the local limit plus a quarter of slack."""
        limit = self.idle_seconds if session.state is SessionState.READY else self.handshake_seconds
        return limit * 1.25

    def _ttl_ms(self, session: Session) -> int:
        return max(int(self._ttl(session) * 1000), 1)

    def _refresh_due(self, session: Session, now: float) -> bool:
        # Also during the handshake: `notifications/initialized` may have reached another worker.
        if session.state is not SessionState.READY:
            return True
        return now - self._refreshed.get(session.id or "", 0.0) > self._ttl(session) / 4

    async def _write(self, session: Session) -> None:
        assert session.id is not None  # HTTP sessions always have one
        record = session_record(session)
        await self.store.create(
            _NAMESPACE, _space(session.owner, session.id), session.id, record, ttl_ms=self._ttl_ms(session)
        )
        self._saved[session.id] = record
        self._refreshed[session.id] = self.clock()

    async def _refresh(self, session: Session, now: float) -> bool:
        """Push back the store expiry and take in other workers' changes; False when it was deleted."""
        assert session.id is not None
        # Renewed before the touch: a DELETE racing it on another worker dismisses the count after.
        await self._admit(session)
        record = await self.store.touch(
            _NAMESPACE, _space(session.owner, session.id), session.id, ttl_ms=self._ttl_ms(session)
        )
        if record is None:
            await self._write(session)
            return True
        if record["status"] == _DELETED:
            # Before the copy goes: if this fails, `get` keeps serving the copy and the next refresh retries.
            await self._dismiss(session)
            self.remove(session.id)
            return False
        self._apply(session, record)
        self._refreshed[session.id] = now
        return True

    async def _admit(self, session: Session) -> bool:
        """Count the session among its owner's for as long as the store keeps its record (again: renew
        it); False when the owner already has `max_per_principal` others. Anonymous ones are not counted.

        Renewing a session already open never ends it: refused (its count lapsed and the slot was taken),
        it goes uncounted until a later renewal finds room."""
        if session.owner is None:
            return True
        assert session.id is not None
        counter = f"{_KEPT}:{session.owner}"
        return await self.store.admit(
            counter, session.id, limit=self.max_per_principal, ttl_ms=self._ttl_ms(session)
        )

    async def _dismiss(self, session: Session) -> None:
        if session.owner is not None and session.id is not None:
            await self.store.dismiss(f"{_KEPT}:{session.owner}", session.id)

    def _load(self, record: dict[str, Any]) -> Session:
        session = Session(
            record["id"],
            owner=record["owner"],
            protocol_version=record["protocolVersion"],
            client_info=record["clientInfo"],
            client_capabilities=record["clientCapabilities"],
            history_limit=self.history_limit,
            queue_size=self.queue_size,
        )
        self._apply(session, record, force=True)
        self._hold(record["id"], session)
        self._events.loaded(session)
        return session

    def _apply(self, session: Session, record: dict[str, Any], *, force: bool = False) -> None:
        """Take in the common fields of a record read from the store or announced by another worker,
        unless this copy has changes of its own not yet saved (its request's `save` writes them)."""
        assert session.id is not None
        saved = self._saved.get(session.id, {})
        if not force and not record_unchanged(saved, session):
            return
        session.state = SessionState(record["status"])
        session.log_level = record.get("logLevel")
        session.subscriptions = set(record.get("subscriptions") or ())
        self._saved[session.id] = record_fields(session)

    async def _listen(self, subscription: Subscription) -> None:
        try:
            while True:
                try:
                    event = await subscription.get()
                except asyncio.CancelledError:
                    raise
                except Exception as error:
                    current = asyncio.current_task()
                    if current is not None and current.cancelling():
                        return  # redis-py turns a cancelled read into a connection error
                    # The store's connection dropped: copies are re-read on their next refresh.
                    log_store_failure(logger, "session events (resubscribing)", error)
                    await asyncio.sleep(1)
                    with contextlib.suppress(Exception):
                        await subscription.aclose()
                        subscription = await self.store.subscribe()
                    continue
                if event.namespace != _NAMESPACE:
                    continue
                session = self.sessions.get(event.record_id)
                if session is None or session.owner != event.record.get("owner"):
                    continue
                if event.record["status"] == _DELETED:
                    self.remove(event.record_id)
                else:
                    self._apply(session, event.record)
        finally:
            with contextlib.suppress(Exception):
                await subscription.aclose()


def _space(owner: str | None, session_id: str) -> str:
    """The store owner of a session record: the caller's identity and the session id together, so a
    lookup by another principal finds nothing, and each session sits alone (no index grows with them)."""
    return f"{'p:' + owner if owner is not None else 'anonymous'}\x1e{session_id}"
