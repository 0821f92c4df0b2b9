"""A real uvicorn on a real 6-node Redis Cluster: sessions, tools and tasks, a failover of the master that
holds a running task's records, an outage, and the start-up checks of a cluster URL (issue 12)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from pymcp import ServerSettings, create_app, get_registry_manager
from pymcp.errors import StoreUnavailable
from pymcp.security import TokenMapAuthenticator
from pymcp.state import open_store
from pymcp.state.redis import RedisStore
from scaling.worker_app import TOKENS
from server.mcp_client import McpClient
from support.redis import redis_server
from support.redis_cluster import APP_PASSWORD, RedisClusterNodes, admin, redis_cluster
from support.server import serve

pytestmark = pytest.mark.redis

UNAVAILABLE = {"code": -32603, "message": "the session store is unavailable"}


def build(store: str, gates: dict[str, threading.Event]) -> Any:
    """An app whose `held` tool (may run as a task) answers `text` once the test sets `gates[text]`
    (at once for a text without a gate)."""
    # The lease outlives the failover (the cluster's node timeout is 1 s; promotion takes about 2 s).
    settings = ServerSettings(task_lease_seconds=10)
    app = create_app(
        server_settings=settings, store=store, authn=TokenMapAuthenticator(TOKENS), require_authn=True
    )

    @get_registry_manager(app).tools.register(execution={"taskSupport": "optional"})
    async def held(text: str) -> str:
        """Answer `text` once the test lets it."""
        gate = gates.get(text)
        while gate is not None and not await asyncio.to_thread(gate.wait, 0.1):
            pass
        return text

    return app


def alice(base: str) -> McpClient:
    return McpClient(base, headers={"authorization": "Bearer alice-token"})


def retried(client: McpClient, method: str, params: dict[str, Any], statuses: list[int]) -> dict[str, Any]:
    """What a client does during a failover: repeat the request while it is answered 503 (the timeout
    only stops a broken test). Every status seen goes to `statuses`."""
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    deadline = time.monotonic() + 60
    while True:
        response = client.post(message)
        statuses.append(response.status_code)
        if response.status_code != 503 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            assert "result" in orjson.loads(response.content), response.text
            return client.validate(orjson.loads(response.content), method)
        assert orjson.loads(response.content)["error"] == UNAVAILABLE
        time.sleep(0.1)


def task_record_key(cluster: RedisClusterNodes, task_id: str) -> str:
    """The Redis key of a task's record, found on whichever master holds it."""
    for node in cluster.live():
        with admin(node.port) as client:
            found = client.keys(f"pymcp:task:*:r:{task_id}")
        if found:
            return str(found[0].decode())
    raise AssertionError(f"no record of task {task_id}")


@pytest.fixture
def cluster() -> Iterator[RedisClusterNodes]:
    """A cluster of this test's own: the test kills some of its nodes."""
    with redis_cluster() as nodes:
        yield nodes


def test_tasks_survive_a_failover_of_the_master_holding_them(cluster: RedisClusterNodes) -> None:
    gates = {"during": threading.Event(), "after": threading.Event()}
    with serve(build(cluster.url(), gates)) as base, alice(base) as client:
        client.initialize()
        task_ids = {
            text: client.result("tools/call", {"name": "held", "arguments": {"text": text}, "task": {}})[
                "task"
            ]["taskId"]
            for text in gates
        }
        key = task_record_key(cluster, task_ids["during"])  # one owner's tasks share a slot
        doomed = cluster.master_of(key)
        cluster.wait_replicated(doomed)  # the tasks' records are on its replica (it could fail in between)

        cluster.kill(doomed)
        gates["during"].set()  # this task ends while its master is gone and no replica has taken over
        statuses: list[int] = []
        # During the switch a request may be answered 503; retried, it succeeds.
        assert retried(client, "tasks/get", {"taskId": task_ids["after"]}, statuses)["result"]["status"] == (
            "working"
        )
        while cluster.master_of(key) == doomed:  # the replica takes over
            time.sleep(0.05)
        cluster.wait_until_healthy()
        gates["after"].set()

        for text, task_id in task_ids.items():
            while True:
                got = retried(client, "tasks/get", {"taskId": task_id}, statuses)["result"]
                if got["status"] != "working":
                    break
                time.sleep(0.05)
            assert got["status"] == "completed"
            result = retried(client, "tasks/result", {"taskId": task_id}, statuses)["result"]
            assert result["content"] == [{"type": "text", "text": text}]
        assert set(statuses) <= {200, 503}
        # The session, wherever its records were, goes on.
        assert client.result("tools/call", {"name": "held", "arguments": {"text": "on"}})["content"] == [
            {"type": "text", "text": "on"}
        ]

        for node in cluster.live():  # now the whole cluster goes away
            cluster.kill(node.port)
        for method, params in (("tasks/get", {"taskId": task_ids["after"]}), ("tasks/list", {})):
            response = client.post({"jsonrpc": "2.0", "id": 2, "method": method, "params": params})
            assert (response.status_code, response.json()["error"]) == (503, UNAVAILABLE)


