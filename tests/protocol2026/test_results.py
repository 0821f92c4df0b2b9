"""`resultType`, caching hints, `serverInfo`, `server/discover` and deterministic order."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.protocol.stateless.envelope import TASKS_EXTENSION
from pymcp.protocol.stateless.results import (
    CACHEABLE_METHODS,
    SERVER_INFO_KEY,
    CachePolicy,
    decorate_result,
    discover_result,
    ordered,
    stateless_capabilities,
)

from .conftest import schema_errors

SERVER_INFO = {"name": "pymcp-kit", "version": "1.0.0"}
TOOL = {"name": "echo", "inputSchema": {"type": "object"}}

RESULTS: dict[str, tuple[str, dict[str, Any]]] = {
    "tools/list": ("ListToolsResult", {"tools": [TOOL]}),
    "prompts/list": ("ListPromptsResult", {"prompts": [{"name": "p"}]}),
    "resources/list": ("ListResourcesResult", {"resources": [{"name": "r", "uri": "file:///r"}]}),
    "resources/templates/list": (
        "ListResourceTemplatesResult",
        {"resourceTemplates": [{"name": "t", "uriTemplate": "file:///{x}"}]},
    ),
    "resources/read": ("ReadResourceResult", {"contents": [{"uri": "file:///r", "text": "hi"}]}),
    "tools/call": ("CallToolResult", {"content": [{"type": "text", "text": "hi"}], "isError": False}),
    "prompts/get": ("GetPromptResult", {"messages": []}),
    "completion/complete": ("CompleteResult", {"completion": {"values": ["a"]}}),
}


@pytest.mark.parametrize("method", sorted(RESULTS))
def test_decorated_results_validate_against_the_2026_schema(method: str) -> None:
    definition, result = RESULTS[method]
    assert schema_errors(definition, result) if method in CACHEABLE_METHODS else True
    decorated = decorate_result(method, result, server_info=SERVER_INFO)
    assert schema_errors(definition, decorated) == []
    assert decorated["resultType"] == "complete"
    assert decorated["_meta"][SERVER_INFO_KEY] == SERVER_INFO
    assert ("ttlMs" in decorated) == (method in CACHEABLE_METHODS)


def test_caching_hints_default_to_private_and_immediately_stale() -> None:
    decorated = decorate_result("tools/list", {"tools": []})
    assert (decorated["ttlMs"], decorated["cacheScope"]) == (0, "private")
    public = decorate_result("tools/list", {"tools": []}, cache=CachePolicy(ttl_ms=60_000, private=False))
    assert (public["ttlMs"], public["cacheScope"]) == (60_000, "public")


def test_decoration_copies_and_keeps_what_the_result_already_says() -> None:
    page = {"tools": [TOOL], "nextCursor": "c2", "_meta": {"com.example/trace": "t"}}
    decorated = decorate_result("tools/list", page, server_info=SERVER_INFO)
    assert page == {"tools": [TOOL], "nextCursor": "c2", "_meta": {"com.example/trace": "t"}}
    assert decorated["_meta"] == {"com.example/trace": "t", SERVER_INFO_KEY: SERVER_INFO}
    assert decorated["nextCursor"] == "c2"


def test_input_required_and_extension_results_keep_their_type_and_get_no_cache_hints() -> None:
    pending = {"resultType": "input_required", "requestState": "s"}
    assert decorate_result("resources/read", pending) == pending
    task = {"resultType": "task", "taskId": "t1", "status": "working"}
    assert decorate_result("tools/call", task) == task


@pytest.mark.parametrize("ttl", [-1, 1.5, True, "10"])
def test_bad_ttl_is_refused(ttl: Any) -> None:
    with pytest.raises(ValueError, match="ttl_ms must be a non-negative integer"):
        CachePolicy(ttl_ms=ttl)


def test_discover_result() -> None:
    capabilities = {
        "tools": {"listChanged": True},
        "tasks": {"list": {}},
        "extensions": {"com.example/x": {}},
    }
    result = discover_result(
        supported_versions=["2026-07-28"],
        capabilities=capabilities,
        server_info=SERVER_INFO,
        instructions="be brief",
    )
    assert schema_errors("DiscoverResult", result) == []
    assert result["capabilities"] == {
        "tools": {"listChanged": True},
        "extensions": {"com.example/x": {}, TASKS_EXTENSION: {}},
    }
    assert (result["cacheScope"], result["instructions"]) == ("private", "be brief")
    assert result["_meta"][SERVER_INFO_KEY] == SERVER_INFO
    assert schema_errors("DiscoverResultResponse", {"jsonrpc": "2.0", "id": 1, "result": result}) == []


def test_capabilities_without_tasks_are_unchanged() -> None:
    assert stateless_capabilities({"prompts": {}}) == {"prompts": {}}


def test_ordered_is_independent_of_input_order() -> None:
    tools = [{"name": "b"}, {"name": "a"}, {"name": "c"}]
    assert (
        ordered(tools, "name")
        == ordered(list(reversed(tools)), "name")
        == sorted(tools, key=lambda t: t["name"])
    )
