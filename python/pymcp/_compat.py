"""Shared pieces of the pymcp-kit 0.3.0 import paths (`pymcp.session`, `pymcp.capabilities`, ...): they find
the app's dispatcher and session, and talk through the request context."""

from __future__ import annotations

from typing import Any

from pymcp.server.context import CancellationToken, RequestContext, current_request_context
from pymcp.server.dispatch import Dispatcher
from pymcp.server.session import Session

__all__ = ["context_for", "dispatcher_of", "session_context"]


def dispatcher_of(app: Any) -> Dispatcher:
    """The dispatcher of an app made by `create_app`."""
    dispatcher = getattr(getattr(app, "state", None), "dispatcher", None)
    if not isinstance(dispatcher, Dispatcher):
        raise TypeError("expected an app made by `pymcp.create_app`")
    return dispatcher


def session_context(session: Session, dispatcher: Dispatcher) -> RequestContext:
    """A context that speaks to `session` on its standalone stream (the GET stream, or stdout)."""

    async def emit(data: bytes) -> None:
        session.standalone.publish(data)

    return RequestContext(
        app=dispatcher.app,
        session=session,
        principal=None,
        request_id="",
        method="",
        params={},
        emit=emit,
        cancel_token=CancellationToken(),
        logging_enabled=dispatcher.settings.capabilities.logging_enabled,
    )


def context_for(app: Any, session_id: str | None) -> RequestContext:
    """How to reach the client of `session_id`: the request being served when it is that session's
    (its messages then travel on the request's own stream, as the spec prefers), else the session's
    standalone stream. Raises `ValueError("Session not found: <id>")` like 0.3.0."""
    try:
        current = current_request_context()
    except LookupError:
        current = None
    if current is not None and current.session_id == session_id and current.app is app:
        return current
    dispatcher = dispatcher_of(app)
    session = dispatcher.session_by_id(session_id) if session_id is not None else None
    if session is None or session.closed:
        raise ValueError(f"Session not found: {session_id}")
    return session_context(session, dispatcher)
