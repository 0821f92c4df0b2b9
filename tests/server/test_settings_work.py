"""Every accepted setting works or says it has no effect: the 0.3.0 extension switches are advertised,
`maxOutputBytes` is enforced, and options we cannot honour warn naming themselves."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from protocol2026.test_stateless_server import post, request
from pymcp import CapabilitySettings, MiddlewareConfig, ServerSettings, create_app, get_registry_manager
from pymcp.protocol.stateless.envelope import TASKS_EXTENSION
from pymcp.settings import MCP_APPS_UI, MCP_OAUTH_CLIENT_CREDENTIALS
from server.mcp_client import McpClient
from support.server import serve


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    capabilities = CapabilitySettings(
        mcp_apps_enabled=True,
        oauth_client_credentials_enabled=True,
        extensions={"com.example/audit": {"level": "full"}},
    )
    app = create_app(server_settings=ServerSettings(name="settings", capabilities=capabilities))
    tools = get_registry_manager(app).tools

    @tools.register(execution={"maxOutputBytes": 200})
    def chatty(words: int) -> str:
        return "word " * words

    with serve(app) as url:
        yield url


def test_extension_switches_are_advertised_where_the_revision_has_extensions(base_url: str) -> None:
    with McpClient(base_url) as mcp:
        result = mcp.initialize()
    assert "extensions" not in result["capabilities"]  # 2025-11-25 has no `capabilities.extensions`
    discover = post(base_url + "/mcp", request("server/discover")).json()["result"]
    assert discover["capabilities"]["extensions"] == {
        MCP_APPS_UI: {"mimeTypes": ["text/html;profile=mcp-app"]},
        MCP_OAUTH_CLIENT_CREDENTIALS: {},
        "com.example/audit": {"level": "full"},
        TASKS_EXTENSION: {},
    }


def test_max_output_bytes_turns_a_large_result_into_a_tool_error(base_url: str) -> None:
    with McpClient(base_url) as mcp:
        mcp.initialize()
        small, _ = mcp.call("tools/call", {"name": "chatty", "arguments": {"words": 3}})
        large, _ = mcp.call("tools/call", {"name": "chatty", "arguments": {"words": 100}})
    assert small["result"]["content"][0]["text"] == "word word word "
    assert large["result"]["isError"] is True
    text = large["result"]["content"][0]["text"]
    assert text.startswith("tool `chatty` returned ")
    assert text.endswith("more than its `maxOutputBytes` (200)")


@pytest.mark.parametrize(
    ("execution", "warning"),
    [
        ({"streaming": True}, "`streaming=True` is not supported"),
        ({"cancellation": "terminate"}, 'cancellation="terminate"` is not supported'),
        ({"taskSupport": "optional", "priority": 3}, "unknown execution option `priority`"),
    ],
)
def test_execution_options_we_cannot_honour_warn(execution: dict[str, Any], warning: str) -> None:
    app = create_app()
    with pytest.warns(UserWarning, match=warning):
        get_registry_manager(app).tools.register(lambda: "x", name="t", execution=execution)


@pytest.mark.parametrize(
    ("execution", "message"),
    [
        ({"maxOutputBytes": 0}, "`maxOutputBytes` must be a positive integer, not `0`"),
        ({"maxOutputBytes": True}, "`maxOutputBytes` must be a positive integer"),
        ({"cancellation": "kill"}, "cancellation must be `cooperative` or `terminate`, not `kill`"),
        ({"streaming": "yes"}, "`streaming` must be true or false"),
    ],
)
def test_bad_execution_options_raise(execution: dict[str, Any], message: str) -> None:
    app = create_app()
    with pytest.raises(ValueError, match=message):
        get_registry_manager(app).tools.register(lambda: "x", name="t", execution=execution)


def test_settings_without_their_switch_warn() -> None:
    with pytest.warns(UserWarning, match="`mcp_apps_settings` has no effect unless `mcp_apps_enabled=True`"):
        CapabilitySettings(mcp_apps_settings={"mimeTypes": []})
    with pytest.warns(UserWarning, match="`oauth_client_credentials_settings` has no effect"):
        CapabilitySettings(oauth_client_credentials_settings={})


def test_error_handling_warns_unless_empty() -> None:
    MiddlewareConfig(error_handling={})
    with pytest.warns(UserWarning, match="`error_handling` has no effect"):
        MiddlewareConfig(error_handling={"debug": True})
