"""Deprecated: the 2026-07-28 modules moved to `pymcp.protocol.stateless` (the revision is released, not a
draft). Importing this package, or any module under it, gives the modules of `pymcp.protocol.stateless`
themselves (the same objects) and warns once with a `DeprecationWarning`.
"""

from __future__ import annotations

import importlib
import sys
import warnings

__all__: list[str] = []

_MODULES = (
    "envelope",
    "headers",
    "input_required",
    "mrtr",
    "param_headers",
    "request_state",
    "results",
    "subscriptions",
    "tasks",
)

warnings.warn(
    "`pymcp.protocol.draft` is deprecated: import `pymcp.protocol.stateless` instead",
    DeprecationWarning,
    stacklevel=2,
)
for _name in _MODULES:
    _module = importlib.import_module(f"pymcp.protocol.stateless.{_name}")
    sys.modules[f"{__name__}.{_name}"] = _module
    globals()[_name] = _module
