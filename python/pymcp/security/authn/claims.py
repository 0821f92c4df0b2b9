"""What every authenticator shares: the Bearer token of a request, its digest, claims → `Principal`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from pymcp import _core
from pymcp.security.authz import AuthenticationError
from pymcp.security.bearer import bearer_token
from pymcp.security.principal import Principal, frozen_principal

__all__ = [
    "INVALID_TOKEN",
    "MISSING_SUBJECT",
    "AllowAnonymousAuthenticator",
    "as_list",
    "get_bearer_token",
    "hash_token",
    "logger",
    "principal_from_claims",
    "string_set",
    "token_digest",
]

logger = logging.getLogger("pymcp.security")

INVALID_TOKEN = "Invalid Bearer token"
MISSING_SUBJECT = "Invalid token principal: missing subject"


# -- the Bearer token ------------------------------------------------------------------------------


def _authorization_header(request: Any) -> str | None:
    """The `Authorization` header of a Starlette request/connection or of a raw ASGI scope."""
    headers = getattr(request, "headers", None)
    if headers is not None:
        value = headers.get("authorization")
        return value if isinstance(value, str) else None
    if isinstance(request, Mapping):
        for name, raw in request.get("headers") or ():
            if name.lower() == b"authorization":
                return bytes(raw).decode("latin-1")
    return None


def get_bearer_token(request: Any) -> str | None:
    """The Bearer token of `request` (a Starlette request or an ASGI scope), or None.

    The scheme is case-insensitive and the token is stripped; any other scheme, or `Bearer` with nothing
    after it, gives None (the request is anonymous).
    """
    header = _authorization_header(request)
    return bearer_token([header], strict=False) if header else None


def token_digest(token: str) -> bytes:
    return _core.sha256(token.encode("utf-8", "surrogatepass"))


def hash_token(token: str) -> str:
    """The `sha256:<hex>` key under which a token map may hold `token` without holding the secret."""
    return "sha256:" + token_digest(token).hex()


class AllowAnonymousAuthenticator:
    """Treats every request as anonymous."""

    async def authenticate(self, request: Any) -> Principal | None:
        return None


# -- claim handling for all ----------------------------------------------------------------------------


def string_set(value: Any) -> set[str]:
    """Scopes or roles from a claim: a space-separated string or a list of strings (others dropped)."""
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list | tuple | set | frozenset):
        return {item for item in value if isinstance(item, str) and item}
    return set()


def principal_from_claims(
    claims: Mapping[str, Any],
    *,
    subject_claim: str,
    display_name_claim: str,
    scopes_claims: Sequence[str],
    roles_claim: str,
) -> Principal:
    subject = claims.get(subject_claim)
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError(MISSING_SUBJECT)
    display_name = claims.get(display_name_claim)
    scopes: set[str] = set()
    for claim in scopes_claims:
        if claim in claims:
            scopes = string_set(claims[claim])
            break
    return frozen_principal(
        subject,
        display_name=display_name if isinstance(display_name, str) else None,
        scopes=scopes,
        roles=string_set(claims.get(roles_claim)),
        claims=claims,
    )


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
