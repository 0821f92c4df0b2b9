"""The real server (`create_app`, dual mode by default) answering 2026-07-28 requests over real HTTP.

Raw httpx requests cover what the official client never sends: bad envelopes, GET/DELETE, batches,
listen streams, the tasks extension across callers, `requestState` replayed by another caller.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from conformance_server import build_app
from pymcp import create_app, get_registry_manager
from pymcp.protocol.stateless.envelope import LOG_LEVEL_KEY
from pymcp.protocol.stateless.tasks import TASKS_REQUIRED
from pymcp.security import TokenMapAuthenticator
from support.server import serve
from support.waiting import eventually

from .conftest import VERSION, meta, schema_errors

ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
NAME_FIELD = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
EVERYTHING = {"elicitation": {}, "sampling": {}, "roots": {}, **TASKS_REQUIRED}


def request(method: str, params: dict[str, Any] | None = None, *, id: int = 1, **meta_extra: Any) -> Any:
    capabilities = meta_extra.pop("capabilities", {})
    body = {"jsonrpc": "2.0", "id": id, "method": method, "params": {**(params or {})}}
    body["params"]["_meta"] = meta(capabilities, **meta_extra)
    return body


def headers_for(body: dict[str, Any], **extra: str) -> dict[str, str]:
    found = {**ACCEPT, "MCP-Protocol-Version": VERSION, "Mcp-Method": body["method"]}
    field = NAME_FIELD.get(body["method"]) or ("taskId" if body["method"].startswith("tasks/") else None)
    if field is not None and isinstance(body["params"].get(field), str):
        found["Mcp-Name"] = body["params"][field]
    return {**found, **extra}


def post(url: str, body: Any, **extra: str) -> httpx.Response:
    return httpx.post(url, content=orjson.dumps(body), headers=headers_for(body, **extra), timeout=10)


def handshake(url: str) -> httpx.Response:
    """A 2025-11-25 `initialize`."""
    client_info = {"name": "tests", "version": "1"}
    params = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": client_info}
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": params}
    return httpx.post(url, content=orjson.dumps(body), headers=ACCEPT)


def sse_messages(response: httpx.Response) -> list[dict[str, Any]]:
    return [orjson.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: ")]


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with serve(build_app()) as base_url:
        yield f"{base_url}/mcp"


@pytest.fixture(scope="module")
def secured_url() -> Iterator[str]:
    """Authentication only (every caller may do everything): results still depend on who asks."""
    authn = TokenMapAuthenticator({"alice-token": {"subject": "alice"}, "bob-token": {"subject": "bob"}})
    secured = create_app(authn=authn, require_authn=True)
    source = get_registry_manager(build_app())
    target = get_registry_manager(secured)
    for tool in source.tools.list():
        target.tools.add(tool)
    with serve(secured) as base_url:
        yield f"{base_url}/mcp"


def test_discover_and_lists_carry_the_2026_fields(url: str) -> None:
    found = post(url, request("server/discover"))
    assert found.status_code == 200
    result = found.json()["result"]
    assert not schema_errors("DiscoverResult", result)
    assert result["cacheScope"] == "public"  # no security configured: everyone sees the same
    assert "extensions" in result["capabilities"]
    listed = post(url, request("tools/list")).json()["result"]
    assert not schema_errors("ListToolsResult", listed)
    assert all("execution" not in tool for tool in listed["tools"])
    assert listed == post(url, request("tools/list", id=2)).json()["result"]  # same order every time


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": []}, 400, -32602),
        ({"jsonrpc": "2.0", "id": 3, "method": "tools/list", "params": {"_meta": 7}}, 400, -32602),
        (request("resources/read", {"uri": "test://missing"}), 400, -32602),
        (request("ping"), 404, -32601),
        (request("tasks/result", {"taskId": "x"}), 404, -32601),
        (request("tools/call", {"name": "test_missing_capability"}), 400, -32021),
        (request("tools/call", {"name": "failing_job"}), 400, -32021),
        (request("tools/call", {"name": 5}), 400, -32602),
    ],
)
def test_bad_requests_get_clear_errors(url: str, body: dict[str, Any], status: int, code: int) -> None:
    response = post(url, body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert response.json()["id"] == body["id"]
    assert not schema_errors("JSONRPCErrorResponse", response.json())


def test_not_found_names_the_uri(url: str) -> None:
    error = post(url, request("resources/read", {"uri": "test://missing"})).json()["error"]
    assert error["data"] == {"uri": "test://missing"}


def test_sessions_parts_do_not_exist_statelessly(url: str) -> None:
    version = {"MCP-Protocol-Version": VERSION}
    assert httpx.get(url, headers={**version, "Accept": "text/event-stream"}).status_code == 405
    deleted = httpx.delete(url, headers=version)
    assert (deleted.status_code, deleted.headers["allow"]) == (405, "POST")
    note = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
    assert httpx.post(url, content=orjson.dumps(note), headers={**ACCEPT, **version}).status_code == 202
    batch = [request("tools/list"), request("tools/list", id=2)]
    refused = httpx.post(url, content=orjson.dumps(batch), headers={**ACCEPT, **version})
    assert (refused.status_code, refused.json()["error"]["code"]) == (400, -32600)
    answer = {"jsonrpc": "2.0", "id": 4, "result": {}}
    assert httpx.post(url, content=orjson.dumps(answer), headers={**ACCEPT, **version}).status_code == 400


def test_initialize_still_opens_a_session_beside(url: str) -> None:
    opened = handshake(url)
    assert opened.status_code == 200
    assert opened.json()["result"]["protocolVersion"] == "2025-11-25"
    assert "mcp-session-id" in opened.headers


def test_log_messages_only_when_the_request_asks(url: str) -> None:
    quiet = post(url, request("tools/call", {"name": "test_logging_tool"}))
    assert quiet.headers["content-type"] == "application/json"
    loud = post(url, request("tools/call", {"name": "test_logging_tool"}, **{LOG_LEVEL_KEY: "info"}))
    messages = sse_messages(loud)
    assert [m.get("method") for m in messages] == ["notifications/message", None]
    assert messages[-1]["result"]["resultType"] == "complete"


def test_elicitation_round_trip_through_request_state(url: str) -> None:
    caps = {"capabilities": {"elicitation": {}}}
    first = post(
        url, request("tools/call", {"name": "test_input_required_result_multi_round"}, **caps)
    ).json()
    asked = first["result"]
    assert not schema_errors("InputRequiredResult", asked)
    key = next(iter(asked["inputRequests"]))
    answered = {"inputResponses": {key: {"action": "accept", "content": {"name": "Ada"}}}}
    params = {
        "name": "test_input_required_result_multi_round",
        **answered,
        "requestState": asked["requestState"],
    }
    second = post(url, request("tools/call", params, **caps)).json()["result"]
    assert second["resultType"] == "input_required"
    assert second["requestState"] != asked["requestState"]
    (key2,) = second["inputRequests"]
    params = {
        "name": "test_input_required_result_multi_round",
        "inputResponses": {key2: {"action": "accept", "content": {"color": "teal"}}},
        "requestState": second["requestState"],
    }
    done = post(url, request("tools/call", params, **caps)).json()["result"]
    assert done["content"][0]["text"] == "Ada likes teal"


def test_request_state_is_bound_to_the_caller(secured_url: str) -> None:
    caps = {"capabilities": {"elicitation": {}}}
    alice = {"Authorization": "Bearer alice-token"}
    body = request("tools/call", {"name": "test_input_required_result_request_state"}, **caps)
    asked = post(secured_url, body, **alice).json()["result"]
    key = next(iter(asked["inputRequests"]))
    retry = {
        "name": "test_input_required_result_request_state",
        "inputResponses": {key: {"action": "accept", "content": {"ok": True}}},
        "requestState": asked["requestState"],
    }
    stolen = post(secured_url, request("tools/call", retry, **caps), Authorization="Bearer bob-token")
    assert (stolen.status_code, stolen.json()["error"]["code"]) == (400, -32602)
    mine = post(secured_url, request("tools/call", retry, **caps), **alice).json()["result"]
    assert "state-ok" in mine["content"][0]["text"]


def test_tasks_belong_to_their_caller(secured_url: str) -> None:
    alice = {"Authorization": "Bearer alice-token"}
    caps = {"capabilities": EVERYTHING}
    created = post(
        secured_url,
        request("tools/call", {"name": "slow_compute", "arguments": {"seconds": 0}}, **caps),
        **alice,
    )
    task = created.json()["result"]
    assert task["resultType"] == "task"
    task_id = task["taskId"]
    found = post(secured_url, request("tasks/get", {"taskId": task_id}, **caps), **alice).json()["result"]
    assert found["taskId"] == task_id
    foreign = post(
        secured_url, request("tasks/get", {"taskId": task_id}, **caps), Authorization="Bearer bob-token"
    )
    assert (foreign.status_code, foreign.json()["error"]["code"]) == (400, -32602)
    cancel = post(
        secured_url, request("tasks/cancel", {"taskId": task_id}, **caps), Authorization="Bearer bob-token"
    )
    assert cancel.status_code == 400
    without = post(secured_url, request("tasks/get", {"taskId": task_id}), **alice)
    assert (without.status_code, without.json()["error"]["code"]) == (400, -32021)


def test_a_task_waits_for_tasks_update(url: str) -> None:
    caps = {"capabilities": EVERYTHING}
    created = post(
        url, request("tools/call", {"name": "confirm_delete", "arguments": {"filename": "a.txt"}}, **caps)
    )
    task_id = created.json()["result"]["taskId"]
    for _ in range(100):
        waiting = post(url, request("tasks/get", {"taskId": task_id}, **caps)).json()["result"]
        if waiting["status"] == "input_required":
            break
    (key,) = waiting["inputRequests"]
    bad = post(url, request("tasks/update", {"taskId": task_id, "inputResponses": {key: 5}}, **caps))
    assert bad.status_code == 400
    update = {"taskId": task_id, "inputResponses": {key: {"action": "accept", "content": {"confirm": True}}}}
    ack = post(url, request("tasks/update", update, **caps)).json()["result"]
    assert ack["resultType"] == "complete"
    assert "status" not in ack
    for _ in range(100):
        done = post(url, request("tasks/get", {"taskId": task_id}, **caps)).json()["result"]
        if done["status"] == "completed":
            break
    assert done["result"]["content"][0]["text"] == "deleted a.txt"


async def test_listen_streams_carry_only_what_they_asked(url: str) -> None:
    async def listen(flags: dict[str, bool], frames: list[dict[str, Any]], ready: asyncio.Event) -> None:
        body = request("subscriptions/listen", {"notifications": flags}, id=77)
        async with (
            httpx.AsyncClient(timeout=10) as client,
            client.stream("POST", url, content=orjson.dumps(body), headers=headers_for(body)) as response,
        ):
            async for line in response.aiter_lines():
                if line.startswith("data: "):
                    frames.append(orjson.loads(line[6:]))
                    ready.set()

    tools_frames: list[dict[str, Any]] = []
    prompt_frames: list[dict[str, Any]] = []
    tools_ready, prompts_ready = asyncio.Event(), asyncio.Event()
    streams = [
        asyncio.create_task(listen({"toolsListChanged": True}, tools_frames, tools_ready)),
        asyncio.create_task(listen({"promptsListChanged": True}, prompt_frames, prompts_ready)),
    ]
    await asyncio.wait_for(asyncio.gather(tools_ready.wait(), prompts_ready.wait()), 10)
    async with httpx.AsyncClient(timeout=10) as client:
        body = request("tools/call", {"name": "test_trigger_tool_change"})
        await client.post(url, content=orjson.dumps(body), headers=headers_for(body))
    await eventually(lambda: len(tools_frames) > 1)
    for stream in streams:
        stream.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    assert tools_frames[0]["method"] == "notifications/subscriptions/acknowledged"
    assert tools_frames[0]["params"]["notifications"] == {"toolsListChanged": True}
    assert tools_frames[1]["method"] == "notifications/tools/list_changed"
    assert tools_frames[1]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == 77
    assert [frame["method"] for frame in prompt_frames] == ["notifications/subscriptions/acknowledged"]
    assert not schema_errors("SubscriptionsAcknowledgedNotification", tools_frames[0])
    assert not schema_errors("ToolListChangedNotification", tools_frames[1])


@pytest.mark.parametrize(("mode", "expected"), [("draft", 405), ("stable", 400)])
def test_modes(mode: str, expected: int) -> None:
    with serve(create_app(protocol_mode=mode)) as base_url:
        endpoint = f"{base_url}/mcp"
        assert httpx.get(endpoint, headers={"Accept": "text/event-stream"}).status_code == expected
        discover = post(endpoint, request("server/discover"))
        opened = handshake(endpoint)
        if mode == "draft":
            assert discover.status_code == 200
            assert (opened.status_code, opened.json()["error"]["code"]) == (400, -32022)
            assert opened.json()["error"]["data"]["supported"] == [VERSION]
        else:
            assert discover.status_code == 400
            assert opened.status_code == 200


def test_a_bad_header_annotation_fails_at_registration() -> None:
    tools = get_registry_manager(create_app()).tools
    schema = {"type": "object", "properties": {"where": {"type": "object", "x-mcp-header": "Where"}}}
    with pytest.raises(ValueError, match="tool `locate`: `x-mcp-header` of `where` needs type"):
        tools.register(lambda where: where, name="locate", input_schema=schema)


def test_closing_the_response_cancels_the_request() -> None:
    cancelled = threading.Event()
    app = create_app()

    @get_registry_manager(app).tools.register
    async def wait_forever() -> str:
        """Waits until cancelled."""
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    with serve(app) as base_url:
        body = request("tools/call", {"name": "wait_forever"})
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{base_url}/mcp", content=orjson.dumps(body), headers=headers_for(body), timeout=0.5)
        assert cancelled.wait(10)


def test_session_requests_skip_the_2026_checks_only_when_routing_is_settled(url: str) -> None:
    """A session's request with just its id and version is served at once; any other MCP header (a
    repeated version among them) still gets the 2026-07-28 header checks."""
    session_id = handshake(url).headers["mcp-session-id"]
    ping = orjson.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping"})
    plain = [*ACCEPT.items(), ("Mcp-Session-Id", session_id), ("MCP-Protocol-Version", "2025-11-25")]
    assert httpx.post(url, content=ping, headers=plain).json()["result"] == {}
    repeated = [*plain, ("MCP-Protocol-Version", "2025-11-25")]
    refused = httpx.post(url, content=ping, headers=repeated)
    assert refused.status_code == 400
    assert "appears more than once" in refused.json()["error"]["message"]


def test_requests_that_wait_and_that_do_not_answer_alike() -> None:
    """A request that never waits is finished inline (no task); one that waits continues as a task in
    the same context, so a context variable set before an `await` is reset after it without error."""
    app = create_app()
    scope: contextvars.ContextVar[str] = contextvars.ContextVar("scope", default="unset")

    @get_registry_manager(app).tools.register
    async def scoped(waits: bool) -> str:
        """Sets a context variable around an optional wait."""
        token = scope.set("inside")
        try:
            if waits:
                await asyncio.sleep(0.01)
            return scope.get()
        finally:
            scope.reset(token)

    with serve(app) as base_url:
        for waits in (False, True):
            body = request("tools/call", {"name": "scoped", "arguments": {"waits": waits}})
            reply = httpx.post(f"{base_url}/mcp", content=orjson.dumps(body), headers=headers_for(body))
            assert reply.status_code == 200
            assert reply.headers["content-type"] == "application/json"
            assert reply.headers["content-length"] == str(len(reply.content))
            result = reply.json()["result"]
            assert (result["content"][0]["text"], result.get("isError", False)) == (
                "inside",
                False,
            )


@pytest.mark.parametrize(
    ("params", "extra"),
    [
        ({"name": "test_input_required_result_request_state", "requestState": "v1.garbage.x"}, {}),
        ({"name": "test_input_required_result_request_state", "requestState": 7}, {}),
        ({"name": "test_input_required_result_request_state", "inputResponses": []}, {}),
        (
            {
                "name": "test_input_required_result_request_state",
                "inputResponses": {"confirm": {"action": 1}},
            },
            {},
        ),
        ({"name": "run_query", "arguments": {"region": "eu"}}, {}),
        ({"name": "run_query", "arguments": {"region": "eu"}}, {"Mcp-Param-Region": "=?base64?!!?="}),
        ({"name": "greet", "arguments": {"name": "x"}}, {"Mcp-Name": "other"}),
    ],
)
def test_hostile_stateless_requests_get_400(url: str, params: dict[str, Any], extra: dict[str, str]) -> None:
    body = request("tools/call", params, capabilities={"elicitation": {}})
    response = post(url, body, **extra)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in (-32602, -32020)
    assert response.json()["id"] == 1


def test_duplicate_routing_headers_are_refused(url: str) -> None:
    body = orjson.dumps(request("tools/list"))
    headers = [*headers_for(request("tools/list")).items(), ("Mcp-Method", "tools/list")]
    response = httpx.post(url, content=body, headers=headers)
    assert (response.status_code, response.json()["error"]["code"]) == (400, -32020)


def _until_terminal(url: str, task_id: str, caps: dict[str, Any]) -> dict[str, Any]:
    for _ in range(200):
        found: dict[str, Any] = post(url, request("tasks/get", {"taskId": task_id}, **caps)).json()["result"]
        if found["status"] in ("completed", "failed", "cancelled"):
            return found
    raise AssertionError(f"task {task_id} did not end: {found}")


@pytest.mark.parametrize("offers_tasks", [True, False])
def test_questions_on_the_call_then_a_task(url: str, offers_tasks: bool) -> None:
    caps = {"capabilities": EVERYTHING if offers_tasks else {"elicitation": {}}}
    first = post(url, request("tools/call", {"name": "test_tool_with_task"}, **caps)).json()["result"]
    assert first["resultType"] == "input_required"
    assert "taskId" not in first
    retry = {
        "name": "test_tool_with_task",
        "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Ada"}}},
        "requestState": first["requestState"],
    }
    second = post(url, request("tools/call", retry, **caps)).json()["result"]
    if not offers_tasks:
        assert second["content"][0]["text"] == "Hello, Ada, from a task"
        return
    assert second["resultType"] == "task"
    assert "requestState" not in second
    done = _until_terminal(url, second["taskId"], caps)
    assert done["result"]["content"][0]["text"] == "Hello, Ada, from a task"


def test_waiting_tasks_show_and_drop_answered_questions(url: str) -> None:
    caps = {"capabilities": EVERYTHING}
    task_id = post(url, request("tools/call", {"name": "multi_input"}, **caps)).json()["result"]["taskId"]
    for _ in range(200):
        waiting = post(url, request("tasks/get", {"taskId": task_id}, **caps)).json()["result"]
        if len(waiting.get("inputRequests", {})) == 2:
            break
    first, second = waiting["inputRequests"]
    answer = {"action": "accept", "content": {"name": "n"}}
    post(url, request("tasks/update", {"taskId": task_id, "inputResponses": {first: answer}}, **caps))
    partial = post(url, request("tasks/get", {"taskId": task_id}, **caps)).json()["result"]
    assert (partial["status"], list(partial["inputRequests"])) == ("input_required", [second])
    post(url, request("tasks/update", {"taskId": task_id, "inputResponses": {second: answer}}, **caps))
    assert _until_terminal(url, task_id, caps)["result"]["content"][0]["text"] == "answered first, second"
