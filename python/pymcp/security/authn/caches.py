"""The caches of the remote authenticators: one computation per key at a time, and expiring entries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["ExpiringCache", "SingleFlight"]

# -- caches of the remote authenticators -----------------------------------------------------------


class SingleFlight:
    """One in-flight computation per key; concurrent callers for the same key share its result."""

    def __init__(self) -> None:
        self._running: dict[Any, asyncio.Task[Any]] = {}

    async def run(self, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        task = self._running.get(key)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(compute())
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        # shield: one caller giving up (client disconnect) must not cancel the others' lookup
        return await asyncio.shield(task)

    def _forget(self, key: Any, done: asyncio.Task[Any]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved: nobody else may be waiting for it


class ExpiringCache:
    """A bounded map of values that expire at a monotonic deadline (the oldest entry goes first when full)."""

    def __init__(self, max_size: int) -> None:
        self._items: dict[bytes, tuple[float, Any]] = {}
        self._max_size = max_size

    def get(self, key: bytes) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= time.monotonic():
            del self._items[key]
            return None
        return item[1]

    def put(self, key: bytes, value: Any, ttl: float) -> None:
        if ttl <= 0 or self._max_size <= 0:
            return
        self._items.pop(key, None)
        while len(self._items) >= self._max_size:
            del self._items[next(iter(self._items))]
        self._items[key] = (time.monotonic() + ttl, value)
