"""`WWW-Authenticate: Bearer ...` challenges (RFC 6750 §3, RFC 9728 §5.1) for the middleware and the gate."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar

__all__ = ["bearer_challenge", "current_resource_metadata_url"]

# The RFC 9728 metadata URL of the HTTP request being served. The middleware sets it per request so that
# a denial raised deep in the dispatcher can point the client at the right metadata document.
current_resource_metadata_url: ContextVar[str | None] = ContextVar(
    "pymcp_resource_metadata_url", default=None
)


def _quoted(value: str) -> str:
    # A quoted-string (RFC 9110 §5.6.4); control characters are dropped so no value can split the header.
    cleaned = "".join(ch for ch in value if ch >= " " and ch != "\x7f")
    return '"' + cleaned.replace("\\", "\\\\").replace('"', '\\"') + '"'


def bearer_challenge(
    *,
    resource_metadata: str | None = None,
    error: str | None = None,
    scopes: Iterable[str] = (),
    error_description: str | None = None,
) -> str:
    """The `Bearer` challenge; parameters in pymcp-kit 0.3.0's order, empty ones left out."""
    params: list[str] = []
    if resource_metadata:
        params.append(f"resource_metadata={_quoted(resource_metadata)}")
    if error:
        params.append(f"error={_quoted(error)}")
    scope = " ".join(scopes)
    if scope:
        params.append(f"scope={_quoted(scope)}")
    if error_description:
        params.append(f"error_description={_quoted(error_description)}")
    return "Bearer " + ", ".join(params) if params else "Bearer"
