"""create_app wires the security gate: authentication once per HTTP request, authorization once per
JSON-RPC request (the seed's example policy), list filtering before pagination, stdio's declared principal."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import orjson
import pytest

from pymcp.security import Principal, RuleBasedAuthorizer, TokenMapAuthenticator
from server.conftest import build_app
from server.mcp_client import McpClient
from support.server import serve

POLICY: dict[str, Any] = {
    "default_effect": "deny",
    "hide_unauthorized_tools": True,
    "rules": [
        {
            "methods": ["initialize", "ping", "tools/list"],
            "allow_subjects": ["alice", "bob"],
            "effect": "allow",
        },
        {"methods": ["tools/call"], "tool": "add", "allow_roles": ["ops"], "effect": "allow"},
    ],
}


def secured_app() -> Any:
    authn = TokenMapAuthenticator(
        {"alice-token": {"subject": "alice", "roles": ["ops"]}, "bob-token": {"subject": "bob"}}
    )
    return build_app(authn=authn, authz=RuleBasedAuthorizer(POLICY), require_authn=True)


@pytest.fixture(scope="module")
def secured_url() -> Iterator[str]:
    with serve(secured_app()) as url:
        yield url


def test_missing_credentials_get_401(secured_url: str) -> None:
    with McpClient(secured_url) as anonymous:
        response = anonymous.post({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {}})
        assert response.status_code == 401


def test_authorized_call_and_filtered_list(secured_url: str) -> None:
    with McpClient(secured_url, headers={"authorization": "Bearer alice-token"}) as alice:
        alice.initialize()
        assert [tool["name"] for tool in alice.result("tools/list")["tools"]] == ["add"]
        result = alice.result("tools/call", {"name": "add", "arguments": {"a": 1}})
        assert result["content"][0]["text"] == "2"


def test_denied_call_is_403_with_a_json_rpc_error(secured_url: str) -> None:
    with McpClient(secured_url, headers={"authorization": "Bearer bob-token"}) as bob:
        bob.initialize()
        assert bob.result("tools/list")["tools"] == []
        response = bob.post({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "add"}})
        assert response.status_code == 403
        body = bob.validate(orjson.loads(response.content))
        assert body["id"] == 9
        assert body["error"]["code"] == -32007


def test_stdio_authorizes_as_the_declared_principal() -> None:
    from pymcp import run_stdio_server

    lines = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-11-25"}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "add", "arguments": {"a": 4}}},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "x"}},
        },
    ]
    source = io.BytesIO(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    sink = io.BytesIO()
    run_stdio_server(
        secured_app(), principal=Principal("alice", roles={"ops"}), input_stream=source, output_stream=sink
    )
    replies = {reply["id"]: reply for reply in map(orjson.loads, sink.getvalue().splitlines())}
    assert replies[2]["result"]["content"][0]["text"] == "5"
    assert replies[3]["error"]["code"] == -32007
