"""Streamable HTTP (MCP 2025-11-25 transport page) at `/mcp`, as a pure ASGI app.

POST carries one JSON-RPC message (or a batch for 2025-03-26 sessions) and is answered as JSON, or as
an SSE stream as soon as the request emits something of its own (progress, log messages, sampling or
elicitation requests), so those arrive before the result and are never lost. GET opens the session's
standalone SSE stream (server-initiated notifications) or resumes a stream with `Last-Event-ID`.
DELETE ends the session. Every request is checked, cheapest first: method, Origin, headers, size,
JSON, session ownership, protocol version header.

Revision 2026-07-28 shares the endpoint (`protocol_mode` "dual", the default, or "draft"): a POST
whose `MCP-Protocol-Version` (or body `_meta`) names a stateless revision is served without a session
by `Dispatcher.handle_stateless`, answered as JSON or, once it emits, as SSE frames without event ids;
the client closing the response cancels it. GET and DELETE do not exist there (405).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pymcp._hosts import LOOPBACK_HOSTS, host_allowed, hostname, is_loopback
from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import (
    InvalidMessage,
    Notification,
    Request,
    Response,
    encode_batch,
    encode_error,
    parse,
)
from pymcp.protocol.request_head import read_head
from pymcp.protocol.stateless.envelope import (
    carries_stateless_meta,
    route_http,
)
from pymcp.protocol.stateless.headers import RequestHeaders
from pymcp.protocol.versions import DRAFT_VERSIONS, supports_batches
from pymcp.security.principal import principal_identity
from pymcp.server.session import (
    Session,
    SessionLimitError,
    SessionManager,
    SessionStoreError,
)
from pymcp.transport.http_body import BODY_GRACE_SECONDS, read_body
from pymcp.transport.http_headers import accepts, accepts_json_and_sse, is_json, settled_session
from pymcp.transport.http_reply import Receive, Scope, Send, reply
from pymcp.transport.http_stateless import serve_stateless
from pymcp.transport.sse import (
    SSE_RETRY_MS,
    PostStream,
    parse_event_id,
    serve_stream,
)

if TYPE_CHECKING:
    from pymcp.server.dispatch import Dispatcher
    from pymcp.settings import ServerSettings

__all__ = ["BODY_GRACE_SECONDS", "SSE_RETRY_MS", "StreamableHTTP"]

logger = logging.getLogger("pymcp.transport")

_BATCH_REFUSED = "JSON-RPC batches are only accepted for 2025-03-26 sessions"


class StreamableHTTP:
    """The `/mcp` endpoint."""

    def __init__(self, dispatcher: Dispatcher, sessions: SessionManager, settings: ServerSettings) -> None:
        self.dispatcher = dispatcher
        self.sessions = sessions
        self.settings = settings
        self.allowed_origins = frozenset(settings.allowed_origins or ())
        self.allowed_hosts = frozenset(settings.allowed_hosts) if settings.allowed_hosts is not None else None
        self.versions = frozenset(settings.protocol_versions or ()) | frozenset(settings.served_versions)
        self.mode = settings.protocol_mode

    # -- helpers --------------------------------------------------------------------------------------------

    _reply = staticmethod(reply)

    async def _error(self, send: Send, status: int, code: int, message: str, data: Any = None) -> None:
        await self._reply(send, status, encode_error(None, MCPError(code, message, data)))

    def _origin_allowed(self, scope: Scope, origin: str) -> bool:
        if origin in self.allowed_origins or "*" in self.allowed_origins:
            return True
        origin_host = urlsplit(origin).netloc
        if self.allowed_hosts is not None:
            # Host was checked already: a page may call us when it is served from one of our own names.
            return host_allowed(origin_host, self.allowed_hosts)
        server = scope.get("server")
        if is_loopback(str(server[0]) if server else ""):
            # DNS rebinding: a loopback server only talks to pages served from loopback themselves.
            return hostname(origin_host) in LOOPBACK_HOSTS
        # Beyond loopback without `allowed_hosts`, Host is the attacker's to choose: never compare with it.
        return False

    def _ready_session(self, headers: dict[bytes, str], principal: Any) -> Session | None:
        """`_session` without waiting, when it has nothing to ask the store nor to answer (most requests):
        the caller's session held here, its version header one we serve; else None, and `_session` decides.
        """
        session_id = headers.get(b"mcp-session-id")
        if session_id is None or not self._known_version(headers):
            return None
        return self.sessions.held(session_id, principal_identity(principal))

    def _known_version(self, headers: dict[bytes, str]) -> bool:
        version = headers.get(b"mcp-protocol-version")
        return version is None or version in self.versions

    async def _session(self, send: Send, headers: dict[bytes, str], principal: Any) -> Session | None:
        """The request's session, or None after answering 400 (no header) / 404 (unknown or not yours)."""
        session_id = headers.get(b"mcp-session-id")
        if session_id is None:
            await self._error(send, 400, ErrorCode.INVALID_PARAMS, "MCP-Session-Id header required")
            return None
        owner = principal_identity(principal)
        try:
            session = await self.sessions.get(session_id, owner)
        except SessionStoreError as error:
            await self._error(send, 503, ErrorCode.INTERNAL_ERROR, str(error))
            return None
        # Someone else's session looks exactly like an unknown one: reveal nothing.
        if session is None or session.owner != owner:
            await self._error(send, 404, ErrorCode.SESSION_NOT_FOUND, "Session not found")
            return None
        if not self._known_version(headers):
            version = headers[b"mcp-protocol-version"]
            await self._error(
                send,
                400,
                ErrorCode.INVALID_REQUEST,
                f"unsupported `MCP-Protocol-Version` `{version[:40]}`",
                {"supported": list(self.settings.served_versions), "requested": version[:40]},
            )
            return None
        return session

    # -- ASGI -----------------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        # The headers this endpoint reads, and every `mcp-*` one for the 2026-07-28 routing headers (read
        # once per request: the security middleware usually did it already).
        headers, _, mcp_headers = read_head(scope)
        method = scope["method"]
        if self.allowed_hosts is not None:
            host = headers.get(b"host", "")
            if not host_allowed(host, self.allowed_hosts):
                await self._error(send, 403, ErrorCode.FORBIDDEN, f"host `{host[:200]}` is not allowed")
                return
        origin = headers.get(b"origin")
        if origin is not None and not self._origin_allowed(scope, origin):
            await self._error(send, 403, ErrorCode.FORBIDDEN, f"origin `{origin[:200]}` is not allowed")
            return
        if method == "POST":
            await self._post(scope, receive, send, headers, mcp_headers)
        elif method in ("GET", "DELETE") and self._stateless_only(headers):
            await self._reply(send, 405, headers=[(b"allow", b"POST")])
        elif method == "GET":
            await self._get(scope, receive, send, headers)
        elif method == "DELETE":
            await self._delete(scope, send, headers)
        else:
            await self._reply(send, 405, headers=[(b"allow", b"GET, POST, DELETE")])

    def _session_era(self, headers: dict[bytes, str]) -> bool:
        """Whether a POST names a session that serves it (looked up before its body is parsed)."""
        if b"mcp-session-id" not in headers or self.mode == "draft":
            return False
        return headers.get(b"mcp-protocol-version") not in DRAFT_VERSIONS

    def _stateless_only(self, headers: dict[bytes, str]) -> bool:
        """Whether a GET or DELETE addresses the stateless revision (which has neither)."""
        if self.mode == "draft":
            return True
        version = headers.get(b"mcp-protocol-version")
        return (
            self.mode == "dual"
            and b"mcp-session-id" not in headers
            and version is not None
            and version in self.settings.stateless_versions
        )

    async def _post(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, str],
        raw_mcp_headers: list[tuple[str, str]],
    ) -> None:
        if not accepts_json_and_sse(headers.get(b"accept")):
            await self._error(
                send,
                406,
                ErrorCode.INVALID_PARAMS,
                "Accept header must include application/json and text/event-stream",
            )
            return
        if not is_json(headers.get(b"content-type", "")):
            await self._error(
                send, 415, ErrorCode.INVALID_REQUEST, "`Content-Type` must be `application/json`"
            )
            return
        body = await read_body(receive, send, headers, self.settings)
        if body is None:
            return
        principal = scope.get("pymcp.principal")
        # Cheap checks before parsing: whose session this is, and whether a batch can be served at all.
        session: Session | None = None
        if self._session_era(headers):
            session = self._ready_session(headers, principal) or await self._session(send, headers, principal)
            if session is None:
                return
        if body.lstrip()[:1] == b"[" and (session is None or not supports_batches(session.protocol_version)):
            await self._error(send, 400, ErrorCode.INVALID_REQUEST, _BATCH_REFUSED)
            return
        try:
            message = parse(body, max_batch=self.settings.max_batch_length)
        except MCPError as error:
            await self._reply(send, 400, encode_error(None, error))
            return
        if self.mode == "draft" or (self.mode == "dual" and not settled_session(raw_mcp_headers)):
            try:
                mcp_headers = RequestHeaders.read(raw_mcp_headers)
            except MCPError as error:
                await self._reply(send, 400, encode_error(getattr(message, "id", None), error))
                return
            # Looked at only without a version header (as `route_http` does).
            stateless_meta = (
                mcp_headers.protocol_version is None
                and isinstance(message, Request)
                and carries_stateless_meta(message.params)
            )
            era = route_http(
                self.mode,
                mcp_headers,
                has_session_id=b"mcp-session-id" in headers,
                stateless_meta=stateless_meta,
            )
            if era == "stateless":
                await serve_stateless(
                    self.dispatcher, self.settings, receive, send, message, principal, mcp_headers
                )
                return
        if (
            isinstance(message, Request)
            and message.method == "initialize"
            and b"mcp-session-id" not in headers
        ):
            await self._initialize(send, message, principal)
            return
        if isinstance(message, InvalidMessage):
            await self._reply(send, 400, encode_error(message.id, message.error))
            return
        session = session or await self._session(send, headers, principal)
        if session is None:
            return
        if isinstance(message, list):
            await self._batch(send, session, message, principal)
        elif isinstance(message, Request):
            await self._request(send, session, message, principal)
        elif isinstance(message, Notification):
            await self.dispatcher.handle_notification(session, message)
            await self.sessions.save(session)
            await self._reply(send, 202)
        else:
            self.dispatcher.handle_response(session, message)
            await self._reply(send, 202)

    async def _initialize(self, send: Send, request: Request, principal: Any) -> None:
        session_id = self.sessions.new_id()
        session, (body, error) = await self.dispatcher.initialize(request, principal, session_id)
        if session is None:
            status = error.http_status if error is not None else 400
            extra = (
                [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
                if error is not None
                else []
            )
            await self._reply(send, status if status != 200 else 400, body or b"", extra)
            return
        try:
            await self.sessions.add(session)
        except SessionStoreError as error:
            self.dispatcher.forget(session)  # the dispatcher adopted it in `initialize`
            await self._error(send, 503, ErrorCode.INTERNAL_ERROR, str(error))
            return
        except SessionLimitError as error:
            self.dispatcher.forget(session)
            await self._reply(
                send, 429, encode_error(request.id, MCPError(ErrorCode.RATE_LIMITED, str(error)))
            )
            return
        await self._reply(send, 200, body or b"", [(b"mcp-session-id", session_id.encode())])

    async def _request(self, send: Send, session: Session, request: Request, principal: Any) -> None:
        stream = PostStream(send, session)
        body, error = await self.dispatcher.handle_request(
            session, request, principal, stream.emit, stream.close
        )
        # Before answering: the client's next request may reach another worker (log level, subscriptions).
        if self.sessions.unsaved(session):
            await self.sessions.save(session)
        if stream.stream is not None:
            await stream.finish(body)
        elif body is None:
            await self._reply(send, 204)  # cancelled: no JSON-RPC answer
        elif error is not None and error.http_status != 200:
            extra = [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]
            await self._reply(send, error.http_status, body, extra)
        else:
            await self._reply(send, 200, body)

    async def _batch(
        self,
        send: Send,
        session: Session,
        messages: list[Request | Notification | Response | InvalidMessage],
        principal: Any,
    ) -> None:
        if not supports_batches(session.protocol_version):
            await self._error(send, 400, ErrorCode.INVALID_REQUEST, _BATCH_REFUSED)
            return
        replies: list[bytes] = []
        emit = self._standalone_emitter(session)
        for message in messages:
            if isinstance(message, InvalidMessage):
                replies.append(encode_error(message.id, message.error))
            elif isinstance(message, Request):
                body, _ = await self.dispatcher.handle_request(session, message, principal, emit)
                if body is not None:
                    replies.append(body)
            elif isinstance(message, Notification):
                await self.dispatcher.handle_notification(session, message)
            else:
                self.dispatcher.handle_response(session, message)
        await self.sessions.save(session)
        if replies:
            await self._reply(send, 200, encode_batch(replies))
        else:
            await self._reply(send, 202)

    @staticmethod
    def _standalone_emitter(session: Session) -> Callable[[bytes], Awaitable[None]]:
        async def emit(data: bytes) -> None:
            session.standalone.publish(data)

        return emit

    async def _get(self, scope: Scope, receive: Receive, send: Send, headers: dict[bytes, str]) -> None:
        if not accepts(headers.get(b"accept"), "text/event-stream"):
            await self._error(send, 406, ErrorCode.INVALID_REQUEST, "`Accept` must allow `text/event-stream`")
            return
        session = await self._session(send, headers, scope.get("pymcp.principal"))
        if session is None:
            return
        last_event_id = headers.get(b"last-event-id")
        stream, after = session.standalone, None
        if last_event_id is not None:
            found = parse_event_id(last_event_id)
            resumed = session.streams.get(found[0]) if found else None
            if found is None or resumed is None:
                await self._error(send, 404, ErrorCode.INVALID_REQUEST, "unknown `Last-Event-ID`")
                return
            stream, after = resumed, found[1]
        elif stream.queue is not None:
            await self._error(
                send, 409, ErrorCode.INVALID_REQUEST, "this session already has an open GET stream"
            )
            return
        await serve_stream(receive, send, stream, after)

    async def _delete(self, scope: Scope, send: Send, headers: dict[bytes, str]) -> None:
        session = await self._session(send, headers, scope.get("pymcp.principal"))
        if session is None:
            return
        if session.id is not None:
            try:
                await self.sessions.delete(session.id)
            except SessionStoreError as error:
                await self._error(send, 503, ErrorCode.INTERNAL_ERROR, str(error))
                return
        await self._reply(send, 204)
