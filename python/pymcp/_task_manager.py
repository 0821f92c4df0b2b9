"""0.3.0's `TaskManager` for code that looks tasks up itself: a thin view of the app's `TaskEngine`.

Reads and cancels go through the engine with the same ownership as `tasks/*` (the principal's stable
identity, or the session for anonymous callers); tasks are created by task-augmented `tools/call` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymcp.errors import MCPError
from pymcp.server.handlers.ownership import task_owner

__all__ = ["TaskManager", "TaskRecord", "get_task_manager"]


@dataclass(frozen=True, slots=True)
class TaskRecord:
    """One task as `tasks/get` shows it (0.3.0 field names; `to_wire()` gives the MCP `Task`)."""

    task_id: str
    status: str
    status_message: str | None
    ttl: int | None
    poll_interval: int | None
    wire: dict[str, Any]

    @classmethod
    def from_wire(cls, task: dict[str, Any]) -> TaskRecord:
        return cls(
            task["taskId"],
            task["status"],
            task.get("statusMessage"),
            task.get("ttl"),
            task.get("pollInterval"),
            task,
        )

    def is_terminal(self) -> bool:
        return self.status in ("completed", "failed", "cancelled")

    def to_wire(self) -> dict[str, Any]:
        return dict(self.wire)


class TaskManager:
    """`get_task`, `list_tasks` and `mark_task_cancelled` of 0.3.0, over the app's task engine."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine

    async def get_task(self, task_id: str, session_id: str, *, principal: Any = None) -> TaskRecord | None:
        try:
            return TaskRecord.from_wire(await self._engine.get(task_owner(principal, session_id), task_id))
        except MCPError:
            return None  # unknown, expired or someone else's

    async def list_tasks(
        self, session_id: str, cursor: str | None, *, principal: Any = None, page_size: int = 50
    ) -> tuple[list[TaskRecord], str | None, str | None]:
        """(tasks newest first, next cursor, error); the page size is the app's `list_page_size`."""
        del page_size
        try:
            page = await self._engine.list(task_owner(principal, session_id), cursor)
        except MCPError:
            return [], None, "Invalid cursor"
        return [TaskRecord.from_wire(task) for task in page["tasks"]], page.get("nextCursor"), None

    async def mark_task_cancelled(
        self, task_id: str, session_id: str, *, principal: Any = None
    ) -> TaskRecord | None:
        """Cancel a running task; a finished one is returned as it is, an unknown one is None."""
        record = await self.get_task(task_id, session_id, principal=principal)
        if record is None or record.is_terminal():
            return record
        try:
            return TaskRecord.from_wire(await self._engine.cancel(task_owner(principal, session_id), task_id))
        except MCPError:
            return await self.get_task(task_id, session_id, principal=principal)  # finished meanwhile


def get_task_manager(app: Any) -> TaskManager:
    """The task manager view of an app made by `create_app` (tasks must be enabled)."""
    engine = getattr(getattr(app, "state", None), "task_engine", None)
    if engine is None:
        raise LookupError("this app has no task engine: is `CapabilitySettings.tasks_enabled` off?")
    return TaskManager(engine)
