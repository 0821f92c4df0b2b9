"""`TaskEngine` on `MemoryStore` and on a real Redis (same tests): lifecycle, ttl, cursors, cancel, results,
failures, ownership, and several engines (workers) sharing one store."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import math
import re
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.tasks import CancellationToken, CancelledError, TaskEngine, TaskHandle
from pymcp.tasks.engine import RELATED_TASK_META_KEY
from support.redis import StoreFactory
from support.waiting import eventually

ALICE = "https://issuer.example\x1falice"
BOB = "https://issuer.example\x1fbob"
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

EngineFactory = Callable[..., TaskEngine]
Run = Callable[[TaskHandle], Awaitable[dict[str, Any]]]


@pytest.fixture
async def make_engine(store_factory: StoreFactory) -> AsyncIterator[EngineFactory]:
    engines: list[TaskEngine] = []

    def make(**options: Any) -> TaskEngine:
        engines.append(TaskEngine(store_factory(), **options))
        return engines[-1]

    yield make
    for engine in engines:
        await engine.aclose()


@pytest.fixture
def engine(make_engine: EngineFactory) -> TaskEngine:
    return make_engine()


def text_result(text: str, **extra: Any) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}], **extra}


def returns(result: dict[str, Any]) -> Run:
    async def run(handle: TaskHandle) -> dict[str, Any]:
        return result

    return run


def gated(gate: asyncio.Event, result: dict[str, Any] | None = None) -> Run:
    async def run(handle: TaskHandle) -> dict[str, Any]:
        await gate.wait()
        return result or text_result("done")

    return run


def forever(started: asyncio.Event, stopped: asyncio.Event) -> Run:
    async def run(handle: TaskHandle) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            stopped.set()
        raise AssertionError("unreachable")

    return run


async def create(engine: TaskEngine, run: Run, *, owner: str = ALICE, **options: Any) -> dict[str, Any]:
    options.setdefault("session_id", "session-1")
    options.setdefault("ttl_ms", None)
    return await engine.create(owner=owner, run=run, **options)


async def expect_error(call: Awaitable[Any], code: int, text: str) -> MCPError:
    with pytest.raises(MCPError) as caught:
        await call
    assert caught.value.code == code
    assert text in caught.value.message
    return caught.value


async def test_created_task_is_a_working_mcp_task(engine: TaskEngine) -> None:
    gate = asyncio.Event()
    task = await create(engine, gated(gate))
    assert task["status"] == "working"
    assert set(task) == {
        "taskId",
        "status",
        "statusMessage",
        "createdAt",
        "lastUpdatedAt",
        "ttl",
        "pollInterval",
    }
    assert ISO_UTC.match(task["createdAt"])
    assert ISO_UTC.match(task["lastUpdatedAt"])
    assert task["ttl"] == 3_600_000
    assert task["pollInterval"] == 1000
    assert await engine.get(ALICE, task["taskId"]) == task
    gate.set()


async def test_result_is_the_tool_result_with_related_task_meta_inside(engine: TaskEngine) -> None:
    task = await create(engine, returns(text_result("hi", _meta={"mine": 1})))
    result = await engine.result(ALICE, task["taskId"])
    assert result == text_result("hi", _meta={"mine": 1, RELATED_TASK_META_KEY: {"taskId": task["taskId"]}})
    done = await engine.get(ALICE, task["taskId"])
    assert done["status"] == "completed"
    assert done["createdAt"] == task["createdAt"]
    assert ISO_UTC.match(done["lastUpdatedAt"])


async def test_result_waits_until_the_task_is_terminal(engine: TaskEngine) -> None:
    gate = asyncio.Event()
    task = await create(engine, gated(gate, text_result("late")))
    waiter = asyncio.create_task(engine.result(ALICE, task["taskId"]))
    for _ in range(20):
        await asyncio.sleep(0)
    assert not waiter.done()
    gate.set()
    assert (await waiter)["content"][0]["text"] == "late"


async def test_is_error_result_fails_the_task_but_is_returned(engine: TaskEngine) -> None:
    error_result = text_result("boom", isError=True)
    task = await create(engine, returns(error_result))
    result = await engine.result(ALICE, task["taskId"])
    assert result["isError"] is True
    assert result["content"] == error_result["content"]
    assert (await engine.get(ALICE, task["taskId"]))["status"] == "failed"


async def test_mcp_error_fails_the_task_and_is_raised_by_result(engine: TaskEngine) -> None:
    async def run(handle: TaskHandle) -> dict[str, Any]:
        raise MCPError(ErrorCode.INVALID_PARAMS, "missing argument `repo`", {"field": "repo"})

    task = await create(engine, run)
    error = await expect_error(engine.result(ALICE, task["taskId"]), -32602, "missing argument `repo`")
    assert error.data == {"field": "repo"}
    failed = await engine.get(ALICE, task["taskId"])
    assert failed["status"] == "failed"
    assert failed["statusMessage"] == "missing argument `repo`"


async def test_unexpected_exception_fails_without_leaking_its_text(engine: TaskEngine) -> None:
    async def run(handle: TaskHandle) -> dict[str, Any]:
        raise RuntimeError("secret database password")

    task = await create(engine, run)
    error = await expect_error(engine.result(ALICE, task["taskId"]), -32603, "internal error")
    assert "secret" not in error.message
    assert "secret" not in (await engine.get(ALICE, task["taskId"]))["statusMessage"]


async def test_non_dict_result_fails_the_task(engine: TaskEngine) -> None:
    async def run(handle: TaskHandle) -> Any:
        return ["not", "a", "result"]

    task = await create(engine, run)
    await expect_error(engine.result(ALICE, task["taskId"]), -32603, "`list` instead of a result object")


@pytest.mark.parametrize("ttl", [-1, "10", 1.5, True, math.nan, math.inf, [], {}])
async def test_bad_ttl_is_invalid_params_naming_ttl(engine: TaskEngine, ttl: Any) -> None:
    await expect_error(create(engine, returns(text_result("x")), ttl_ms=ttl), -32602, "`ttl`")
    assert (await engine.list(ALICE, None))["tasks"] == []


async def test_ttl_is_kept_clamped_or_defaulted(make_engine: EngineFactory) -> None:
    engine = make_engine(default_ttl_ms=5000, max_ttl_ms=60_000)
    assert (await create(engine, returns({}), ttl_ms=10_000))["ttl"] == 10_000
    assert (await create(engine, returns({}), ttl_ms=2000.0))["ttl"] == 2000
    assert (await create(engine, returns({}), ttl_ms=10**12))["ttl"] == 60_000
    assert (await create(engine, returns({}), ttl_ms=None))["ttl"] == 5000


async def _gone(engine: TaskEngine, task_id: str) -> bool:
    try:
        await engine.get(ALICE, task_id)
    except MCPError:
        return True
    return False


async def test_task_expires_ttl_after_creation_and_its_run_is_stopped(engine: TaskEngine) -> None:
    started, stopped = asyncio.Event(), asyncio.Event()
    running = await create(engine, forever(started, stopped), ttl_ms=30)
    done = await create(engine, returns(text_result("x")), ttl_ms=30)
    await stopped.wait()  # expiry cancels the coroutine still running
    for task in (running, done):
        await eventually(lambda task=task: _gone(engine, task["taskId"]))
        await expect_error(engine.get(ALICE, task["taskId"]), -32602, "task not found")
        await expect_error(engine.result(ALICE, task["taskId"]), -32602, "task not found")
    assert (await engine.list(ALICE, None))["tasks"] == []


async def test_a_result_waiter_learns_when_the_task_expires(engine: TaskEngine) -> None:
    started, stopped = asyncio.Event(), asyncio.Event()
    task = await create(engine, forever(started, stopped), ttl_ms=50)
    await expect_error(engine.result(ALICE, task["taskId"]), -32602, "task not found")


async def test_list_pages_newest_first_with_stable_opaque_cursors(make_engine: EngineFactory) -> None:
    engine = make_engine(page_size=2)
    created = [(await create(engine, returns({})))["taskId"] for _ in range(5)]
    first = await engine.list(ALICE, None)
    assert [t["taskId"] for t in first["tasks"]] == created[:2:-1]
    await create(engine, returns({}))  # a newer task does not shift later pages
    second = await engine.list(ALICE, first["nextCursor"])
    third = await engine.list(ALICE, second["nextCursor"])
    assert [t["taskId"] for t in second["tasks"] + third["tasks"]] == created[2::-1]
    assert "nextCursor" not in third
    assert not first["nextCursor"].isdigit()


async def test_list_of_exactly_one_page_has_no_cursor(make_engine: EngineFactory) -> None:
    engine = make_engine(page_size=2)
    for _ in range(2):
        await create(engine, returns({}))
    assert "nextCursor" not in await engine.list(ALICE, None)


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor", ["abc", "-1", "", "0", 7, b64("t1:0"), b64("t1:-4"), "x" * 500, "t1:5", "!!!!"]
)
async def test_invalid_cursor_is_invalid_params(engine: TaskEngine, cursor: Any) -> None:
    await expect_error(engine.list(ALICE, cursor), -32602, "invalid cursor")


async def test_cancel_stops_the_running_coroutine(engine: TaskEngine) -> None:
    started, stopped = asyncio.Event(), asyncio.Event()
    task = await create(engine, forever(started, stopped))
    await started.wait()
    cancelled = await engine.cancel(ALICE, task["taskId"])
    assert cancelled["status"] == "cancelled"
    assert cancelled["statusMessage"] == "The task was cancelled by request."
    await stopped.wait()
    await expect_error(engine.result(ALICE, task["taskId"]), -32600, "cancelled")
    await expect_error(engine.cancel(ALICE, task["taskId"]), -32602, "`cancelled`")


async def test_cancel_of_a_finished_task_names_its_status(engine: TaskEngine) -> None:
    task = await create(engine, returns(text_result("x")))
    await engine.result(ALICE, task["taskId"])
    await expect_error(engine.cancel(ALICE, task["taskId"]), -32602, "terminal status `completed`")
    assert (await engine.get(ALICE, task["taskId"]))["status"] == "completed"


async def test_cancellation_token_reaches_a_thread_run_tool(engine: TaskEngine) -> None:
    in_thread = threading.Event()
    thread_saw_cancel = threading.Event()

    def blocking(token: CancellationToken) -> dict[str, Any]:
        in_thread.set()
        while not token.is_cancelled():
            time.sleep(0.005)
        thread_saw_cancel.set()
        token.check_cancelled()
        return text_result("never")

    async def run(handle: TaskHandle) -> dict[str, Any]:
        return await asyncio.to_thread(blocking, handle.cancel_token)

    task = await create(engine, run)
    await asyncio.to_thread(in_thread.wait)
    await engine.cancel(ALICE, task["taskId"])
    await asyncio.to_thread(thread_saw_cancel.wait)
    assert (await engine.get(ALICE, task["taskId"]))["status"] == "cancelled"


async def test_cancellation_token_wait_and_check() -> None:
    token = CancellationToken()
    waiter = asyncio.create_task(token.wait())
    await asyncio.sleep(0)
    assert not token.is_cancelled()
    token.check_cancelled()
    token.cancel()
    await waiter
    with pytest.raises(CancelledError):
        token.check_cancelled()


async def test_status_changes_reach_on_status_and_get(engine: TaskEngine) -> None:
    seen: asyncio.Queue[tuple[dict[str, Any], str | None]] = asyncio.Queue()

    async def on_status(task: dict[str, Any], session_id: str | None) -> None:
        await seen.put((task, session_id))

    engine.on_status(on_status)
    asked, answered = asyncio.Event(), asyncio.Event()

    async def run(handle: TaskHandle) -> dict[str, Any]:
        await handle.require_input("need a branch name")
        asked.set()
        await answered.wait()
        await handle.set_working("resuming")
        return text_result("ok")

    task = await create(engine, run, session_id="s-42")
    await asked.wait()
    waiting = await engine.get(ALICE, task["taskId"])
    assert (waiting["status"], waiting["statusMessage"]) == ("input_required", "need a branch name")
    answered.set()
    statuses = []
    while not statuses or statuses[-1] != "completed":
        notified, session_id = await seen.get()
        assert session_id == "s-42"
        assert notified["taskId"] == task["taskId"]
        statuses.append(notified["status"])
    assert statuses == ["input_required", "working", "completed"]


async def test_handle_calls_after_cancel_raise_cancelled(engine: TaskEngine) -> None:
    started, reported = asyncio.Event(), asyncio.Event()
    raised: list[CancelledError] = []

    async def stubborn(handle: TaskHandle) -> dict[str, Any]:
        started.set()
        with contextlib.suppress(asyncio.CancelledError):
            # tool code that swallows cancellation still cannot move a terminal task
            await asyncio.Event().wait()
        try:
            await handle.set_working("still here")
        except CancelledError as exc:
            raised.append(exc)
            raise
        finally:
            reported.set()
        return text_result("x")

    task = await create(engine, stubborn)
    await started.wait()
    await engine.cancel(ALICE, task["taskId"])
    await reported.wait()
    assert len(raised) == 1
    assert "no longer running" in str(raised[0])
    assert (await engine.get(ALICE, task["taskId"]))["status"] == "cancelled"


async def test_progress_goes_to_the_sink_and_the_final_step_is_sent_once(engine: TaskEngine) -> None:
    sent: list[tuple[float, float | None, str | None]] = []

    async def sink(current: float, total: float | None, message: str | None) -> None:
        sent.append((current, total, message))

    async def run(handle: TaskHandle) -> dict[str, Any]:
        await handle.send_progress(1, 2, "half")
        await handle.send_progress(2, 2)
        await handle.finish_progress()
        return text_result("x")

    async def run_without_sink(handle: TaskHandle) -> dict[str, Any]:
        await handle.send_progress(1, 2)
        await handle.finish_progress("done")
        return text_result("y")

    async def run_finishing(handle: TaskHandle) -> dict[str, Any]:
        await handle.send_progress(1, 4)
        await handle.finish_progress("done")
        return text_result("z")

    await engine.result(ALICE, (await create(engine, run, progress=sink))["taskId"])
    assert sent == [(1, 2, "half"), (2, 2, None)]
    await engine.result(ALICE, (await create(engine, run_finishing, progress=sink))["taskId"])
    assert sent[2:] == [(1, 4, None), (4, 4, "done")]
    del sent[2:]
    await engine.result(ALICE, (await create(engine, run_without_sink))["taskId"])
    assert sent == [(1, 2, "half"), (2, 2, None)]


async def test_foreign_and_unknown_tasks_are_not_found(engine: TaskEngine) -> None:
    gate = asyncio.Event()
    task = await create(engine, gated(gate))
    for owner, task_id in [
        (BOB, task["taskId"]),
        (ALICE, "no-such-task"),
        (ALICE, 42),
        (ALICE, "x" * 10_000),
        ("", task["taskId"]),
    ]:
        await expect_error(engine.get(owner, task_id), -32602, "task not found")
        await expect_error(engine.result(owner, task_id), -32602, "task not found")
        await expect_error(engine.cancel(owner, task_id), -32602, "task not found")
    assert (await engine.list(BOB, None))["tasks"] == []
    assert (await engine.get(ALICE, task["taskId"]))["status"] == "working"
    gate.set()
    await engine.result(ALICE, task["taskId"])


async def test_a_second_engine_observes_cancels_and_collects(make_engine: EngineFactory) -> None:
    worker_a, worker_b = make_engine(), make_engine()
    started, stopped = asyncio.Event(), asyncio.Event()
    long_task = await create(worker_a, forever(started, stopped))
    await started.wait()
    assert (await worker_b.get(ALICE, long_task["taskId"]))["status"] == "working"
    assert [t["taskId"] for t in (await worker_b.list(ALICE, None))["tasks"]] == [long_task["taskId"]]
    await worker_b.cancel(ALICE, long_task["taskId"])
    await stopped.wait()  # the cancel travelled to the worker running it
    await expect_error(worker_b.result(ALICE, long_task["taskId"]), -32600, "cancelled")

    gate = asyncio.Event()
    short_task = await create(worker_a, gated(gate, text_result("from a")))
    waiting_on_b = asyncio.create_task(worker_b.result(ALICE, short_task["taskId"]))
    await asyncio.sleep(0)
    gate.set()
    assert (await waiting_on_b)["content"][0]["text"] == "from a"
    await expect_error(worker_b.get(BOB, short_task["taskId"]), -32602, "task not found")


async def test_status_changes_made_on_one_worker_reach_the_others(make_engine: EngineFactory) -> None:
    worker_a, worker_b = make_engine(), make_engine()
    heard_on_b: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()

    async def on_status(task: dict[str, Any], session_id: str | None) -> None:
        await heard_on_b.put((task["status"], session_id))

    worker_b.on_status(on_status)
    await worker_b.start()  # at server startup
    task = await create(worker_a, returns(text_result("x")), session_id="held-by-b")
    await worker_a.result(ALICE, task["taskId"])
    assert await heard_on_b.get() == ("completed", "held-by-b")


async def test_concurrent_cancels_and_waiters_agree(make_engine: EngineFactory) -> None:
    worker_a, worker_b = make_engine(), make_engine()
    started, stopped = asyncio.Event(), asyncio.Event()
    task = await create(worker_a, forever(started, stopped))
    await started.wait()
    waiters = [asyncio.create_task(w.result(ALICE, task["taskId"])) for w in (worker_a, worker_b) * 5]
    outcomes = await asyncio.gather(
        worker_a.cancel(ALICE, task["taskId"]), worker_b.cancel(ALICE, task["taskId"]), return_exceptions=True
    )
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["MCPError", "dict"]
    for waited in await asyncio.gather(*waiters, return_exceptions=True):
        assert isinstance(waited, MCPError)
        assert waited.code == -32600


async def test_a_worker_whose_heartbeat_stops_leaves_its_task_failed(make_engine: EngineFactory) -> None:
    doomed, survivor = make_engine(lease_ms=500), make_engine(lease_ms=500)
    started, stopped = asyncio.Event(), asyncio.Event()
    task = await create(doomed, forever(started, stopped))
    await started.wait()
    for job in doomed._background:  # the worker's loop dies: no more heartbeats, no cleanup
        job.cancel()
    await expect_error(survivor.result(ALICE, task["taskId"]), -32603, "worker running this task stopped")
    failed = await survivor.get(ALICE, task["taskId"])
    assert failed["status"] == "failed"
    assert "stopped before it finished" in failed["statusMessage"]


async def test_closing_an_engine_fails_its_running_tasks(make_engine: EngineFactory) -> None:
    closing, other = make_engine(), make_engine()
    started, stopped = asyncio.Event(), asyncio.Event()
    task = await create(closing, forever(started, stopped))
    await started.wait()
    await closing.aclose()
    assert stopped.is_set()
    await expect_error(other.result(ALICE, task["taskId"]), -32603, "shut down")
    await expect_error(closing.get(ALICE, task["taskId"]), -32603, "closed")


async def test_an_empty_owner_is_a_server_bug(engine: TaskEngine) -> None:
    with pytest.raises(ValueError, match="`owner`"):
        await create(engine, returns({}), owner="")


def test_engine_options_are_checked() -> None:
    with pytest.raises(ValueError, match="page_size"):
        TaskEngine(page_size=0)
    with pytest.raises(ValueError, match="default_ttl_ms"):
        TaskEngine(default_ttl_ms=10, max_ttl_ms=5)


WORKER_SCRIPT = """
import asyncio, sys
from pymcp.state.redis import RedisStore
from pymcp.tasks import TaskEngine

