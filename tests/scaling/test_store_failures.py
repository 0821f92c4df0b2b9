"""When the store cannot be reached: a clear 503 for what needs it, held sessions keep serving, a worker
whose store is down at startup does not start, and a task ending during a short outage keeps its outcome."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
import pytest
import redis.exceptions

from pymcp import create_app
from pymcp.security import TokenMapAuthenticator
from pymcp.state import MemoryStore
from pymcp.state.store import StoreUnavailable
from pymcp.tasks import TaskEngine, TaskHandle
from server.mcp_client import McpClient, initialize_message
from support.mcp_schema import validate_message
from support.server import serve

UNAVAILABLE = {"code": -32603, "message": "the session store is unavailable"}


class SwitchableStore(MemoryStore):
    """A memory store that can be made to fail like a store whose server went away."""

    down = False

    def _check(self) -> None:
        if self.down:
            raise ConnectionError("connection refused")

    async def create(
        self, namespace: str, owner: str, record_id: str, record: Mapping[str, Any], *, ttl_ms: int
    ) -> None:
        self._check()
        await super().create(namespace, owner, record_id, record, ttl_ms=ttl_ms)

    async def get(self, namespace: str, owner: str, record_id: str) -> dict[str, Any] | None:
        self._check()
        return await super().get(namespace, owner, record_id)

    async def transition(self, *args: Any, **kwargs: Any) -> Any:
        self._check()
        return await super().transition(*args, **kwargs)

    async def admit(self, counter: str, member: str, *, limit: int, ttl_ms: int) -> bool:
        self._check()
        return await super().admit(counter, member, limit=limit, ttl_ms=ttl_ms)

    async def dismiss(self, counter: str, member: str) -> None:
        self._check()
        await super().dismiss(counter, member)


def unavailable(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    message = orjson.loads(response.content)
    validate_message(message, "2025-11-25")
    return message["error"]  # type: ignore[no-any-return]


def test_a_store_outage_is_a_clear_503_and_held_sessions_keep_serving() -> None:
    store = SwitchableStore()
    with (
        serve(create_app(store=store)) as first,
        serve(create_app(store=store)) as second,
        McpClient(first) as client,
    ):
        client.initialize()
        store.down = True
        assert client.result("ping") == {}  # held by the first worker: no store access needed
        with McpClient(second) as elsewhere:
            elsewhere.session_id = client.session_id
            assert unavailable(elsewhere.post({"jsonrpc": "2.0", "id": 1, "method": "ping"})) == UNAVAILABLE
            elsewhere.session_id = None
            assert unavailable(elsewhere.post(initialize_message())) == UNAVAILABLE
        assert unavailable(httpx.delete(client.url, headers=client.headers())) == UNAVAILABLE
        store.down = False
        with McpClient(second) as elsewhere:
            elsewhere.initialize()
            assert elsewhere.result("ping") == {}


def test_a_store_outage_while_counting_a_callers_sessions_is_a_503() -> None:
    store = SwitchableStore()
    alice = TokenMapAuthenticator({"alice-token": {"subject": "alice"}})
    app = create_app(store=store, authn=alice, require_authn=True, max_sessions_per_principal=1)
    with serve(app) as url, McpClient(url, headers={"authorization": "Bearer alice-token"}) as client:
        store.down = True
        assert unavailable(client.post(initialize_message())) == UNAVAILABLE
        assert app.state.session_manager.sessions == {}
        assert app.state.dispatcher.sessions == set()  # nor kept for broadcasts
        store.down = False
        client.initialize()  # nothing of the refused session counts against the limit of 1
        assert client.result("ping") == {}


async def test_a_worker_whose_redis_is_down_does_not_start() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    app = create_app(store=f"redis://127.0.0.1:{port}/0")
    with pytest.raises(StoreUnavailable, match="the session store is unavailable") as raised:
        async with app.router.lifespan_context(app):
            pass
    assert isinstance(raised.value.__cause__, redis.exceptions.ConnectionError)


class FailingOver(MemoryStore):
    """A memory store whose next `failures` compare-and-sets fail as during a Redis failover."""

    failures = 0

    async def transition(self, *args: Any, **kwargs: Any) -> Any:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable
        return await super().transition(*args, **kwargs)


async def test_a_task_that_ends_while_the_store_fails_over_keeps_its_outcome() -> None:
    store = FailingOver()
    engine = TaskEngine(store, lease_ms=10_000)
    gate = asyncio.Event()

    async def run(handle: TaskHandle) -> dict[str, Any]:
        await gate.wait()
        return {"content": [{"type": "text", "text": "kept"}]}

    try:
        task = await engine.create(owner="alice", run=run, session_id=None, ttl_ms=None)
        store.failures = 3  # about 1.5 s of retries: well within the lease
        gate.set()
        result = await engine.result("alice", task["taskId"])
        assert result["content"] == [{"type": "text", "text": "kept"}]
        assert store.failures == 0
    finally:
        await engine.aclose()
