"""`requestState`: integrity, expiry, caller binding and request binding."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.request_state import MAX_TOKEN_BYTES, RequestStateCodec
from pymcp.security.principal import Principal, principal_identity

# Callers as the server names them: `principal_identity` (issuer plus subject, scopes left out).
ALICE = principal_identity(Principal(subject="alice", claims={"iss": "https://idp.example"}))
ALICE_REFRESHED = principal_identity(
    Principal(subject="alice", scopes={"new"}, claims={"iss": "https://idp.example"})
)
MALLORY = principal_identity(Principal(subject="alice", claims={"iss": "https://evil.example"}))
KEY = b"k" * 32
PARAMS: dict[str, Any] = {"name": "book", "arguments": {"city": "Oslo"}, "_meta": {"progressToken": 1}}


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def codec(clock: Clock) -> RequestStateCodec:
    return RequestStateCodec([KEY], ttl_seconds=60, clock=clock)


def refused(codec: RequestStateCodec, token: object, **overrides: Any) -> str:
    binding: dict[str, Any] = {"caller": ALICE, "method": "tools/call", "params": PARAMS, **overrides}
    with pytest.raises(MCPError) as caught:
        codec.open(token, **binding)
    assert caught.value.code == ErrorCode.INVALID_PARAMS
    return caught.value.message


def test_round_trip(codec: RequestStateCodec) -> None:
    token = codec.seal({"step": 2, "answers": ["x"]}, caller=ALICE, method="tools/call", params=PARAMS)
    assert token.startswith("v1.")
    retry = {**PARAMS, "_meta": {"other": True}, "inputResponses": {"a": {}}, "requestState": token}
    assert codec.open(token, caller=ALICE_REFRESHED, method="tools/call", params=retry) == {
        "step": 2,
        "answers": ["x"],
    }


def test_anonymous_round_trip_and_isolation(codec: RequestStateCodec) -> None:
    token = codec.seal("s", caller=None, method="tools/call", params=PARAMS)
    assert codec.open(token, caller=None, method="tools/call", params=PARAMS) == "s"
    assert "another caller" in refused(codec, token)
    signed_in = codec.seal("s", caller=ALICE, method="tools/call", params=PARAMS)
    assert "another caller" in refused(codec, signed_in, caller=None)


def test_tampering_is_detected(codec: RequestStateCodec) -> None:
    token = codec.seal({"ok": False}, caller=ALICE, method="tools/call", params=PARAMS)
    version, body, tag = token.split(".")
    forged_body = base64.urlsafe_b64encode(
        orjson.dumps({**orjson.loads(base64.urlsafe_b64decode(body + "==")), "data": {"ok": True}})
    ).rstrip(b"=")
    assert "integrity" in refused(codec, f"{version}.{forged_body.decode()}.{tag}")
    assert "integrity" in refused(codec, token + "-TAMPERED")  # what the official suite sends
    assert "integrity" in refused(codec, f"{version}.{body}x.{tag}")


@given(st.integers(min_value=0), st.sampled_from("ABCxyz019-_"))
def test_any_single_character_change_is_refused(position: int, replacement: str) -> None:
    codec = RequestStateCodec([KEY], clock=lambda: 0.0)
    token = codec.seal([1, 2, 3], caller=ALICE, method="tools/call", params=PARAMS)
    index = 3 + position % (len(token) - 3)  # keep the "v1." prefix
    if token[index] == replacement:
        return
    changed = token[:index] + replacement + token[index + 1 :]
    with pytest.raises(MCPError):
        codec.open(changed, caller=ALICE, method="tools/call", params=PARAMS)


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (None, "must be a string"),
        (42, "must be a string"),
        ("", "malformed"),
        ("v2.a.b", "malformed"),
        ("v1.a", "malformed"),
        ("v1.a.b.c", "malformed"),
        ("v1.é.AAAA", "integrity"),
        ("v1.abc.!!!", "malformed"),
        ("v1." + "A" * MAX_TOKEN_BYTES, "longer than"),
    ],
)
def test_garbage_is_refused_with_a_clear_message(
    codec: RequestStateCodec, token: object, message: str
) -> None:
    assert message in refused(codec, token)


def test_expiry(codec: RequestStateCodec, clock: Clock) -> None:
    token = codec.seal(1, caller=ALICE, method="tools/call", params=PARAMS)
    clock.now += 59
    assert codec.open(token, caller=ALICE, method="tools/call", params=PARAMS) == 1
    clock.now += 1
    assert "expired" in refused(codec, token)


def test_another_caller_cannot_replay(codec: RequestStateCodec) -> None:
    token = codec.seal(1, caller=ALICE, method="tools/call", params=PARAMS)
    assert "another caller" in refused(codec, token, caller=MALLORY)
    assert "another caller" in refused(codec, token, caller=principal_identity(Principal(subject="bob")))


@pytest.mark.parametrize(
    "overrides",
    [
        {"method": "prompts/get"},
        {"params": {**PARAMS, "name": "cancel"}},
        {"params": {**PARAMS, "arguments": {"city": "Bergen"}}},
        {"params": {"name": "book"}},
    ],
)
def test_state_is_bound_to_its_request(codec: RequestStateCodec, overrides: dict[str, Any]) -> None:
    token = codec.seal(1, caller=ALICE, method="tools/call", params=PARAMS)
    assert "different request" in refused(codec, token, **overrides)


def test_huge_integers_in_params_do_not_break_binding(codec: RequestStateCodec) -> None:
    params = {"name": "n", "arguments": {"big": 2**80}}
    token = codec.seal(None, caller=None, method="tools/call", params=params)
    assert codec.open(token, caller=None, method="tools/call", params=params) is None
    with pytest.raises(MCPError, match="different request"):
        codec.open(
            token, caller=None, method="tools/call", params={"name": "n", "arguments": {"big": 2**80 + 1}}
        )


def test_key_rotation(clock: Clock) -> None:
    old = RequestStateCodec([b"o" * 32], clock=clock)
    token = old.seal("x", caller=ALICE, method="tools/call", params=PARAMS)
    rotated = RequestStateCodec([b"n" * 32, b"o" * 32], clock=clock)
    assert rotated.open(token, caller=ALICE, method="tools/call", params=PARAMS) == "x"
    retired = RequestStateCodec([b"n" * 32], clock=clock)
    assert "integrity" in refused(retired, token)


def test_each_codec_without_keys_has_its_own_random_key() -> None:
    token = RequestStateCodec().seal(1, caller=None, method="tools/call", params={})
    with pytest.raises(MCPError, match="integrity"):
        RequestStateCodec().open(token, caller=None, method="tools/call", params={})


@pytest.mark.parametrize(
    ("keys", "ttl", "message"),
    [
        ([], 60, "at least one key"),
        ([b"short"], 60, "at least 32 random bytes"),
        ([KEY], 0, "must be positive"),
    ],
)
def test_bad_configuration(keys: list[bytes], ttl: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RequestStateCodec(keys, ttl_seconds=ttl)


def test_sealing_refuses_what_cannot_travel(codec: RequestStateCodec) -> None:
    with pytest.raises(TypeError, match="JSON-serialisable"):
        codec.seal({1, 2}, caller=None, method="tools/call", params={})
    with pytest.raises(ValueError, match="once sealed"):
        codec.seal("x" * MAX_TOKEN_BYTES, caller=None, method="tools/call", params={})
