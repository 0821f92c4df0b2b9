"""0.3.0 import path of `on_roots_changed`."""

from pymcp.server.roots import on_roots_changed

__all__ = ["on_roots_changed"]
