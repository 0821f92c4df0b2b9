"""CORS for 2026-07-28 browser clients (the routing headers and each tool's `Mcp-Param-*` headers), and
the `create_app` keywords for request state and task leases."""

from __future__ import annotations

import httpx
import pytest

from pymcp import ServerSettings, create_app, get_registry_manager
from support.server import serve

ORIGIN = "https://app.example"
REGION_SCHEMA = {
    "type": "object",
    "properties": {"region": {"type": "string", "x-mcp-header": "Region"}},
    "required": ["region"],
}


def preflight(url: str, headers: str) -> httpx.Response:
    return httpx.options(
        url + "/mcp",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": headers,
        },
    )


def test_preflight_allows_the_routing_headers_and_follows_the_tools() -> None:
    app = create_app(cors={"allow_origins": [ORIGIN]})
    tools = get_registry_manager(app).tools
    with serve(app) as url:
        routing = preflight(url, "mcp-method, mcp-name, mcp-protocol-version, content-type")
        assert routing.status_code == 200, routing.text
        assert preflight(url, "mcp-param-region").status_code == 400

        @tools.register(input_schema=REGION_SCHEMA)
        def forecast(region: str) -> str:
            """The weather in `region`."""
            return f"sunny in {region}"

        allowed = preflight(url, "mcp-method, mcp-param-region")
        assert allowed.status_code == 200, allowed.text
        assert "Mcp-Param-Region" in allowed.headers["access-control-allow-headers"].split(", ")
        assert preflight(url, "mcp-param-other").status_code == 400
        tools.remove("forecast")
        assert preflight(url, "mcp-param-region").status_code == 400


def test_a_configured_header_list_is_used_as_given() -> None:
    app = create_app(cors={"allow_origins": [ORIGIN], "allow_headers": ["Content-Type", "Mcp-Param-Region"]})
    with serve(app) as url:
        assert preflight(url, "content-type, mcp-param-region").status_code == 200
        assert preflight(url, "mcp-method").status_code == 400


def test_request_state_and_lease_keywords_merge_into_the_settings() -> None:
    key = b"k" * 32
    app = create_app(request_state_keys=[key], request_state_ttl_seconds=30, task_lease_seconds=2)
    settings = app.state.server_settings
    assert (settings.request_state_keys, settings.request_state_ttl_seconds) == ([key], 30)
    assert settings.task_lease_seconds == 2
    other = create_app(request_state_keys=[key])
    # Same keys: a state sealed by one app is opened by the other.
    sealed = app.state.dispatcher.codec.seal(1, caller=None, method="tools/call", params={})
    assert other.state.dispatcher.codec.open(sealed, caller=None, method="tools/call", params={}) == 1
    with pytest.raises(TypeError, match="`task_lease_seconds` is set differently"):
        create_app(server_settings=ServerSettings(task_lease_seconds=5), task_lease_seconds=2)


@pytest.mark.parametrize("lease", [0, -1, float("nan")])
def test_a_bad_lease_is_refused_clearly(lease: float) -> None:
    with pytest.raises(ValueError, match=r"task_lease_seconds must be at least 0\.003"):
        create_app(task_lease_seconds=lease)


def test_bad_request_state_keywords_are_refused_clearly() -> None:
    with pytest.raises(ValueError, match="at least 32 random bytes"):
        create_app(request_state_keys=[b"short"])
    with pytest.raises(ValueError, match="ttl_seconds must be positive"):
        create_app(request_state_ttl_seconds=0)
