"""Wire shapes of the tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) from the engine's tasks.

`TaskEngine` keeps 2025-11-25 task objects (`ttl`, `pollInterval`; a tool result with `isError`
ends the task as `failed`). The extension spells and reads them differently:

- `tools/call` answers a flat `CreateTaskResult`: `resultType: "task"` next to the task fields,
  durations renamed `ttlMs` / `pollIntervalMs`, never a nested `task`, `result`, `error` or
  `requestState`;
- `tasks/get` answers the task with `resultType: "complete"` and the outcome inlined: `result` when
  completed, `error` when failed, `inputRequests` while `input_required`;
- `failed` means a protocol-level error only: a tool that ran and reported `isError` is `completed`;
- `tasks/update` and `tasks/cancel` answer an empty `{"resultType": "complete"}`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.envelope import TASKS_EXTENSION
from pymcp.protocol.stateless.results import RESULT_COMPLETE

__all__ = ["RESULT_TASK", "TASKS_REQUIRED", "create_task_result", "detailed_task", "task_ack", "task_id"]

RESULT_TASK = "task"
# What -32021 names when a tool can only run as a task and the request did not offer the extension.
TASKS_REQUIRED: Mapping[str, Any] = {"extensions": {TASKS_EXTENSION: {}}}
_RENAMED = {"ttl": "ttlMs", "pollInterval": "pollIntervalMs"}
_KEPT = ("taskId", "status", "statusMessage", "createdAt", "lastUpdatedAt")


def _task_fields(task: Mapping[str, Any]) -> dict[str, Any]:
    fields = {key: task[key] for key in _KEPT if task.get(key) is not None}
    for old, new in _RENAMED.items():
        if old in task:
            fields[new] = task[old]
    return fields


def create_task_result(task: Mapping[str, Any]) -> dict[str, Any]:
    """The `CreateTaskResult` for a task the engine has stored (so `tasks/get` already finds it)."""
    return {"resultType": RESULT_TASK, **_task_fields(task)}


def detailed_task(
    task: Mapping[str, Any],
    *,
    result: Mapping[str, Any] | None = None,
    error: MCPError | None = None,
    input_requests: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The `tasks/get` result: the task, `resultType: "complete"` and whatever outcome it has.

    A `failed` task that kept a tool result (the tool reported `isError`) is reported `completed`.
    """
    detailed = {"resultType": RESULT_COMPLETE, **_task_fields(task)}
    if result is not None and detailed.get("status") == "failed":
        detailed["status"] = "completed"
    if detailed.get("status") == "completed" and result is not None:
        detailed["result"] = dict(result)
    elif detailed.get("status") == "failed" and error is not None:
        detailed["error"] = error.to_error()
    elif detailed.get("status") == "input_required" and input_requests:
        detailed["inputRequests"] = dict(input_requests)
    return detailed


def task_ack() -> dict[str, Any]:
    """The answer to `tasks/update` and `tasks/cancel` (also for a task that already ended)."""
    return {"resultType": RESULT_COMPLETE}


def task_id(params: Mapping[str, Any]) -> str:
    """`params.taskId`, or -32602 when it is missing or not a string."""
    value = params.get("taskId")
    if not isinstance(value, str) or not value:
        raise MCPError(ErrorCode.INVALID_PARAMS, "`taskId` must be a non-empty string")
    return value