async def main():
    url, prefix, owner = sys.argv[1:]
    engine = TaskEngine(RedisStore(url, prefix=prefix), lease_ms=1000)
    async def run(handle):
        await asyncio.Event().wait()
    task = await engine.create(owner=owner, session_id=None, ttl_ms=None, run=run)
    print(task["taskId"], flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


@pytest.mark.redis
async def test_a_killed_worker_process_leaves_its_task_failed(redis_url: str) -> None:
    from pymcp.state.redis import RedisStore

    prefix = f"kill-{uuid.uuid4().hex[:8]}"
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER_SCRIPT, redis_url, prefix, ALICE, stdout=asyncio.subprocess.PIPE
    )
    survivor = TaskEngine(RedisStore(redis_url, prefix=prefix), lease_ms=1000)
    try:
        assert worker.stdout is not None
        async with asyncio.timeout(60):  # a bound against a worker that never starts, not a timing check
            task_id = (await worker.stdout.readline()).decode().strip()
        assert task_id, "the worker exited before creating its task"
        assert (await survivor.get(ALICE, task_id))["status"] == "working"
        worker.kill()  # SIGKILL: no cleanup of any kind
        await worker.wait()
        await expect_error(survivor.result(ALICE, task_id), -32603, "worker running this task stopped")
        assert (await survivor.get(ALICE, task_id))["status"] == "failed"
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()
        await survivor.aclose()
        await survivor.store.aclose()


