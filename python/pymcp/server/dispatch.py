"""The dispatcher: one JSON-RPC message in, at most one encoded reply out.

The method table is built once. Every request is authorized exactly once (`gate.authorize`), and every
error, whatever raised it, becomes a JSON-RPC error object here and nowhere else.

Two entries serve the two protocol eras with the same handlers: `handle_request` runs a request of a
2025-11-25 (or older) session; `handle_stateless` runs a self-describing 2026-07-28 request. The
stateless entry is the only place that knows the revision: it validates the `_meta` envelope, builds a
throwaway session from it, lets handlers ask the client through a replayed `RoundTrip`, maps the
errors 2026-07-28 renamed, and decorates every result (`resultType`, caching hints, `serverInfo`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError, jsonrpc_error
from pymcp.protocol.jsonrpc import (
    Notification,
    Request,
    Response,
    encode_error,
    encode_notification,
    encode_result,
)
from pymcp.protocol.stateless.envelope import (
    TASK_METHODS,
    check_method,
    stateless_error,
    validate_request,
)
from pymcp.protocol.stateless.input_required import INPUT_REQUIRED_METHODS
from pymcp.protocol.stateless.mrtr import InputRequired, RoundTrip
from pymcp.protocol.stateless.request_state import RequestStateCodec
from pymcp.protocol.stateless.results import (
    CachePolicy,
    decorate_result,
    discover_result,
    stateless_capabilities,
)
from pymcp.protocol.stateless.subscriptions import SubscriptionFilter
from pymcp.protocol.stateless.tasks import TASKS_REQUIRED
from pymcp.security.principal import principal_identity
from pymcp.server.call import Call, Handler, Reply
from pymcp.server.context import AskInput, CancellationToken, Emitter
from pymcp.server.handlers import build_handlers
from pymcp.server.limits import check_depth, check_targets, params_object
from pymcp.server.notify import ListenStreams, watch_registries
from pymcp.server.roots import roots_changed
from pymcp.server.session import Session, SessionState
from pymcp.server.session_events import SessionEvents

if TYPE_CHECKING:
    from pymcp.protocol.stateless.headers import RequestHeaders
    from pymcp.registry.manager import RegistryManager
    from pymcp.security.principal import Principal
    from pymcp.server.handlers.tasks import TaskMethods
    from pymcp.server.session_events import SessionListener
    from pymcp.settings import ServerSettings
    from pymcp.tasks.engine import TaskEngine

__all__ = ["Call", "Dispatcher", "Handler"]

logger = logging.getLogger("pymcp.server")


# Client notifications are not authorized: they only act on what the same principal started.
_BEFORE_READY = frozenset(("initialize", "ping"))


def _internal_error(request_id: str | int, exc: Exception) -> tuple[bytes, MCPError]:
    """What the client learns about a bug on our side: nothing but the code (the details are logged)."""
    error = jsonrpc_error(exc)
    return encode_error(request_id, error), error


def _request_task(session: Session) -> asyncio.Task[Any] | None:
    """The task running a session's request, asked of the session's loop: without a loop,
    `asyncio.current_task` finds the running one with a `getpid` system call (CPython 3.11 checks for a
    fork), one per request."""
    loop = session.loop
    task = asyncio.current_task(loop) if loop is not None else None
    if task is None:  # the session's first request here (or a loop that is no longer running)
        task = asyncio.current_task()
        session.loop = task.get_loop() if task is not None else None
    return task


def _replayed(round_trip: Callable[[], RoundTrip]) -> AskInput:
    """Questions answered from the retry's `inputResponses` and sealed state, else `InputRequired`."""

    async def ask(requests: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        return round_trip().ask_all(requests)

    return ask


class Dispatcher:
    """Routes messages to the handlers of `pymcp.server.handlers`."""

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
        self._session_events = SessionEvents()
        handlers = build_handlers(
            app=app,
            settings=settings,
            registries=registries,
            gate=gate,
            task_engine=task_engine,
            session_by_id=self.session_by_id,
        )
        self.lifecycle = handlers.lifecycle
        self.table: dict[str, Handler] = handlers.table
        self.tasks: TaskMethods | None = handlers.tasks
        self.codec = RequestStateCodec(
            settings.request_state_keys, ttl_seconds=settings.request_state_ttl_seconds
        )
        # Whatever depends on who asks is private; without a gate every caller sees the same lists.
        self.cache_policy = CachePolicy(private=gate is not None)
        self.server_info = self.lifecycle.server_info
        self.stateless_versions = settings.stateless_versions
        self.stateless_table: dict[str, Handler] = {
            **self.table,
            **handlers.stateless_table,
            "server/discover": self.discover,
            "subscriptions/listen": self.listen,
        }
        self._listen_streams = ListenStreams()
        watch_registries(settings.capabilities, registries, self.broadcast)

    # -- lifecycle ------------------------------------------------------------------------------------------

    def capabilities(self, version: str) -> dict[str, Any]:
        """What this server advertises at `version` (prompts and resources only when there are some)."""
        return self.lifecycle.capabilities(version)

    async def initialize(
        self, request: Request, principal: Principal | None, session_id: str | None
    ) -> tuple[Session | None, Reply]:
        """Answer `initialize`; the session exists only when it succeeds."""
        try:
            if self.gate is not None:
                self.gate.authorize(principal, request.method, request.params)
            session, result = self.lifecycle.handshake(request.params, principal, session_id)
            body = encode_result(request.id, result)
        except MCPError as error:
            return None, (encode_error(request.id, error), error)
        except Exception as exc:
            logger.exception("initialize failed")
            return None, _internal_error(request.id, exc)
        self.adopt(session)
        return session, (body, None)

    def adopt(self, session: Session) -> None:
        """Serve `session` from this dispatcher: broadcasts reach it and it is found by id (task status).

        `initialize` adopts the sessions it makes; a worker adopts one it loads from the store.
        """
        self.sessions.add(session)
        if session.id is not None:
            self._by_id[session.id] = session
        self._session_events.loaded(session)

    def forget(self, session: Session) -> None:
        """The session ended (DELETE, shutdown, end of stdio); listeners hear of it once, however many
        paths report it."""
        adopted = session in self.sessions
        self.sessions.discard(session)
        if session.id is not None:
            self._by_id.pop(session.id, None)
        session.close()
        if adopted:
            self._session_events.removed(session)

    def add_listener(self, listener: SessionListener) -> None:
        """Tell `listener` about every session this dispatcher adopts or forgets, on any transport."""
        self._session_events.add_listener(listener)

    # A `SessionListener` of the `SessionManager`: the sessions it loads and drops are served here.
    def session_loaded(self, session: Session) -> None:
        self.adopt(session)

    def session_removed(self, session: Session) -> None:
        self.forget(session)

    def session_by_id(self, session_id: str) -> Session | None:
        return self._by_id.get(session_id)

    # -- messages -------------------------------------------------------------------------------------------

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
        task = _request_task(session)
        token = CancellationToken(task)
        registered = request.id not in session.in_flight
        if registered:
            session.in_flight[request.id] = token
        try:
            if method == "initialize":
                raise MCPError(ErrorCode.INVALID_REQUEST, "server already initialized.")
            handler = self.table.get(method)
            if handler is None:
                raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"Method not found: {method}")
            if session.state is not SessionState.READY and method not in _BEFORE_READY:
                raise MCPError(ErrorCode.INVALID_REQUEST, "server not initialized.")
            check_depth(request.params, self.settings.max_json_depth, self.settings.max_json_array_length)
            check_targets(method, request.params)
            if self.gate is not None:
                self.gate.authorize(principal, method, request.params)
            call = Call(
                session,
                principal,
                request.id,
                method,
                params_object(request.params),
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
        except Exception as exc:
            logger.exception("request `%s` failed", method)
            return _internal_error(request.id, exc)
        finally:
            if registered:
                session.in_flight.pop(request.id, None)

    async def handle_stateless(
        self,
        request: Request,
        principal: Principal | None,
        headers: RequestHeaders | None,
        emit: Emitter,
    ) -> tuple[bytes, MCPError | None]:
        """Run one 2026-07-28 request (`headers` is None off HTTP).

        There is no cancellation notification at 2026-07-28: the transport cancels the task running
        this when the client closes the response, and the `CancelledError` goes back to it.
        """
        method = request.method
        # No task to interrupt: the transport cancels the one running this (no `notifications/cancelled`).
        token = CancellationToken()
        try:
            client = validate_request(
                method, request.params, headers, supported_versions=self.stateless_versions
            )
            check_method(method, tasks_extension=self.tasks is not None)
            if method in TASK_METHODS:
                client.require(TASKS_REQUIRED)
            handler = self.stateless_table.get(method)
            if handler is None:
                raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"Method not found: {method}")
            check_depth(request.params, self.settings.max_json_depth, self.settings.max_json_array_length)
            check_targets(method, request.params)
            if self.gate is not None:
                self._authorize_stateless(principal, method, request.params)
            params = params_object(request.params)
            round_trip: RoundTrip | None = None

            def questions() -> RoundTrip:
                """The request's round trip, made when first needed: most requests never ask for input."""
                nonlocal round_trip
                if round_trip is None:
                    round_trip = RoundTrip(
                        codec=self.codec,
                        client=client,
                        caller=principal_identity(principal),
                        method=method,
                        params=params,
                    )
                return round_trip

            ask_input = None
            if method in INPUT_REQUIRED_METHODS:
                if "requestState" in params:
                    questions()  # a retry's sealed state is checked before the handler runs
                ask_input = _replayed(questions)
            call = Call(
                self._stateless_session,
                principal,
                request.id,
                method,
                params,
                emit,
                token,
                None,
                client,
                ask_input,
                headers,
            )
            try:
                result = await handler(call)
            except InputRequired as pending:  # only a round trip raises it
                result = questions().input_required(pending)
            decorated = decorate_result(method, result, server_info=self.server_info, cache=self.cache_policy)
            return encode_result(request.id, decorated), None
        except MCPError as raised:
            error = stateless_error(raised)
            return encode_error(request.id, error), error
        except Exception as exc:
            logger.exception("request `%s` failed", method)
            return _internal_error(request.id, exc)

    def _authorize_stateless(
        self, principal: Principal | None, method: str, params: dict[str, Any] | list[Any] | None
    ) -> None:
        """The gate's decision; `server/discover` is also allowed where `initialize`, the handshake it
        replaces, is (so policies written for sessions keep working unchanged)."""
        assert self.gate is not None
        if method == "server/discover":
            try:
                self.gate.authorize(principal, "initialize", params)
            except MCPError:
                pass
            else:
                return
        self.gate.authorize(principal, method, params)

    @staticmethod
    def _stateless_session(call: Call) -> Session:
        """A session that lives for one request, so handlers see the caller as on the session path."""
        client = call.client
        assert client is not None  # a stateless call's
        session = Session(
            None,
            owner=principal_identity(call.principal),
            protocol_version=client.protocol_version,
            client_info=dict(client.client_info or {}),
            client_capabilities=dict(client.client_capabilities),
            history_limit=0,
            queue_size=1,
        )
        session.state = SessionState.READY
        session.log_level = client.log_level
        return session

    def stateless_capabilities(self, principal: Principal | None) -> dict[str, Any]:
        """What `server/discover` advertises to `principal` (filtered by the gate, like `initialize`)."""
        advertised = self.capabilities(self.stateless_versions[0])
        if self.tasks is not None:
            advertised["tasks"] = {}
        if self.gate is not None:
            advertised = self.gate.filter_capabilities(principal, advertised)
        return stateless_capabilities(advertised)

    async def discover(self, call: Call) -> dict[str, Any]:
        return discover_result(
            supported_versions=self.stateless_versions,
            capabilities=self.stateless_capabilities(call.principal),
            server_info=self.server_info,
            instructions=self.settings.description,
            cache=self.cache_policy,
        )

    async def listen(self, call: Call) -> dict[str, Any]:
        """`subscriptions/listen`: acknowledge, then forward the wanted notifications until shutdown.

        The client ends it by closing the stream (the transport cancels this handler).
        """
        wanted = SubscriptionFilter.read(call.params, self.stateless_capabilities(call.principal))
        if wanted.resource_uris and self.gate is not None:
            wanted = SubscriptionFilter(
                methods=wanted.methods,
                resource_uris=frozenset(
                    uri for uri in wanted.resource_uris if self._may_subscribe(call.principal, uri)
                ),
            )
        return await self._listen_streams.serve(call, wanted)

    def _may_subscribe(self, principal: Principal | None, uri: str) -> bool:
        assert self.gate is not None
        try:
            self.gate.authorize(principal, "resources/subscribe", {"uri": uri})
        except MCPError:
            return False
        return True

    def close_listeners(self) -> None:
        """End every `subscriptions/listen` stream (shutdown): each answers its request."""
        self._listen_streams.close()

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
        elif method == "notifications/roots/list_changed":
            await roots_changed(self.app, session.id)

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
        self._listen_streams.publish(method, params)
        data = encode_notification(method, params)
        for session in list(self.sessions):
            if session.state is SessionState.READY and not session.closed and (only is None or only(session)):
                session.standalone.publish(data)
