"""Tasks (MCP 2025-11-25) and what tool code uses: `TaskHandle` (`task_context`), `CancellationToken`."""

from pymcp.tasks.engine import (
    CancellationToken,
    CancelledError,
    TaskContext,
    TaskEngine,
    TaskHandle,
    TaskStatus,
)

__all__ = ["CancellationToken", "CancelledError", "TaskContext", "TaskEngine", "TaskHandle", "TaskStatus"]
