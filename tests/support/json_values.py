"""Hypothesis strategy for decoded JSON values: exactly the types orjson gives the server."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

__all__ = ["json_values"]


def json_values(*, max_leaves: int, max_size: int) -> st.SearchStrategy[Any]:
    """Nested JSON values (integers within 64 bits, no NaN) of at most `max_leaves` scalars, with arrays
    and objects of at most `max_size` items."""
    return st.recursive(
        st.none()
        | st.booleans()
        | st.integers(-(2**63), 2**63 - 1)
        | st.floats(allow_nan=False)
        | st.text(max_size=12),
        lambda inner: (
            st.lists(inner, max_size=max_size)
            | st.dictionaries(st.text(max_size=8), inner, max_size=max_size)
        ),
        max_leaves=max_leaves,
    )
