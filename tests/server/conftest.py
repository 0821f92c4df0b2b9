"""Fixtures for the server tests: an app with a few tools, prompts and resources, served by real uvicorn."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.server import CancellationToken, RequestContext
from server.mcp_client import McpClient
from support.server import serve


def build_app(**kwargs: Any) -> Any:
    """An app with every capability on and a handful of registrations."""
    kwargs.setdefault(
        "server_settings",
        ServerSettings(
            name="pymcp-tests",
            capabilities=CapabilitySettings(
                tools_list_changed=True,
                prompts_list_changed=True,
                resources_list_changed=True,
                logging_enabled=True,
                completions_enabled=True,
                list_page_size=3,
            ),
        ),
    )
    app = create_app(**kwargs)
    registries = get_registry_manager(app)

    @registries.tools.register
    def add(a: int, b: Annotated[int, "the second number"] = 1) -> int:
        """Add two integers."""
        return a + b

    @registries.tools.register
    def echo(text: str) -> str:
        """Echo the text."""
        return text

    @registries.tools.register(name="boom")
    def explode() -> str:
        """Always raises."""
        raise RuntimeError("secret detail")

    @registries.tools.register
    async def slow(
        request_context: RequestContext, cancel_token: CancellationToken, steps: int = 3, wait: float = 5
    ) -> str:
        """Report progress, then wait until cancelled or `wait` seconds pass."""
        for step in range(1, steps + 1):
            await request_context.report_progress(step, steps, f"step {step}")
            await request_context.log("info", {"step": step})
        try:
            await asyncio.wait_for(cancel_token.wait(), wait)
        except TimeoutError:
            return "finished"
        return "cancelled"

    @registries.prompts.register
    def greet(name: str) -> str:
        """Greet someone."""
        return f"Hello {name}!"

    @registries.prompts.register
    def broken() -> str:
        """Always raises."""
        raise RuntimeError("secret detail")

    @registries.resources.register(uri="test://readme", name="readme")
    def readme() -> str:
        """The readme."""
        return "read me"

    @registries.resources.register_template(uri_template="test://items/{item}", name="item")
    def item(item: str) -> str:
        """One item."""
        return f"item {item}"

    return app


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(build_app()) as url:
        yield url


@pytest.fixture
def client(base_url: str) -> Iterator[McpClient]:
    with McpClient(base_url) as mcp:
        mcp.initialize()
        yield mcp
