"""`TokenMapAuthenticator`: a static map of tokens (or their SHA-256 digests), compared in constant time."""

from __future__ import annotations

import difflib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymcp import _core
from pymcp.security.authn.claims import (
    INVALID_TOKEN,
    get_bearer_token,
    token_digest,
)
from pymcp.security.authz import AuthenticationError
from pymcp.security.principal import Principal, frozen_principal

__all__ = ["TokenMapAuthenticator"]

# -- static token map ------------------------------------------------------------------------------

_ENTRY_KEYS = ("claims", "display_name", "expires_at", "roles", "scopes", "subject")


def _entry_error(where: str, problem: str) -> ValueError:
    return ValueError(f"token map {where}: {problem}")


def _parse_expiry(where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _entry_error(where, "`expires_at` must be epoch seconds or an ISO 8601 date-time")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _entry_error(where, f"`expires_at` `{value}` is not an ISO 8601 date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # a date-time without offset is read as UTC
        return moment.timestamp()
    return float(value)


def _entry_strings(where: str, key: str, value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(item, str) for item in value):
        return {item for item in value if item}
    raise _entry_error(where, f"`{key}` must be a string or a list of strings")


@dataclass(frozen=True, slots=True)
class _TokenEntry:
    digest: bytes
    # Built once and reused by every request with this token (its policy bindings are cached on it); it is
    # read-only, so tool code cannot change what the next request sees.
    principal: Principal
    expires_at: float | None


def _token_entry(index: int, key: Any, entry: Any) -> _TokenEntry:
    if not isinstance(key, str) or not key.strip():
        raise _entry_error(f"entry {index}", "the token must be a non-empty string")
    if key.startswith("sha256:"):
        hex_digest = key[len("sha256:") :].lower()
        if len(hex_digest) != 64 or any(ch not in "0123456789abcdef" for ch in hex_digest):
            raise _entry_error(f"entry {index}", "a `sha256:` key must be followed by 64 hex digits")
        digest = bytes.fromhex(hex_digest)
    else:
        if key != key.strip() or any(ch.isspace() for ch in key):
            raise _entry_error(f"entry {index}", "the token must not contain whitespace")
        digest = token_digest(key)
    where = f"entry {index} (sha256:{digest.hex()[:8]}…)"
    if not isinstance(entry, Mapping):
        raise _entry_error(where, "the entry must be an object")
    for name in entry:
        if name not in _ENTRY_KEYS:
            close = difflib.get_close_matches(str(name), _ENTRY_KEYS, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise _entry_error(where, f"unknown key `{name}`{hint}")
    subject = entry.get("subject")
    if not isinstance(subject, str) or not subject:
        raise _entry_error(where, "`subject` must be a non-empty string")
    display_name = entry.get("display_name")
    if display_name is not None and not isinstance(display_name, str):
        raise _entry_error(where, "`display_name` must be a string")
    claims = entry.get("claims")
    claims = {} if claims is None else claims
    if not isinstance(claims, Mapping):
        raise _entry_error(where, "`claims` must be an object")
    principal = frozen_principal(
        subject,
        display_name=display_name,
        scopes=_entry_strings(where, "scopes", entry.get("scopes")),
        roles=_entry_strings(where, "roles", entry.get("roles")),
        claims=claims,
    )
    return _TokenEntry(digest, principal, _parse_expiry(where, entry.get("expires_at")))


class TokenMapAuthenticator:
    """Static Bearer tokens: `{token or "sha256:<hex>": {subject, display_name?, roles?, scopes?, claims?,
    expires_at?}}`.

    The map is validated here (`ValueError` naming the entry by index and digest prefix, never the token).
    Each presented token is hashed once and compared with every stored digest in constant time. `roles`
    and `scopes` given as a string are split on whitespace (pymcp-kit 0.3.0 kept them whole).
    """

    def __init__(self, token_map: Mapping[str, Mapping[str, Any]]) -> None:
        if not isinstance(token_map, Mapping):
            raise ValueError("the token map must be an object mapping tokens to principals")
        entries = [_token_entry(index, key, entry) for index, (key, entry) in enumerate(token_map.items())]
        seen: dict[bytes, int] = {}
        for index, entry in enumerate(entries):
            if entry.digest in seen:
                raise _entry_error(f"entry {index}", f"the same token as entry {seen[entry.digest]}")
            seen[entry.digest] = index
        self._entries: tuple[_TokenEntry, ...] = tuple(entries)
        self._table = _core.TokenTable([entry.digest for entry in entries])

    def lookup(self, token: str) -> Principal:
        """The principal of `token`; `AuthenticationError` for an unknown or expired token."""
        # Hashed and compared with every stored digest in Rust, in constant time: the time taken does not
        # depend on which entry matched.
        index = self._table.find(token.encode("utf-8", "surrogatepass"))
        if index < 0:
            raise AuthenticationError(INVALID_TOKEN)
        found = self._entries[index]
        if found.expires_at is not None and time.time() >= found.expires_at:
            raise AuthenticationError("Bearer token has expired")
        return found.principal

    async def authenticate_token(self, token: str) -> Principal:
        return self.lookup(token)

    async def authenticate(self, request: Any) -> Principal | None:
        token = get_bearer_token(request)
        return None if token is None else self.lookup(token)
