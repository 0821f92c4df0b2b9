"""Transports: Streamable HTTP and stdio, both feeding the same dispatcher."""

from pymcp._lazy import lazy_exports
from pymcp.transport.http import StreamableHTTP
from pymcp.transport.stdio import StdioTransport, serve_stdio

__all__ = ["StdioTransport", "StreamableHTTP", "run_http_server", "run_stdio_server", "serve_stdio"]


# 0.3.0 exported the runners here; they live with `create_app` (imported on use: no cycle).
__getattr__, __dir__ = lazy_exports(
    __name__, {"run_http_server": "pymcp.app", "run_stdio_server": "pymcp.app"}
)
