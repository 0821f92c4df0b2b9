"""pymcp: secure, fast MCP servers (a drop-in for pymcp-kit 0.3.0's `pymcp` API)."""

from pymcp.app import create_app, run_http_server, run_stdio_server
from pymcp.registry import get_registry_manager, prompt_registry, resource_registry, tool_registry
from pymcp.settings import PACKAGE_VERSION, CapabilitySettings, MiddlewareConfig, ServerSettings

__version__ = PACKAGE_VERSION

__all__ = [
    "CapabilitySettings",
    "MiddlewareConfig",
    "ServerSettings",
    "__version__",
    "create_app",
    "get_registry_manager",
    "prompt_registry",
    "resource_registry",
    "run_http_server",
    "run_stdio_server",
    "tool_registry",
]
