"""The state store: owner-scoped records with a TTL, status compare-and-set, leases and status events.

Tasks and sessions keep their state here so that several workers can share it. Every record
belongs to one owner and lives under a namespace (`"task"`, `"session"`); a lookup always names the
owner, so one owner can never reach another's records. Each record has a `status` field that only
changes through `transition` (compare-and-set), an optional payload kept apart from it (results can be
large and never travel with status events), and a creation order used for newest-first pages.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pymcp.errors import STORE_UNAVAILABLE, StoreUnavailable

__all__ = [
    "STORE_UNAVAILABLE",
    "SUBSCRIPTION_QUEUE_SIZE",
    "MemoryStore",
    "Page",
    "Store",
    "StoreEvent",
    "StoreUnavailable",
    "Subscription",
    "TaskStore",
    "Transition",
    "log_store_failure",
    "open_store",
]

_logger = logging.getLogger("pymcp.state")
# During an outage every request fails the same way: one log line per this many seconds, not one each.
_LOG_EVERY_SECONDS = 10.0
_last_logged: dict[str, float] = {}


def log_store_failure(logger: logging.Logger, what: str, error: BaseException) -> None:
    """Warn that the store failed, at most once per `_LOG_EVERY_SECONDS` for each `what`, without a
    traceback (an outage is not a bug, and it would log one per request)."""
    now = time.monotonic()
    if now - _last_logged.get(what, float("-inf")) >= _LOG_EVERY_SECONDS:
        _last_logged[what] = now
        logger.warning("%s: the store failed: %r", what, error)


@dataclass(frozen=True)
class StoreEvent:
    """A record changed through `transition`: every subscriber of the store sees it (payload excluded)."""

    namespace: str
    owner: str
    record_id: str
    record: dict[str, Any]


@dataclass(frozen=True)
class Transition:
    """The outcome of a compare-and-set: `record` is the record after it (`None` when it does not exist)."""

    applied: bool
    record: dict[str, Any] | None


@dataclass(frozen=True)
class Page:
    """One newest-first page of an owner's records; `next_before` is the position to continue from."""

    records: list[dict[str, Any]]
    next_before: int | None


class Subscription(Protocol):
    """A live feed of `StoreEvent`s; events published after `Store.subscribe` returned are all delivered."""

    async def get(self) -> StoreEvent: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Store(Protocol):
    """What tasks and sessions need from shared state; `MemoryStore` and `RedisStore` implement it."""

    async def create(
        self, namespace: str, owner: str, record_id: str, record: Mapping[str, Any], *, ttl_ms: int
    ) -> None:
        """Store a new record (with a `status` field) that expires `ttl_ms` after now, and index it."""
        ...

    async def get(self, namespace: str, owner: str, record_id: str) -> dict[str, Any] | None: ...

    async def get_payload(self, namespace: str, owner: str, record_id: str) -> Any:
        """The payload set by `transition`, or `None`."""
        ...

    async def delete(self, namespace: str, owner: str, record_id: str) -> None: ...

    async def touch(
        self, namespace: str, owner: str, record_id: str, *, ttl_ms: int
    ) -> dict[str, Any] | None:
        """Make a record (and its payload) expire `ttl_ms` after now; returns it, or `None` if it is gone."""
        ...

    async def page(self, namespace: str, owner: str, *, before: int | None, limit: int) -> Page:
        """Up to `limit` live records, newest first, created before position `before` (all when `None`)."""
        ...

    async def transition(
        self,
        namespace: str,
        owner: str,
        record_id: str,
        changes: Mapping[str, Any],
        *,
        from_statuses: Collection[str],
        payload: Any = None,
    ) -> Transition:
        """Apply `changes` (and set `payload` unless `None`) only if the current status is in
        `from_statuses`; when applied, publish a `StoreEvent` atomically with the write."""
        ...

    async def claim(
        self, namespace: str, owner: str, record_ids: Sequence[str], worker: str, *, lease_ms: int
    ) -> None:
        """Take or renew the leases on records this worker runs; a lease not renewed in `lease_ms` lapses."""
        ...

    async def release(self, namespace: str, owner: str, record_id: str) -> None: ...

    async def leased(self, namespace: str, owner: str, record_ids: Sequence[str]) -> set[str]:
        """The ids among `record_ids` whose lease is still held by some worker."""
        ...

    async def subscribe(self) -> Subscription: ...

    async def aclose(self) -> None: ...


