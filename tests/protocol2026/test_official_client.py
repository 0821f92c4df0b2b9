"""The official `mcp` client speaking 2026-07-28 to the real server (the conformance fixture app).

Proves that what the official client sends passes `validate_request`, `check_param_headers` and the
`requestState` round trip, and that what the server produces is accepted by the client (discover,
caching fields, MRTR over two rounds). Raw httpx probes cover what a well-behaved client never sends.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp import types as mcp_types
from mcp.client.context import ClientRequestContext

from conformance_server import build_app
from support.server import serve

from .conftest import VERSION, meta

TWO_ROUNDS = "test_input_required_result_multi_round"


class MethodRecorder:
    """Wraps an ASGI app and records the `Mcp-Method` header of every request."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen_methods: set[str] = set()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        for name, value in scope.get("headers", ()):
            if name == b"mcp-method":
                self.seen_methods.add(value.decode("latin-1"))
        await self.app(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[MethodRecorder, str]]:
    app = MethodRecorder(build_app())
    with serve(app) as base_url:
        yield app, f"{base_url}/mcp"


async def answer_elicitation(
    context: ClientRequestContext, params: mcp_types.ElicitRequestParams
) -> mcp_types.ElicitResult:
    field = "name" if "name" in params.message else "color"
    return mcp_types.ElicitResult(action="accept", content={field: "Ada" if field == "name" else "teal"})


@pytest.mark.parametrize("mode", ["2026-07-28", "auto"])
async def test_official_client_round_trips(server: tuple[MethodRecorder, str], mode: str) -> None:
    app, url = server
    async with Client(url, mode=mode, elicitation_callback=answer_elicitation, cache=None) as client:
        assert client.protocol_version == VERSION
        tools = await client.list_tools()
        assert TWO_ROUNDS in [tool.name for tool in tools.tools]
        asked = await client.call_tool(TWO_ROUNDS, {})
        assert asked.content[0].text == "Ada likes teal"  # type: ignore[union-attr]
        ran = await client.call_tool("run_query", {"region": "Hello, 世界", "query": "q"})
        assert ran.content[0].text == "ran 'q' in Hello, 世界"  # type: ignore[union-attr]
    if mode == "auto":
        assert "server/discover" in app.seen_methods


def post(url: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    return httpx.post(url, json=body, headers={**base, **headers})


def test_raw_probes_get_the_2026_errors(server: tuple[MethodRecorder, str]) -> None:
    _, url = server
    routing = {"MCP-Protocol-Version": VERSION, "Mcp-Method": "server/discover"}
    missing = post(url, {"jsonrpc": "2.0", "id": 101, "method": "server/discover", "params": {}}, **routing)
    assert (missing.status_code, missing.json()["error"]["code"], missing.json()["id"]) == (400, -32602, 101)

    v999 = {
        "jsonrpc": "2.0",
        "id": 302,
        "method": "server/discover",
        "params": {"_meta": {**meta(), **_v999()}},
    }
    mismatch = post(url, v999, **routing)
    assert (mismatch.status_code, mismatch.json()["error"]["code"]) == (400, -32020)
    unsupported = post(url, v999, **{**routing, "MCP-Protocol-Version": "v999.0.0"})
    assert (unsupported.status_code, unsupported.json()["id"]) == (400, 302)
    assert unsupported.json()["error"]["data"] == {"supported": [VERSION], "requested": "v999.0.0"}

    ping = post(url, {"jsonrpc": "2.0", "id": 500, "method": "ping", "params": {"_meta": meta()}}, **routing)
    assert (ping.status_code, ping.json()["error"]["code"]) == (400, -32020)  # Mcp-Method says discover
    ping = post(
        url,
        {"jsonrpc": "2.0", "id": 500, "method": "ping", "params": {"_meta": meta()}},
        **{**routing, "Mcp-Method": "ping"},
    )
    assert (ping.status_code, ping.json()["error"]["code"]) == (404, -32601)

    named = {**routing, "Mcp-Method": "tools/call", "Mcp-Name": TWO_ROUNDS}
    call = {
        "jsonrpc": "2.0",
        "id": 7,
        "method": "tools/call",
        "params": {"name": TWO_ROUNDS, "_meta": meta()},
    }
    undeclared = post(url, call, **named)
    assert (undeclared.status_code, undeclared.json()["error"]["code"]) == (400, -32021)
    assert undeclared.json()["error"]["data"] == {"requiredCapabilities": {"elicitation": {"form": {}}}}

    call["params"]["_meta"] = meta({"elicitation": {}})
    asked = post(url, call, **named)
    assert asked.status_code == 200
    first = asked.json()["result"]
    assert first["resultType"] == "input_required"
    tampered = {**call, "params": {**call["params"], "requestState": first["requestState"] + "-TAMPERED"}}
    refused = post(url, tampered, **named)
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, -32602)
    assert "integrity" in refused.json()["error"]["message"]


def _v999() -> dict[str, str]:
    return {"io.modelcontextprotocol/protocolVersion": "v999.0.0"}
