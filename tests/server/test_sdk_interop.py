"""The official `mcp` Python SDK client (2.x, streamable HTTP) against our server on real uvicorn.

Its default `mode="auto"` probes `server/discover` first and, against our default dual-mode server,
speaks 2026-07-28 statelessly; `mode="legacy"` pins the 2025-11-25 handshake. Both must behave the same.
"""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp import Client

from conformance_server import build_app as build_fixture
from server.conftest import build_app
from support.mcp_schema import SchemaCheckedApp
from support.server import serve

MODES = pytest.mark.parametrize(("mode", "version"), [("auto", "2026-07-28"), ("legacy", "2025-11-25")])


@MODES
async def test_sdk_client_tools_prompts_resources_and_progress(mode: str, version: str) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append((value, total, message))

    checked = SchemaCheckedApp(build_app())
    with serve(checked) as url:
        async with Client(f"{url}/mcp", mode=mode) as client:
            assert client.protocol_version == version
            tools = await client.list_tools()
            assert [tool.name for tool in tools.tools][:3] == ["add", "echo", "boom"]
            result = await client.call_tool("add", {"a": 20, "b": 22})
            assert result.content[0].text == "42"  # type: ignore[union-attr]
            bad = await client.call_tool("add", {"a": "x"})
            assert bad.is_error
            slow = await client.call_tool("slow", {"steps": 3, "wait": 0}, progress_callback=on_progress)
            assert slow.content[0].text == "finished"  # type: ignore[union-attr]
            assert [value for value, _, _ in progress] == [1, 2, 3]
            prompt = await client.get_prompt("greet", {"name": "Ada"})
            assert prompt.messages[0].content.text == "Hello Ada!"  # type: ignore[union-attr]
            resource = await client.read_resource("test://items/7")
            assert resource.contents[0].text == "item 7"  # type: ignore[union-attr]
            templates = await client.list_resource_templates()
            assert templates.resource_templates[0].uri_template == "test://items/{item}"
    assert checked.checked > 10
    assert not checked.problems, checked.problems


@MODES
async def test_sdk_client_answers_elicitation_on_either_revision(mode: str, version: str) -> None:
    asked: list[Any] = []

    async def on_elicit(context: Any, params: Any) -> types.ElicitResult:
        asked.append(params)
        return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})

    checked = SchemaCheckedApp(build_fixture())
    with serve(checked) as url:
        async with Client(f"{url}/mcp", mode=mode, elicitation_callback=on_elicit) as client:
            assert client.protocol_version == version
            result = await client.call_tool("test_elicitation", {"message": "who are you?"})
            assert "ada@example.com" in result.content[0].text  # type: ignore[union-attr]
    assert asked[0].message == "who are you?"
    assert not checked.problems, checked.problems


@MODES
async def test_a_tool_that_asks_then_continues_as_a_task_runs_inline_for_plain_clients(
    mode: str, version: str
) -> None:
    async def on_elicit(context: Any, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"name": "Ada"})

    checked = SchemaCheckedApp(build_fixture())
    with serve(checked) as url:
        async with Client(f"{url}/mcp", mode=mode, elicitation_callback=on_elicit) as client:
            assert client.protocol_version == version
            result = await client.call_tool("test_tool_with_task", {})
            assert result.content[0].text == "Hello, Ada, from a task"  # type: ignore[union-attr]
    assert not checked.problems, checked.problems