@pytest.mark.redis
async def test_tasks_survive_a_dropped_event_connection(redis_url: str) -> None:
    from redis.asyncio import Redis

    from pymcp.state.redis import RedisStore

    prefix = f"drop-{uuid.uuid4().hex[:8]}"
    running_here = TaskEngine(RedisStore(redis_url, prefix=prefix), lease_ms=1000)
    elsewhere = TaskEngine(RedisStore(redis_url, prefix=prefix), lease_ms=1000)
    admin = Redis.from_url(redis_url)
    try:
        started, stopped = asyncio.Event(), asyncio.Event()
        task = await create(running_here, forever(started, stopped))
        await started.wait()
        await elsewhere.list(ALICE, None)  # subscribed too
        assert await admin.client_kill_filter(_type="pubsub") >= 2  # every subscription drops
        await elsewhere.cancel(ALICE, task["taskId"])
        await stopped.wait()  # the cancel still reaches the coroutine (event or heartbeat check)
        gate = asyncio.Event()
        second = await create(running_here, gated(gate, text_result("after")))
        waiter = asyncio.create_task(elsewhere.result(ALICE, second["taskId"]))
        gate.set()
        assert (await waiter)["content"][0]["text"] == "after"
    finally:
        await admin.aclose()
        for engine in (running_here, elsewhere):
            await engine.aclose()
            await engine.store.aclose()
