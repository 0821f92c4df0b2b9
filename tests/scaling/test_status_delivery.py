"""`Dispatcher.adopt` and where `notifications/tasks/status` goes: only a worker with the session's stream
attached publishes it, so a worker holding a mere copy of the session buffers nothing for replay."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from pymcp import create_app
from pymcp.server import Session
from pymcp.server.session import SessionState
from pymcp.tasks.engine import TaskHandle

STATUS = "notifications/tasks/status"


def ready_session(session_id: str) -> Session:
    session = Session(
        session_id,
        owner=None,
        protocol_version="2025-11-25",
        client_info={},
        client_capabilities={},
        history_limit=100,
        queue_size=100,
    )
    session.state = SessionState.READY
    return session


def published(session: Session) -> list[dict[str, Any]]:
    return [orjson.loads(data) for _, data in session.standalone.history]


async def test_adopted_sessions_are_found_and_reached_by_broadcasts() -> None:
    dispatcher = create_app().state.dispatcher
    session = ready_session("s-1")
    dispatcher.adopt(session)
    assert dispatcher.session_by_id("s-1") is session
    dispatcher.broadcast("notifications/tools/list_changed", None)
    assert [message["method"] for message in published(session)] == ["notifications/tools/list_changed"]
    dispatcher.forget(session)
    assert dispatcher.session_by_id("s-1") is None


async def test_status_is_published_only_where_the_stream_is_attached() -> None:
    app = create_app()
    engine = app.state.task_engine
    session = ready_session("s-2")
    app.state.dispatcher.adopt(session)
    completed: asyncio.Queue[str] = asyncio.Queue()

    async def heard(task: dict[str, Any], session_id: str | None) -> None:
        # Registered after the server's own callback, which has therefore run for this change.
        if task["status"] == "completed":
            completed.put_nowait(task["taskId"])

    engine.on_status(heard)

    async def run(handle: TaskHandle) -> dict[str, Any]:
        return {"content": []}

    async def one_task() -> str:
        created = await engine.create(owner="o", session_id="s-2", ttl_ms=None, run=run)
        while await completed.get() != created["taskId"]:
            pass
        return str(created["taskId"])

    try:
        await one_task()
        assert published(session) == []  # a copy without a stream: nothing buffered
        queue, _ = session.standalone.attach(None)
        task_id = await one_task()
        statuses = [m["params"] for m in published(session) if m["method"] == STATUS]
        assert statuses[-1]["taskId"] == task_id
        assert statuses[-1]["status"] == "completed"
        assert queue.qsize() == len(published(session))  # handed to the attached stream as well
    finally:
        await engine.aclose()
