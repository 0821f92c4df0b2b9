"""Property test: whatever arrives at `/mcp`, the answer is a clear 2xx/4xx (never a 500, a traceback or a
hang) with a JSON-RPC body when there is one, and the session keeps working."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymcp import create_app, get_registry_manager
from server.mcp_client import ACCEPT, initialize_message
from support.json_values import json_values as json_values_of

METHODS = [
    "initialize", "ping", "tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list",
    "resources/read", "resources/templates/list", "resources/subscribe", "logging/setLevel",
    "completion/complete", "tasks/get", "tasks/list", "tasks/result", "tasks/cancel",
    "notifications/initialized", "notifications/cancelled",
]  # fmt: skip

json_values = json_values_of(max_leaves=12, max_size=3)
params = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(["add", "echo", "nope"]) | json_values,
            "arguments": st.dictionaries(st.sampled_from(["a", "b", "text", "x"]), json_values, max_size=3),
            "uri": st.text(max_size=12) | json_values,
            "cursor": st.text(max_size=12) | json_values,
            "level": st.sampled_from(["debug", "loud"]),
            "taskId": st.text(max_size=8),
            "task": json_values,
            "_meta": json_values,
        },
    ),
)
messages = st.fixed_dictionaries(
    {
        "jsonrpc": st.sampled_from(["2.0", "2.0", "1.0"]),
        "method": st.sampled_from(METHODS) | st.text(max_size=10),
    },
    optional={"id": json_values, "params": params},
)
bodies = st.one_of(
    st.binary(max_size=64),
    json_values.map(orjson.dumps),
    messages.map(orjson.dumps),
    st.lists(messages, max_size=3).map(orjson.dumps),
)


@pytest.fixture(scope="module")
def session() -> Iterator[tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, dict[str, str]]]:
    app = create_app()
    tools = get_registry_manager(app).tools
    tools.register(lambda a, b=1: a + b, name="add")
    tools.register(lambda text: text, name="echo")
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1")
    headers = {"accept": ACCEPT, "content-type": "application/json"}

    async def handshake() -> None:
        response = await client.post("/mcp", content=orjson.dumps(initialize_message()), headers=headers)
        headers["mcp-session-id"] = response.headers["mcp-session-id"]
        initialized = orjson.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
        assert (await client.post("/mcp", content=initialized, headers=headers)).status_code == 202

    loop.run_until_complete(handshake())
    yield loop, client, headers
    loop.run_until_complete(client.aclose())
    loop.close()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_any_body_gets_a_clear_answer(session: Any, body: bytes) -> None:
    loop, client, headers = session

    async def exchange() -> None:
        response = await asyncio.wait_for(client.post("/mcp", content=body, headers=headers), 5)
        assert response.status_code in (200, 202, 204, 400, 404, 406, 413, 415), response.text
        if response.content:
            reply = orjson.loads(response.content)
            for item in reply if isinstance(reply, list) else [reply]:
                assert set(item) in ({"jsonrpc", "id", "result"}, {"jsonrpc", "id", "error"}), item
        ping = orjson.dumps({"jsonrpc": "2.0", "id": "after", "method": "ping"})
        assert (await client.post("/mcp", content=ping, headers=headers)).json()["result"] == {}

    loop.run_until_complete(exchange())
