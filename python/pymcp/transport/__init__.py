"""Transports: Streamable HTTP and stdio, both feeding the same dispatcher."""

from pymcp.transport.http import StreamableHTTP
from pymcp.transport.stdio import serve_stdio

__all__ = ["StreamableHTTP", "serve_stdio"]
