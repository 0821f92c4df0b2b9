"""What a running request can do: report progress, log, ask the client, notice cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import encode_notification, encode_request
from pymcp.tasks.engine import CancellationToken as TaskCancellationToken
from pymcp.tasks.engine import CancelledError

if TYPE_CHECKING:
    from pymcp.security.principal import Principal
    from pymcp.server.session import Session

__all__ = [
    "LOG_LEVELS",
    "CancellationToken",
    "CancelledError",
    "Emitter",
    "RequestContext",
    "SessionContext",
]

Emitter = Callable[[bytes], Awaitable[None]]
"""Sends one encoded message on the request's own stream (the POST's SSE response, or stdout)."""

# RFC 5424 severities, least severe first (the MCP `LoggingLevel` values).
LOG_LEVELS: dict[str, int] = {
    level: rank
    for rank, level in enumerate(
        ("debug", "info", "notice", "warning", "error", "critical", "alert", "emergency")
    )
}


# Server→client requests a client must have declared support for (lifecycle page: capability negotiation).
_CLIENT_CAPABILITY = {
    "sampling/createMessage": "sampling",
    "elicitation/create": "elicitation",
    "roots/list": "roots",
}


class CancellationToken(TaskCancellationToken):
    """Cancellation of one request: also interrupts the coroutine serving it at its next `await`.

    Same interface as the tasks' token (`is_cancelled`, `check_cancelled`, `await wait()`).
    """

    def __init__(self, task: asyncio.Task[Any] | None = None) -> None:
        super().__init__()
        self._task = task
        self.reason: str | None = None

    def cancel(self, reason: str = "cancelled") -> None:
        if self.is_cancelled():
            return
        self.reason = reason
        super().cancel()
        if self._task is not None and not self._task.done():
            self._task.cancel()


@dataclass(frozen=True, slots=True)
class SessionContext:
    """The 0.3.0 shape `request_context.session_context.user`."""

    session_id: str | None
    user: Principal | None


class RequestContext:
    """Given to tools that take a `request_context` parameter."""

    def __init__(
        self,
        *,
        app: Any,
        session: Session,
        principal: Principal | None,
        request_id: str | int,
        method: str,
        params: Mapping[str, Any],
        emit: Emitter,
        cancel_token: CancellationToken,
        logging_enabled: bool,
        close_stream: Callable[[], Awaitable[None]] | None = None,
        task_context: Any = None,
    ) -> None:
        self.app = app
        self.session = session
        self.principal = principal
        self.request_id = request_id
        self.method = method
        meta = params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, Mapping) else None
        self.progress_token: str | int | None = (
            token if isinstance(token, str | int) and not isinstance(token, bool) else None
        )
        self.cancel_token = cancel_token
        self.task_context = task_context
        self._emit = emit
        self._logging_enabled = logging_enabled
        self._close_stream = close_stream
        self._last_progress: float | None = None

    @property
    def session_id(self) -> str | None:
        return self.session.id

    @property
    def session_context(self) -> SessionContext:
        return SessionContext(self.session.id, self.principal)

    async def report_progress(
        self, progress: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Send `notifications/progress` if the client asked for it (`_meta.progressToken`).

        Progress must increase (progress page): a value not above the last one is not sent.
        """
        if self.progress_token is None or (
            self._last_progress is not None and progress <= self._last_progress
        ):
            return
        self._last_progress = progress
        params: dict[str, Any] = {"progressToken": self.progress_token, "progress": progress}
        if total is not None:
            params["total"] = total
        if message is not None:
            params["message"] = message
        await self._emit(encode_notification("notifications/progress", params))

    async def log(self, level: str, data: Any, logger: str | None = None) -> None:
        """Send `notifications/message` when logging is advertised and `level` passes the client's level."""
        rank = LOG_LEVELS.get(level)
        if rank is None:
            raise ValueError(f"unknown log level `{level}`")
        if not self._logging_enabled or rank < LOG_LEVELS[self.session.log_level or "info"]:
            return
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        await self._emit(encode_notification("notifications/message", params))

    async def send_request(
        self, method: str, params: Mapping[str, Any] | None, *, timeout_seconds: float | None = 300.0
    ) -> Any:
        """Ask the client something (`sampling/createMessage`, `elicitation/create`, `roots/list`) and wait.

        The request travels on this request's stream; an error answer raises `MCPError`.
        """
        capability = _CLIENT_CAPABILITY.get(method)
        if capability is not None and capability not in self.session.client_capabilities:
            raise MCPError(
                ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY, f"the client does not support `{capability}`"
            )
        request_id = self.session.next_request_id()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.session.pending[request_id] = future
        try:
            await self._emit(encode_request(request_id, method, params))
            response = await asyncio.wait_for(future, timeout_seconds)
        except TimeoutError:
            raise MCPError(ErrorCode.TIMEOUT, f"the client did not answer `{method}` in time") from None
        finally:
            self.session.pending.pop(request_id, None)
        if response.error is not None:
            error = response.error
            raise MCPError(
                error.get("code", ErrorCode.INTERNAL_ERROR), str(error.get("message", "")), error.get("data")
            )
        return response.result

    async def elicit(self, message: str, requested_schema: Mapping[str, Any]) -> Any:
        """`elicitation/create` in form mode; returns the client's `ElicitResult`."""
        return await self.send_request(
            "elicitation/create", {"message": message, "requestedSchema": requested_schema}
        )

    async def sample(self, messages: list[dict[str, Any]], *, max_tokens: int, **options: Any) -> Any:
        """`sampling/createMessage`; returns the client's `CreateMessageResult`."""
        return await self.send_request(
            "sampling/createMessage", {"messages": messages, "maxTokens": max_tokens, **options}
        )

    async def close_sse_stream(self) -> None:
        """End this request's SSE response now; what follows is kept for the client to resume with
        `Last-Event-ID` (a no-op on stdio)."""
        if self._close_stream is not None:
            await self._close_stream()
