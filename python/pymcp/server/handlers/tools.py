"""`tools/list` and `tools/call` (on a session, and at 2026-07-28 with its headers and tasks extension)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.param_headers import check_param_headers
from pymcp.server.context import ContinueAsTask
from pymcp.server.handlers.common import object_param, string_param

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.registry.tools import ToolDefinition
    from pymcp.server.call import Call
    from pymcp.server.handlers.common import Visibility
    from pymcp.server.handlers.runner import ToolRunner
    from pymcp.server.handlers.tasks import TaskMethods

__all__ = ["ToolHandlers"]


class ToolHandlers:
    """The tools room, given the registries, what the caller may see, the runner and (when the tasks
    capability is on) the task handlers that take task-augmented calls."""

    __slots__ = ("registries", "run_tool", "tasks", "visibility")

    def __init__(
        self,
        *,
        registries: RegistryManager,
        visibility: Visibility,
        runner: ToolRunner,
        tasks: TaskMethods | None,
    ) -> None:
        self.registries = registries
        self.visibility = visibility
        self.run_tool = runner.run_tool  # bound once: `tools/call` is the hot path
        self.tasks = tasks

    async def list_tools(self, call: Call) -> dict[str, Any]:
        return self.visibility.list_page(
            call, "tools/list", "tools", "tools", self.registries.tools.wire_items()
        )

    def _tool_call(self, call: Call) -> tuple[ToolDefinition, dict[str, Any]]:
        name = string_param(call.params, "name")
        arguments = object_param(call.params, "arguments")
        tool = self.registries.tools.get(name)
        if tool is None:
            raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown tool `{name}`")
        return tool, arguments

    def call_tool(self, call: Call) -> Awaitable[dict[str, Any]]:
        # Not a coroutine of its own: it only picks the one that runs the call (the hot path).
        tool, arguments = self._tool_call(call)
        tasks = self.tasks
        if tasks is not None and tasks.serves(call.session):
            if "task" in call.params:
                return tasks.call_tool(call, tool, arguments)
            if tool.task_support == "required":
                raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"tool `{tool.name}` must be called as a task")
        return self.run_tool(tool, arguments, call)

    async def call_tool_stateless(self, call: Call) -> dict[str, Any]:
        """`tools/call` at 2026-07-28: `Mcp-Param-*` headers checked; the server decides what is a task."""
        tool, arguments = self._tool_call(call)
        if call.headers is not None and tool.header_map:
            check_param_headers(tool.header_map, arguments, call.headers)
        tasks = self.tasks
        if tasks is not None and tool.task_support != "forbidden":
            return await tasks.call_tool_extension(call, tool, arguments)
        try:
            return await self.run_tool(tool, arguments, call)
        except ContinueAsTask as escalation:
            assert tasks is not None  # only raised when a task can be created
            return await tasks.continue_as_task(call, tool, escalation.work)
