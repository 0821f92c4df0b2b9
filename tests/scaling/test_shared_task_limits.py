"""The running-task limits (`max_tasks_per_principal`, `max_tasks`) hold across every worker sharing a
store: two engines stand for two workers, on memory, a real Redis and a real Redis Cluster."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pymcp.errors import MCPError
from pymcp.tasks import TaskEngine, TaskHandle
from support.redis import StoreFactory

Engines = Callable[..., TaskEngine]


@pytest.fixture
async def engines(store_factory: StoreFactory) -> AsyncIterator[Engines]:
    made: list[TaskEngine] = []

    def make(**options: Any) -> TaskEngine:
        made.append(TaskEngine(store_factory(), **options))
        return made[-1]

    yield make
    for engine in made:
        await engine.aclose()


def until(gate: asyncio.Event) -> Callable[[TaskHandle], Any]:
    async def run(handle: TaskHandle) -> dict[str, Any]:
        await gate.wait()
        return {"content": []}

    return run


async def start(engine: TaskEngine, owner: str, gate: asyncio.Event) -> str:
    task = await engine.create(owner=owner, session_id=None, ttl_ms=None, run=until(gate))
    return str(task["taskId"])


async def refused(engine: TaskEngine, owner: str, message: str) -> None:
    with pytest.raises(MCPError, match=message) as raised:
        await start(engine, owner, asyncio.Event())
    assert raised.value.code == -32008


async def test_a_callers_limit_counts_its_tasks_on_every_worker(engines: Engines) -> None:
    first, second = engines(max_running_per_owner=2), engines(max_running_per_owner=2)
    gate = asyncio.Event()
    await start(first, "alice", gate)
    cancelled = await start(second, "alice", gate)
    for engine in (first, second):
        await refused(engine, "alice", r"too many running tasks for this caller \(limit 2\)")
    await start(second, "bob", gate)  # another caller has their own count
    await first.cancel("alice", cancelled)  # a cancelled task stops counting at once
    await start(first, "alice", gate)
    gate.set()


async def test_the_total_limit_counts_every_workers_tasks(engines: Engines) -> None:
    first, second = engines(max_running=2), engines(max_running=2)
    gate = asyncio.Event()
    done = await start(first, "alice", gate)
    await start(second, "bob", asyncio.Event())
    await refused(first, "carol", "the server runs its limit of 2 tasks")
    gate.set()
    assert (await second.result("alice", done))["content"] == []  # an ended task stops counting
    for _ in range(200):  # its worker dismisses it right after writing the outcome
        try:
            await start(second, "carol", asyncio.Event())
            break
        except MCPError:
            await asyncio.sleep(0.01)
    await refused(first, "dave", "the server runs its limit of 2 tasks")


async def test_the_tasks_of_a_vanished_worker_stop_counting_when_their_lease_lapses(engines: Engines) -> None:
    doomed, survivor = engines(max_running_per_owner=1, lease_ms=300), engines(max_running_per_owner=1)
    await start(doomed, "alice", asyncio.Event())
    for job in doomed._background:  # the worker's loop dies: no more heartbeats
        job.cancel()
    await refused(survivor, "alice", "too many running tasks")
    for _ in range(300):
        try:
            await start(survivor, "alice", asyncio.Event())
            return
        except MCPError:
            await asyncio.sleep(0.01)
    pytest.fail("the vanished worker's task still counts")
