"""What a handler gets and gives: `Call` (one request as a handler sees it), `Handler` and `Reply`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymcp.errors import MCPError

if TYPE_CHECKING:
    from pymcp.protocol.stateless.envelope import StatelessRequest
    from pymcp.protocol.stateless.headers import RequestHeaders
    from pymcp.security.principal import Principal
    from pymcp.server.context import AskInput, CancellationToken, Emitter
    from pymcp.server.session import Session

__all__ = ["Call", "Handler", "Reply"]


@dataclass(slots=True)
class Call:
    """One request as a handler sees it."""

    _session: Session | Callable[[Call], Session]
    """The session; at 2026-07-28, how to make the request's own one from the call (made on first use of
    `session`: most stateless requests never look at it)."""
    principal: Principal | None
    request_id: str | int
    method: str
    params: dict[str, Any]
    emit: Emitter
    cancel_token: CancellationToken
    close_stream: Callable[[], Awaitable[None]] | None
    client: StatelessRequest | None = None
    """The request's own `_meta` (2026-07-28); None on a session."""
    ask_input: AskInput | None = None
    """How a stateless `tools/call`, `prompts/get` or `resources/read` (or its task) asks the client."""
    headers: RequestHeaders | None = None
    """The MCP headers of a stateless HTTP request (None on a session and on stdio)."""

    @property
    def session(self) -> Session:
        session = self._session
        if callable(session):
            session = self._session = session(self)
        return session


Handler = Callable[[Call], Awaitable[dict[str, Any]]]
Reply = tuple[bytes | None, MCPError | None]
