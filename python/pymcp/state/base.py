"""The state store's interface: owner-scoped records with a TTL, status compare-and-set, leases and status
events (`Store`, its records and events); `MemoryStore` and `RedisStore` implement it.

Tasks and sessions keep their state here so that several workers can share it. Every record
belongs to one owner and lives under a namespace (`"task"`, `"session"`); a lookup always names the
owner, so one owner can never reach another's records. Each record has a `status` field that only
changes through `transition` (compare-and-set), an optional payload kept apart from it (results can be
large and never travel with status events), and a creation order used for newest-first pages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pymcp.errors import STORE_UNAVAILABLE, StoreUnavailable

__all__ = [
    "STORE_UNAVAILABLE",
    "Page",
    "Store",
    "StoreEvent",
    "StoreUnavailable",
    "Subscription",
    "TaskStore",
    "Transition",
    "log_store_failure",
]

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
    """What tasks and sessions need from the state every worker sees; `MemoryStore` and `RedisStore`
    implement it."""

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

    async def admit(self, counter: str, member: str, *, limit: int, ttl_ms: int) -> bool:
        """Count `member` in `counter` for `ttl_ms` (admitting it again renews it) unless the counter
        already holds `limit` other live members: then `False`. Every worker on the store sees the same
        counts, so a limit checked here holds across all of them."""
        ...

    async def dismiss(self, counter: str, member: str) -> None:
        """Stop counting `member` in `counter`."""
        ...

    async def subscribe(self) -> Subscription: ...

    async def aclose(self) -> None: ...


TaskStore = Store
"""The store a `TaskEngine` uses (the same interface; the name the engine's signature reads best with)."""
