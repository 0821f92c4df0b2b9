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

Error bodies are JSON-RPC errors that keep the request id when the body is a JSON-RPC request; the body
is only read on those error paths (up to `MAX_ERROR_BODY_BYTES`), never on the way to the app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.types import ASGIApp, Receive, Scope, Send

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import InvalidMessage, Notification, encode_error, parse
from pymcp.protocol.jsonrpc import Request as RPCRequest
from pymcp.security.authn import JWTAuthenticator, TokenIntrospectionAuthenticator, TokenMapAuthenticator
from pymcp.security.authz import AuthenticationError, Authenticator, Authorizer, build_authz_request
from pymcp.security.challenge import bearer_challenge, current_resource_metadata_url
from pymcp.security.gate import exempt_path_set
from pymcp.security.oauth import METADATA_PATHS, OAuthProtectedResourceConfig
from pymcp.security.principal import Principal

__all__ = ["MAX_ERROR_BODY_BYTES", "PRINCIPAL_SCOPE_KEY", "SecurityMiddleware"]

logger = logging.getLogger("pymcp.security")

PRINCIPAL_SCOPE_KEY = "pymcp.principal"
# Enough for any JSON-RPC request whose id we want to echo; larger bodies are answered with `id: null`.
MAX_ERROR_BODY_BYTES = 64 * 1024

_TOKEN_AUTHENTICATORS = (JWTAuthenticator, TokenIntrospectionAuthenticator, TokenMapAuthenticator)
_TOKEN_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/=")


