"""Routing headers and the `=?base64?…?=` value form."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.headers import RequestHeaders, decode_header_value, encode_header_value


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("us-west1", "us-west1"),
        ("us west 1", "us west 1"),
        ("", ""),
        ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
        (" padded ", "=?base64?IHBhZGRlZCA=?="),
        ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
        ("\tindented", "=?base64?CWluZGVudGVk?="),
        ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
    ],
)
def test_encoding_examples_of_the_spec(value: str, encoded: str) -> None:
    assert encode_header_value(value) == encoded
    assert decode_header_value(encoded) == value


@given(st.text())
def test_every_string_round_trips(value: str) -> None:
    surrogate_free = value.encode("utf-8", "replace").decode("utf-8")
    assert decode_header_value(encode_header_value(surrogate_free)) == surrogate_free


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("=?base64?SGVsbG8?=", "padded"),  # missing padding
        ("=?base64?SGVs!!!bG8=?=", "padded"),  # characters outside the alphabet
        ("=?base64?SGVsbG9=?=", "canonical"),  # non-zero padding bits
        ("=?base64?" + base64.b64encode(b"\xff\xfe").decode() + "?=", "UTF-8"),
    ],
)
def test_malformed_sentinels_are_refused(header: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        decode_header_value(header)


@pytest.mark.parametrize(
    "value", ["SGVsbG8=", "=?base64?SGVsbG8=", "base64?SGVsbG8=?=", "=?BASE64?SGVsbG8=?="]
)
def test_values_without_the_exact_sentinel_are_literal(value: str) -> None:
    assert decode_header_value(value) == value


def test_headers_are_read_case_insensitively_and_trimmed() -> None:
    headers = RequestHeaders.from_asgi(
        [
            (b"MCP-PROTOCOL-VERSION", b"2026-07-28"),
            (b"mcp-method", b"tools/call"),
            (b"Mcp-Name", b"  get_weather \t"),
            (b"Mcp-Param-Region", b"us-west1"),
            (b"content-type", b"application/json"),
        ]
    )
    assert headers == RequestHeaders("2026-07-28", "tools/call", "get_weather", {"region": "us-west1"})


@pytest.mark.parametrize(
    "pairs",
    [
        [("Mcp-Method", "tools/list"), ("mcp-method", "tools/list")],
        [("Mcp-Name", "a"), ("MCP-NAME", "b")],
        [("Mcp-Param-Region", "a"), ("mcp-param-region", "a")],
    ],
)
def test_a_repeated_mcp_header_is_a_header_mismatch(pairs: list[tuple[str, str]]) -> None:
    with pytest.raises(MCPError, match="appears more than once") as caught:
        RequestHeaders.from_pairs(pairs)
    assert caught.value.code == ErrorCode.HEADER_MISMATCH
    assert caught.value.http_status == 400


def test_control_characters_in_an_mcp_header_are_refused() -> None:
    with pytest.raises(MCPError, match="outside visible ASCII") as caught:
        RequestHeaders.from_asgi([(b"mcp-name", "caf\u00e9".encode("latin-1"))])
    assert caught.value.code == ErrorCode.HEADER_MISMATCH


def test_unrelated_headers_may_repeat() -> None:
    assert RequestHeaders.from_pairs([("accept", "a"), ("Accept", "b")]) == RequestHeaders()
