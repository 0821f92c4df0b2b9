"""Task-augmented `tools/call` and `tasks/*` on top of `pymcp.tasks.engine.TaskEngine`.

Two wire forms share the engine and its store: the 2025-11-25 tasks of a session (the client asks with
a `task` param) and the 2026-07-28 tasks extension (`io.modelcontextprotocol/tasks`: the server makes a
task-supporting tool a task whenever the request offers the extension). Either way a task belongs to
the caller's identity; a stateless caller without one gets a task only when no security is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.jsonrpc import encode_notification
from pymcp.protocol.stateless.input_required import read_input_responses, required_capability
from pymcp.protocol.stateless.mrtr import InputRequired
from pymcp.protocol.stateless.tasks import (
    TASKS_REQUIRED,
    create_task_result,
    detailed_task,
    task_ack,
    task_id,
)
from pymcp.server.handlers.ownership import TASK_VERSIONS
from pymcp.server.session import Session, SessionState
from pymcp.tasks.engine import TERMINAL_STATUSES


async def _discard(data: bytes) -> None:
    """The emitter of a stateless task: its request was answered already."""


class _Inbox:
    """The questions a stateless task waits on, and the answers `tasks/update` brought (this worker only)."""

    __slots__ = ("answers", "changed", "client", "handle", "pending")

    def __init__(self, client: StatelessRequest, handle: TaskHandle) -> None:
        self.client = client
        self.handle = handle
        self.pending: dict[str, dict[str, Any]] = {}
        self.answers: dict[str, Any] = {}
        self.changed = asyncio.Event()

    async def ask(self, requests: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
        """Park the task in `input_required` until every question has an answer."""
        for request in requests.values():
            self.client.require(required_capability(request))
        asked = {key: dict(request) for key, request in requests.items() if key not in self.answers}
        if asked:
            self.pending.update(asked)
            await self.handle.require_input("waiting for the client's answers")
            while any(key in self.pending for key in asked):
                self.changed.clear()
                await self.changed.wait()
            await self.handle.set_working()
        return {key: self.answers[key] for key in requests}

    def deliver(self, params: Mapping[str, Any]) -> None:
        """Take the well-formed answers of `tasks/update` to pending questions (others are ignored)."""
        answers = read_input_responses(params, self.pending)
        for key, answer in answers.items():
            self.answers[key] = answer
            del self.pending[key]
        if answers:
            self.changed.set()


if TYPE_CHECKING:
    from pymcp.protocol.stateless.envelope import StatelessRequest
    from pymcp.registry.tools import ToolDefinition
    from pymcp.server.call import Call, Handler
    from pymcp.server.handlers.ownership import TaskOwners
    from pymcp.server.handlers.runner import ToolRunner
    from pymcp.settings import ServerSettings
    from pymcp.tasks.engine import TaskEngine, TaskHandle

__all__ = ["TaskMethods"]


def _task_id(call: Call) -> str:
    task_id = call.params.get("taskId")
    if not isinstance(task_id, str):
        raise MCPError(ErrorCode.INVALID_PARAMS, "`taskId` must be a string")
    return task_id


class TaskMethods:
    """The tasks capability, given the collaborators it needs: the engine, the tool runner, who owns a
    task (`owners`) and how to find a session of this worker by id."""

    def __init__(
        self,
        engine: TaskEngine,
        *,
        runner: ToolRunner,
        owners: TaskOwners,
        settings: ServerSettings,
        session_by_id: Callable[[str], Session | None],
    ) -> None:
        self.engine = engine
        self.runner = runner
        self.owners = owners
        self.session_by_id = session_by_id
        self.max_argument_bytes = settings.max_task_argument_bytes
        self.capabilities = settings.capabilities
        engine.on_status(self._status_changed)
        self._inboxes: dict[str, _Inbox] = {}

    def serves(self, session: Session) -> bool:
        """Tasks exist from 2025-11-25 on, and only when task-augmented tool calls are advertised."""
        return session.protocol_version in TASK_VERSIONS and self.capabilities.tasks_tool_call

    def table(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {"tasks/get": self.get, "tasks/result": self.result}
        if self.capabilities.tasks_list:
            table["tasks/list"] = self.list
        if self.capabilities.tasks_cancel:
            table["tasks/cancel"] = self.cancel
        return table

    def _check_session(self, call: Call) -> None:
        if call.session.protocol_version not in TASK_VERSIONS:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"Method not found: {call.method}")

    async def call_tool(self, call: Call, tool: ToolDefinition, arguments: dict[str, Any]) -> dict[str, Any]:
        """Start the tool as a task and answer at once with `CreateTaskResult`."""
        task = call.params["task"]
        if not isinstance(task, dict):
            raise MCPError(ErrorCode.INVALID_PARAMS, "`task` must be an object")
        if tool.task_support == "forbidden":
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"tool `{tool.name}` cannot be called as a task")
        self._check_arguments(arguments)
        session = call.session
        # The POST is answered before the task ends: what the tool emits goes to the session's GET stream.
        background = replace(call, emit=self._standalone_emitter(session), close_stream=None)
        runner = self.runner
        progress_token = runner.request_context(call).progress_token

        async def run(handle: TaskHandle) -> dict[str, Any]:
            return await runner.run_tool(tool, arguments, background, handle)

        async def progress(current: float, total: float | None, message: str | None) -> None:
            params: dict[str, Any] = {"progressToken": progress_token, "progress": current}
            if total is not None:
                params["total"] = total
            if message is not None:
                params["message"] = message
            session.standalone.publish(encode_notification("notifications/progress", params))

        created = await self.engine.create(
            owner=self.owners.of_session_call(call),
            session_id=session.id,
            ttl_ms=task.get("ttl"),
            run=run,
            progress=progress if progress_token is not None else None,
        )
        return {"task": created}

    def _check_arguments(self, arguments: dict[str, Any]) -> None:
        """A task holds its arguments until it ends: refuse large ones (`max_task_argument_bytes`)."""
        limit = self.max_argument_bytes
        size = len(orjson.dumps(arguments, default=str))
        if size > limit:
            raise MCPError(
                ErrorCode.INVALID_PARAMS,
                f"task arguments take {size} bytes, more than `max_task_argument_bytes` ({limit})",
            )

    @staticmethod
    def _standalone_emitter(session: Session) -> Any:
        async def emit(data: bytes) -> None:
            session.standalone.publish(data)

        return emit

    async def get(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        return await self.engine.get(self.owners.of_session_call(call), _task_id(call))

    async def list(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        cursor = call.params.get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise MCPError(ErrorCode.INVALID_PARAMS, "invalid cursor")
        return await self.engine.list(self.owners.of_session_call(call), cursor)

    async def cancel(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        return await self.engine.cancel(self.owners.of_session_call(call), _task_id(call))

    async def result(self, call: Call) -> dict[str, Any]:
        self._check_session(call)
        owner = self.owners.of_session_call(call)
        return await self.engine.result(owner, _task_id(call))  # related-task `_meta` included

    # -- the 2026-07-28 tasks extension -----------------------------------------------------------------

    def extension_table(self) -> dict[str, Handler]:
        return {
            "tasks/get": self.extension_get,
            "tasks/update": self.extension_update,
            "tasks/cancel": self.extension_cancel,
        }

    async def call_tool_extension(
        self, call: Call, tool: ToolDefinition, arguments: dict[str, Any]
    ) -> dict[str, Any]:
        """A task when the request offers the extension (and the caller has an identity), else a plain call.

        A tool that requires a task answers -32021 naming the extension when it cannot be one.
        """
        assert call.client is not None
        owner = self.owners.of_stateless_call(call)
        if owner is None or not self.owners.can_create(call):
            if tool.task_support == "required":
                call.client.require(TASKS_REQUIRED)
                raise MCPError(
                    ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY,
                    f"tool `{tool.name}` runs only as a task, and tasks need an authenticated caller",
                    {"requiredCapabilities": dict(TASKS_REQUIRED)},
                    http_status=400,
                )
            return await self.runner.run_tool(tool, arguments, call)
        self._check_arguments(arguments)
        runner = self.runner
        client = call.client
        inboxes = self._inboxes

        async def run(handle: TaskHandle) -> dict[str, Any]:
            # The call is answered before the task ends: questions wait in the task for `tasks/update`.
            inbox = _Inbox(client, handle)
            inboxes[handle.task_id] = inbox
            background = replace(call, emit=_discard, close_stream=None, ask_input=inbox.ask)
            try:
                return await runner.run_tool(tool, arguments, background, handle)
            finally:
                inboxes.pop(handle.task_id, None)

        created = await self.engine.create(owner=owner, session_id=None, ttl_ms=None, run=run)
        return create_task_result(created)

    async def continue_as_task(
        self, call: Call, tool: ToolDefinition, work: Callable[[], Awaitable[Any]]
    ) -> dict[str, Any]:
        """The task that finishes a tool which asked its questions on the call (`continue_as_task`)."""
        owner = self.owners.of_stateless_call(call)
        assert owner is not None  # `can_create` said so

        async def run(handle: TaskHandle) -> dict[str, Any]:
            try:
                value = await work()
            except InputRequired:
                raise MCPError(
                    ErrorCode.INTERNAL_ERROR,
                    f"tool `{tool.name}` asked the client inside `continue_as_task`; ask before it",
                ) from None
            return tool.result_of(value)

        created = await self.engine.create(owner=owner, session_id=None, ttl_ms=None, run=run)
        return create_task_result(created)

    def _extension_owner(self, call: Call) -> str:
        owner = self.owners.of_stateless_call(call)
        if owner is None:
            raise MCPError(ErrorCode.INVALID_PARAMS, "task not found")
        return owner

    async def extension_get(self, call: Call) -> dict[str, Any]:
        identifier = task_id(call.params)
        task, result, error = await self.engine.peek(self._extension_owner(call), identifier)
        inbox = self._inboxes.get(identifier)
        pending = dict(inbox.pending) if inbox is not None else None
        return detailed_task(task, result=result, error=error, input_requests=pending)

    async def extension_update(self, call: Call) -> dict[str, Any]:
        identifier = task_id(call.params)
        await self.engine.peek(self._extension_owner(call), identifier)  # yours, or not found
        inbox = self._inboxes.get(identifier)
        if inbox is not None:
            inbox.deliver(call.params)
        return task_ack()

    async def extension_cancel(self, call: Call) -> dict[str, Any]:
        owner = self._extension_owner(call)
        identifier = task_id(call.params)
        task, _, _ = await self.engine.peek(owner, identifier)
        if task["status"] not in TERMINAL_STATUSES:
            # Lost a race with the task's end: cancelling a terminal task is still a plain ack.
            with contextlib.suppress(MCPError):
                await self.engine.cancel(owner, identifier)
        return task_ack()

    async def _status_changed(self, task: dict[str, Any], session_id: str | None) -> None:
        """Tell the session's client, from the worker whose GET stream (or stdio) it is reading.

        Every worker that holds a copy of the session hears the change; only one with the stream
        attached publishes, so the others do not buffer it for a replay that would repeat it. A client
        that is between two GET streams misses it and learns the status from `tasks/get`.
        """
        session = self.session_by_id(session_id) if session_id is not None else None
        if (
            session is not None
            and session.state is SessionState.READY
            and not session.closed
            and session.standalone.attached
        ):
            session.standalone.publish(encode_notification("notifications/tasks/status", task))
