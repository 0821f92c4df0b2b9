"""Dispatcher speed without HTTP: `tools/list` of one page out of 10,000 tools (target <= 1 ms) and a
trivial `tools/call`.

Run: .venv/bin/python -m pytest benches/bench_server.py --benchmark-enable
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.protocol.jsonrpc import Notification, Request
from pymcp.server import Dispatcher, Session

TOOL_COUNT = 10_000


async def _ignore(data: bytes) -> None:
    return None


@pytest.fixture(scope="module")
def ready() -> Iterator[tuple[asyncio.AbstractEventLoop, Dispatcher, Session]]:
    app = create_app(server_settings=ServerSettings(capabilities=CapabilitySettings(tasks_enabled=False)))
    tools = get_registry_manager(app).tools
    for index in range(TOOL_COUNT):

        def tool(a: int, b: int = 1) -> int:
            return a + b

        tools.register(tool, name=f"tool_{index}", description=f"tool number {index}")
    dispatcher: Dispatcher = app.state.dispatcher
    loop = asyncio.new_event_loop()
    init = Request(0, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}})
    session, _ = loop.run_until_complete(dispatcher.initialize(init, None, "bench"))
    assert session is not None
    loop.run_until_complete(
        dispatcher.handle_notification(session, Notification("notifications/initialized", None))
    )
    yield loop, dispatcher, session
    loop.close()


def _run(ready: tuple[asyncio.AbstractEventLoop, Dispatcher, Session], request: Request) -> Any:
    loop, dispatcher, session = ready
    return loop.run_until_complete(dispatcher.handle_request(session, request, None, _ignore))


def test_tools_list_one_page_of_ten_thousand(benchmark: Any, ready: Any) -> None:
    _run(ready, Request(1, "tools/list", {}))  # first call builds the cached wire list
    body, error = benchmark(_run, ready, Request(1, "tools/list", {"cursor": None}))
    assert error is None
    assert b"nextCursor" in body


def test_trivial_tools_call(benchmark: Any, ready: Any) -> None:
    body, error = benchmark(_run, ready, Request(2, "tools/call", {"name": "tool_7", "arguments": {"a": 1}}))
    assert error is None
    assert b'"text":"2"' in body
