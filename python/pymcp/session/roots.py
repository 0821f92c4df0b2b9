"""0.3.0 import path `pymcp.session.roots`: ask the client for its roots (`roots/list`)."""

from __future__ import annotations

from typing import Any

from pymcp._compat import context_for
from pymcp.capabilities import ClientCapabilities
from pymcp.session import effective_timeout

__all__ = ["request_roots_list"]


async def request_roots_list(
    app: Any, session_id: str, *, timeout_seconds: float | None = 30.0
) -> list[dict[str, Any]]:
    """Send `roots/list` and return the client's roots (empty when it answered anything else)."""
    context = context_for(app, session_id)
    if not ClientCapabilities(context.client_capabilities).supports_roots():
        raise ValueError("Client does not support roots capability")
    _, response = await context.exchange(
        "roots/list", None, timeout_seconds=effective_timeout(timeout_seconds, None)
    )
    roots = response.result.get("roots") if isinstance(response.result, dict) else None
    return roots if isinstance(roots, list) else []
