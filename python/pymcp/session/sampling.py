"""0.3.0 import path `pymcp.session.sampling`: ask the client's model (`sampling/createMessage`)."""

from __future__ import annotations

from typing import Any

from pymcp._compat import context_for
from pymcp.capabilities import ClientCapabilities
from pymcp.session import effective_timeout

__all__ = ["request_sampling"]


async def request_sampling(
    app: Any, session_id: str, params: dict[str, Any], *, timeout_seconds: float | None = None
) -> dict[str, Any]:
    """Send `sampling/createMessage` and return the client's `result` (0.3.0 behaviour: a client error
    raises `RuntimeError("Sampling error [code]: message")`; the timeout defaults to
    `MCP_SAMPLING_TIMEOUT_SECONDS`, unset: none, and raises `TimeoutError`)."""
    context = context_for(app, session_id)
    client = ClientCapabilities(context.client_capabilities)
    if not client.supports_sampling():
        raise ValueError("Client does not support sampling capability")
    if params.get("tools") and not client.supports_sampling_tools():
        raise ValueError("Client does not support tool use in sampling")
    _, response = await context.exchange(
        "sampling/createMessage",
        params,
        timeout_seconds=effective_timeout(timeout_seconds, "MCP_SAMPLING_TIMEOUT_SECONDS"),
    )
    if isinstance(response.result, dict):
        return response.result
    if isinstance(response.error, dict):
        code = response.error.get("code", -1)
        message = response.error.get("message", "Sampling request failed")
        raise RuntimeError(f"Sampling error [{code}]: {message}")
    return {}
