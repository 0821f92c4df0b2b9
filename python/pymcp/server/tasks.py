"""Task-augmented `tools/call` and `tasks/*` (2025-11-25) on top of `pymcp.tasks.engine.TaskEngine`."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import encode_notification
from pymcp.security.principal import principal_identity
from pymcp.server.session import Session, SessionState

if TYPE_CHECKING:
    from pymcp.registry.tools import ToolDefinition
    from pymcp.server.dispatch import Call, Dispatcher, Handler
    from pymcp.tasks.engine import TaskEngine, TaskHandle

__all__ = ["RELATED_TASK", "TASK_VERSIONS", "TaskMethods"]

RELATED_TASK = "io.modelcontextprotocol/related-task"
TASK_VERSIONS = frozenset(("2025-11-25",))


def _owner(call: Call) -> str:
    """Tasks belong to the caller's stable identity, or to the session for anonymous callers."""
    return principal_identity(call.principal) or f"session:{call.session.id}"


def _task_id(call: Call) -> str:
    task_id = call.params.get("taskId")
    if not isinstance(task_id, str):
        raise MCPError(ErrorCode.INVALID_PARAMS, "`taskId` must be a string")
    return task_id


class TaskMethods:
    """The tasks capability of one dispatcher."""

    def __init__(self, dispatcher: Dispatcher, engine: TaskEngine) -> None:
        self.dispatcher = dispatcher
        self.engine = engine
        self.capabilities = dispatcher.settings.capabilities
        engine.on_status(self._status_changed)

    def serves(self, session: Session) -> bool:
        """Tasks exist from 2025-11-25 on, and only when task-augmented tool calls are advertised."""
        return session.protocol_version in TASK_VERSIONS and self.capabilities.tasks_tool_call

    def capability(self) -> dict[str, Any]:
        capability: dict[str, Any] = {}
        if self.capabilities.tasks_list:
            capability["list"] = {}
        if self.capabilities.tasks_cancel:
            capability["cancel"] = {}
        if self.capabilities.tasks_tool_call:
            capability["requests"] = {"tools": {"call": {}}}
        return capability

    def table(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {"tasks/get": self.get, "tasks/result": self.result}
        if self.capabilities.tasks_list:
            table["tasks/list"] = self.list
        if self.capabilities.tasks_cancel:
            table["tasks/cancel"] = self.cancel
        return table

    def _check_session(self, call: Call) -> None:
        if call.session.protocol_version not in TASK_VERSIONS:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"method not found: `{call.method}`")

    async def call_tool(self, call: Call, tool: ToolDefinition, arguments: dict[str, Any]) -> dict[str, Any]:
        """Start the tool as a task and answer at once with `CreateTaskResult`."""
        task = call.params["task"]
        if not isinstance(task, dict):
            raise MCPError(ErrorCode.INVALID_PARAMS, "`task` must be an object")
        if tool.task_support == "forbidden":
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"tool `{tool.name}` cannot be called as a task")
        session = call.session
        # The POST is answered before the task ends: what the tool emits goes to the session's GET stream.
        background = replace(call, emit=self._standalone_emitter(session), close_stream=None)
        handlers = self.dispatcher.handlers
        progress_token = handlers.request_context(call).progress_token

        async def run(handle: TaskHandle) -> dict[str, Any]:
            return await handlers.run_tool(tool, arguments, background, handle)

        async def progress(current: float, total: float | None, message: str | None) -> None:
            params: dict[str, Any] = {"progressToken": progress_token, "progress": current}
            if total is not None:
                params["total"] = total
            if message is not None:
                params["message"] = message
            session.standalone.publish(encode_notification("notifications/progress", params))

        created = await self.engine.create(
            owner=_owner(call),
            session_id=session.id,
            ttl_ms=task.get("ttl"),
            run=run,
            progress=progress if progress_token is not None else None,
        )
        return {"task": created}

    @staticmethod
    def _standalone_emitter(session: Session) -> Any:
        async def emit(data: bytes) -> None:
            session.standalone.publish(data)

        return emit

    async def get(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        return await self.engine.get(_owner(call), _task_id(call))

    async def list(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        cursor = call.params.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise MCPError(ErrorCode.INVALID_PARAMS, "invalid cursor")
        return await self.engine.list(_owner(call), cursor)

    async def cancel(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        return await self.engine.cancel(_owner(call), _task_id(call))

    async def result(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        task_id = _task_id(call)
        result = dict(await self.engine.result(_owner(call), task_id))
        meta = dict(result.get("_meta") or {})
        meta[RELATED_TASK] = {"taskId": task_id}
        result["_meta"] = meta
        return result

    async def _status_changed(self, task: dict[str, Any], session_id: str | None) -> None:
        session = self.dispatcher.session_by_id(session_id) if session_id is not None else None
        if session is not None and session.state is SessionState.READY and not session.closed:
            session.standalone.publish(encode_notification("notifications/tasks/status", task))
