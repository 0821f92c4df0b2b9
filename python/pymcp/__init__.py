"""pymcp: secure, fast MCP servers (a drop-in for pymcp-kit 0.3.0's `pymcp` API).

Names load on first use (`import pymcp.security` does not start the web stack)."""

from typing import TYPE_CHECKING

from pymcp._lazy import lazy_exports

if TYPE_CHECKING:
    from pymcp.app import create_app, run_http_server, run_stdio_server
    from pymcp.registry import get_registry_manager, prompt_registry, resource_registry, tool_registry
    from pymcp.settings import PACKAGE_VERSION as __version__
    from pymcp.settings import CapabilitySettings, MiddlewareConfig, ServerSettings

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

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "CapabilitySettings": "pymcp.settings",
        "MiddlewareConfig": "pymcp.settings",
        "ServerSettings": "pymcp.settings",
        "__version__": "pymcp.settings:PACKAGE_VERSION",
        "create_app": "pymcp.app",
        "get_registry_manager": "pymcp.registry",
        "prompt_registry": "pymcp.registry",
        "resource_registry": "pymcp.registry",
        "run_http_server": "pymcp.app",
        "run_stdio_server": "pymcp.app",
        "tool_registry": "pymcp.registry",
    },
)
