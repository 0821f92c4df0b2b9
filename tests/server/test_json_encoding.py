"""One encoder: a pydantic model returned by a tool reads the same in the text block and in
`structuredContent` (by alias, no nulls), whether it is the whole result or nested inside it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from pydantic import BaseModel, ConfigDict, Field

from pymcp import get_registry_manager
from server.conftest import build_app
from server.mcp_client import McpClient
from support.server import serve


class Page(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    total_count: int = Field(alias="totalCount")
    note: str | None = None


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    app = build_app()
    tools = get_registry_manager(app).tools

    @tools.register(output_schema={"type": "object"})
    def page() -> Page:
        return Page(total_count=3)

    @tools.register
    def plain_page() -> Page:
        return Page(total_count=3)

    @tools.register(output_schema={"type": "object"})
    def nested() -> dict[str, Any]:
        return {"page": Page(total_count=3), "pages": [Page(total_count=4)]}

    @tools.register
    def wrapped() -> dict[str, Any]:
        return {"structuredContent": {"page": Page(total_count=3)}}

    with serve(app) as url:
        yield url


def call(base_url: str, name: str) -> dict[str, Any]:
    with McpClient(base_url) as mcp:
        mcp.initialize()
        response, _ = mcp.call("tools/call", {"name": name, "arguments": {}})
    assert "result" in response, response
    result: dict[str, Any] = response["result"]
    return result


def test_model_result_is_encoded_by_alias_everywhere(base_url: str) -> None:
    result = call(base_url, "page")
    assert result["structuredContent"] == {"totalCount": 3}
    assert orjson.loads(result["content"][0]["text"]) == {"totalCount": 3}


def test_model_result_without_output_schema(base_url: str) -> None:
    result = call(base_url, "plain_page")
    assert "structuredContent" not in result
    assert orjson.loads(result["content"][0]["text"]) == {"totalCount": 3}


def test_nested_models_are_encoded_by_alias_everywhere(base_url: str) -> None:
    result = call(base_url, "nested")
    expected = {"page": {"totalCount": 3}, "pages": [{"totalCount": 4}]}
    assert result["structuredContent"] == expected
    assert orjson.loads(result["content"][0]["text"]) == expected


def test_models_inside_structured_content_are_encoded_by_alias(base_url: str) -> None:
    result = call(base_url, "wrapped")
    assert result["structuredContent"] == {"page": {"totalCount": 3}}
    assert orjson.loads(result["content"][0]["text"]) == {"page": {"totalCount": 3}}