class _Refusal(Exception):
    """An answer the middleware gives instead of calling the app."""

    def __init__(self, status: int, message: str, *, error: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error  # the RFC 6750 error code; None when no credentials were sent


class SecurityMiddleware:
    """Authenticates HTTP requests (pymcp-kit 0.3.0's name and keyword arguments)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator | None,
        authorizer: Authorizer | None,
        require_authentication: bool = False,
        exempt_paths: Sequence[str] | None = None,
        oauth: OAuthProtectedResourceConfig | None = None,
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.authorizer = authorizer
        self.require_authentication = require_authentication
        self.exempt_paths = exempt_path_set(exempt_paths)
        self.oauth = oauth
        # The built-in authenticators take the token the middleware already read. Exact types only: a
        # subclass may override `authenticate` with checks of its own.
        self._authenticate_token: Callable[[str], Awaitable[Principal]] | None = (
            authenticator.authenticate_token
            if isinstance(authenticator, _TOKEN_AUTHENTICATORS)
            and type(authenticator) in _TOKEN_AUTHENTICATORS
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # MCP has no WebSocket transport: refuse rather than let one in unauthenticated.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path in METADATA_PATHS:
            if self.oauth is not None:
                await self._serve_metadata(scope, send)
                return
            scope[PRINCIPAL_SCOPE_KEY] = None
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS" or path in self.exempt_paths:
            scope[PRINCIPAL_SCOPE_KEY] = None
            await self.app(scope, receive, send)
            return
        metadata_url = self.oauth.resolved_metadata_url(HTTPConnection(scope)) if self.oauth else None
        try:
            principal = await self._authenticate(scope)
        except _Refusal as refusal:
            await self._refuse(scope, receive, send, refusal, metadata_url)
            return
        scope[PRINCIPAL_SCOPE_KEY] = principal
        reset = current_resource_metadata_url.set(metadata_url)
        try:
            await self.app(scope, receive, send)
        finally:
            current_resource_metadata_url.reset(reset)

    async def _authenticate(self, scope: Scope) -> Principal | None:
        query = scope.get("query_string", b"")
        if (b"access_token" in query or b"%" in query) and any(
            name == "access_token" for name, _ in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
        ):
            raise _Refusal(401, "Access tokens in the query string are not supported", error="invalid_token")
        token = _bearer_token(scope)
        principal: Principal | None = None
        if self.authenticator is not None:
            try:
                if self._authenticate_token is not None:  # the built-in authenticators: no second parse
                    principal = None if token is None else await self._authenticate_token(token)
                else:
                    principal = await self.authenticator.authenticate(Request(scope))
            except AuthenticationError as failure:
                raise _Refusal(401, failure.message, error="invalid_token") from None
            except Exception:
                # A broken authenticator must not let the request through, nor show a traceback.
                logger.exception("the authenticator failed")
                raise _Refusal(401, "Authentication failed", error="invalid_token") from None
        if principal is None and self.require_authentication:
            raise _Refusal(401, "Authentication required")
        return principal

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, refusal: _Refusal, metadata_url: str | None
    ) -> None:
        request_id, method, params = await _read_rpc_call(scope, receive)
        scopes: tuple[str, ...] = ()
        required_scopes_for = getattr(self.authorizer, "required_scopes_for", None)
        if required_scopes_for is not None and method is not None:
            try:
                scopes = tuple(
                    required_scopes_for(None, build_authz_request(rpc_method=method, params=params))
                )
            except Exception:
                logger.exception("the authorizer failed to name required scopes")
        challenge = bearer_challenge(
            resource_metadata=metadata_url,
            error=refusal.error,
            scopes=scopes,
            error_description=refusal.message if refusal.error else None,
        )
        code = ErrorCode.INVALID_REQUEST if refusal.status == 400 else ErrorCode.UNAUTHORIZED
        body = encode_error(request_id, MCPError(code, refusal.message))
        headers = [
            (b"content-type", b"application/json"),
            (b"www-authenticate", challenge.encode("latin-1", "replace")),
            (b"cache-control", b"no-store"),
        ]
        await _send_plain(send, refusal.status, body, headers)

    async def _serve_metadata(self, scope: Scope, send: Send) -> None:
        assert self.oauth is not None
        if scope["method"] not in ("GET", "HEAD"):
            await _send_plain(send, 405, b"", [(b"allow", b"GET, HEAD")])
            return
        base_url = str(HTTPConnection(scope).base_url).rstrip("/")
        body = orjson.dumps(self.oauth.metadata(resource=base_url + "/mcp"))
        await _send_plain(
            send,
            200,
            b"" if scope["method"] == "HEAD" else body,
            [(b"content-type", b"application/json"), (b"cache-control", b"public, max-age=3600")],
            content_length=len(body),
        )


def _bearer_token(scope: Scope) -> str | None:
    """The Bearer token of the request (None: no credentials, or another scheme, as in pymcp-kit 0.3.0).

    A repeated `Authorization` header, or `Bearer` without exactly one token (RFC 6750 §2.1), is refused.
    """
    values: list[bytes] = [value for name, value in scope["headers"] if name.lower() == b"authorization"]
    if not values:
        return None
    if len(values) > 1:
        raise _Refusal(400, "Only one Authorization header is allowed", error="invalid_request")
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or not set(token) <= _TOKEN_CHARACTERS:
        raise _Refusal(400, "Malformed Bearer token", error="invalid_request")
    return token


async def _read_rpc_call(scope: Scope, receive: Receive) -> tuple[str | int | None, str | None, Any]:
    """The id, method and params of a refused POST's JSON-RPC request (all None when it is not one)."""
    if scope["method"] != "POST":
        return None, None, None
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None, None, None
        body += message.get("body", b"")
        if len(body) > MAX_ERROR_BODY_BYTES:
            return None, None, None
        if not message.get("more_body", False):
            break
    try:
        parsed = parse(bytes(body))
    except MCPError:
        return None, None, None
    if isinstance(parsed, RPCRequest):
        return parsed.id, parsed.method, parsed.params
    if isinstance(parsed, Notification):
        return None, parsed.method, parsed.params
    if isinstance(parsed, InvalidMessage):
        return parsed.id, None, None
    return None, None, None


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
