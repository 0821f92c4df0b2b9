"""A task-augmented call from the official `mcp` SDK (2.3.0): created, followed until it completes,
listed and its result read; on one worker (memory store) and across two workers sharing Redis.

mcp 2.3.0 has the 2025-11-25 task types (`CreateTaskResult`, `GetTaskRequest`, ...) but no task flow:
its `send_request` checks every `tools/call` result as a `CallToolResult` and so rejects the
`CreateTaskResult` of a task-augmented call. The call is therefore built with the SDK's own types and
sent through the session's raw request path; `tasks/get`, `tasks/list` and `tasks/result` go through
the public `send_request`. The client runs in `legacy` mode: tasks as specified here belong to the
2025-11-25 handshake, not to 2026-07-28.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import mcp.types as types
import pytest
from mcp import Client
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

from scaling.conftest import Worker
from scaling.worker_app import build
from support.mcp_schema import SchemaCheckedApp
from support.server import serve


@asynccontextmanager
async def sdk_session(base_url: str, token: str = "alice-token") -> AsyncIterator[ClientSession]:
    async with (
        httpx2.AsyncClient(headers={"authorization": f"Bearer {token}"}) as http,
        Client(streamable_http_client(f"{base_url}/mcp", http_client=http), mode="legacy") as client,
    ):
        assert client.protocol_version == "2025-11-25"
        yield client.session


async def create_task(session: ClientSession, name: str, arguments: dict[str, Any]) -> types.Task:
    request = types.CallToolRequest(
        params=types.CallToolRequestParams(
            name=name, arguments=arguments, task=types.TaskMetadata(ttl=60_000)
        )
    )
    message = request.model_dump(by_alias=True, mode="json", exclude_none=True)
    raw = await session._dispatcher.send_raw_request(message["method"], message["params"])
    return types.CreateTaskResult.model_validate(raw).task


async def round_trip(creator: ClientSession, reader: ClientSession) -> None:
    """Create on `creator`; follow, list and collect on `reader` (the same principal)."""
    task = await create_task(creator, "work", {"seconds": 0.3, "text": "via the sdk"})
    assert task.status == "working"
    get = types.GetTaskRequest(params=types.GetTaskRequestParams(task_id=task.task_id))
    for _poll in range(100):  # bounded: a broken server fails the test instead of hanging it
        status = (await reader.send_request(get, types.GetTaskResult)).status
        if status != "working":
            break
        await asyncio.sleep(0.1)
    assert status == "completed"
    listed = await reader.send_request(types.ListTasksRequest(), types.ListTasksResult)
    assert task.task_id in [listed_task.task_id for listed_task in listed.tasks]
    payload = types.GetTaskPayloadRequest(params=types.GetTaskPayloadRequestParams(task_id=task.task_id))
    result = await reader.send_request(payload, types.CallToolResult)
    assert result.content == [types.TextContent(type="text", text="via the sdk")]
    assert result.meta == {"io.modelcontextprotocol/related-task": {"taskId": task.task_id}}


async def test_sdk_task_on_one_worker_with_the_memory_store() -> None:
    checked = SchemaCheckedApp(build("memory"))
    with serve(checked) as url:
        async with sdk_session(url) as session:
            await round_trip(session, session)
    assert checked.checked > 0
    assert checked.problems == []


@pytest.mark.redis
@pytest.mark.slow
async def test_sdk_task_across_two_workers_sharing_redis(worker_factory: Callable[[str], Worker]) -> None:
    a, b = worker_factory("sdk-a"), worker_factory("sdk-b")
    async with sdk_session(a.url) as on_a, sdk_session(b.url) as on_b:
        await round_trip(on_a, on_b)
    assert a.schema_problems() == []
    assert b.schema_problems() == []
