"""The Rust `params` shape check against its pure-Python reference, and the errors the facade raises."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.nesting import nesting_violation as reference
from pymcp import _core
from pymcp.errors import ErrorCode, MCPError
from pymcp.server.limits import check_depth
from support.json_values import json_values


@settings(max_examples=3_000, deadline=None)
@given(json_values(max_leaves=60, max_size=6), st.integers(0, 8), st.integers(0, 7))
def test_rust_matches_the_reference(value: Any, max_depth: int, max_array: int) -> None:
    decoded = orjson.loads(orjson.dumps(value))  # dict keys and floats as the server decodes them
    assert _core.nesting_violation(decoded, max_depth, max_array) == reference(decoded, max_depth, max_array)


def nested(depth: int) -> Any:
    value: Any = 0
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (nested(65), "`params` are nested deeper than `max_json_depth` (64)"),
        (
            {"a": list(range(11)), "b": nested(100)},
            "`params` hold an array of 11 items, more than `max_json_array_length` (10)",
        ),
    ],
)
def test_refusals_name_the_limit(params: Any, message: str) -> None:
    with pytest.raises(MCPError) as refused:
        check_depth(params, 64, 10)
    assert (refused.value.code, refused.value.message) == (ErrorCode.INVALID_PARAMS, message)


def test_values_within_the_limits_pass() -> None:
    check_depth(nested(64), 64, 10)
    check_depth({"a": list(range(10))}, 64, 10)
    check_depth(None, 0, 0)
    assert _core.nesting_violation(nested(1024), 1024, 1) == 0


class Members(dict[str, Any]):
    pass


class Items(list[Any]):
    pass


@pytest.mark.parametrize(
    "params",
    [
        Members(a=nested(10)),
        Items([nested(10)]),
        {"a": Members(b=nested(10)), "c": Items(range(20))},
        [Items([[[]]]), {"a": Members()}, nested(3)],
        {1: nested(3), None: [list(range(5))]},
    ],
)
def test_only_exact_lists_and_dicts_are_containers(params: Any) -> None:
    # Subclasses never come out of orjson: they are left alone, as the reference leaves them.
    for limits in [(2, 3), (3, 4), (8, 100)]:
        assert _core.nesting_violation(params, *limits) == reference(params, *limits)