TaskStore = Store
"""The store a `TaskEngine` uses (the same interface; the name the engine's signature reads best with)."""


@dataclass
class _Entry:
    record: dict[str, Any]
    position: int
    expires_at: float
    payload: Any = None


@dataclass
class _OwnerSpace:
    entries: dict[str, _Entry] = field(default_factory=dict)  # insertion order is creation order
    next_position: int = 1


# Events a subscriber may leave unread; beyond, the oldest are dropped (subscribers re-check their
# records periodically, as they do when a Redis connection drops), so an idle reader cannot grow memory.
SUBSCRIPTION_QUEUE_SIZE = 1000


class _MemorySubscription:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store
        self._queue: asyncio.Queue[StoreEvent] = asyncio.Queue(SUBSCRIPTION_QUEUE_SIZE)

    def deliver(self, event: StoreEvent) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            log_store_failure(_logger, "memory store events", OverflowError("a subscriber fell behind"))
        self._queue.put_nowait(event)

    @property
    def pending(self) -> int:
        """Events delivered and not read yet."""
        return self._queue.qsize()

    async def get(self) -> StoreEvent:
        return await self._queue.get()

    async def aclose(self) -> None:
        self._store._subscriptions.discard(self)


class MemoryStore:
    """The default store: one process, nothing to install. `clock` (monotonic seconds) is injectable."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._spaces: dict[tuple[str, str], _OwnerSpace] = {}
        self._expiries: list[tuple[float, str, str, str]] = []  # heap of (expires_at, namespace, owner, id)
        self._leases: dict[tuple[str, str, str], float] = {}
        self._subscriptions: set[_MemorySubscription] = set()
        self._live = 0  # entries in every space: the expiry heap is rebuilt when stale items dominate

    def _compact_expiries(self) -> None:
        """Drop the heap items of deleted or re-touched entries once they outnumber the live ones."""
        if len(self._expiries) <= 2 * self._live + 64:
            return
        self._expiries = [
            (entry.expires_at, namespace, owner, record_id)
            for (namespace, owner), space in self._spaces.items()
            for record_id, entry in space.entries.items()
        ]
        heapq.heapify(self._expiries)

    def _purge_expired(self) -> None:
        now = self._clock()
        while self._expiries and self._expiries[0][0] <= now:
            expires_at, namespace, owner, record_id = heapq.heappop(self._expiries)
            space = self._spaces.get((namespace, owner))
            entry = space.entries.get(record_id) if space else None
            if space is not None and entry is not None and entry.expires_at == expires_at:
                del space.entries[record_id]
                self._live -= 1
                self._leases.pop((namespace, owner, record_id), None)
                if not space.entries:
                    del self._spaces[(namespace, owner)]

    def _entry(self, namespace: str, owner: str, record_id: str) -> _Entry | None:
        self._purge_expired()
        space = self._spaces.get((namespace, owner))
        return space.entries.get(record_id) if space else None

    async def create(
        self, namespace: str, owner: str, record_id: str, record: Mapping[str, Any], *, ttl_ms: int
    ) -> None:
        self._purge_expired()
        space = self._spaces.setdefault((namespace, owner), _OwnerSpace())
        expires_at = self._clock() + ttl_ms / 1000
        if space.entries.pop(record_id, None) is None:
            self._live += 1
        space.entries[record_id] = _Entry(dict(record), space.next_position, expires_at)
        space.next_position += 1
        heapq.heappush(self._expiries, (expires_at, namespace, owner, record_id))
        self._compact_expiries()

    async def get(self, namespace: str, owner: str, record_id: str) -> dict[str, Any] | None:
        entry = self._entry(namespace, owner, record_id)
        return dict(entry.record) if entry else None

    async def get_payload(self, namespace: str, owner: str, record_id: str) -> Any:
        entry = self._entry(namespace, owner, record_id)
        return entry.payload if entry else None

    async def delete(self, namespace: str, owner: str, record_id: str) -> None:
        space = self._spaces.get((namespace, owner))
        if space is not None:
            if space.entries.pop(record_id, None) is not None:
                self._live -= 1
            if not space.entries:
                del self._spaces[(namespace, owner)]
        self._leases.pop((namespace, owner, record_id), None)
        self._compact_expiries()

    async def touch(
        self, namespace: str, owner: str, record_id: str, *, ttl_ms: int
    ) -> dict[str, Any] | None:
        entry = self._entry(namespace, owner, record_id)
        if entry is None:
            return None
        entry.expires_at = self._clock() + ttl_ms / 1000
        # The old heap item stays and is skipped: `_purge_expired` only drops entries whose time matches.
        heapq.heappush(self._expiries, (entry.expires_at, namespace, owner, record_id))
        self._compact_expiries()
        return dict(entry.record)

    async def page(self, namespace: str, owner: str, *, before: int | None, limit: int) -> Page:
        self._purge_expired()
        space = self._spaces.get((namespace, owner))
        found: list[_Entry] = []
        if space is not None:
            for entry in reversed(space.entries.values()):
                if before is None or entry.position < before:
                    found.append(entry)
                    if len(found) > limit:
                        break
        more = len(found) > limit
        found = found[:limit]
        return Page([dict(e.record) for e in found], found[-1].position if more else None)

    async def transition(
        self,
        namespace: str,
        owner: str,
        record_id: str,
        changes: Mapping[str, Any],
        *,
        from_statuses: Collection[str],
        payload: Any = None,
    ) -> Transition:
        entry = self._entry(namespace, owner, record_id)
        if entry is None:
            return Transition(False, None)
        if entry.record.get("status") not in from_statuses:
            return Transition(False, dict(entry.record))
        entry.record.update(changes)
        if payload is not None:
            entry.payload = payload
        event = StoreEvent(namespace, owner, record_id, dict(entry.record))
        for subscription in list(self._subscriptions):
            subscription.deliver(event)
        return Transition(True, dict(entry.record))

    async def claim(
        self, namespace: str, owner: str, record_ids: Sequence[str], worker: str, *, lease_ms: int
    ) -> None:
        until = self._clock() + lease_ms / 1000
        for record_id in record_ids:
            self._leases[(namespace, owner, record_id)] = until

    async def release(self, namespace: str, owner: str, record_id: str) -> None:
        self._leases.pop((namespace, owner, record_id), None)

    async def leased(self, namespace: str, owner: str, record_ids: Sequence[str]) -> set[str]:
        now = self._clock()
        return {rid for rid in record_ids if self._leases.get((namespace, owner, rid), now) > now}

    async def subscribe(self) -> Subscription:
        subscription = _MemorySubscription(self)
        self._subscriptions.add(subscription)
        return subscription

    async def aclose(self) -> None:
        self._subscriptions.clear()


def open_store(target: str | Store | None, *, pool_size: int = 64, pool_timeout: float = 10.0) -> Store:
    """The store `create_app(store=...)` names: `None` or `"memory"`, a `redis://`, `rediss://` or
    `unix://` URL, or a ready `Store` (used as given; its owner closes it). A URL's connections come
    from a pool of `pool_size`; a request waits up to `pool_timeout` seconds for one."""
    if target is None or target == "memory":
        return MemoryStore()
    if isinstance(target, str):
        if target.startswith(("redis://", "rediss://", "unix://")):
            from pymcp.state.redis import RedisStore  # lazily: redis is an optional dependency

            return RedisStore(target, pool_size=pool_size, pool_timeout=pool_timeout)
        raise ValueError(f"unknown store `{target[:80]}`: expected `memory` or a `redis://` URL")
    if not isinstance(target, Store):
        raise TypeError(f"`store` must be a URL or a `Store`, not `{type(target).__name__}`")
    return target
