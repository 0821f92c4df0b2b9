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

import asyncio
import contextlib
import contextvars
import functools
import logging
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator, MutableMapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
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
from pymcp.protocol.stateless.envelope import (
    HANDSHAKE_VERSIONS,
    carries_stateless_meta,
    http_status_for,
    route_http,
    validate_notification,
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
from pymcp.transport.sse import (
    KEEPALIVE_SECONDS,
    SSE_RETRY_MS,
    PostStream,
    StatelessStream,
    parse_event_id,
    serve_stream,
    wait_for_disconnect,
)

if TYPE_CHECKING:
    from pymcp.server.dispatch import Dispatcher
    from pymcp.settings import ServerSettings

__all__ = ["BODY_GRACE_SECONDS", "SSE_RETRY_MS", "StreamableHTTP"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

logger = logging.getLogger("pymcp.transport")
_T = TypeVar("_T")

# Seconds a body may take before `body_min_rate` applies (slow starts, small bodies on slow links).
BODY_GRACE_SECONDS = 5.0
_BATCH_REFUSED = "JSON-RPC batches are only accepted for 2025-03-26 sessions"
_JSON_HEADERS = [(b"content-type", b"application/json")]
_WANTED = frozenset(
    (
        b"origin",
        b"host",
        b"accept",
        b"content-type",
        b"content-length",
        b"mcp-session-id",
        b"mcp-protocol-version",
        b"last-event-id",
    )
)


def _accepts(accept: str | None, media: str) -> bool:
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


@types.coroutine
def _resume_from(running: Coroutine[Any, Any, _T], waiting_on: Any) -> Generator[Any, Any, _T]:
    """Continue a coroutine whose first step already ran and yielded `waiting_on`, as `await` would have:
    the task driving this waits on what the coroutine waits on, and sends and throws reach it."""
    while True:
        try:
            sent = yield waiting_on
        except BaseException as thrown:  # cancellation too: it belongs to the coroutine
            try:
                waiting_on = running.throw(thrown)
            except StopIteration as finished:
                return cast("_T", finished.value)
        else:
            try:
                waiting_on = running.send(sent)
            except StopIteration as finished:
                return cast("_T", finished.value)


async def _resume(running: Coroutine[Any, Any, _T], waiting_on: Any) -> _T:
    return await _resume_from(running, waiting_on)


def _settled_session(raw_mcp_headers: list[tuple[str, str]]) -> bool:
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
def _accepts_json_and_sse(accept: str | None) -> bool:
    return _accepts(accept, "application/json") and _accepts(accept, "text/event-stream")


def _error_headers(error: MCPError) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode(), v.encode()) for k, v in error.headers.items()]


