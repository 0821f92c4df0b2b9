"""0.3.0 import path `pymcp.middleware`: the middleware configuration and the security middleware."""

from pymcp.security.middleware import SecurityMiddleware
from pymcp.settings import MiddlewareConfig

__all__ = ["MiddlewareConfig", "SecurityMiddleware"]
