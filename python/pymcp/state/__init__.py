"""Shared state for tasks and sessions: the `Store` interface (`base`), `MemoryStore` (`memory`) and (with
redis) `RedisStore` (`redis`); `open_store` picks one from a setting."""

from __future__ import annotations

from pymcp.state.base import Page, Store, StoreEvent, Subscription, TaskStore, Transition
from pymcp.state.memory import MemoryStore
from pymcp.state.redis_url import REDIS_SCHEMES

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
    """The store `create_app(store=...)` names: `None` or `"memory"`, a `redis://`, `rediss://` (TLS) or
    `unix://` URL of one Redis server, a `redis+cluster://` or `rediss+cluster://` URL of any node of a
    Redis Cluster, or a ready `Store` (used as given; its owner closes it). Credentials go in the URL
    (`rediss://user:password@host:port/0`, a Redis ACL user); TLS options as redis-py's URL query
    parameters (`?ssl_ca_certs=/path/ca.pem`).

    At most `pool_size` store calls use Redis at once (on one server or a whole cluster); a call
    waits up to `pool_timeout` seconds for its turn, then fails as an outage. Whether the URL names the
    right kind of Redis (`redis://` for a cluster node, or the other way round) and accepts the
    credentials is checked when the server starts (its first subscription)."""
    if target is None or target == "memory":
        return MemoryStore()
    if isinstance(target, str):
        if target.startswith(REDIS_SCHEMES):
            from pymcp.state.redis import RedisStore  # lazily: redis is an optional dependency

            return RedisStore(target, pool_size=pool_size, pool_timeout=pool_timeout)
        raise ValueError(
            f"unknown store `{target[:80]}`: expected `memory`, a `redis://` or a `redis+cluster://` URL"
        )
    if not isinstance(target, Store):
        raise TypeError(f"`store` must be a URL or a `Store`, not `{type(target).__name__}`")
    return target
