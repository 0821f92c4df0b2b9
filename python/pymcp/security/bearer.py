"""The one `Authorization: Bearer` parser (RFC 6750 §2.1), for the middleware and the authenticators."""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["MalformedAuthorization", "bearer_token"]

# RFC 6750 b64token characters (a pattern: much cheaper than a set of a long JWT's characters)
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/=]+")
# What nearly every client sends, read in one match: the general rules below give the same token for it.
_PLAIN_BEARER = re.compile(r"[Bb]earer ([A-Za-z0-9\-._~+/=]+)")


class MalformedAuthorization(ValueError):
    """The `Authorization` header cannot be read as credentials: the request is refused (400)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def bearer_token(headers: Sequence[str], *, strict: bool = True) -> str | None:
    """The Bearer token in the `Authorization` header values of a request; None when there is none or
    another scheme is used (the request is anonymous, as in pymcp-kit 0.3.0).

    Strict (the middleware, before any authenticator runs): a repeated header, or `Bearer` without exactly
    one token of the RFC 6750 characters, raises `MalformedAuthorization`. Not strict (0.3.0's
    `get_bearer_token`): the first header is read and `Bearer` with nothing after it is anonymous.
    """
    if not headers:
        return None
    if strict and len(headers) > 1:
        raise MalformedAuthorization("Only one Authorization header is allowed")
    plain = _PLAIN_BEARER.fullmatch(headers[0])
    if plain is not None:
        return plain.group(1)
    return _read_credentials(headers[0], strict=strict)


def _read_credentials(value: str, *, strict: bool) -> str | None:
    """RFC 6750 §2.1 for any header value (`bearer_token` takes a shortcut for the plain ones)."""
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if strict and _TOKEN.fullmatch(token) is None:
        raise MalformedAuthorization("Malformed Bearer token")
    return token or None
