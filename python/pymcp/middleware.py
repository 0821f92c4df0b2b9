"""0.3.0 import path `pymcp.middleware`: the middleware configuration and the security middleware."""

from __future__ import annotations

from typing import TypedDict

from pymcp._unsupported import unsupported_function
from pymcp.security.middleware import SecurityMiddleware
from pymcp.security.oauth import OAuthProtectedResourceConfig
from pymcp.settings import MiddlewareConfig

__all__ = [
    "CompressionConfigInput",
    "CorsConfigInput",
    "ErrorHandlingConfig",
    "LoggingConfigInput",
    "MiddlewareConfig",
    "OAuthProtectedResourceConfig",
    "SecurityMiddleware",
    "setup_middleware",
]


class CorsConfigInput(TypedDict, total=False):
    """`MiddlewareConfig.cors` (the options of Starlette's `CORSMiddleware`)."""

    allow_origins: list[str]
    allow_credentials: bool
    allow_methods: list[str]
    allow_headers: list[str]


class LoggingConfigInput(TypedDict, total=False):
    """`MiddlewareConfig.logging`: the `pymcp` logger's level and format."""

    level: str
    format: str


class CompressionConfigInput(TypedDict, total=False):
    """`MiddlewareConfig.compression`: gzip responses when `enabled`."""

    enabled: bool


class ErrorHandlingConfig(TypedDict, total=False):
    """`MiddlewareConfig.error_handling` (accepted for 0.3.0 configs; errors are always JSON-RPC errors)."""

    enabled: bool


setup_middleware = unsupported_function(
    "pymcp.middleware.setup_middleware",
    "`create_app(middleware_config=...)` (or its keyword arguments) installs the middleware",
)