def test_sessions_tools_and_tasks_on_a_cluster(redis_cluster_url: str) -> None:
    with serve(build(redis_cluster_url, {})) as base, alice(base) as first, alice(base) as second:
        first.initialize()
        second.initialize()
        tasks = [
            first.result("tools/call", {"name": "held", "arguments": {"text": str(n)}, "task": {}})["task"]
            for n in range(5)
        ]
        for n, task in enumerate(tasks):
            assert first.result("tasks/result", {"taskId": task["taskId"]})["content"][0]["text"] == str(n)
        listed = {task["taskId"] for task in second.result("tasks/list")["tasks"]}
        assert {task["taskId"] for task in tasks} <= listed  # the same principal, another session
        with McpClient(base, headers={"authorization": "Bearer bob-token"}) as bob:
            bob.initialize()
            assert bob.result("tasks/list")["tasks"] == []
            assert bob.error("tasks/get", {"taskId": tasks[0]["taskId"]})["message"] == "task not found"


async def test_a_call_waits_for_its_turn_when_the_pool_is_busy(redis_cluster_url: str) -> None:
    store = RedisStore(redis_cluster_url, prefix="test-pool", pool_size=2)
    try:
        await store.subscribe()
        owners = [f"owner-{n}" for n in range(300)]
        await asyncio.gather(
            *(store.create("task", owner, "t", {"status": "working"}, ttl_ms=60_000) for owner in owners)
        )
        found = await asyncio.gather(*(store.get("task", owner, "t") for owner in owners))
        assert found == [{"status": "working"}] * 300
    finally:
        await store.aclose()


async def test_a_cluster_url_names_a_cluster_and_the_right_credentials(redis_cluster_url: str) -> None:
    with pytest.raises(ValueError, match=r"a redis cluster has only database 0: remove `/2`") as bad:
        open_store(redis_cluster_url + "/2")
    assert APP_PASSWORD not in str(bad.value)
    assert "`store` URL `redis+cluster://app:***@127.0.0.1:" in str(bad.value)
    for option, setting in (("max_connections", "store_pool_size"), ("timeout", "store_pool_timeout")):
        for url in (redis_cluster_url, redis_cluster_url.replace("redis+cluster://", "redis://")):
            with pytest.raises(ValueError, match=rf"may not set `{option}`: use the `{setting}` setting"):
                open_store(f"{url}/0?{option}=5")
    plain = RedisStore(redis_cluster_url.replace("redis+cluster://", "redis://"))
    with pytest.raises(ValueError, match=r"is a node of a redis cluster: use `redis\+cluster://`"):
        await plain.subscribe()
    await plain.aclose()
    wrong = RedisStore(redis_cluster_url.replace(APP_PASSWORD, "wrong"))
    with pytest.raises(StoreUnavailable, match="redis refused the credentials in the `store` URL"):
        await wrong.subscribe()
    await wrong.aclose()
    with redis_server() as single:
        mistaken = RedisStore(single.replace("redis://", "redis+cluster://").removesuffix("/0"))
        with pytest.raises(ValueError, match=r"names a redis cluster but the server is not in cluster mode"):
            await mistaken.subscribe()
        await mistaken.aclose()
