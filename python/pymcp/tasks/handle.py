"""What the code a task runs is given: `TaskHandle` (`task_context`) with its `CancellationToken`, and
the task statuses."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from enum import StrEnum
from typing import Any, Final, Protocol

from pymcp.errors import TaskCancelled
from pymcp.state.base import Transition

__all__ = [
    "ACTIVE_STATUSES",
    "RELATED_TASK_META_KEY",
    "TERMINAL_STATUSES",
    "CancellationToken",
    "CancelledError",
    "ProgressSink",
    "StatusCallback",
    "TaskContext",
    "TaskHandle",
    "TaskStatus",
    "TaskTransitions",
]


class TaskStatus(StrEnum):
    """The MCP task statuses (members compare equal to their wire strings)."""

    WORKING = "working"
    INPUT_REQUIRED = "input_required"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


RELATED_TASK_META_KEY: Final = "io.modelcontextprotocol/related-task"
ACTIVE_STATUSES: Final = frozenset({TaskStatus.WORKING.value, TaskStatus.INPUT_REQUIRED.value})
TERMINAL_STATUSES: Final = frozenset(
    {TaskStatus.COMPLETED.value, TaskStatus.FAILED.value, TaskStatus.CANCELLED.value}
)

ProgressSink = Callable[[float, float | None, str | None], Awaitable[None]]
"""Sends one `notifications/progress` (progress, total, message) to the client that asked for progress."""
StatusCallback = Callable[[dict[str, Any], str | None], Awaitable[None]]
"""Receives (MCP Task object, session id of the creating request) on every status change."""


CancelledError = TaskCancelled
"""Raised by `CancellationToken.check_cancelled` (and by `TaskHandle` calls) once a task is cancelled."""


class CancellationToken:
    """Tells tool code its task was cancelled; safe to poll from worker threads (`is_cancelled`)."""

    # Class defaults, set on the instance only when they change: one token per request should cost
    # nothing. A plain flag: writing and reading a bool is atomic, so worker threads can poll it;
    # `wait` makes an asyncio event of its own.
    _cancelled: bool = False
    _loop: asyncio.AbstractEventLoop | None = None
    _event: asyncio.Event | None = None

    def cancel(self) -> None:
        self._cancelled = True
        if self._loop is not None and self._event is not None:
            self._loop.call_soon_threadsafe(self._event.set)

    def is_cancelled(self) -> bool:
        return self._cancelled

    def check_cancelled(self) -> None:
        if self._cancelled:
            raise CancelledError("the task was cancelled")

    async def wait(self) -> None:
        """Return once the task is cancelled."""
        if self._event is None:
            self._loop = asyncio.get_running_loop()
            self._event = asyncio.Event()
        if self._cancelled:
            return
        await self._event.wait()


class TaskTransitions(Protocol):
    """What a `TaskHandle` needs of its `TaskEngine`: moving its task from an active status."""

    async def _transition(
        self,
        owner: str,
        task_id: str,
        status: str,
        message: str | None,
        from_statuses: Iterable[str],
        *,
        payload: dict[str, Any] | None = None,
    ) -> Transition: ...


class TaskHandle:
    """Given to the code a task runs (tools get it as `task_context`)."""

    def __init__(
        self,
        engine: TaskTransitions,
        owner: str,
        task_id: str,
        session_id: str | None,
        progress: ProgressSink | None,
    ) -> None:
        self.task_id = task_id
        self.session_id = session_id
        self.cancel_token = CancellationToken()
        self._engine = engine
        self._owner = owner
        self._progress = progress
        self._last_progress: tuple[float, float | None] | None = None

    async def set_working(self, message: str | None = None) -> None:
        await self._move("working", message)

    async def require_input(self, message: str | None = None) -> None:
        await self._move("input_required", message)

    async def send_progress(
        self, current: float, total: float | None = None, message: str | None = None
    ) -> None:
        """Report progress; a no-op unless the client asked for progress on the call that created the task."""
        if self._progress is None:
            return
        self._last_progress = (current, total)
        await self._progress(current, total, message)

    async def finish_progress(self, message: str | None = None) -> None:
        """Report the final step (progress = total) unless it was already sent: progress must increase."""
        if self._last_progress is None:
            return
        current, total = self._last_progress
        if total is not None and current != total:
            await self.send_progress(total, total, message)

    async def _move(self, status: str, message: str | None) -> None:
        change = await self._engine._transition(self._owner, self.task_id, status, message, ACTIVE_STATUSES)
        if not change.applied:
            # The task is over (cancelled, failed elsewhere or expired): stop the code that runs it.
            self.cancel_token.cancel()
            raise CancelledError("the task is no longer running")


TaskContext = TaskHandle
"""The 0.3.0 name of the object tools receive as `task_context`."""
