"""0.3.0 import path `pymcp.session.notifications`: server→client notifications and log messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymcp._compat import context_for, dispatcher_of
from pymcp.protocol.jsonrpc import encode_notification
from pymcp.server.context import LOG_LEVELS
from pymcp.server.session import Session, SessionState

__all__ = [
    "attach_prompt_list_changed_notifications",
    "attach_resource_list_changed_notifications",
    "attach_resource_updated_notifications",
    "attach_tool_list_changed_notifications",
    "enqueue_notification",
    "send_elicitation_complete",
    "send_log_message",
    "send_notification",
]


def enqueue_notification(session: Session | None, notification: Mapping[str, Any]) -> bool:
    """Send a notification (`{"method", "params"?}`) on the session's standalone stream, like 0.3.0
    only to a ready session with a stream attached; whether it was sent."""
    method = notification.get("method")
    if (
        session is None
        or not isinstance(method, str)
        or session.state is not SessionState.READY
        or session.closed
        or not session.standalone.attached
    ):
        return False
    params = notification.get("params")
    session.standalone.publish(encode_notification(method, params if isinstance(params, Mapping) else None))
    return True


async def send_notification(session: Session | None, notification: Mapping[str, Any]) -> bool:
    """`enqueue_notification`, awaitable (0.3.0 signature)."""
    return enqueue_notification(session, notification)


async def send_log_message(
    app: Any, session_id: str, level: str, logger: str | None = None, data: object = None
) -> bool:
    """Send `notifications/message` when logging is advertised and `level` passes the session's
    `logging/setLevel`; whether it was sent. Inside a request of that session it travels on the
    request's stream."""
    try:
        context = context_for(app, session_id)
    except ValueError:
        return False
    level = level.strip().lower()
    if level not in LOG_LEVELS:
        raise ValueError(f"unknown log level `{level}`")
    return await context.log(level, data, logger)


async def send_elicitation_complete(app: Any, session_id: str, elicitation_id: str) -> bool:
    """Send `notifications/elicitation/complete` after a URL-mode elicitation finished out of band."""
    try:
        context = context_for(app, session_id)
    except ValueError:
        return False
    await context.notify("notifications/elicitation/complete", {"elicitationId": elicitation_id})
    return True


def _already_attached(app: Any) -> None:
    # `create_app` wires list-changed and updated notifications from the capability settings.
    dispatcher_of(app)


def attach_prompt_list_changed_notifications(app: Any) -> None:
    """Nothing to do: `create_app` already sends `prompts/list_changed` when the setting is on."""
    _already_attached(app)


def attach_tool_list_changed_notifications(app: Any) -> None:
    """Nothing to do: `create_app` already sends `tools/list_changed` when the setting is on."""
    _already_attached(app)


def attach_resource_list_changed_notifications(app: Any) -> None:
    """Nothing to do: `create_app` already sends `resources/list_changed` when the setting is on."""
    _already_attached(app)


def attach_resource_updated_notifications(app: Any) -> None:
    """Nothing to do: `create_app` already sends `resources/updated` to subscribed sessions."""
    _already_attached(app)
