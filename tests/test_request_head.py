"""The Rust header pass against its pure-Python reference, and the read kept for the next reader."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.request_head import read as reference
from pymcp import _core
from pymcp.protocol.request_head import HEADERS_SCOPE_KEY, WANTED_HEADERS, read_head

names = st.sampled_from(
    [*WANTED_HEADERS, b"authorization", b"Authorization", b"mcp-method", b"mcp-name", b"mcp-param-x", b"x-y"]
) | st.binary(max_size=12)
headers = st.lists(st.tuples(names, st.binary(max_size=20)), max_size=12)


@settings(max_examples=2_000, deadline=None)
@given(headers)
def test_rust_matches_the_reference(raw: list[tuple[bytes, bytes]]) -> None:
    expected = reference(WANTED_HEADERS, raw)
    reader = _core.HeaderReader(WANTED_HEADERS)
    for headers in (raw, tuple(raw), iter(raw)):  # a list is read by index, anything else iterated
        head = reader.read(headers)
        assert head == expected
        assert list(head[0]) == list(expected[0])  # the wanted headers in the same order too


def test_one_read_per_header_list() -> None:
    scope = {"headers": [(b"host", b"a"), (b"authorization", b"Bearer t"), (b"mcp-method", b"ping")]}
    head = read_head(scope)
    assert head == ({b"host": "a"}, ["Bearer t"], [("mcp-method", "ping")])
    assert read_head(scope) is head
    scope["headers"] = [(b"host", b"b")]  # a middleware replaced the headers: read again
    assert read_head(scope) == ({b"host": "b"}, [], [])
    assert scope[HEADERS_SCOPE_KEY][0] is scope["headers"]


def test_pairs_may_be_lists_and_must_be_bytes() -> None:
    reader = _core.HeaderReader(WANTED_HEADERS)
    assert reader.read([[b"host", b"a"], [b"authorization", b"Bearer t"]]) == (
        {b"host": "a"},
        ["Bearer t"],
        [],
    )
    for bad in ([(b"host", "a")], [(b"host",)], [b"host"], [(b"host", b"a", b"b")]):
        with pytest.raises(TypeError, match=r"each request header must be a \(name, value\) pair of bytes"):
            reader.read(bad)
