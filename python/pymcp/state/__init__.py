"""Shared state for tasks and sessions: the `Store` interface (`base`), `MemoryStore` (`memory`) and (with
redis) `RedisStore` (`redis`); `open_store` picks one from a setting."""

from __future__ import annotations

from pymcp.state.base import Page, Store, StoreEvent, Subscription, TaskStore, Transition
from pymcp.state.memory import MemoryStore

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
