"""The dispatcher: one JSON-RPC message in, at most one encoded reply out.

The method table is built once. Every request is authorized exactly once (`gate.authorize`), and every
error, whatever raised it, becomes a JSON-RPC error object here and nowhere else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import (
    Notification,
    Request,
    Response,
    encode_error,
    encode_notification,
    encode_result,
)
from pymcp.protocol.versions import negotiate
from pymcp.security.principal import principal_identity
from pymcp.server.context import CancellationToken, Emitter
from pymcp.server.handlers import Handlers
from pymcp.server.session import Session, SessionState
from pymcp.server.tasks import TASK_VERSIONS, TaskMethods

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.security.principal import Principal
    from pymcp.settings import ServerSettings
    from pymcp.tasks.engine import TaskEngine

__all__ = ["Call", "Dispatcher", "Handler"]

logger = logging.getLogger("pymcp.server")


@dataclass(slots=True)
class Call:
    """One request as a handler sees it."""

    session: Session
    principal: Principal | None
    request_id: str | int
    method: str
    params: dict[str, Any]
    emit: Emitter
    cancel_token: CancellationToken
    close_stream: Callable[[], Awaitable[None]] | None


Handler = Callable[[Call], Awaitable[dict[str, Any]]]
Reply = tuple[bytes | None, MCPError | None]

# Client notifications are not authorized: they only act on what the same principal started.
_BEFORE_READY = frozenset(("initialize", "ping"))


def _internal_error(request_id: str | int) -> Reply:
    """What the client learns about a bug on our side: nothing but the code (the details are logged)."""
    error = MCPError(ErrorCode.INTERNAL_ERROR, "internal error")
    return encode_error(request_id, error), error


class Dispatcher:
    """Routes messages of a session to the handlers of `pymcp.server.handlers`."""

    def __init__(
        self,
        *,
        app: Any,
        settings: ServerSettings,
        registries: RegistryManager,
        gate: Any = None,
        task_engine: TaskEngine | None = None,
    ) -> None:
        self.app = app
        self.settings = settings
        self.registries = registries
        self.gate = gate
        self.sessions: set[Session] = set()
        self._by_id: dict[str, Session] = {}
        self.handlers = Handlers(self)
        self.table: dict[str, Handler] = self.handlers.table()
        self.tasks: TaskMethods | None = None
        if task_engine is not None and settings.capabilities.tasks_enabled:
            self.tasks = TaskMethods(self, task_engine)
            self.table.update(self.tasks.table())
        self._watch_registries()

    # -- lifecycle ------------------------------------------------------------------------------------------

    def capabilities(self, version: str) -> dict[str, Any]:
        """What this server advertises at `version` (prompts and resources only when there are some)."""
        caps = self.settings.capabilities
        result: dict[str, Any] = {"tools": {"listChanged": caps.tools_list_changed}}
        if len(self.registries.prompts) or caps.advertise_empty_prompts:
            result["prompts"] = {"listChanged": caps.prompts_list_changed}
        resources = self.registries.resources
        if len(resources) or len(resources.templates) or caps.advertise_empty_resources:
            result["resources"] = {
                "subscribe": caps.resources_subscribe,
                "listChanged": caps.resources_list_changed,
            }
        if caps.logging_enabled:
            result["logging"] = {}
        if caps.completions_enabled:
            result["completions"] = {}
        if self.tasks is not None and version in TASK_VERSIONS:
            result["tasks"] = self.tasks.capability()
        if caps.experimental_features:
            result["experimental"] = dict(caps.experimental_features)
        return result

    async def initialize(
        self, request: Request, principal: Principal | None, session_id: str | None
    ) -> tuple[Session | None, Reply]:
        """Answer `initialize`; the session exists only when it succeeds."""
        try:
            if self.gate is not None:
                self.gate.authorize(principal, request.method, request.params)
            params = self._params(request.params)
            capabilities = params.get("capabilities", {})
            client_info = params.get("clientInfo", {})
            if not isinstance(capabilities, dict) or not isinstance(client_info, dict):
                raise MCPError(ErrorCode.INVALID_PARAMS, "`capabilities` and `clientInfo` must be objects")
            version = negotiate(params.get("protocolVersion"), self.settings.served_versions)
            session = Session(
                session_id,
                owner=principal_identity(principal),
                protocol_version=version,
                client_info=client_info,
                client_capabilities=capabilities,
                history_limit=self.settings.sse_history_limit,
                queue_size=self.settings.session_queue_size,
            )
            advertised = self.capabilities(version)
            if self.gate is not None:
                advertised = self.gate.filter_capabilities(principal, advertised)
            result = {
                "protocolVersion": version,
                "capabilities": advertised,
                "serverInfo": self.settings.server_info(),
            }
            body = encode_result(request.id, result)
        except MCPError as error:
            return None, (encode_error(request.id, error), error)
        except Exception:
            logger.exception("initialize failed")
            return None, _internal_error(request.id)
        self.sessions.add(session)
        if session.id is not None:
            self._by_id[session.id] = session
        return session, (body, None)

    def forget(self, session: Session) -> None:
        """The session ended (DELETE, shutdown, end of stdio)."""
        self.sessions.discard(session)
        if session.id is not None:
            self._by_id.pop(session.id, None)
        session.close()

    def session_by_id(self, session_id: str) -> Session | None:
        return self._by_id.get(session_id)

    # -- messages -------------------------------------------------------------------------------------------

    @staticmethod
    def _params(params: dict[str, Any] | list[Any] | None) -> dict[str, Any]:
        if params is None:
            return {}
        if not isinstance(params, dict):
            raise MCPError(ErrorCode.INVALID_PARAMS, "`params` must be an object")
        return params

    async def handle_request(
        self,
        session: Session,
        request: Request,
        principal: Principal | None,
        emit: Emitter,
        close_stream: Callable[[], Awaitable[None]] | None = None,
    ) -> Reply:
        """Run one request; `(None, None)` when it was cancelled (cancelled requests get no answer)."""
        method = request.method
        task = asyncio.current_task()
        token = CancellationToken(task)
        registered = request.id not in session.in_flight
        if registered:
            session.in_flight[request.id] = token
        try:
            if method == "initialize":
                raise MCPError(ErrorCode.INVALID_REQUEST, "the session is already initialized")
            handler = self.table.get(method)
            if handler is None:
                raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"method not found: `{method}`")
            if session.state is not SessionState.READY and method not in _BEFORE_READY:
                raise MCPError(ErrorCode.INVALID_REQUEST, "the session is not initialized yet")
            if self.gate is not None:
                self.gate.authorize(principal, method, request.params)
            call = Call(
                session,
                principal,
                request.id,
                method,
                self._params(request.params),
                emit,
                token,
                close_stream,
            )
            result = await handler(call)
            if token.is_cancelled() and task is not None and task.cancelling():
                # Cancelled just as it finished: consume the interruption, it must not hit the transport.
                task.uncancel()
            return encode_result(request.id, result), None
        except MCPError as error:
            return encode_error(request.id, error), error
        except asyncio.CancelledError:
            if token.is_cancelled() and task is not None and task.uncancel() == 0:
                return None, None
            raise
        except Exception:
            logger.exception("request `%s` failed", method)
            return _internal_error(request.id)
        finally:
            if registered:
                session.in_flight.pop(request.id, None)

    async def handle_notification(self, session: Session, notification: Notification) -> None:
        """Client notifications: initialized, cancelled, roots changed; others are ignored."""
        method = notification.method
        params = notification.params if isinstance(notification.params, dict) else {}
        if method == "notifications/initialized":
            session.state = SessionState.READY
        elif method == "notifications/cancelled":
            request_id = params.get("requestId")
            # Only this session's own requests: ids are chosen by clients and collide across sessions.
            token = session.in_flight.get(request_id) if isinstance(request_id, str | int) else None
            if token is not None:
                reason = params.get("reason")
                token.cancel(reason if isinstance(reason, str) else "cancelled by the client")

    def handle_response(self, session: Session, response: Response) -> bool:
        """A client's answer to one of our requests; whether it matched a pending one."""
        future = session.pending.get(response.id) if response.id is not None else None
        if future is None or future.done():
            return False
        future.set_result(response)
        return True

    # -- server-initiated notifications ---------------------------------------------------------------------

    def broadcast(
        self, method: str, params: Mapping[str, Any] | None, *, only: Callable[[Session], bool] | None = None
    ) -> None:
        """Send a notification on the standalone stream of every ready session (that `only` accepts)."""
        data = encode_notification(method, params)
        for session in list(self.sessions):
            if session.state is SessionState.READY and not session.closed and (only is None or only(session)):
                session.standalone.publish(data)

    def _watch_registries(self) -> None:
        caps = self.settings.capabilities
        registries = self.registries
        if caps.tools_list_changed:
            registries.tools.on_change(lambda: self.broadcast("notifications/tools/list_changed", None))
        if caps.prompts_list_changed:
            registries.prompts.on_change(lambda: self.broadcast("notifications/prompts/list_changed", None))
        if caps.resources_list_changed:
            changed = lambda: self.broadcast("notifications/resources/list_changed", None)  # noqa: E731
            registries.resources.on_change(changed)
            registries.resources.templates.on_change(changed)
        if caps.resources_subscribe:
            registries.resources.on_updated(
                lambda uri: self.broadcast(
                    "notifications/resources/updated",
                    {"uri": uri},
                    only=lambda session: uri in session.subscriptions,
                )
            )
