"""Shared state for tasks and sessions: the `Store` interface, `MemoryStore` and (with redis) `RedisStore`."""

from pymcp.state.store import (
    MemoryStore,
    Page,
    Store,
    StoreEvent,
    Subscription,
    TaskStore,
    Transition,
    open_store,
)

__all__ = [
    "MemoryStore",
    "Page",
    "Store",
    "StoreEvent",
    "Subscription",
    "TaskStore",
    "Transition",
    "open_store",
]
