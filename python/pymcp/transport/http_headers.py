"""What the HTTP transport makes of request headers: what `Accept` allows, and whether a dual-mode POST
belongs to a session (the headers themselves are read by `pymcp.protocol.request_head`)."""

from __future__ import annotations

import functools

from pymcp.protocol.stateless.envelope import HANDSHAKE_VERSIONS

__all__ = ["accepts", "accepts_json_and_sse", "is_json", "settled_session"]


def accepts(accept: str | None, media: str) -> bool:
    """Whether an `Accept` header allows `media` (RFC 9110 §12.5.1: a range with `q=0` refuses it)."""
    if accept is None:
        return True
    kind = media.split("/", 1)[0] + "/*"
    for item in accept.split(","):
        value, *params = (part.strip().lower() for part in item.split(";"))
        if value not in (media, "*/*", kind):
            continue
        weight = next((param[2:] for param in params if param.startswith("q=")), "1")
        try:
            if float(weight) > 0:
                return True
        except ValueError:
            continue  # an unreadable weight allows nothing (as 0.3.0)
    return False


def settled_session(raw_mcp_headers: list[tuple[str, str]]) -> bool:
    """Whether a dual-mode POST is a session's without reading its 2026-07-28 headers: it has a session
    id and no MCP header but one `MCP-Protocol-Version` of a handshake revision (as `route_http` says)."""
    has_session_id = False
    version: str | None = None
    for name, value in raw_mcp_headers:
        if name == "mcp-session-id":
            has_session_id = True
        elif name == "mcp-protocol-version" and version is None:
            version = value
        else:
            return False  # routing or parameter headers (or a repeated version) get the full checks
    return has_session_id and (version is None or version.strip(" \t") in HANDSHAKE_VERSIONS)


@functools.lru_cache(maxsize=64)  # clients send one of a few `Accept` values, over and over
def accepts_json_and_sse(accept: str | None) -> bool:
    return accepts(accept, "application/json") and accepts(accept, "text/event-stream")


@functools.lru_cache(maxsize=64)  # the same few `Content-Type` values too
def is_json(content_type: str) -> bool:
    """Whether a `Content-Type` is `application/json` (parameters such as `charset` allowed)."""
    return content_type.split(";", 1)[0].strip().lower() == "application/json"
