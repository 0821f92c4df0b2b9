"""0.3.0 import path `pymcp.runtime`: `create_app`, and its dispatcher internals (not available here)."""

from pymcp._lazy import lazy_exports
from pymcp._unsupported import unsupported, unsupported_function

__all__ = ["Dispatcher", "create_app", "process_jsonrpc_message"]

_DISPATCH = "the app made by `create_app` dispatches every message; test it over HTTP or stdio"
Dispatcher = unsupported("pymcp.runtime.Dispatcher", _DISPATCH)
process_jsonrpc_message = unsupported_function("pymcp.runtime.process_jsonrpc_message", _DISPATCH)


# `create_app` lives above this package (imported on use: no cycle).
__getattr__, __dir__ = lazy_exports(__name__, {"create_app": "pymcp.app"})
