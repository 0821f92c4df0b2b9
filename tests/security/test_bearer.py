"""The one `Authorization: Bearer` parser: its one-match path for plain headers gives what the general
rules give, for every header value."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymcp.security.bearer import MalformedAuthorization, _read_credentials, bearer_token


def outcome(read: object, value: str, strict: bool) -> object:
    try:
        return read(value, strict=strict)  # type: ignore[operator]
    except MalformedAuthorization as malformed:
        return ("malformed", malformed.message)


values = st.from_regex(r"\s?[Bb][Ee]arer {1,2}[A-Za-z0-9._~+/=\- ]{0,12}\s?", fullmatch=True) | st.text(
    max_size=16
)


@settings(max_examples=3_000, deadline=None)
@given(values, st.booleans())
def test_the_shortcut_changes_nothing(value: str, strict: bool) -> None:
    assert outcome(lambda v, strict: bearer_token([v], strict=strict), value, strict) == outcome(
        _read_credentials, value, strict
    )


@pytest.mark.parametrize("value", ["Bearer abc", "bearer a.b-c_d~e+f/g=", "BEARER abc", " Bearer abc "])
def test_plain_headers(value: str) -> None:
    assert bearer_token([value]) == value.strip().partition(" ")[2]
