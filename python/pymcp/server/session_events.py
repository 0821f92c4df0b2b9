"""Who hears about the sessions a worker holds: a small listener interface instead of callbacks.

A `SessionManager` tells its listeners when it loads a session from the store and when it drops one;
the dispatcher tells its own when it adopts or forgets one (on every transport, stdio included). Each
party subscribes with `add_listener`, so the dispatcher and telemetry listen side by side.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pymcp.server.session_model import Session

__all__ = ["SessionEvents", "SessionListener"]


class SessionListener(Protocol):
    """Told when this worker starts and stops holding a session."""

    def session_loaded(self, session: Session) -> None: ...

    def session_removed(self, session: Session) -> None: ...


class SessionEvents:
    """The listeners of one source, told in the order they subscribed."""

    __slots__ = ("_listeners",)

    def __init__(self) -> None:
        self._listeners: list[SessionListener] = []

    def add_listener(self, listener: SessionListener) -> None:
        self._listeners.append(listener)

    def loaded(self, session: Session) -> None:
        for listener in self._listeners:
            listener.session_loaded(session)

    def removed(self, session: Session) -> None:
        for listener in self._listeners:
            listener.session_removed(session)
