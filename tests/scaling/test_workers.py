"""Two worker processes sharing one Redis: a session and its tasks are served by either worker, ownership
holds on both, and a worker killed mid-task leaves the task `failed`, never stuck in `working`."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest

from scaling.conftest import Worker
from server.mcp_client import McpClient, read_sse
from support.mcp_schema import validate_message

pytestmark = [pytest.mark.redis, pytest.mark.slow]

TASK_NOT_FOUND = {"code": -32602, "message": "task not found"}


@pytest.fixture(scope="module")
def pair(worker_factory: Callable[[str], Worker]) -> Iterator[tuple[Worker, Worker]]:
    a, b = worker_factory("a"), worker_factory("b")
    yield a, b
    assert a.schema_problems() == []
    assert b.schema_problems() == []


@pytest.fixture
def alice(pair: tuple[Worker, Worker]) -> Iterator[McpClient]:
    """A ready session of alice, started on worker A."""
    with pair[0].client() as client:
        client.initialize()
        yield client


def start_task(client: McpClient, seconds: float, text: str = "done") -> dict[str, Any]:
    params = {"name": "work", "arguments": {"seconds": seconds, "text": text}, "task": {"ttl": 60_000}}
    task: dict[str, Any] = client.result("tools/call", params)["task"]
    assert task["status"] == "working"
    return task


def wait_for_status(client: McpClient, task_id: str, *, leave: str, timeout: float) -> dict[str, Any]:
    """Poll `tasks/get` until the status is no longer `leave` (the timeout only stops a broken test)."""
    deadline = time.monotonic() + timeout
    while True:
        task = client.result("tasks/get", {"taskId": task_id})
        if task["status"] != leave or time.monotonic() > deadline:
            return task
        time.sleep(0.2)


def test_a_session_started_on_one_worker_is_served_by_another(
    pair: tuple[Worker, Worker], alice: McpClient
) -> None:
    with pair[1].join(alice) as on_b:
        assert [tool["name"] for tool in on_b.result("tools/list")["tools"]] == ["work", "note"]
        called = on_b.result("tools/call", {"name": "work", "arguments": {"text": "from b"}})
        assert called["content"] == [{"type": "text", "text": "from b"}]
    assert alice.result("ping") == {}


def test_the_handshake_can_finish_on_another_worker(pair: tuple[Worker, Worker]) -> None:
    a, b = pair
    with a.client() as on_a, a.client() as early:
        on_a.start()
        early.start()
        with b.join(on_a) as on_b, b.join(early) as early_on_b:
            # Not initialized yet, wherever the request lands.
            assert early_on_b.error("tools/list")["message"] == "server not initialized."
            assert on_b.notify("notifications/initialized").status_code == 202
            assert on_b.result("tools/list")["tools"]
        assert on_a.result("tools/list")["tools"]


def test_another_principal_cannot_use_the_session_on_any_worker(
    pair: tuple[Worker, Worker], alice: McpClient
) -> None:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    for worker in pair:
        with worker.join(alice, token="bob-token") as bob:
            response = bob.post(ping)
            assert response.status_code == 404
            message = orjson.loads(response.content)
            validate_message(message, "2025-11-25")
            unknown = bob.post(ping, **{"mcp-session-id": "0" * 32})
            assert (unknown.status_code, orjson.loads(unknown.content)) == (404, message)


def test_delete_on_one_worker_ends_the_session_on_every_worker(
    pair: tuple[Worker, Worker], alice: McpClient
) -> None:
    b = pair[1]
    with b.join(alice) as on_b:
        assert on_b.result("ping") == {}  # worker B now holds a copy
        assert httpx.delete(on_b.url, headers=on_b.headers()).status_code == 204
    ping = {"jsonrpc": "2.0", "id": 9, "method": "ping"}
    assert alice.post(ping).status_code == 404
    with b.join(alice) as on_b:
        assert on_b.post(ping).status_code == 404


def test_log_level_set_on_one_worker_is_seen_by_another(
    pair: tuple[Worker, Worker], alice: McpClient
) -> None:
    def logged(client: McpClient, level: str) -> list[str]:
        response, before = client.call("tools/call", {"name": "note", "arguments": {"level": level}})
        assert response["result"]["content"] == [{"type": "text", "text": "noted"}]
        return [message["params"]["level"] for message in before]

    assert alice.result("logging/setLevel", {"level": "error"}) == {}
    with pair[1].join(alice) as on_b:
        assert logged(on_b, "warning") == []
        assert logged(on_b, "error") == ["error"]
        assert on_b.result("logging/setLevel", {"level": "debug"}) == {}
    assert logged(alice, "info") == ["info"]


def test_a_task_started_on_one_worker_is_followed_and_collected_on_another(
    pair: tuple[Worker, Worker], alice: McpClient
) -> None:
    task = start_task(alice, 0.5, "collected on b")
    with pair[1].join(alice) as on_b:
        assert on_b.result("tasks/get", {"taskId": task["taskId"]})["taskId"] == task["taskId"]
        listed = [listed["taskId"] for listed in on_b.result("tasks/list")["tasks"]]
        assert task["taskId"] in listed
        result = on_b.result("tasks/result", {"taskId": task["taskId"]})
        assert result["content"] == [{"type": "text", "text": "collected on b"}]
        assert result["_meta"]["io.modelcontextprotocol/related-task"] == {"taskId": task["taskId"]}
        assert on_b.result("tasks/get", {"taskId": task["taskId"]})["status"] == "completed"
    assert alice.result("tasks/get", {"taskId": task["taskId"]})["status"] == "completed"


def test_a_task_is_cancelled_through_another_worker(pair: tuple[Worker, Worker], alice: McpClient) -> None:
    task = start_task(alice, 60)
    with pair[1].join(alice) as on_b:
        cancelled = on_b.result("tasks/cancel", {"taskId": task["taskId"]})
        assert cancelled["status"] == "cancelled"
        error = on_b.error("tasks/result", {"taskId": task["taskId"]})
        assert error["message"] == "the task was cancelled"
    assert alice.result("tasks/get", {"taskId": task["taskId"]})["status"] == "cancelled"


def test_status_notifications_reach_the_get_stream_on_another_worker(
    pair: tuple[Worker, Worker], alice: McpClient
) -> None:
    statuses: list[str] = []
    with pair[1].join(alice) as on_b:
        get_headers = on_b.headers(accept="text/event-stream")
        with on_b.http.stream("GET", on_b.url, headers=get_headers) as stream:
            assert stream.status_code == 200
            task = start_task(alice, 0.3)  # runs on worker A; the stream is on worker B
            for _, data in read_sse(stream.iter_lines()):
                if not data:
                    continue  # priming event
                event = on_b.validate(orjson.loads(data))
                assert event["method"] == "notifications/tasks/status"
                assert event["params"]["taskId"] == task["taskId"]
                statuses.append(event["params"]["status"])
                if statuses[-1] == "completed":
                    break
    assert statuses[-1] == "completed"


def test_another_principal_sees_no_task_of_alice_on_any_worker(
    pair: tuple[Worker, Worker], alice: McpClient
) -> None:
    task = start_task(alice, 0)
    for worker in pair:
        with worker.client("bob-token") as bob:
            bob.initialize()
            for method in ("tasks/get", "tasks/result", "tasks/cancel"):
                assert bob.error(method, {"taskId": task["taskId"]}) == TASK_NOT_FOUND
            assert bob.result("tasks/list")["tasks"] == []


def test_a_task_of_a_killed_worker_fails_and_another_worker_says_so(
    worker_factory: Callable[[str], Worker], pair: tuple[Worker, Worker]
) -> None:
    doomed = worker_factory("doomed")
    with doomed.client() as on_doomed:
        on_doomed.initialize()
        task = start_task(on_doomed, 300)
        assert doomed.schema_problems() == []
        doomed.kill()
        with pair[1].join(on_doomed) as on_b:
            # The other worker sees the task (its lease, 3 s in `worker_app`, may already have lapsed).
            assert on_b.result("tasks/get", {"taskId": task["taskId"]})["status"] in ("working", "failed")
            # Once the lease lapses the next look at the task settles it.
            settled = wait_for_status(on_b, task["taskId"], leave="working", timeout=40)
            assert settled["status"] == "failed"
            assert settled["statusMessage"] == "the worker running this task stopped before it finished"
            error = on_b.error("tasks/result", {"taskId": task["taskId"]})
            assert error["message"] == "the worker running this task stopped before it finished"
