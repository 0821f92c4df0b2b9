"""The tool runner: checks a tool's arguments, runs it with its request context, shapes its result.

Shared by `tools/call` and the tasks that run a tool later; prompts and resources take their request
context from here too.
"""

from __future__ import annotations

import logging
from contextvars import Token
from typing import TYPE_CHECKING, Any

from pymcp.errors import InvalidArgument, MCPError
from pymcp.registry.tools import pending
from pymcp.server.context import RequestContext, activate_lazily, deactivate

if TYPE_CHECKING:
    from pymcp.registry.tools import ToolDefinition
    from pymcp.server.call import Call
    from pymcp.server.handlers.ownership import TaskOwners
    from pymcp.settings import CapabilitySettings

__all__ = ["ToolRunner", "tool_error"]

logger = logging.getLogger("pymcp.server")


def tool_error(text: str) -> dict[str, Any]:
    return {"isError": True, "content": [{"type": "text", "text": text}]}


class ToolRunner:
    """Runs tools for `app` (what `RequestContext.app` shows); `task_owners` is set when tasks are on,
    so a stateless call's context can say whether it may become a task."""

    __slots__ = ("app", "capabilities", "task_owners")

    def __init__(self, *, app: Any, capabilities: CapabilitySettings, task_owners: TaskOwners | None) -> None:
        self.app = app
        self.capabilities = capabilities
        self.task_owners = task_owners

    async def run_tool(
        self, tool: ToolDefinition, arguments: dict[str, Any], call: Call, task_context: Any = None
    ) -> dict[str, Any]:
        """Check the arguments, run the tool and shape its `CallToolResult`."""
        try:
            checked = tool.check_arguments(arguments)
        except InvalidArgument as error:
            # SEP-1303: a tool execution error the model can read and correct, not a protocol error.
            return tool_error(f"invalid arguments: {error}")
        if tool.injected:
            active = self._inject(tool, checked, call, task_context)
        else:
            # For code that finds the request itself (`current_request_context`, 0.3.0's helpers).
            active = activate_lazily(lambda: self.request_context(call, task_context))
        try:
            value = tool.start(checked)
            if pending(value):
                value = await value
        except MCPError:
            raise
        except Exception:
            logger.exception("tool `%s` failed", tool.name)
            return tool_error(f"tool `{tool.name}` failed")
        finally:
            deactivate(active)
        return tool.result_of(value)

    def _inject(
        self, tool: ToolDefinition, arguments: dict[str, Any], call: Call, task_context: Any
    ) -> Token[Any]:
        if "cancel_token" in tool.injected:
            arguments["cancel_token"] = (
                task_context.cancel_token if task_context is not None else call.cancel_token
            )
        if "task_context" in tool.injected:
            arguments["task_context"] = task_context
        if "request_context" in tool.injected:
            context = arguments["request_context"] = self.request_context(call, task_context)
            return context.activate()
        return activate_lazily(lambda: self.request_context(call, task_context))

    def request_context(self, call: Call, task_context: Any = None) -> RequestContext:
        owners = self.task_owners
        return RequestContext(
            app=self.app,
            session=call.session,
            principal=call.principal,
            request_id=call.request_id,
            method=call.method,
            params=call.params,
            emit=call.emit,
            cancel_token=call.cancel_token,
            # 2026-07-28: no log message unless this very request asked for a level.
            logging_enabled=self.capabilities.logging_enabled
            and (call.client is None or call.client.log_level is not None),
            close_stream=call.close_stream,
            task_context=task_context,
            ask_input=call.ask_input,
            can_become_task=task_context is None and owners is not None and owners.can_create(call),
        )
