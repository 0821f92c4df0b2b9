"""0.3.0's server→client helpers beyond the conformance fixtures: roots, the roots-changed callback,
notifications outside a request, refusals, and `StdioTransport`."""

from __future__ import annotations

import io
import json
from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.runtime.handlers.roots import on_roots_changed
from pymcp.session import get_session_manager, request_elicitation, send_notification
from pymcp.session.notifications import send_log_message
from pymcp.session.roots import request_roots_list
from pymcp.session.sampling import request_sampling
from pymcp.transport import StdioTransport
from server.mcp_client import initialize_message
from support.server import serve
from support.waiting import eventually


def _app() -> Any:
    app = create_app(server_settings=ServerSettings(capabilities=CapabilitySettings(logging_enabled=True)))
    tools = get_registry_manager(app).tools

    @tools.register
    async def roots(request_context: Any) -> str:
        found = await request_roots_list(request_context.app, request_context.session_id)
        return ",".join(root["uri"] for root in found)

    @tools.register
    async def refused(request_context: Any) -> str:
        try:
            await request_sampling(request_context.app, request_context.session_id, {"messages": []})
        except ValueError as error:
            return str(error)
        return "asked"

    @tools.register
    async def notify(request_context: Any) -> str:
        session = get_session_manager(request_context.app).get_session(request_context.session_id)
        # Sent only when the client has its GET stream open (as in 0.3.0): this client opens one.
        message = {"method": "notifications/message", "params": {"level": "info", "data": "hi"}}
        sent = await send_notification(session, message)
        found = session is not None and session.session_id == request_context.session_id
        return f"{found} {type(sent).__name__}"

    @tools.register
    async def ask_for_task(request_context: Any) -> str:
        rpc_id, response = await request_elicitation(
            request_context.app,
            request_context.session_id,
            {"message": "ok?", "requestedSchema": {"type": "object", "properties": {}}},
            task_id="task-1",
        )
        return f"{response['id'] == rpc_id} {response['result']['action']}"

    return app


# The SDK warns that roots are deprecated at 2026-07-28; this session is 2025-11-25.
@pytest.mark.filterwarnings("ignore::mcp.MCPDeprecationWarning")
async def test_roots_callback_refusal_and_related_task() -> None:
    changed: list[str | None] = []
    forget = on_roots_changed(lambda app, session_id: changed.append(session_id))
    asked: list[Any] = []

    async def on_roots(context: Any) -> types.ListRootsResult:
        return types.ListRootsResult(roots=[types.Root(uri="file:///work")])

    async def on_elicit(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="decline")

    with serve(_app()) as url:
        async with Client(
            f"{url}/mcp", mode="legacy", list_roots_callback=on_roots, elicitation_callback=on_elicit
        ) as client:
            assert (await client.call_tool("roots", {})).content[0].text == "file:///work"  # type: ignore[union-attr]
            refusal = (await client.call_tool("refused", {})).content[0].text  # type: ignore[union-attr]
            assert refusal == "Client does not support sampling capability"
            notified = (await client.call_tool("notify", {})).content[0].text  # type: ignore[union-attr]
            assert notified == "True bool"
            answer = (await client.call_tool("ask_for_task", {})).content[0].text  # type: ignore[union-attr]
            assert answer == "True decline"
            await client.send_roots_list_changed()
            await eventually(lambda: bool(changed))
    # 0.3.0 put the related task beside `params`; the spec's place is `params._meta`.
    assert asked[0].meta == {"io.modelcontextprotocol/related-task": {"taskId": "task-1"}}
    forget()
    assert len(changed) == 1
    assert changed[0] is not None


async def test_outside_a_request() -> None:
    app = _app()
    with pytest.raises(ValueError, match="Session not found: nope"):
        await request_elicitation(app, "nope", {"message": "hi"})
    assert await send_log_message(app, "nope", "info", data="x") is False
    assert await send_notification(None, {"method": "notifications/message"}) is False
    assert get_session_manager(app).sessions == {}


async def test_stdio_transport_serves_the_app() -> None:
    app = _app()
    lines = [
        initialize_message(),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    output = io.BytesIO()
    source = io.BytesIO(b"".join(json.dumps(line).encode() + b"\n" for line in lines))
    await StdioTransport(input_stream=source, output_stream=output).run(app)
    answers = [json.loads(line) for line in output.getvalue().splitlines()]
    assert answers[0]["result"]["serverInfo"]["name"] == "pymcp-kit"
    assert [tool["name"] for tool in answers[1]["result"]["tools"]] == [
        "roots",
        "refused",
        "notify",
        "ask_for_task",
    ]
