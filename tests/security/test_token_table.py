"""The token map's Rust table against its pure-Python reference (hashlib and hmac)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle import tokens as reference
from pymcp import _core

tokens = st.binary(max_size=40)


@settings(max_examples=2_000, deadline=None)
@given(st.lists(tokens, max_size=6), tokens)
def test_find_matches_the_reference(stored: list[bytes], presented: bytes) -> None:
    digests = [reference.sha256(token) for token in stored]
    assert _core.TokenTable(digests).find(presented) == reference.find(digests, presented)
    if stored:  # a stored token is always found (the last of repeated ones)
        assert _core.TokenTable(digests).find(stored[0]) == reference.find(digests, stored[0]) >= 0


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_sha256_matches_hashlib(data: bytes) -> None:
    assert _core.sha256(data) == reference.sha256(data)


def test_a_digest_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(ValueError, match="digest 1 has 31 bytes, not the 32 of SHA-256"):
        _core.TokenTable([bytes(32), bytes(31)])
