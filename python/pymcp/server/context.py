"""What a running request can do: report progress, log, ask the client, notice cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextvars import ContextVar, Token
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import Response, encode_notification, encode_request
from pymcp.protocol.stateless.envelope import missing_capabilities
from pymcp.protocol.stateless.input_required import elicitation
from pymcp.tasks.engine import CancellationToken as TaskCancellationToken
from pymcp.tasks.engine import CancelledError

if TYPE_CHECKING:
    from pymcp.security.principal import Principal
    from pymcp.server.session import Session

__all__ = [
    "LOG_LEVELS",
    "AskInput",
    "CancellationToken",
    "CancelledError",
    "ContinueAsTask",
    "Emitter",
    "RequestContext",
    "SessionContext",
    "activate_lazily",
    "current_request_context",
    "deactivate",
]

Emitter = Callable[[bytes], Awaitable[None]]
"""Sends one encoded message on the request's own stream (the POST's SSE response, or stdout)."""

AskInput = Callable[[Mapping[str, Mapping[str, Any]]], Awaitable[dict[str, Any]]]
"""Where a 2026-07-28 request's questions go (key → `{"method", "params"}`), answered key → result: the
request's replayed round trip, or the inbox of a task that waits for `tasks/update`."""

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


_CURRENT: ContextVar[RequestContext | Callable[[], RequestContext] | None] = ContextVar(
    "pymcp_request_context", default=None
)


def current_request_context() -> RequestContext:
    """The context of the request being served, for code that cannot take a `request_context`
    parameter (prompt and resource functions); raises `LookupError` outside a request."""
    context = _CURRENT.get()
    if context is None:
        raise LookupError("no MCP request is being served here")
    if not isinstance(context, RequestContext):
        context = context()
        _CURRENT.set(context)
    return context


def activate_lazily(factory: Callable[[], RequestContext]) -> Token[Any]:
    """Make `factory()` the current context, built only if someone asks (most tools never do); pass the
    token to `deactivate` when the call is over."""
    return _CURRENT.set(factory)


def deactivate(token: Token[Any]) -> None:
    """Undo `activate_lazily` or `RequestContext.activate` once the call is over: the context references
    the request's task (through its cancel token), so leaving it set would make a reference cycle per
    request that only the garbage collector frees."""
    _CURRENT.reset(token)


class ContinueAsTask(BaseException):
    """Raised by `RequestContext.continue_as_task`: the call answers with a task that runs `work`.

    A `BaseException`, so `except Exception` in tool code does not swallow it.
    """

    def __init__(self, work: Callable[[], Awaitable[Any]]) -> None:
        super().__init__("continue as a task")
        self.work = work


