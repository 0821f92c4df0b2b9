"""Waiting in tests without fixed sleeps: poll a condition until a deadline (the deadline only stops a
broken test instead of hanging it), or move a fake clock for code that takes one."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

__all__ = ["FakeClock", "eventually", "serving", "wait_until"]


class FakeClock:
    """Monotonic seconds that move only when the test says so (for `clock=` parameters)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def wait_until(check: Callable[[], bool], *, within: float = 10.0, interval: float = 0.01) -> bool:
    """Poll `check` until it holds or `within` seconds passed; whether it held (assert it)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


async def eventually(
    check: Callable[[], bool | Awaitable[bool]], *, within: float = 10.0, interval: float = 0.01
) -> bool:
    """`wait_until` for the event loop: `check` may be a coroutine function."""
    deadline = time.monotonic() + within
    while True:
        outcome = check()
        if inspect.isawaitable(outcome):
            outcome = await outcome
        if outcome:
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(interval)


def serving(url: str, process: subprocess.Popen[Any] | None = None) -> bool:
    """Whether `url` answers HTTP (any status); fails at once when the server's `process` has exited."""
    assert process is None or process.poll() is None, f"the server at {url} exited"
    try:
        httpx.get(url, timeout=1)
    except httpx.TransportError:
        return False
    return True
