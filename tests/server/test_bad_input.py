"""Every bad input gets the right HTTP status and a JSON-RPC error, and the server keeps serving."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest

from server.conftest import build_app
from server.mcp_client import McpClient
from support.server import serve

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.fixture(scope="module")
def small_limit_url() -> Iterator[str]:
    with serve(build_app(max_request_bytes=1024)) as url:
        yield url


@pytest.fixture
def mcp(small_limit_url: str) -> Iterator[McpClient]:
    with McpClient(small_limit_url) as client:
        client.initialize()
        yield client
        # the server still serves after whatever the test sent
        assert client.result("ping") == {}


def expect(response: object, status: int, code: int, *, request_id: object = None) -> None:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    body = orjson.loads(response.content)  # type: ignore[attr-defined]
    assert body["error"]["code"] == code, body
    assert body["id"] == request_id, body


def test_malformed_json(mcp: McpClient) -> None:
    response = mcp.post(b'{"jsonrpc": "2.0", "id": 1, "method": "ping"')
    expect(response, 400, -32700)
    mcp.validate(orjson.loads(response.content))


def test_non_object_body(mcp: McpClient) -> None:
    expect(mcp.post(b'"ping"'), 400, -32600)
    expect(mcp.post(b"42"), 400, -32600)


def test_wrong_jsonrpc_version(mcp: McpClient) -> None:
    expect(mcp.post({**PING, "jsonrpc": "1.0"}), 400, -32600, request_id=1)


@pytest.mark.parametrize("bad_id", [None, True, 1.5])
def test_null_bool_and_float_ids(mcp: McpClient, bad_id: object) -> None:
    expect(mcp.post({**PING, "id": bad_id}), 400, -32600)


def test_missing_method(mcp: McpClient) -> None:
    expect(mcp.post({"jsonrpc": "2.0", "id": 1}), 400, -32600, request_id=1)


def test_unknown_method(mcp: McpClient) -> None:
    assert mcp.error("tools/frobnicate")["code"] == -32601


def test_params_of_the_wrong_type(mcp: McpClient) -> None:
    expect(mcp.post({**PING, "params": "x"}), 400, -32600, request_id=1)
    assert mcp.error("tools/call", {"name": 5})["code"] == -32602
    response = mcp.post({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": [1]})
    expect(response, 200, -32602, request_id=3)


def test_oversized_body(mcp: McpClient) -> None:
    big = {**PING, "params": {"pad": "x" * 2048}}
    expect(mcp.post(big), 413, -32600)


def test_wrong_content_type(mcp: McpClient) -> None:
    expect(mcp.post(orjson.dumps(PING), **{"content-type": "text/plain"}), 415, -32600)


def test_bad_accept(mcp: McpClient) -> None:
    refused = mcp.post(orjson.dumps(PING), accept="text/html")
    expect(refused, 406, -32602)  # 0.3.0's code and text
    assert refused.json()["error"]["message"] == (
        "Accept header must include application/json and text/event-stream"
    )
    # RFC 9110: `q=0` refuses a media type (as in 0.3.0)
    expect(mcp.post(orjson.dumps(PING), accept="application/json, text/event-stream;q=0"), 406, -32602)
    expect(mcp.post(orjson.dumps(PING), accept="application/json, */*;q=0"), 406, -32602)
    assert mcp.post(orjson.dumps(PING), accept="application/json, text/event-stream;q=0.1").status_code == 200
    response = mcp.http.get(mcp.url, headers=mcp.headers(accept="application/json"))
    expect(response, 406, -32600)


def test_missing_session(small_limit_url: str) -> None:
    with McpClient(small_limit_url) as fresh:
        missing = fresh.post(PING)
        expect(missing, 400, -32602)
        assert missing.json()["error"]["message"] == "MCP-Session-Id header required"
        assert fresh.http.get(fresh.url, headers=fresh.headers(accept="text/event-stream")).status_code == 400
        assert fresh.http.delete(fresh.url, headers=fresh.headers()).status_code == 400


def test_meta_must_be_an_object(mcp: McpClient) -> None:
    body = mcp.post({"jsonrpc": "2.0", "id": 7, "method": "ping", "params": {"_meta": [1]}}).json()
    assert body["error"] == {"code": -32602, "message": "params._meta must be an object"}


def test_unknown_session(mcp: McpClient) -> None:
    unknown = mcp.post(PING, **{"mcp-session-id": "0" * 32})
    expect(unknown, 404, -32001)
    assert unknown.json()["error"]["message"] == "Session not found"


def test_bad_protocol_header(mcp: McpClient) -> None:
    expect(mcp.post(PING, **{"mcp-protocol-version": "1999-01-01"}), 400, -32600)


def test_requests_before_initialized(small_limit_url: str) -> None:
    with McpClient(small_limit_url) as early:
        early.start()
        expect(early.post({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}), 200, -32600, request_id=1)
        assert early.result("ping") == {}  # ping is allowed before `initialized`


def test_failed_initialize_creates_no_session(mcp: McpClient) -> None:
    fresh = McpClient(mcp.url.removesuffix("/mcp"))
    with fresh:
        response = fresh.post(
            {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"capabilities": "none"}}
        )
        expect(response, 400, -32602, request_id=0)
        assert "mcp-session-id" not in response.headers


def test_bad_origin(mcp: McpClient) -> None:
    expect(mcp.post(PING, origin="http://evil.example.com"), 403, -32007)
    assert mcp.post(PING, origin="http://localhost:5173").status_code == 200
