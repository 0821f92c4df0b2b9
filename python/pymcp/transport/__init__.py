"""Transports: Streamable HTTP and stdio, both feeding the same dispatcher."""

from typing import Any

from pymcp.transport.http import StreamableHTTP
from pymcp.transport.stdio import StdioTransport, serve_stdio

__all__ = ["StdioTransport", "StreamableHTTP", "run_http_server", "run_stdio_server", "serve_stdio"]


def __getattr__(name: str) -> Any:
    # 0.3.0 exported the runners here; they live with `create_app` (imported on use: no cycle).
    if name in ("run_http_server", "run_stdio_server"):
        import pymcp.app

        return getattr(pymcp.app, name)
    raise AttributeError(f"module `pymcp.transport` has no attribute `{name}`")
