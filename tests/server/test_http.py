"""Streamable HTTP end to end against real uvicorn: lifecycle, tools, prompts, resources, streams."""

from __future__ import annotations

import threading
from typing import Any

import httpx
import orjson

from conformance_server import build_app as build_fixture
from pymcp import get_registry_manager
from server.conftest import build_app
from server.mcp_client import McpClient, read_sse
from support.server import serve
from support.waiting import wait_until


def test_initialize_negotiates_and_advertises(base_url: str) -> None:
    with McpClient(base_url) as mcp:
        result = mcp.initialize("2025-06-18")
        assert result["protocolVersion"] == "2025-06-18"
        assert result["serverInfo"]["name"] == "pymcp-tests"
        assert set(result["capabilities"]) >= {"tools", "prompts", "resources", "logging", "completions"}


def test_unsupported_version_is_answered_with_our_latest(base_url: str) -> None:
    with McpClient(base_url) as mcp:
        assert mcp.initialize("2030-01-01")["protocolVersion"] == "2025-11-25"


def test_ping_and_tool_call(client: McpClient) -> None:
    assert client.result("ping") == {}
    result = client.result("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}})
    assert result == {"content": [{"type": "text", "text": "5"}]}


def test_invalid_arguments_are_a_tool_execution_error(client: McpClient) -> None:
    result = client.result("tools/call", {"name": "add", "arguments": {"a": "two"}})
    assert result["isError"] is True
    assert result["content"][0]["text"] == "invalid arguments: `a` must be an integer"


def test_unknown_tool_is_invalid_params(client: McpClient) -> None:
    error = client.error("tools/call", {"name": "nope"})
    assert error["code"] == -32602


def test_tool_exception_reveals_nothing(client: McpClient) -> None:
    result = client.result("tools/call", {"name": "boom"})
    assert result["isError"] is True
    assert "secret" not in orjson.dumps(result).decode()


def test_tools_list_pages_with_opaque_cursor(client: McpClient) -> None:
    names: list[str] = []
    cursor = None
    while True:
        result = client.result("tools/list", {"cursor": cursor} if cursor else {})
        names += [tool["name"] for tool in result["tools"]]
        cursor = result.get("nextCursor")
        if cursor is None:
            break
    assert names == ["add", "echo", "boom", "slow"]
    add = client.result("tools/list")["tools"][0]
    assert add["inputSchema"]["properties"]["b"] == {
        "type": "integer",
        "description": "the second number",
        "default": 1,
    }
    assert client.error("tools/list", {"cursor": "bm90LW91cnM"})["code"] == -32602


def test_progress_and_logs_arrive_before_the_result_on_the_post_stream(client: McpClient) -> None:
    assert client.result("logging/setLevel", {"level": "debug"}) == {}
    params = {"name": "slow", "arguments": {"steps": 2, "wait": 0}, "_meta": {"progressToken": "tok"}}
    response, before = client.call("tools/call", params)
    assert response["result"]["content"][0]["text"] == "finished"
    kinds = [message["method"] for message in before]
    assert kinds == ["notifications/progress", "notifications/message"] * 2
    assert [m["params"]["progress"] for m in before if m["method"] == "notifications/progress"] == [1, 2]


def test_cancellation_only_reaches_the_same_session() -> None:
    app = build_app()
    with serve(app) as url, McpClient(url) as owner, McpClient(url) as stranger:
        owner.initialize()
        stranger.initialize()
        request_id = owner.next_id
        outcome: dict[str, Any] = {}

        def run() -> None:
            try:
                outcome["response"] = owner.call("tools/call", {"name": "slow", "arguments": {"steps": 1}})
            except AssertionError as no_response:  # a cancelled request is not answered
                outcome["error"] = no_response

        worker = threading.Thread(target=run)
        worker.start()
        in_flight = app.state.session_manager.sessions[owner.session_id].in_flight
        assert wait_until(lambda: request_id in in_flight)
        cancel = {"requestId": request_id, "reason": "stop"}
        # The notification is handled before its 202: had it reached the request, it would be cancelled.
        assert stranger.notify("notifications/cancelled", cancel).status_code == 202
        assert not in_flight[request_id].is_cancelled()
        assert worker.is_alive()  # the stranger's cancel did nothing
        assert owner.notify("notifications/cancelled", cancel).status_code == 202
        worker.join(5)
        assert not worker.is_alive()
        assert "no response" in str(outcome["error"])


def test_prompts(client: McpClient) -> None:
    prompts = client.result("prompts/list")["prompts"]
    assert prompts[0] == {
        "name": "greet",
        "description": "Greet someone.",
        "arguments": [{"name": "name", "required": True}],
    }
    result = client.result("prompts/get", {"name": "greet", "arguments": {"name": "Ada"}})
    assert result["messages"] == [{"role": "user", "content": {"type": "text", "text": "Hello Ada!"}}]
    assert client.error("prompts/get", {"name": "greet"})["code"] == -32602


def test_resources_templates_and_completion(client: McpClient) -> None:
    assert [r["uri"] for r in client.result("resources/list")["resources"]] == ["test://readme"]
    templates = client.result("resources/templates/list")["resourceTemplates"]
    assert templates[0]["uriTemplate"] == "test://items/{item}"
    contents = client.result("resources/read", {"uri": "test://items/42"})["contents"]
    assert contents == [{"uri": "test://items/42", "mimeType": "text/plain", "text": "item 42"}]
    error = client.error("resources/read", {"uri": "test://missing"})
    assert error["code"] == -32002
    completion = client.result(
        "completion/complete",
        {"ref": {"type": "ref/prompt", "name": "greet"}, "argument": {"name": "name", "value": ""}},
    )
    assert completion == {"completion": {"values": [], "total": 0, "hasMore": False}}


def test_list_changed_and_resource_updates_reach_the_get_stream() -> None:
    app = build_app()
    with serve(app) as url, McpClient(url) as mcp:
        mcp.initialize()
        assert mcp.result("resources/subscribe", {"uri": "test://readme"}) == {}
        registries = get_registry_manager(app)
        events: list[dict[str, Any]] = []
        with mcp.http.stream("GET", mcp.url, headers=mcp.headers(accept="text/event-stream")) as stream:
            assert stream.status_code == 200
            registries.tools.register(lambda: "x", name="late", description="registered later")
            registries.resources.notify_updated("test://readme")
            for _, data in read_sse(stream.iter_lines()):
                if data:
                    events.append(mcp.validate(orjson.loads(data)))
                if len(events) == 2:
                    break
        assert [e["method"] for e in events] == [
            "notifications/tools/list_changed",
            "notifications/resources/updated",
        ]
        assert events[1]["params"] == {"uri": "test://readme"}


def test_second_get_stream_is_refused_and_delete_ends_the_session(client: McpClient) -> None:
    with client.http.stream("GET", client.url, headers=client.headers(accept="text/event-stream")) as first:
        assert first.status_code == 200
        second = client.http.get(client.url, headers=client.headers(accept="text/event-stream"))
        assert second.status_code == 409
        deleted = httpx.delete(client.url, headers=client.headers())
        assert deleted.status_code == 204
        assert list(first.iter_lines())[-1] == ""  # the stream ended
    assert client.post({"jsonrpc": "2.0", "id": 5, "method": "ping"}).status_code == 404


def test_batches_only_for_2025_03_26_sessions(base_url: str) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": 1, "method": "ping"},
        {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "echo", "arguments": {"text": "hi"}},
        },
    ]
    with McpClient(base_url) as old:
        old.initialize("2025-03-26")
        response = old.post(batch)
        assert response.status_code == 200
        replies = orjson.loads(response.content)
        for reply, method in zip(replies, ["ping", "tools/call"], strict=True):
            old.validate(reply, method)
        assert replies[1]["result"]["content"][0]["text"] == "hi"
    with McpClient(base_url) as new:
        new.initialize()
        response = new.post(batch)
        assert response.status_code == 400
        new.validate(orjson.loads(response.content))


def test_elicitation_travels_on_the_post_stream_only_when_the_client_supports_it() -> None:
    with serve(build_fixture()) as url, McpClient(url) as plain, McpClient(url) as capable:
        plain.initialize()
        error = plain.error("tools/call", {"name": "test_elicitation", "arguments": {"message": "name?"}})
        assert error["code"] == -32021
        capable.initialize(capabilities={"elicitation": {}})

        def accept(request: dict[str, Any]) -> dict[str, Any]:
            assert request["method"] == "elicitation/create"
            return {"action": "accept", "content": {"username": "ada", "email": "a@example.com"}}

        response, before = capable.call(
            "tools/call", {"name": "test_elicitation", "arguments": {"message": "name?"}}, answer=accept
        )
        assert [message["method"] for message in before] == ["elicitation/create"]
        assert "ada" in response["result"]["content"][0]["text"]


def test_internal_errors_reveal_nothing(client: McpClient) -> None:
    error = client.error("prompts/get", {"name": "broken"})
    assert error == {"code": -32603, "message": "prompt `broken` failed"}
