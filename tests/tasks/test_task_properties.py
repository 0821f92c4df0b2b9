"""Property: random interleavings of create/finish/get/list/cancel/result by several owners (and the clock
moving on) never show an owner another's task, never lose a terminal result before its ttl, and always
agree with a simple model of what each owner should see."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymcp.errors import MCPError
from pymcp.state import MemoryStore, Store
from pymcp.tasks import TaskEngine, TaskHandle
from pymcp.tasks.engine import RELATED_TASK_META_KEY

OWNERS = ["iss\x1falice", "iss\x1fbob", "session:abc"]
TTLS = [10_000, 30_000, 3_600_000]  # long against the real clock: only the fake clock expires them
OUTCOMES = ["ok", "is_error", "mcp_error"]
TERMINAL = {"completed", "failed", "cancelled"}

owner_index = st.integers(0, len(OWNERS) - 1)
task_ref = st.integers(0, 50)
operation = st.one_of(
    st.tuples(st.just("create"), owner_index, st.sampled_from(TTLS)),
    st.tuples(st.just("finish"), task_ref, st.sampled_from(OUTCOMES)),
    st.tuples(st.just("get"), owner_index, task_ref),
    st.tuples(st.just("list"), owner_index, st.just(0)),
    st.tuples(st.just("cancel"), owner_index, task_ref),
    st.tuples(st.just("result"), owner_index, task_ref),
    st.tuples(st.just("tick"), st.sampled_from([0, 4_000, 15_000]), st.just(0)),
)


@dataclass
class ModelTask:
    task_id: str
    owner: str
    expires_at_ms: float
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    outcome: str = "ok"
    status: str = "working"

    def expected_result(self) -> dict[str, Any]:
        return {
            "content": [{"type": "text", "text": self.task_id}],
            "isError": self.outcome == "is_error",
            "_meta": {RELATED_TASK_META_KEY: {"taskId": self.task_id}},
        }


class Scenario:
    def __init__(self, engine: TaskEngine, clock_ms: list[float] | None) -> None:
        self.engine = engine
        self.clock_ms = clock_ms  # None: the store runs on the real clock, nothing expires in a run
        self.tasks: list[ModelTask] = []

    def now_ms(self) -> float:
        return self.clock_ms[0] if self.clock_ms is not None else 0.0

    def expired(self, task: ModelTask) -> bool:
        return self.now_ms() >= task.expires_at_ms

    def pick(self, ref: int) -> ModelTask | None:
        return self.tasks[ref % len(self.tasks)] if self.tasks else None

    async def expect_not_found(self, call: Any) -> None:
        with pytest.raises(MCPError, match=r"^task not found$"):
            await call

    async def create(self, owner: str, ttl: int) -> None:
        model: ModelTask | None = None

        async def run(handle: TaskHandle) -> dict[str, Any]:
            assert model is not None
            await model.gate.wait()
            if model.outcome == "mcp_error":
                raise MCPError(-32602, f"bad {handle.task_id}")
            return {
                "content": [{"type": "text", "text": handle.task_id}],
                "isError": model.outcome == "is_error",
            }

        task = await self.engine.create(owner=owner, session_id=None, ttl_ms=ttl, run=run)
        model = ModelTask(task["taskId"], owner, self.now_ms() + ttl)
        self.tasks.append(model)

    async def finish(self, task: ModelTask, outcome: str) -> None:
        if task.status != "working" or self.expired(task):
            return
        task.outcome = outcome
        task.status = "completed" if outcome == "ok" else "failed"
        task.gate.set()
        await self.check_result(task)  # also waits until the engine recorded the outcome

    async def check_result(self, task: ModelTask) -> None:
        if task.outcome == "mcp_error" and task.status == "failed":
            with pytest.raises(MCPError, match=f"^bad {task.task_id}$"):
                await self.engine.result(task.owner, task.task_id)
        elif task.status == "cancelled":
            with pytest.raises(MCPError, match="cancelled"):
                await self.engine.result(task.owner, task.task_id)
        else:
            assert await self.engine.result(task.owner, task.task_id) == task.expected_result()

    async def get(self, owner: str, task: ModelTask) -> None:
        if owner != task.owner or self.expired(task):
            await self.expect_not_found(self.engine.get(owner, task.task_id))
        else:
            assert (await self.engine.get(owner, task.task_id))["status"] == task.status

    async def list(self, owner: str) -> None:
        seen: list[str] = []
        cursor = None
        while True:
            page = await self.engine.list(owner, cursor)
            seen += [entry["taskId"] for entry in page["tasks"]]
            cursor = page.get("nextCursor")
            if cursor is None:
                break
        visible = [t.task_id for t in reversed(self.tasks) if t.owner == owner and not self.expired(t)]
        assert seen == visible

    async def cancel(self, owner: str, task: ModelTask) -> None:
        if owner != task.owner or self.expired(task):
            await self.expect_not_found(self.engine.cancel(owner, task.task_id))
        elif task.status in TERMINAL:
            with pytest.raises(MCPError, match=f"`{task.status}`"):
                await self.engine.cancel(owner, task.task_id)
        else:
            assert (await self.engine.cancel(owner, task.task_id))["status"] == "cancelled"
            task.status = "cancelled"

    async def result(self, owner: str, task: ModelTask) -> None:
        if owner != task.owner or self.expired(task):
            await self.expect_not_found(self.engine.result(owner, task.task_id))
        elif task.status in TERMINAL:
            await self.check_result(task)
        else:
            waiter = asyncio.create_task(self.engine.result(owner, task.task_id))
            for _ in range(5):
                await asyncio.sleep(0)
            assert not waiter.done()
            waiter.cancel()

    async def apply(self, op: tuple[str, int, Any]) -> None:
        name, first, second = op
        if name == "create":
            await self.create(OWNERS[first], second)
        elif name == "tick":
            if self.clock_ms is not None:
                self.clock_ms[0] += first
        elif name == "list":
            await self.list(OWNERS[first])
        else:
            task = self.pick(second if name != "finish" else first)
            if task is None:
                return
            if name == "finish":
                await self.finish(task, second)
            else:
                await getattr(self, name)(OWNERS[first], task)


async def play(store: Store, ops: list[tuple[str, int, Any]], clock_ms: list[float] | None) -> None:
    engine = TaskEngine(store, page_size=2, lease_ms=10**9)
    scenario = Scenario(engine, clock_ms)
    try:
        for op in ops:
            await scenario.apply(op)
        for owner in OWNERS:
            await scenario.list(owner)
    finally:
        await engine.aclose()
        await store.aclose()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, max_size=30))
def test_interleavings_on_memory_store(ops: list[tuple[str, int, Any]]) -> None:
    clock_ms = [1_000_000.0]
    asyncio.run(play(MemoryStore(clock=lambda: clock_ms[0] / 1000), ops, clock_ms))


@pytest.mark.redis
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=st.lists(operation, max_size=20))
def test_interleavings_on_redis_store(redis_url: str, ops: list[tuple[str, int, Any]]) -> None:
    from pymcp.state.redis import RedisStore

    asyncio.run(play(RedisStore(redis_url, prefix=f"prop-{uuid.uuid4().hex[:12]}"), ops, None))
