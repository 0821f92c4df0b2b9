"""Who is calling: the authenticated principal and its stable identity."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Principal", "principal_identity"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller (same fields and meaning as pymcp-kit 0.3.0).

    `claims` holds every claim the authenticator kept (for JWTs and introspection, `iss` among them).
    """

    subject: str
    display_name: str | None = None
    scopes: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    claims: Mapping[str, Any] = field(default_factory=dict)


def principal_identity(principal: Principal | None) -> str | None:
    """The stable identity that owns sessions and tasks: issuer plus subject.

    Scopes, roles and display names change when a token is refreshed; ownership must not.
    `None` for anonymous callers (who then own nothing beyond their session).
    """
    if principal is None:
        return None
    issuer = principal.claims.get("iss") if isinstance(principal.claims, Mapping) else None
    return f"{issuer if isinstance(issuer, str) else ''}\x1f{principal.subject}"
