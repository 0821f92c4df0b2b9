"""`prompts/list` and `prompts/get`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.server.context import deactivate
from pymcp.server.handlers.common import object_param, shielded, string_param

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.server.call import Call
    from pymcp.server.handlers.common import Visibility
    from pymcp.server.handlers.runner import ToolRunner

__all__ = ["PromptHandlers"]


class PromptHandlers:
    """The prompts room, given the registries, what the caller may see, and the runner's request
    context (a prompt is rendered with it, like a tool)."""

    __slots__ = ("registries", "runner", "visibility")

    def __init__(self, *, registries: RegistryManager, visibility: Visibility, runner: ToolRunner) -> None:
        self.registries = registries
        self.visibility = visibility
        self.runner = runner

    async def list_prompts(self, call: Call) -> dict[str, Any]:
        items = self.registries.prompts.wire_items()
        return self.visibility.list_page(call, "prompts/list", "prompts", "prompts", items)

    async def get_prompt(self, call: Call) -> dict[str, Any]:
        name = string_param(call.params, "name")
        arguments = object_param(call.params, "arguments")
        prompt = self.registries.prompts.get(name)
        if prompt is None:
            raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown prompt `{name}`")
        context = self.runner.request_context(call)
        active = context.activate()
        try:
            return await shielded(f"prompt `{name}`", prompt.render(arguments, context))
        finally:
            deactivate(active)
