"""Where the `/mcp` endpoint sits in the app: innermost of the middleware, in front of the router."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from pymcp.security.gate import MCP_PATH
from pymcp.security.middleware import route_path

__all__ = ["MCPRoute"]


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
