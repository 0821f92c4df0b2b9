"""`x-mcp-header` annotations and their `Mcp-Param-*` headers."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.headers import RequestHeaders
from pymcp.protocol.stateless.param_headers import check_param_headers, header_map

SCHEMA = {
    "type": "object",
    "properties": {
        "region": {"type": "string", "x-mcp-header": "Region"},
        "priority": {"type": "integer", "x-mcp-header": "Priority"},
        "verbose": {"type": "boolean", "x-mcp-header": "Verbose"},
        "target": {"type": "object", "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}}},
        "query": {"type": "string"},
        "note": {"type": "string", "default": {"x-mcp-header": "not-an-annotation"}},
        "x-mcp-header": {"type": "string"},  # a property that happens to carry the keyword's name
    },
}
MAP = header_map(SCHEMA)


def params(**values: str) -> RequestHeaders:
    return RequestHeaders.from_pairs((f"Mcp-Param-{name}", value) for name, value in values.items())


def test_header_map() -> None:
    assert MAP == {
        ("region",): "Region",
        ("priority",): "Priority",
        ("verbose",): "Verbose",
        ("target", "zone"): "Zone",
    }


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "string", "x-mcp-header": "Root"}, "not reached through `properties` alone"),
        ({"properties": {"a": {"type": "string", "x-mcp-header": ""}}}, "non-empty HTTP token"),
        ({"properties": {"a": {"type": "string", "x-mcp-header": "A B"}}}, "non-empty HTTP token"),
        ({"properties": {"a": {"type": "string", "x-mcp-header": "A:B"}}}, "non-empty HTTP token"),
        ({"properties": {"a": {"type": "string", "x-mcp-header": 3}}}, "non-empty HTTP token"),
        ({"properties": {"a": {"type": "number", "x-mcp-header": "A"}}}, "needs type `integer`"),
        ({"properties": {"a": {"type": "array", "x-mcp-header": "A"}}}, "needs type `integer`"),
        (
            {
                "properties": {
                    "a": {"type": "string", "x-mcp-header": "A"},
                    "b": {"type": "string", "x-mcp-header": "a"},
                }
            },
            "repeats the one of `a`",
        ),
        (
            {"properties": {"a": {"items": {"type": "string", "x-mcp-header": "A"}}}},
            "through `properties` alone",
        ),
        (
            {"anyOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]},
            "through `properties` alone",
        ),
    ],
)
def test_invalid_annotations_are_refused(schema: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        header_map(schema)


@pytest.mark.parametrize(
    ("arguments", "headers"),
    [
        ({"region": "us-west1", "query": "q"}, params(Region="us-west1")),
        ({"region": "Hello"}, params(Region="=?base64?SGVsbG8=?=")),
        ({"region": "SGVsbG8="}, params(Region="SGVsbG8=")),  # no sentinel: literal
        ({"region": "=?base64?SGVsbG8="}, params(Region="=?base64?SGVsbG8=")),
        ({"priority": 42}, params(Priority="42")),
        ({"priority": 42}, params(Priority="42.0")),
        ({"priority": 42.0}, params(Priority="42")),
        ({"verbose": False}, params(Verbose="false")),
        ({"verbose": None}, params()),
        ({"target": {"zone": "b"}}, params(Zone="b")),
        ({}, params(Other="ignored")),
    ],
)
def test_matching_headers_pass(arguments: dict[str, Any], headers: RequestHeaders) -> None:
    check_param_headers(MAP, arguments, headers)


@pytest.mark.parametrize(
    ("arguments", "headers", "message"),
    [
        ({"region": "us-west1"}, params(), "is required because argument `region` is set"),
        ({}, params(Region="us-west1"), "is present but argument `region` is not"),
        ({"region": "Hello"}, params(Region="=?base64?SGVsbG8?="), "malformed"),
        ({"region": "Hello"}, params(Region="=?base64?SGVs!!!bG8=?="), "malformed"),
        ({"region": "a"}, params(Region="b"), "does not match argument `region`"),
        ({"priority": 42}, params(Priority="42.5"), "does not match"),
        ({"priority": 42}, params(Priority="4.2e1"), "does not match"),
        ({"verbose": True}, params(Verbose="True"), "does not match"),
        ({"region": ["a"]}, params(Region="a"), "does not match"),
        ({"target": {"zone": "a"}}, params(Zone="b"), "argument `target.zone`"),
    ],
)
def test_mismatches_are_header_mismatch(
    arguments: dict[str, Any], headers: RequestHeaders, message: str
) -> None:
    with pytest.raises(MCPError, match=message) as caught:
        check_param_headers(MAP, arguments, headers)
    assert (caught.value.code, caught.value.http_status) == (ErrorCode.HEADER_MISMATCH, 400)


def test_names_of_properties_and_definitions_are_not_annotations() -> None:
    schema = {"anyOf": [{"properties": {"x-mcp-header": {"type": "string"}}}], "$defs": {"x-mcp-header": {}}}
    assert header_map(schema) == {}
