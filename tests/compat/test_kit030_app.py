"""`apps/kit030_server.py`, written for pymcp-kit 0.3.0, run unchanged and driven by the official `mcp`
SDK client over HTTP (both revisions) and stdio. Where 0.3.0 is installed, the same app runs there
too and the client sees the same answers."""

from __future__ import annotations

import sys
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import mcp_types as types
import pytest
from mcp import Client, StdioServerParameters

from oracle.compat030 import COMPAT_PYTHON, require_030
from support.mcp_schema import SchemaCheckedApp
from support.server import serve

from .conftest import APPS
from .kit030_process import serve_030


def _client(target: Any, mode: str, logs: list[Any]) -> AbstractAsyncContextManager[Client]:
    async def on_elicit(context: Any, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"username": "ada", "email": "ada@example.com"})

    async def on_sample(context: Any, params: Any) -> types.CreateMessageResult:
        question = params.messages[0].content.text
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text=f"echo {question}"), model="m"
        )

    async def on_log(params: Any) -> None:
        logs.append(params.data)

    return Client(
        target,
        mode=mode,  # type: ignore[arg-type]
        elicitation_callback=on_elicit,
        sampling_callback=on_sample,
        logging_callback=on_log,
        log_level="info",
    )


async def _exercise(target: Any, mode: str) -> dict[str, Any]:
    """What a client observes calling the tools that use 0.3.0's helpers."""
    logs: list[Any] = []
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with _client(target, mode, logs) as client:
        texts = {}
        for name, arguments in (
            ("test_elicitation", {"message": "who are you?"}),
            ("test_sampling", {"prompt": "capital of France?"}),
            ("test_tool_with_logging", {}),
            ("count_slowly", {"steps": 3}),
            ("test_simple_text", {}),
        ):
            result = await client.call_tool(name, arguments)
            texts[name] = result.content[0].text  # type: ignore[union-attr]
        await client.call_tool("test_tool_with_progress", {}, progress_callback=on_progress)
        prompt = await client.get_prompt("test_prompt_with_arguments", {"arg1": "a", "arg2": "b"})
        resource = await client.read_resource("test://template/7/data")
    return {
        "texts": texts,
        "logs": logs,
        "progress": progress,
        "prompt": prompt.messages[0].content.text,  # type: ignore[union-attr]
        "resource": resource.contents[0].text,  # type: ignore[union-attr]
    }


EXPECTED = {
    "texts": {
        "test_elicitation": (
            "User response: action=accept, content={'username': 'ada', 'email': 'ada@example.com'}"
        ),
        "test_sampling": "LLM response: echo capital of France?",
        "test_tool_with_logging": "Logging test completed",
        "count_slowly": "counted to 3",
        "test_simple_text": "This is a simple text response for testing.",
    },
    "logs": ["Tool execution started", "Tool processing data", "Tool execution completed"],
    "progress": [0, 50, 100],
    "prompt": "Prompt with arguments: arg1='a', arg2='b'",
    "resource": '{"id": "7", "templateTest": true, "data": "Data for ID: 7"}',
}


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_the_030_app_over_http(kit030_app: Any, mode: str) -> None:
    checked = SchemaCheckedApp(kit030_app)
    with serve(checked) as url:
        assert await _exercise(f"{url}/mcp", mode) == EXPECTED
    assert not checked.problems, checked.problems


def _stdio(python: Path | str) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(python), args=["-I", str(APPS / "kit030_server.py"), "--stdio"], cwd=str(APPS)
    )


async def test_the_030_app_over_stdio() -> None:
    assert await _exercise(_stdio(sys.executable), "legacy") == EXPECTED


@pytest.mark.compat
async def test_030_itself_gives_the_same_answers_over_http_and_stdio() -> None:
    require_030()
    with serve_030("kit030_server:app") as url:
        assert await _exercise(f"{url}/mcp", "legacy") == EXPECTED
    assert await _exercise(_stdio(COMPAT_PYTHON), "legacy") == EXPECTED
