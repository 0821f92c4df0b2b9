"""Tasks (MCP 2025-11-25) and what tool code uses: `TaskHandle` (`task_context`), `CancellationToken`.

The 0.3.0 names are here too: the helpers tool code calls work, `get_task_manager(app)` is a view of the
app's `TaskEngine`; the 0.3.0 cancellation and progress internals say what to use instead.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pymcp._lazy import lazy_exports
from pymcp._unsupported import unsupported, unsupported_function
from pymcp.tasks.engine import (
    CancellationToken,
    CancelledError,
    TaskContext,
    TaskEngine,
    TaskHandle,
    TaskStatus,
)

__all__ = [
    "CancellationManager",
    "CancellationToken",
    "CancelledError",
    "ProgressTracker",
    "TaskContext",
    "TaskEngine",
    "TaskHandle",
    "TaskManager",
    "TaskRecord",
    "TaskStatus",
    "build_progress_notification",
    "get_cancellation_manager",
    "get_task_executor",
    "get_task_manager",
]

_CANCEL = (
    "cancellation is per request: take a `cancel_token` parameter, or use `request_context.cancel_token`"
)
CancellationManager = unsupported("pymcp.tasks.CancellationManager", _CANCEL)
get_cancellation_manager = unsupported_function("pymcp.tasks.get_cancellation_manager", _CANCEL)
ProgressTracker = unsupported(
    "pymcp.tasks.ProgressTracker",
    "report progress with `request_context.report_progress` or `task_context.send_progress`",
)


# The 0.3.0 task manager view reads the server's task ownership (imported on use: no cycle).
__getattr__, __dir__ = lazy_exports(
    __name__, dict.fromkeys(("TaskManager", "TaskRecord", "get_task_manager"), "pymcp._task_manager")
)


def build_progress_notification(
    progress_token: str,
    current: float,
    total: float | None = None,
    message: str | None = None,
    task_id: str | None = None,
) -> dict[str, Any]:
    """A `notifications/progress` message; the related task goes in `params._meta` (0.3.0 put it
    beside `params`, where the spec has no `_meta`)."""
    params: dict[str, Any] = {"progressToken": progress_token, "progress": current}
    if total is not None:
        params["total"] = total
    if message is not None:
        params["message"] = message
    if task_id:
        params["_meta"] = {"io.modelcontextprotocol/related-task": {"taskId": task_id}}
    return {"jsonrpc": "2.0", "method": "notifications/progress", "params": params}


def get_task_executor(app: Any, max_workers: int = 8) -> ThreadPoolExecutor:
    """A thread pool kept on the app, for blocking work a tool hands off (0.3.0 helper)."""
    executor = getattr(app.state, "task_executor", None)
    if not isinstance(executor, ThreadPoolExecutor):
        executor = ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="pymcp-task")
        app.state.task_executor = executor
    return executor
