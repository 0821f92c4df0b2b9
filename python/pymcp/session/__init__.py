"""0.3.0 import path `pymcp.session`: sessions and server→client messages, as adapters over the engine.

`request_elicitation`, `send_notification` and the rest reach the client the way the engine does: on the
stream of the request being served when they are called from inside it (the spec's preferred path),
otherwise on the session's standalone (GET) stream.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any
from uuid import uuid4

from pymcp._compat import context_for
from pymcp._unsupported import unsupported
from pymcp.capabilities import ClientCapabilities
from pymcp.server.session import Session, SessionManager, SessionState
from pymcp.session.notifications import (
    attach_prompt_list_changed_notifications,
    attach_resource_list_changed_notifications,
    attach_resource_updated_notifications,
    attach_tool_list_changed_notifications,
    enqueue_notification,
    send_notification,
)
from pymcp.tasks.engine import RELATED_TASK_META_KEY

__all__ = [
    "EventLog",
    "Session",
    "SessionEvent",
    "SessionLifecycle",
    "SessionManager",
    "SessionState",
    "attach_prompt_list_changed_notifications",
    "attach_resource_list_changed_notifications",
    "attach_resource_updated_notifications",
    "attach_tool_list_changed_notifications",
    "enqueue_notification",
    "get_session_manager",
    "get_session_outbound_queue",
    "get_session_store",
    "request_elicitation",
    "safe_queue_put",
    "send_notification",
]

JSONObject = dict[str, Any]

EventLog = unsupported(
    "pymcp.session.EventLog", "each session stream keeps its own replay history (`sse_history_limit`)"
)
SessionEvent = unsupported("pymcp.session.SessionEvent", "the SSE history keeps encoded JSON-RPC messages")
SessionLifecycle = unsupported(
    "pymcp.session.SessionLifecycle", "read `session.state` (a `SessionState`) on the session itself"
)


def timeout_from_env(variable: str) -> float | None:
    """A timeout in seconds from the environment; unset, empty, invalid or non-positive means none."""
    try:
        seconds = float(os.environ.get(variable) or "0")
    except ValueError:
        return None
    return seconds if seconds > 0 else None


def effective_timeout(timeout_seconds: float | None, variable: str | None) -> float | None:
    """0.3.0's rule: an explicit timeout wins, else the environment's; non-positive means none."""
    if timeout_seconds is None:
        return timeout_from_env(variable) if variable is not None else None
    return timeout_seconds if timeout_seconds > 0 else None


def response_object(rpc_id: str, response: Any) -> JSONObject:
    """The client's answer as the JSON-RPC object 0.3.0 returned."""
    answer: JSONObject = {"jsonrpc": "2.0", "id": rpc_id}
    if response.error is not None:
        answer["error"] = response.error
    else:
        answer["result"] = response.result
    return answer


async def request_elicitation(
    app: Any,
    session_id: str,
    params: JSONObject,
    *,
    task_id: str | None = None,
    timeout_seconds: float | None = None,
) -> tuple[str, JSONObject]:
    """Send `elicitation/create` (form or url mode) and wait: `(rpc_id, response)`, where `response` is
    the client's JSON-RPC answer (`result` or `error`). Same checks and defaults as 0.3.0; the timeout
    defaults to `MCP_ELICITATION_TIMEOUT_SECONDS` (unset: none) and raises `TimeoutError`.
    """
    context = context_for(app, session_id)
    params = dict(params or {})
    requested = params.get("mode")
    mode = requested if isinstance(requested, str) and requested else "form"
    params["mode"] = mode
    if not ClientCapabilities(context.client_capabilities).supports_elicitation(mode):
        raise ValueError(f"Client does not support elicitation mode '{mode}'")
    if mode == "url":
        if not params.get("url"):
            raise ValueError("URL mode elicitation requires a 'url' parameter")
        params.setdefault("elicitationId", str(uuid4()))
    elif not (isinstance(params.get("message"), str) and params["message"]):
        params["message"] = "Please provide the requested information."
    if task_id:
        # In `params._meta`, where the spec puts it (0.3.0 put it beside `params`).
        params["_meta"] = {**(params.get("_meta") or {}), RELATED_TASK_META_KEY: {"taskId": task_id}}
    rpc_id, response = await context.exchange(
        "elicitation/create",
        params,
        timeout_seconds=effective_timeout(timeout_seconds, "MCP_ELICITATION_TIMEOUT_SECONDS"),
    )
    return rpc_id, response_object(rpc_id, response)


def get_session_manager(app: Any) -> SessionManager:
    """The app's HTTP session manager."""
    manager = getattr(getattr(app, "state", None), "session_manager", None)
    if not isinstance(manager, SessionManager):
        raise TypeError("expected an app made by `pymcp.create_app`")
    return manager


def get_session_store(app: Any) -> Any:
    """The state store that holds the app's sessions and tasks (memory or Redis)."""
    return get_session_manager(app).store


def get_session_outbound_queue(session: Session) -> Any:
    """0.3.0 handed out the session's raw queue; messages here go through the session's streams."""
    raise NotImplementedError(
        "sessions have no raw outbound queue here: use `send_notification(session, message)` or "
        "`enqueue_notification`, which deliver on the session's stream"
    )


def safe_queue_put(queue: asyncio.Queue[str] | None, msg: str) -> bool:
    """Put `msg` on `queue` without waiting; False when there is no queue or it is full."""
    if queue is None:
        return False
    try:
        queue.put_nowait(msg)
    except (asyncio.QueueFull, RuntimeError):
        return False
    return True