class StreamableHTTP:
    """The `/mcp` endpoint."""

    def __init__(self, dispatcher: Dispatcher, sessions: SessionManager, settings: ServerSettings) -> None:
        self.dispatcher = dispatcher
        self.sessions = sessions
        self.settings = settings
        self.max_body = settings.max_request_bytes
        self.allowed_origins = frozenset(settings.allowed_origins or ())
        self.allowed_hosts = frozenset(settings.allowed_hosts) if settings.allowed_hosts is not None else None
        self.versions = frozenset(settings.protocol_versions or ()) | frozenset(settings.served_versions)
        self.mode = settings.protocol_mode

    # -- helpers --------------------------------------------------------------------------------------------

    @staticmethod
    async def _reply(
        send: Send, status: int, body: bytes = b"", headers: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        response_headers = list(_JSON_HEADERS) if body else []
        # An explicit length: without it servers fall back to chunked encoding (one more write per reply).
        # A 204 must carry none (RFC 9110 §8.6).
        if status != 204:
            response_headers.append((b"content-length", b"%d" % len(body)))
        if headers:
            response_headers.extend(headers)
        await send({"type": "http.response.start", "status": status, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

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

    async def _session(self, send: Send, headers: dict[bytes, str], principal: Any) -> Session | None:
        """The request's session, or None after answering 400 (no header) / 404 (unknown or not yours)."""
        session_id = headers.get(b"mcp-session-id")
        if session_id is None:
            await self._error(send, 400, ErrorCode.INVALID_PARAMS, "MCP-Session-Id header required")
            return None
        try:
            session = await self.sessions.get(session_id, principal_identity(principal))
        except SessionStoreError as error:
            await self._error(send, 503, ErrorCode.INTERNAL_ERROR, str(error))
            return None
        # Someone else's session looks exactly like an unknown one: reveal nothing.
        if session is None or session.owner != principal_identity(principal):
            await self._error(send, 404, ErrorCode.SESSION_NOT_FOUND, "Session not found")
            return None
        version = headers.get(b"mcp-protocol-version")
        if version is not None and version not in self.versions:
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
        # One pass over the headers (ASGI names are lowercase): the ones this endpoint reads, and every
        # `mcp-*` one for the 2026-07-28 routing headers.
        headers: dict[bytes, str] = {}
        mcp_headers: list[tuple[str, str]] = []
        for name, value in scope["headers"]:
            if name in _WANTED:
                headers[name] = value.decode("latin-1")
            if name.startswith(b"mcp-"):
                mcp_headers.append((name.decode("latin-1"), value.decode("latin-1")))
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

    async def _read_body(self, receive: Receive, send: Send, headers: dict[bytes, str]) -> bytes | None:
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            await self._error(
                send, 413, ErrorCode.INVALID_REQUEST, f"the body is larger than {self.max_body} bytes"
            )
            return None
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        started = loop.time()
        while True:
            # A trickling body holds a connection and a task: it must keep up `body_min_rate` after a
            # short grace, and end within `body_timeout` whatever its pace.
            deadline = min(
                started + self.settings.body_timeout,
                started + BODY_GRACE_SECONDS + size / self.settings.body_min_rate,
            )
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                logger.info("a request body arrived too slowly (%d bytes so far)", size)
                too_slow = MCPError(ErrorCode.INVALID_REQUEST, "the body arrived too slowly")
                await self._reply(send, 408, encode_error(None, too_slow), [(b"connection", b"close")])
                return None
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                await self._error(
                    send, 413, ErrorCode.INVALID_REQUEST, f"the body is larger than {self.max_body} bytes"
                )
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    async def _post(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        headers: dict[bytes, str],
        raw_mcp_headers: list[tuple[str, str]],
    ) -> None:
        if not _accepts_json_and_sse(headers.get(b"accept")):
            await self._error(
                send,
                406,
                ErrorCode.INVALID_PARAMS,
                "Accept header must include application/json and text/event-stream",
            )
            return
        content_type = headers.get(b"content-type", "")
        if content_type.split(";", 1)[0].strip().lower() != "application/json":
            await self._error(
                send, 415, ErrorCode.INVALID_REQUEST, "`Content-Type` must be `application/json`"
            )
            return
        body = await self._read_body(receive, send, headers)
        if body is None:
            return
        principal = scope.get("pymcp.principal")
        # Cheap checks before parsing: whose session this is, and whether a batch can be served at all.
        session: Session | None = None
        if self._session_era(headers):
            session = await self._session(send, headers, principal)
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
        if self.mode == "draft" or (self.mode == "dual" and not _settled_session(raw_mcp_headers)):
            try:
                mcp_headers = RequestHeaders.from_pairs(raw_mcp_headers)
            except MCPError as error:
                await self._reply(send, 400, encode_error(getattr(message, "id", None), error))
                return
            stateless_meta = isinstance(message, Request) and carries_stateless_meta(message.params)
            era = route_http(
                self.mode,
                mcp_headers,
                has_session_id=b"mcp-session-id" in headers,
                stateless_meta=stateless_meta,
            )
            if era == "stateless":
                await self._stateless(receive, send, message, principal, mcp_headers)
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

    async def _stateless(
        self,
        receive: Receive,
        send: Send,
        message: Request | Notification | Response | InvalidMessage | list[Any],
        principal: Any,
        mcp_headers: RequestHeaders,
    ) -> None:
        """Serve one 2026-07-28 POST: a request, or a notification (accepted and dropped)."""
        if isinstance(message, Notification):
            try:
                validate_notification(mcp_headers, supported_versions=self.settings.stateless_versions)
            except MCPError as refused:
                await self._reply(send, http_status_for(refused), encode_error(None, refused))
                return
            await self._reply(send, 202)
            return
        if not isinstance(message, Request):
            # Batches and client responses do not exist at 2026-07-28.
            request_id = message.id if isinstance(message, InvalidMessage) else None
            invalid = (
                message.error
                if isinstance(message, InvalidMessage)
                else MCPError(ErrorCode.INVALID_REQUEST, "the body must be one JSON-RPC request")
            )
            await self._reply(send, 400, encode_error(request_id, invalid))
            return
        stream = StatelessStream(send)
        # The first step runs here, in a context of its own: most requests finish without waiting on
        # anything, and then need no task (nor a watch on the client) at all. A request that waits
        # continues as a task in that same context, watched for the client closing the response.
        context = contextvars.copy_context()
        running = self.dispatcher.handle_stateless(message, principal, mcp_headers, stream.emit)
        try:
            waiting_on = context.run(running.send, None)
        except StopIteration as finished:
            body, error = finished.value
        else:
            loop = asyncio.get_running_loop()
            work = loop.create_task(_resume(running, waiting_on), context=context)
            reply = await self._watch(receive, work, stream)
            if reply is None:
                return
            body, error = reply
        if stream.started:
            await stream.finish(body)
        elif error is not None:
            await self._reply(send, http_status_for(error), body, _error_headers(error))
        else:
            await self._reply(send, 200, body)

    @staticmethod
    async def _watch(
        receive: Receive, work: asyncio.Task[tuple[bytes, MCPError | None]], stream: StatelessStream
    ) -> tuple[bytes, MCPError | None] | None:
        """Wait for a stateless request that is still running: keep its stream alive, and cancel it when
        the client goes away (None then: there is nobody to answer)."""
        disconnected = asyncio.ensure_future(wait_for_disconnect(receive))
        try:
            while True:
                done, _ = await asyncio.wait(
                    (work, disconnected), timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
                )
                if work in done:
                    break
                if disconnected in done:
                    # Closing the response is how a 2026-07-28 client cancels its request.
                    work.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await work
                    return None
                if stream.started:
                    await stream.keepalive()
        finally:
            disconnected.cancel()
        return work.result()

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
        if not _accepts(headers.get(b"accept"), "text/event-stream"):
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