class CancellationToken(TaskCancellationToken):
    """Cancellation of one request: also interrupts the coroutine serving it at its next `await`.

    Same interface as the tasks' token (`is_cancelled`, `check_cancelled`, `await wait()`).
    """

    reason: str | None = None

    def __init__(self, task: asyncio.Task[Any] | None = None) -> None:
        self._task = task

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
    """Given to tools that take a `request_context` parameter.

    Asking the client (`elicit`, `sample`, `list_roots`, `request_input`) works on both revisions: on a
    2025-11-25 session it sends a request on this request's stream and waits; on a 2026-07-28 request
    it answers `input_required` and the client retries, replaying the tool from the start with the
    answers so far (so do nothing irreversible before the last question).
    """

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
        ask_input: AskInput | None = None,
        can_become_task: bool = False,
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
        self._ask_input = ask_input
        self._asked = 0
        self._can_become_task = can_become_task

    def activate(self) -> Token[Any]:
        """Make this the context `current_request_context()` returns in the running task (until
        `deactivate` is given the token this returns)."""
        return _CURRENT.set(self)

    @property
    def session_id(self) -> str | None:
        return self.session.id

    @property
    def session_context(self) -> SessionContext:
        return SessionContext(self.session.id, self.principal)

    @property
    def client_capabilities(self) -> Mapping[str, Any]:
        """What the client declared: at `initialize`, or in this request's `_meta` (2026-07-28)."""
        return self.session.client_capabilities

    def client_supports(self, required: Mapping[str, Any]) -> bool:
        """Whether the client declared everything in `required`, e.g. `{"sampling": {}}`."""
        return not missing_capabilities(self.session.client_capabilities, required)

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

    async def log(self, level: str, data: Any, logger: str | None = None) -> bool:
        """Send `notifications/message` when logging is advertised and `level` passes the client's
        level; whether it was sent."""
        rank = LOG_LEVELS.get(level)
        if rank is None:
            raise ValueError(f"unknown log level `{level}`")
        if not self._logging_enabled or rank < LOG_LEVELS[self.session.log_level or "info"]:
            return False
        params: dict[str, Any] = {"level": level, "data": data}
        if logger is not None:
            params["logger"] = logger
        await self._emit(encode_notification("notifications/message", params))
        return True

    async def notify(self, method: str, params: Mapping[str, Any] | None) -> None:
        """Send a notification on this request's stream."""
        await self._emit(encode_notification(method, params))

    async def send_request(
        self, method: str, params: Mapping[str, Any] | None, *, timeout_seconds: float | None = 300.0
    ) -> Any:
        """Ask the client something (`sampling/createMessage`, `elicitation/create`, `roots/list`) and wait.

        The request travels on this request's stream; an error answer raises `MCPError`. On a 2026-07-28
        request the question goes back to the client in an `input_required` result instead.
        """
        if self._ask_input is not None:
            return await self._ask_one({"method": method, "params": dict(params or {})})
        try:
            _, response = await self.exchange(method, params, timeout_seconds=timeout_seconds)
        except TimeoutError:
            raise MCPError(ErrorCode.TIMEOUT, f"the client did not answer `{method}` in time") from None
        if response.error is not None:
            error = response.error
            raise MCPError(
                error.get("code", ErrorCode.INTERNAL_ERROR), str(error.get("message", "")), error.get("data")
            )
        return response.result

    async def exchange(
        self, method: str, params: Mapping[str, Any] | None, *, timeout_seconds: float | None
    ) -> tuple[str, Response]:
        """Send one request to the client on this request's stream; (its id, the client's response).

        Raises `TimeoutError` when no answer came in `timeout_seconds` (None waits as long as the session).
        On a 2026-07-28 request the question goes back in an `input_required` result, like `send_request`.
        """
        if self._ask_input is not None:
            result = await self._ask_one({"method": method, "params": dict(params or {})})
            return f"q{self._asked}", Response(f"q{self._asked}", result)
        capability = _CLIENT_CAPABILITY.get(method)
        if capability is not None and capability not in self.session.client_capabilities:
            raise MCPError(
                ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY, f"the client does not support `{capability}`"
            )
        request_id = self.session.next_request_id()
        future: asyncio.Future[Response] = asyncio.get_running_loop().create_future()
        self.session.pending[request_id] = future
        try:
            await self._emit(encode_request(request_id, method, params))
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            async with asyncio.timeout(timeout_seconds):
                return request_id, await future
        finally:
            self.session.pending.pop(request_id, None)

    async def _ask_one(self, request: Mapping[str, Any]) -> Any:
        # Numbered in ask order: a replayed handler asks the same questions under the same keys.
        self._asked += 1
        key = f"q{self._asked}"
        ask = self._ask_input
        assert ask is not None  # only called when set
        return (await ask({key: request}))[key]

    async def request_input(self, requests: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """Ask several questions at once (key → `{"method", "params"}`); returns key → answer.

        On a 2026-07-28 request they go out together in one `input_required` result; on a session they
        are asked one after the other.
        """
        if self._ask_input is not None:
            return await self._ask_input(requests)
        return {
            key: await self.send_request(str(request["method"]), request.get("params"))
            for key, request in requests.items()
        }

    async def elicit(self, message: str, requested_schema: Mapping[str, Any]) -> Any:
        """`elicitation/create` in form mode; returns the client's `ElicitResult`."""
        if self._ask_input is not None:
            return await self._ask_one(elicitation(message, requested_schema))
        return await self.send_request(
            "elicitation/create", {"message": message, "requestedSchema": requested_schema}
        )

    async def sample(self, messages: list[dict[str, Any]], *, max_tokens: int, **options: Any) -> Any:
        """`sampling/createMessage`; returns the client's `CreateMessageResult`."""
        return await self.send_request(
            "sampling/createMessage", {"messages": messages, "maxTokens": max_tokens, **options}
        )

    async def continue_as_task(self, work: Callable[[], Awaitable[Any]]) -> Any:
        """Finish the tool with `work()`, as a task when the client offers the tasks extension.

        On a 2026-07-28 call that offers `io.modelcontextprotocol/tasks` the call answers at once with
        the task and `work()`'s value becomes the task's result: ask your questions before this (they go
        through the call's input-required rounds), not inside `work`. Anywhere else `work()` runs now
        and its value is returned.
        """
        if self._can_become_task:
            raise ContinueAsTask(work)
        return await work()

    async def list_roots(self) -> Any:
        """`roots/list`; returns the client's `ListRootsResult`."""
        return await self.send_request("roots/list", {})

    async def close_sse_stream(self) -> None:
        """End this request's SSE response now; what follows is kept for the client to resume with
        `Last-Event-ID` (a no-op on stdio)."""
        if self._close_stream is not None:
            await self._close_stream()
