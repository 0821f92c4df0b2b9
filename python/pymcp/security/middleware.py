"""The one security middleware (pure ASGI): authenticate each HTTP request once, answer 401 itself.

What it does, in order, for an HTTP request:
1. `/.well-known/oauth-protected-resource[/mcp]`: serves the RFC 9728 document when OAuth is configured
   (otherwise passes the request on unauthenticated, for the app's 404).
2. OPTIONS (CORS preflights) and the exempt paths (exact match) pass on with no principal.
3. A token in the query string (`access_token=`) is refused (401), as is a malformed `Authorization` header
   (400, RFC 6750 §3.1); the authenticator then turns the header into a principal, `None` for anonymous.
4. Invalid credentials → 401 `error="invalid_token"`; no credentials while authentication is required → 401.
   Every 401 carries a `WWW-Authenticate: Bearer` challenge.
5. Otherwise the principal is stored in `scope["pymcp.principal"]` and the request goes on. Methods are
   authorized later, once per JSON-RPC request, by `SecurityGate.authorize`.

Error bodies are JSON-RPC errors with `id: null`: the body is never read to answer 401 (an anonymous flood
must cost no parsing), and the challenge names no scope (which would tell a hidden target from an unknown
one). Paths are matched relative to the mount (`root_path`), so the MCP endpoint is never exempt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from pymcp._hosts import host_allowed
from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import encode_error
from pymcp.protocol.request_head import read_head
from pymcp.security.authn import JWTAuthenticator, TokenIntrospectionAuthenticator, TokenMapAuthenticator
from pymcp.security.authz import AuthenticationError, Authenticator, Authorizer
from pymcp.security.bearer import MalformedAuthorization, bearer_token
from pymcp.security.challenge import current_resource_metadata_url
from pymcp.security.gate import MCP_PATH, SecurityGate
from pymcp.security.oauth import METADATA_PATH, METADATA_PATHS, OAuthProtectedResourceConfig
from pymcp.security.principal import Principal

__all__ = ["DISCARD_BODY_BYTES", "PRINCIPAL_SCOPE_KEY", "SecurityMiddleware", "route_path"]

logger = logging.getLogger("pymcp.security")

PRINCIPAL_SCOPE_KEY = "pymcp.principal"

# A refused request's body up to this size is read and dropped, which keeps the connection reusable.
DISCARD_BODY_BYTES = 64 * 1024
DISCARD_BODY_SECONDS = 1.0

_TOKEN_AUTHENTICATORS = (JWTAuthenticator, TokenIntrospectionAuthenticator, TokenMapAuthenticator)


class _Refusal(Exception):
    """An answer the middleware gives instead of calling the app."""

    def __init__(self, status: int, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error  # the RFC 6750 error code; None when no credentials were sent


def _query_token_refused() -> _Refusal:
    return _Refusal(401, "Access tokens in the query string are not supported", error="invalid_token")


class SecurityMiddleware:
    """Authenticates HTTP requests (pymcp-kit 0.3.0's name and keyword arguments)."""

    def __init__(
        self,
        app: ASGIApp,
        gate: SecurityGate | None = None,
        *,
        authenticator: Authenticator | None = None,
        authorizer: Authorizer | None = None,
        require_authentication: bool = False,
        exempt_paths: Sequence[str] | None = None,
        oauth: OAuthProtectedResourceConfig | None = None,
        allowed_hosts: Sequence[str] | None = None,
    ) -> None:
        """`SecurityMiddleware(app, gate)`; 0.3.0's keyword arguments build the gate when none is given."""
        if gate is None:
            gate = SecurityGate(
                authenticator=authenticator,
                authorizer=authorizer,
                require_authentication=require_authentication,
                exempt_paths=exempt_paths,
                oauth=oauth,
                allowed_hosts=allowed_hosts,
            )
        self.app = app
        self.gate = gate
        self.allowed_hosts = frozenset(h.lower() for h in gate.allowed_hosts) if gate.allowed_hosts else None
        # The built-in authenticators take the token the middleware already read. Exact types only: a
        # subclass may override `authenticate` with checks of its own.
        authenticator = gate.authenticator
        self._authenticate_token: Callable[[str], Awaitable[Principal]] | None = (
            authenticator.authenticate_token
            if isinstance(authenticator, _TOKEN_AUTHENTICATORS)
            and type(authenticator) in _TOKEN_AUTHENTICATORS
            else None
        )
        # A token map answers at once: looked up without a coroutine of its own.
        self._lookup_token: Callable[[str], Principal] | None = (
            authenticator.lookup if type(authenticator) is TokenMapAuthenticator else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # MCP has no WebSocket transport: refuse rather than let one in unauthenticated.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        if path in METADATA_PATHS:
            if self.gate.oauth is not None:
                await self._serve_metadata(scope, send)
                return
            scope[PRINCIPAL_SCOPE_KEY] = None
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" or (path in self.gate.exempt_paths and path.rstrip("/") != MCP_PATH):
            if _query_token(scope):
                # Refused everywhere, so a client learns at once that its token is sent the wrong way.
                await self._refuse(send, _query_token_refused(), None)
                return
            scope[PRINCIPAL_SCOPE_KEY] = None
            await self.app(scope, receive, send)
            return
        metadata_url = None
        if self.gate.oauth is not None:
            metadata_url = self.gate.oauth.static_metadata_url() or self._base_url(scope)[0] + METADATA_PATH
        try:
            principal = await self._authenticate(scope)
        except _Refusal as refusal:
            await _discard_body(receive)
            await self._refuse(send, refusal, metadata_url)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        if metadata_url is None:  # no OAuth metadata: denials have no document to point at
            await self.app(scope, receive, send)
            return
        reset = current_resource_metadata_url.set(metadata_url)
        try:
            await self.app(scope, receive, send)
        finally:
            current_resource_metadata_url.reset(reset)

    async def _authenticate(self, scope: Scope) -> Principal | None:
        if _query_token(scope):
            raise _query_token_refused()
        token = _bearer_token(scope)
        principal: Principal | None = None
        authenticator = self.gate.authenticator
        if authenticator is not None:
            try:
                if token is not None and self._lookup_token is not None:
                    principal = self._lookup_token(token)
                elif self._authenticate_token is not None:  # the built-in authenticators: no second parse
                    principal = None if token is None else await self._authenticate_token(token)
                else:
                    principal = await authenticator.authenticate(Request(scope))
            except AuthenticationError as failure:
                raise _Refusal(401, failure.message, error="invalid_token") from None
            except Exception:
                # A broken authenticator must not let the request through, nor show a traceback.
                logger.exception("the authenticator failed")
                raise _Refusal(401, "Authentication failed", error="invalid_token") from None
        if principal is None and self.gate.require_authentication:
            raise _Refusal(401, "Authentication required")
        return principal

    async def _refuse(self, send: Send, refusal: _Refusal, metadata_url: str | None) -> None:
        challenge = self.gate.challenge(
            metadata_url, error=refusal.error, description=refusal.message if refusal.error else None
        )
        code = ErrorCode.INVALID_REQUEST if refusal.status == 400 else ErrorCode.UNAUTHORIZED
        body = encode_error(None, MCPError(code, refusal.message))
        headers = [
            (b"content-type", b"application/json"),
            (b"www-authenticate", challenge.encode("latin-1", "replace")),
            (b"cache-control", b"no-store"),
        ]
        await _send_plain(send, refusal.status, body, headers)

    async def _serve_metadata(self, scope: Scope, send: Send) -> None:
        assert self.gate.oauth is not None
        if scope["method"] not in ("GET", "HEAD"):
            await _send_plain(send, 405, b"", [(b"allow", b"GET, HEAD")])
            return
        base_url, per_host = self._base_url(scope)
        body = orjson.dumps(self.gate.oauth.metadata(resource=base_url + MCP_PATH))
        headers = [(b"content-type", b"application/json"), (b"cache-control", b"public, max-age=3600")]
        if per_host and self.gate.oauth.resource is None:
            headers.append((b"vary", b"Host"))
        await _send_plain(
            send, 200, b"" if scope["method"] == "HEAD" else body, headers, content_length=len(body)
        )

    def _base_url(self, scope: Scope) -> tuple[str, bool]:
        """Where this app is served, never taken from an unchecked `Host`: the `Host` when it is one of
        `allowed_hosts` (second item true), else the address the server is bound to."""
        root: str = scope.get("root_path", "")
        scheme: str = scope.get("scheme", "http")
        host = next((value for name, value in scope["headers"] if name == b"host"), None)
        if host is not None and self.allowed_hosts is not None:
            text = host.decode("latin-1")
            if host_allowed(text, self.allowed_hosts):
                return f"{scheme}://{text.lower()}{root}", True
        server = scope.get("server")
        if not server:
            return f"{scheme}://localhost{root}", False
        name, port = server[0], server[1]
        name = f"[{name}]" if ":" in str(name) else str(name)
        default = {"http": 80, "https": 443}.get(scheme)
        return f"{scheme}://{name}{'' if port in (None, default) else f':{port}'}{root}", False


def route_path(scope: Scope) -> str:
    """The request path inside the app: without the mount prefix (`root_path`) the ASGI path starts with."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root) :] or "/"
    return path


def _query_token(scope: Scope) -> bool:
    query: bytes = scope.get("query_string", b"")
    return (
        bool(query)
        and (b"access_token" in query or b"%" in query)
        and any(
            name == "access_token" for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        )
    )


def _bearer_token(scope: Scope) -> str | None:
    """The Bearer token of the request (None: no credentials, or another scheme, as in pymcp-kit 0.3.0);
    a malformed `Authorization` header is refused (400)."""
    try:
        return bearer_token(read_head(scope)[1])
    except MalformedAuthorization as malformed:
        raise _Refusal(400, malformed.message, error="invalid_request") from None


async def _discard_body(receive: Receive) -> None:
    """Read (never parse) a small refused body so the connection can be kept alive; a larger one is left
    unread and the server closes the connection after the answer."""
    read = 0
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DISCARD_BODY_SECONDS):  # a trickle is not waited for
            while read <= DISCARD_BODY_BYTES:
                message = await receive()
                if message["type"] != "http.request":
                    return
                read += len(message.get("body", b""))
                if not message.get("more_body", False):
                    return


async def _send_plain(
    send: Send,
    status: int,
    body: bytes,
    headers: list[tuple[bytes, bytes]],
    *,
    content_length: int | None = None,
) -> None:
    length = len(body) if content_length is None else content_length
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [*headers, (b"content-length", str(length).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
