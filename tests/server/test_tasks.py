"""Task-augmented `tools/call` and `tasks/*` over HTTP (2025-11-25), on the tasks engine."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from pymcp import get_registry_manager
from pymcp.tasks import TaskHandle
from server.conftest import build_app
from server.mcp_client import McpClient, read_sse
from support.server import serve


@pytest.fixture(scope="module")
def tasks_url() -> Iterator[str]:
    app = build_app()
    tools = get_registry_manager(app).tools

    @tools.register(execution={"taskSupport": "optional"})
    async def report(task_context: TaskHandle | None, wait: float = 0) -> str:
        """Work for `wait` seconds, then report (`task_context` is None when not called as a task)."""
        if task_context is not None:
            await task_context.send_progress(1, 2, "half")
        await asyncio.sleep(wait)
        return "report ready"

    @tools.register(execution={"taskSupport": "required"})
    def must_be_task() -> str:
        """Only as a task."""
        return "ok"

    with serve(app) as url:
        yield url


@pytest.fixture
def mcp(tasks_url: str) -> Iterator[McpClient]:
    with McpClient(tasks_url) as client:
        capabilities = client.initialize()["capabilities"]
        assert capabilities["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
        yield client


def test_a_task_runs_and_its_result_is_collected(mcp: McpClient) -> None:
    created = mcp.result("tools/call", {"name": "report", "arguments": {}, "task": {}})["task"]
    assert created["status"] == "working"
    result = mcp.result("tasks/result", {"taskId": created["taskId"]})
    assert result["content"][0]["text"] == "report ready"
    assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": created["taskId"]}
    assert mcp.result("tasks/get", {"taskId": created["taskId"]})["status"] == "completed"
    listed = mcp.result("tasks/list")["tasks"]
    assert created["taskId"] in [task["taskId"] for task in listed]


def test_status_and_progress_reach_the_get_stream(mcp: McpClient) -> None:
    events: list[dict[str, Any]] = []
    with mcp.http.stream("GET", mcp.url, headers=mcp.headers(accept="text/event-stream")) as stream:
        params = {"name": "report", "arguments": {}, "task": {"ttl": 60000}, "_meta": {"progressToken": 7}}
        task_id = mcp.result("tools/call", params)["task"]["taskId"]
        for _, data in read_sse(stream.iter_lines()):
            if data:
                events.append(mcp.validate(orjson.loads(data)))
            if events and events[-1].get("params", {}).get("status") == "completed":
                break
    progress = [e for e in events if e["method"] == "notifications/progress"]
    assert progress[0]["params"] == {"progressToken": 7, "progress": 1, "total": 2, "message": "half"}
    statuses = [e["params"] for e in events if e["method"] == "notifications/tasks/status"]
    assert statuses[-1]["taskId"] == task_id


def test_cancel_a_running_task(mcp: McpClient) -> None:
    task_id = mcp.result("tools/call", {"name": "report", "arguments": {"wait": 5}, "task": {}})["task"][
        "taskId"
    ]
    assert mcp.result("tasks/cancel", {"taskId": task_id})["status"] == "cancelled"
    assert mcp.error("tasks/cancel", {"taskId": task_id})["code"] == -32602


def test_task_support_is_enforced(mcp: McpClient) -> None:
    assert mcp.error("tools/call", {"name": "must_be_task"})["code"] == -32601
    assert mcp.error("tools/call", {"name": "echo", "arguments": {"text": "x"}, "task": {}})["code"] == -32601
    assert mcp.error("tools/call", {"name": "report", "task": "soon"})["code"] == -32602
    assert mcp.error("tasks/get", {"taskId": "nope"})["code"] == -32602


def test_tasks_belong_to_their_session_when_anonymous(tasks_url: str, mcp: McpClient) -> None:
    task_id = mcp.result("tools/call", {"name": "report", "arguments": {}, "task": {}})["task"]["taskId"]
    with McpClient(tasks_url) as other:
        other.initialize()
        assert other.error("tasks/get", {"taskId": task_id})["code"] == -32602
        assert task_id not in [task["taskId"] for task in other.result("tasks/list")["tasks"]]


def test_older_sessions_have_no_tasks(tasks_url: str) -> None:
    with McpClient(tasks_url) as old:
        assert "tasks" not in old.initialize("2025-06-18")["capabilities"]
        result = old.result("tools/call", {"name": "report", "arguments": {}, "task": {}})
        assert result["content"][0]["text"] == "report ready"
        assert old.error("tasks/list")["code"] == -32601
