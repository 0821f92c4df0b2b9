"""Where the `/mcp` endpoint sits in the app: innermost of the middleware, in front of the router; and
in front of everything when the app has nothing else for it to pass through."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from pymcp.security.gate import MCP_PATH
from pymcp.security.middleware import route_path

__all__ = ["MCPApp", "MCPRoute"]


class MCPRoute:
    """Pure ASGI middleware: HTTP requests for `/mcp` go straight to the endpoint, the rest to the router.

    Every other middleware (the user's, CORS, GZip, security, Starlette's error middleware) wraps it, so
    they see every request as before; an MCP request only skips Starlette's route matching and its
    exception middleware, which have nothing to do for an endpoint that answers its own errors. The
    router keeps its `/mcp` route (for `app.routes`, and for any path spelling not recognised here).
    """

    def __init__(self, app: ASGIApp, endpoint: ASGIApp) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and route_path(scope) == MCP_PATH:
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


class MCPApp(Starlette):
    """The app `create_app` returns: a Starlette app whose `/mcp` requests go through the middleware
    `create_app` added (security, CORS, compression) straight to the endpoint, skipping Starlette's
    error middleware and `MCPRoute` (about 1.5 µs a request), while those have nothing to do for them.

    That is while the app's middleware is still only that (no middleware of the user's, added to
    `create_app` or since), no handler is registered for 500 or `Exception`, and `debug` is off: the
    endpoint answers its own errors, and a bug's 500 then comes from the server (uvicorn answers and
    logs it the same way). Decided when the middleware stack is built, so what is added later counts.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._endpoint: ASGIApp | None = None
        self._own_middleware: tuple[Middleware, ...] = ()
        self._mcp_front: ASGIApp | None = None

    def route_mcp(self, endpoint: ASGIApp, *, own_middleware: bool) -> None:
        """Serve `/mcp` with `endpoint`, innermost of the middleware (`MCPRoute`); `own_middleware`
        says the middleware so far is all `create_app`'s, so its requests may go there directly."""
        self.user_middleware.append(Middleware(MCPRoute, endpoint))
        if own_middleware:
            self._endpoint = endpoint
            self._own_middleware = tuple(self.user_middleware)

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        plain = (
            self._endpoint is not None
            and tuple(self.user_middleware) == self._own_middleware
            and not self.debug
            and not {500, Exception} & self.exception_handlers.keys()
        )
        self._mcp_front = self._direct_front() if plain else None
        return stack

    def _direct_front(self) -> ASGIApp:
        """The endpoint in the same middleware as in the stack (instances of their own: they hold only
        their settings), without the `MCPRoute` (the last one) that sends requests to it."""
        assert self._endpoint is not None
        front = self._endpoint
        for middleware in reversed(self._own_middleware[:-1]):
            front = middleware.cls(front, *middleware.args, **middleware.kwargs)
        return front

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        front = self._mcp_front
        if front is not None and scope["type"] == "http" and route_path(scope) == MCP_PATH:
            scope["app"] = self
            await front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)
