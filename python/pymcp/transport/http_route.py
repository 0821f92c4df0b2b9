"""Where the `/mcp` endpoint sits in the app: innermost of the middleware, in front of the router; and
in front of everything when the app has nothing else for it to pass through."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.errors import ServerErrorMiddleware
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
    """The app `create_app` returns: a Starlette app whose `/mcp` requests also skip Starlette's error
    middleware (about 1 µs a request) while it has nothing to do for them.

    That is while its middleware is still only what `create_app` put there (`own_middleware`), no
    handler is registered for 500 or `Exception`, and `debug` is off: the endpoint answers its own
    errors, and a bug's 500 then comes from the server (uvicorn answers and logs it the same way).
    Decided when the middleware stack is built, so middleware or handlers added later are honoured.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.own_middleware: tuple[Middleware, ...] = ()
        self._mcp_front: ASGIApp | None = None

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        plain = (
            tuple(self.user_middleware) == self.own_middleware
            and not self.debug
            and not {500, Exception} & self.exception_handlers.keys()
        )
        self._mcp_front = stack.app if plain and isinstance(stack, ServerErrorMiddleware) else None
        return stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.middleware_stack is None:
            self.middleware_stack = self.build_middleware_stack()
        front = self._mcp_front
        if front is not None and scope["type"] == "http" and route_path(scope) == MCP_PATH:
            scope["app"] = self
            await front(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)
