"""Serving a request leaves no reference cycle behind: everything it made is freed by reference counting
as soon as it is answered, not later by the garbage collector (whose full passes grow with the heap and
stall every request while they run)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator

import pytest

from pymcp import create_app, get_registry_manager
from pymcp.server.context import current_request_context
from server.mcp_client import McpClient
from support.server import serve

# Types made for each request; none of them may end up in a cycle.
PER_REQUEST = {"Call", "CancellationToken", "RequestContext", "PostStream", "Task", "Context"}


@pytest.fixture
def collector_off() -> Iterator[list[object]]:
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    gc.disable()
    try:
        yield gc.garbage
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


def test_tool_prompt_and_resource_calls_leave_no_cycles(collector_off: list[object]) -> None:
    app = create_app()
    registries = get_registry_manager(app)

    @registries.tools.register
    def add(a: int, b: int) -> int:
        return a + b

    @registries.tools.register
    def who() -> str:
        return current_request_context().method  # builds the lazily activated context

    @registries.prompts.register
    def greet(name: str) -> str:
        return f"hello {name}"

    @registries.resources.register(uri="res://note")
    def note() -> str:
        return "a note"

    with serve(app) as url, McpClient(url) as mcp:
        mcp.initialize()
        gc.collect()
        collector_off.clear()
        for _ in range(20):
            assert mcp.call("tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})[0]["result"]
            assert mcp.call("tools/call", {"name": "who", "arguments": {}})[0]["result"]
            assert mcp.call("prompts/get", {"name": "greet", "arguments": {"name": "x"}})[0]["result"]
            assert mcp.call("resources/read", {"uri": "res://note"})[0]["result"]
        gc.collect()
        cyclic = Counter(type(item).__name__ for item in collector_off)
    assert not {name: n for name, n in cyclic.items() if name in PER_REQUEST}, cyclic.most_common(15)
