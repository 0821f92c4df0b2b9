"""Closing engines and stores on a real Redis leaves nothing behind: no connection, socket or transport
is left for the garbage collector (after its event loop closed), no background task outlives `aclose`,
and a cancelled call always ends in `CancelledError` (redis-py on Python 3.11 can swallow it)."""

from __future__ import annotations

import asyncio
import gc
import sys
import uuid
import warnings
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from pymcp.state.redis import RedisStore
from pymcp.tasks import TaskEngine, TaskHandle

pytestmark = pytest.mark.redis

OWNER = "https://issuer.example\x1falice"
ROUNDS = 40  # each round cancels at a different point (round % CANCEL_POINTS loop turns in)
CANCEL_POINTS = 12


@contextmanager
def unraisable_exceptions() -> Iterator[list[str]]:
    """Collects what `__del__` methods raise, with every warning an error (a `ResourceWarning` there
    means an object was collected still open)."""
    caught: list[str] = []
    previous_hook = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: caught.append(
        f"{unraisable.exc_type.__name__}: {unraisable.exc_value} in {unraisable.object!r}"
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            yield caught
            gc.collect()
    finally:
        sys.unraisablehook = previous_hook


async def turns(count: int) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def cancel_after(call: Coroutine[Any, Any, Any], count: int) -> Any:
    """Run `call` as a task and cancel it `count` loop turns in: it must end in `CancelledError`.
    Returns what it returned if it finished first."""
    task = asyncio.ensure_future(call)
    await turns(count)
    if not task.cancel():
        return task.result()
    async with asyncio.timeout(30):  # a bound against a hang, not a timing check
        outcome = (await asyncio.gather(task, return_exceptions=True))[0]
    assert isinstance(outcome, asyncio.CancelledError), f"the cancelled call ended with {outcome!r}"
    return None


async def use_and_close(url: str, round_number: int) -> list[str]:
    """One round; returns the tasks still running once every engine and store is closed."""
    point = round_number % CANCEL_POINTS
    prefix = f"shutdown-{uuid.uuid4().hex[:12]}"
    stores = [RedisStore(url, prefix=prefix) for _ in range(2)]
    here, there = TaskEngine(stores[0], lease_ms=3000), TaskEngine(stores[1], lease_ms=3000)
    gate = asyncio.Event()

    async def quick(handle: TaskHandle) -> dict[str, Any]:
        return {"content": []}

    async def gated(handle: TaskHandle) -> dict[str, Any]:
        await gate.wait()
        return {"content": [{"type": "text", "text": "gated"}]}

    async def forever(handle: TaskHandle) -> dict[str, Any]:
        await asyncio.Event().wait()
        return {"content": []}

    # A third engine is cancelled while it subscribes (its first call), then closed.
    late = TaskEngine(RedisStore(url, prefix=prefix))
    await cancel_after(late.list(OWNER, None), point)
    await late.aclose()
    await late.store.aclose()

    done = await here.create(owner=OWNER, session_id=None, ttl_ms=None, run=quick)
    assert (await there.result(OWNER, done["taskId"]))["content"] == []
    # A waiter cancelled in the middle of its store calls or of its blocking wait.
    waited = await here.create(owner=OWNER, session_id=None, ttl_ms=None, run=gated)
    await cancel_after(there.result(OWNER, waited["taskId"]), point)
    # A store call cancelled mid-flight.
    await cancel_after(stores[1].get("task", OWNER, waited["taskId"]), point)
    # Closing an engine while its task runs; then another while its task saves its outcome (its gate
    # just opened): nothing may touch the store after it closed, or outlive the loop.
    await there.create(owner=OWNER, session_id=None, ttl_ms=None, run=forever)
    await there.aclose()
    await stores[1].aclose()
    gate.set()
    await turns(point)
    await here.aclose()
    await stores[0].aclose()
    return [task.get_name() for task in asyncio.all_tasks() if task is not asyncio.current_task()]


def test_engines_closed_in_any_state_leave_nothing_open(redis_url: str) -> None:
    outlived: list[str] = []
    with unraisable_exceptions() as caught:
        for round_number in range(ROUNDS):
            # Each round on its own event loop, closed at the end: what it leaks is collected afterwards.
            outlived += asyncio.run(use_and_close(redis_url, round_number))
            gc.collect()
    assert caught == []
    assert outlived == []


async def test_a_cancelled_store_call_always_raises_cancelled(redis_url: str) -> None:
    store = RedisStore(redis_url, prefix=f"cancel-{uuid.uuid4().hex[:12]}")
    try:
        await store.create("task", OWNER, "t1", {"status": "working"}, ttl_ms=60_000)
        for point in range(CANCEL_POINTS):
            await cancel_after(store.get("task", OWNER, "t1"), point)
            await cancel_after(store.page("task", OWNER, before=None, limit=5), point)
            subscription = await cancel_after(store.subscribe(), point)
            if subscription is not None:
                await subscription.aclose()
        assert await store.get("task", OWNER, "t1") == {"status": "working"}  # the client still works
    finally:
        await store.aclose()
