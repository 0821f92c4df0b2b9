"""`requestState` for multi round-trip requests: signed, expiring, bound to its caller and request.

A server that answers `InputRequiredResult` may hand the client a `requestState` and gets it back,
byte for byte, on the retry. The client holds it in between, so it is attacker-controlled input.
`RequestStateCodec.seal` turns the server's small JSON state into a token; `open` gives it back only
when all of these hold, and raises -32602 with a message saying which one failed otherwise:

- the HMAC-SHA256 tag verifies under one of the app's keys (the first key signs, all keys verify,
  so a key can be rotated without breaking rounds in flight);
- the token has not expired (`exp`, seconds since the epoch, default 10 minutes after sealing);
- the caller is the one it was issued to (`caller`: the server passes `principal_identity`, issuer
  plus subject, or None for anonymous callers, who share one identity, so an anonymous token never
  opens for a signed-in user);
- the retry is the same request: same method and same params apart from `_meta`, `inputResponses`
  and `requestState` (a digest of them is signed), so a state cannot be replayed on another tool,
  prompt, resource or argument set.

Token: `v1.<base64url(payload JSON)>.<base64url(tag)>`. The payload is signed, not encrypted: the
client can read it, so the state must not hold secrets. Without configured keys each codec draws a
random 32-byte key; servers behind a load balancer must share keys so any instance opens any token.
A state proves only "we issued this, for this caller and request, recently"; one-time use, where it
matters, needs a server-side record.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from pymcp.errors import ErrorCode, MCPError

__all__ = ["DEFAULT_TTL_SECONDS", "MAX_TOKEN_BYTES", "RequestStateCodec"]

DEFAULT_TTL_SECONDS = 600.0
MAX_TOKEN_BYTES = 16 * 1024
_VERSION = "v1"
_MIN_KEY_BYTES = 32
# Domain separation: a tag made for something else with the same key never verifies here.
_CONTEXT = b"pymcp requestState v1\x00"
# Params that differ between a request and its retry by design.
_UNBOUND_PARAMS = frozenset(("_meta", "inputResponses", "requestState"))
_ANONYMOUS = "anonymous"
_MALFORMED = "`requestState` is malformed; send it back exactly as the server returned it"


def _invalid(message: str) -> MCPError:
    return MCPError(ErrorCode.INVALID_PARAMS, message)


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64encode(raw) != text:  # one spelling per token: no malleable padding bits
        raise ValueError("non-canonical base64")
    return raw


def _spell_big_ints(value: Any) -> Any:
    # orjson refuses integers beyond 64 bits, which JSON-RPC params may hold; spell them as text.
    if isinstance(value, int) and not isinstance(value, bool):
        return value if -(2**63) <= value < 2**64 else {"$int": str(value)}
    if isinstance(value, Mapping):
        return {key: _spell_big_ints(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_spell_big_ints(item) for item in value]
    return value


def _request_digest(method: str, params: Mapping[str, Any]) -> str:
    salient = {key: value for key, value in params.items() if key not in _UNBOUND_PARAMS}
    try:
        blob = orjson.dumps([method, salient], option=orjson.OPT_SORT_KEYS)
    except TypeError:
        blob = orjson.dumps([method, _spell_big_ints(salient)], option=orjson.OPT_SORT_KEYS)
    return _b64encode(hashlib.sha256(blob).digest()[:16])


def _caller(identity: str | None) -> str:
    return _ANONYMOUS if identity is None else "user:" + identity


class RequestStateCodec:
    """Seals and opens `requestState` tokens for one app (see the module docstring)."""

    __slots__ = ("_clock", "_keys", "_ttl_seconds")

    def __init__(
        self,
        keys: Sequence[bytes] | None = None,
        *,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if keys is None:
            keys = (secrets.token_bytes(_MIN_KEY_BYTES),)
        if not keys:
            raise ValueError("request state needs at least one key")
        for index, key in enumerate(keys):
            if not isinstance(key, bytes) or len(key) < _MIN_KEY_BYTES:
                raise ValueError(f"request state key {index} must be at least {_MIN_KEY_BYTES} random bytes")
        if not ttl_seconds > 0:
            raise ValueError(f"ttl_seconds must be positive, got `{ttl_seconds}`")
        self._keys = tuple(keys)
        self._ttl_seconds = float(ttl_seconds)
        self._clock = clock

    def _tag(self, key: bytes, body: str) -> bytes:
        return hmac.new(key, _CONTEXT + body.encode("ascii"), hashlib.sha256).digest()

    def seal(
        self,
        data: Any,
        *,
        caller: str | None,
        method: str,
        params: Mapping[str, Any],
    ) -> str:
        """A token carrying `data` (any JSON value) for a retry of `method` with `params` by `caller`
        (a caller identity, None when anonymous)."""
        payload = {
            "sub": _caller(caller),
            "req": _request_digest(method, params),
            "exp": int(self._clock() + self._ttl_seconds),
            "data": data,
        }
        try:
            body = _b64encode(orjson.dumps(payload))
        except TypeError as exc:
            raise TypeError(f"request state data must be JSON-serialisable: {exc}") from exc
        token = f"{_VERSION}.{body}.{_b64encode(self._tag(self._keys[0], body))}"
        if len(token) > MAX_TOKEN_BYTES:
            raise ValueError(
                f"request state is {len(token)} bytes once sealed; the limit is {MAX_TOKEN_BYTES}"
            )
        return token

    def open(
        self,
        token: object,
        *,
        caller: str | None,
        method: str,
        params: Mapping[str, Any],
    ) -> Any:
        """The `data` sealed into `token`; raises `MCPError(-32602)` saying why the token is refused."""
        if not isinstance(token, str):
            raise _invalid("`requestState` must be a string")
        if len(token) > MAX_TOKEN_BYTES:
            raise _invalid(f"`requestState` is longer than {MAX_TOKEN_BYTES} bytes")
        parts = token.split(".")
        if len(parts) != 3 or parts[0] != _VERSION:
            raise _invalid(_MALFORMED)
        _, body, tag_text = parts
        try:
            tag = _b64decode(tag_text)
        except (ValueError, binascii.Error):
            raise _invalid(
                "`requestState` is malformed; send it back exactly as the server returned it"
            ) from None
        if not body.isascii() or not any(
            hmac.compare_digest(self._tag(key, body), tag) for key in self._keys
        ):
            raise _invalid("`requestState` failed its integrity check; it was altered or not issued here")
        payload = orjson.loads(_b64decode(body))
        if self._clock() >= payload["exp"]:
            raise _invalid("`requestState` has expired; send the request again without it")
        if payload["sub"] != _caller(caller):
            raise _invalid("`requestState` was issued to another caller")
        if payload["req"] != _request_digest(method, params):
            raise _invalid("`requestState` was issued for a different request")
        return payload["data"]
