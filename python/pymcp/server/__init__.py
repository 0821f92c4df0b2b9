"""The MCP server core: dispatcher, handlers, sessions and the request context."""

from typing import Any

from pymcp.server.context import CancellationToken, CancelledError, RequestContext, current_request_context
from pymcp.server.dispatch import Dispatcher
from pymcp.server.session import Session, SessionManager, SessionState


def get_sessions(app: Any) -> dict[str, Session]:
    """The open HTTP sessions of an app made by `create_app`, by id (0.3.0 import path)."""
    manager = getattr(getattr(app, "state", None), "session_manager", None)
    if not isinstance(manager, SessionManager):
        raise LookupError("this app has no session manager: was it made by `pymcp.create_app`?")
    return dict(manager.sessions)


__all__ = [
    "CancellationToken",
    "CancelledError",
    "Dispatcher",
    "RequestContext",
    "Session",
    "SessionManager",
    "SessionState",
    "current_request_context",
    "get_sessions",
]
