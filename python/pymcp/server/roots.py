"""Callbacks for the client's `notifications/roots/list_changed` (0.3.0's `on_roots_changed`)."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

__all__ = ["on_roots_changed", "roots_changed"]

logger = logging.getLogger("pymcp.server")

RootsChanged = Callable[[Any, str | None], Any]
_callbacks: list[RootsChanged] = []


def on_roots_changed(callback: RootsChanged) -> Callable[[], None]:
    """Call `callback(app, session_id)` (sync or async) whenever a client says its roots changed;
    returns a function that removes it (0.3.0 returned nothing)."""
    _callbacks.append(callback)
    return lambda: _callbacks.remove(callback)


async def roots_changed(app: Any, session_id: str | None) -> None:
    """Run the callbacks; one that fails is logged and the others still run."""
    for callback in list(_callbacks):
        try:
            outcome = callback(app, session_id)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception:
            logger.exception("a roots-changed callback failed")
