"""Redis under load and during an outage (issue 12, finding 14): an in-process worker, a real redis-server
(and a real Redis Cluster under load)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import ExitStack
from typing import Any

import httpx
import orjson
import pytest

from pymcp import create_app, get_registry_manager
from server.mcp_client import ACCEPT, McpClient, initialize_message
from support.redis import redis_server
from support.server import serve

pytestmark = pytest.mark.redis

HEADERS = {"accept": ACCEPT, "content-type": "application/json"}


def build(url: str, **kwargs: Any) -> Any:
    app = create_app(store=url, **kwargs)

    @get_registry_manager(app).tools.register
    def echo(text: str) -> str:
        """Echo the text."""
        return text

    return app


async def one_user(http: httpx.AsyncClient, url: str, n: int) -> tuple[int, int, Any]:
    opened = await http.post(url, content=orjson.dumps(initialize_message()), headers=HEADERS)
    if opened.status_code != 200:
        return opened.status_code, 0, opened.text
    session = {
        **HEADERS,
        "mcp-session-id": opened.headers["mcp-session-id"],
        "mcp-protocol-version": "2025-11-25",
    }
    ready = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    await http.post(url, content=orjson.dumps(ready), headers=session)
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": str(n)}},
    }
    answered = await http.post(url, content=orjson.dumps(call), headers=session)
    return 200, answered.status_code, answered.json()


@pytest.mark.parametrize("redis_fixture", ["redis_url", "redis_cluster_url"])
def test_500_concurrent_users_on_one_redis_backed_worker_all_succeed(
    redis_fixture: str, request: pytest.FixtureRequest
) -> None:
    with serve(build(request.getfixturevalue(redis_fixture), store_pool_size=16)) as base:

        async def crowd() -> list[tuple[int, int, Any]]:
            # No keep-alive: uvicorn closes idle connections after 5 s, which a slow crowd would race.
            limits = httpx.Limits(max_connections=500, max_keepalive_connections=0)
            async with httpx.AsyncClient(limits=limits, timeout=120) as http:
                return await asyncio.gather(*(one_user(http, base + "/mcp", n) for n in range(500)))

        outcomes = asyncio.run(crowd())
    failures = [outcome for outcome in outcomes if outcome[:2] != (200, 200)]
    assert failures == []
    assert sorted(int(o[2]["result"]["content"][0]["text"]) for o in outcomes) == list(range(500))


def test_an_outage_is_a_clear_error_for_every_method_and_logged_sparingly(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with ExitStack() as redis_alive:
        url = redis_alive.enter_context(redis_server())
        app = build(url)
        with serve(app) as base, McpClient(base) as client:
            client.initialize()
            assert client.result("tools/call", {"name": "echo", "arguments": {"text": "up"}})
            redis_alive.close()  # the outage
            caplog.set_level(logging.WARNING, logger="pymcp")
            for method, params in (
                ("tasks/list", {}),
                ("tasks/get", {"taskId": "0" * 32}),
                ("tasks/result", {"taskId": "0" * 32}),
                ("tasks/cancel", {"taskId": "0" * 32}),
            ) * 5:
                response = client.post({"jsonrpc": "2.0", "id": 1, "method": method, "params": params})
                assert response.status_code == 503, (method, response.text)
                assert response.json()["error"] == {
                    "code": -32603,
                    "message": "the session store is unavailable",
                }
            with McpClient(base) as newcomer:
                opened = newcomer.post(initialize_message())
            assert opened.status_code == 503
            assert opened.json()["error"]["message"] == "the session store is unavailable"
    tracebacks = [record for record in caplog.records if record.exc_info]
    assert tracebacks == []
    store_warnings = [record for record in caplog.records if "the store failed" in record.getMessage()]
    assert 1 <= len(store_warnings) <= 4  # one per kind of failure per 10 s, not one per request
