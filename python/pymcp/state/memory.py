"""`MemoryStore`: the default state store, in one process (see `pymcp.state.base` for the interface)."""

from __future__ import annotations

import asyncio
import heapq
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymcp.state.base import Page, StoreEvent, Subscription, Transition, log_store_failure

__all__ = ["SUBSCRIPTION_QUEUE_SIZE", "MemoryStore"]

_logger = logging.getLogger("pymcp.state")


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
        self._counters: dict[str, dict[str, float]] = {}  # counter → member → when it stops counting
        self._counters_swept = clock()
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

    async def admit(self, counter: str, member: str, *, limit: int, ttl_ms: int) -> bool:
        now = self._clock()
        if now - self._counters_swept > 60:  # counters nobody admits to any more must not stay for ever
            self._counters_swept = now
            self._counters = {
                name: live
                for name, members in self._counters.items()
                if (live := {held: until for held, until in members.items() if until > now})
            }
        members = {held: until for held, until in self._counters.get(counter, {}).items() if until > now}
        if member not in members and len(members) >= limit:
            return False
        members[member] = now + ttl_ms / 1000
        self._counters[counter] = members
        return True

    async def dismiss(self, counter: str, member: str) -> None:
        members = self._counters.get(counter, {})
        members.pop(member, None)
        if not members:
            self._counters.pop(counter, None)

    async def subscribe(self) -> Subscription:
        subscription = _MemorySubscription(self)
        self._subscriptions.add(subscription)
        return subscription

    async def aclose(self) -> None:
        self._subscriptions.clear()
