"""Request handlers: tools, prompts, resources, completion, logging, ping."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Mapping
from contextvars import Token
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, InvalidArgument, MCPError, jsonrpc_error
from pymcp.protocol.stateless.param_headers import check_param_headers
from pymcp.registry.resources import ResourceTemplateDefinition
from pymcp.registry.tools import ToolDefinition
from pymcp.server.context import LOG_LEVELS, ContinueAsTask, RequestContext, activate_lazily, deactivate
from pymcp.server.pagination import page

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.server.call import Call, Handler
    from pymcp.server.tasks import TaskMethods
    from pymcp.settings import ServerSettings

__all__ = ["Handlers"]

logger = logging.getLogger("pymcp.server")
_MAX_COMPLETIONS = 100


def _string(params: Mapping[str, Any], key: str) -> str:
    value = params.get(key)
    if not isinstance(value, str):
        raise MCPError(ErrorCode.INVALID_PARAMS, f"`{key}` must be a string")
    return value


def _object(params: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = params.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise MCPError(ErrorCode.INVALID_PARAMS, f"`{key}` must be an object")
    return value


async def _shielded(what: str, work: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """Run user code: an `MCPError` it raises is answered as is; anything else is logged and becomes
    `-32603 "<what> failed"`, with no detail for the client."""
    try:
        return await work
    except Exception as exc:
        error = jsonrpc_error(exc, internal=f"{what} failed")
        if error is exc:
            raise
        logger.exception("%s failed", what)
        raise error from None


def _tool_error(text: str) -> dict[str, Any]:
    return {"isError": True, "content": [{"type": "text", "text": text}]}


class Handlers:
    """The handler of every method the server answers, given the collaborators it needs (the dispatcher
    sets `tasks` when the tasks capability is on)."""

    def __init__(self, *, app: Any, settings: ServerSettings, registries: RegistryManager, gate: Any) -> None:
        self.app = app
        self.gate = gate
        self.registries = registries
        self.capabilities = settings.capabilities
        self.page_size = self.capabilities.list_page_size
        self.tasks: TaskMethods | None = None

    def table(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "ping": self.ping,
            "tools/list": self.list_tools,
            "tools/call": self.call_tool,
            "prompts/list": self.list_prompts,
            "prompts/get": self.get_prompt,
            "resources/list": self.list_resources,
            "resources/templates/list": self.list_resource_templates,
            "resources/read": self.read_resource,
            "resources/subscribe": self.subscribe,
            "resources/unsubscribe": self.unsubscribe,
            "logging/setLevel": self.set_level,
            "completion/complete": self.complete,
        }
        return table

    def _list(
        self, call: Call, method: str, kind: str, key: str, items: list[dict[str, Any]]
    ) -> dict[str, Any]:
        gate = self.gate
        if gate is not None:
            items = gate.filter_list(call.principal, method, items)
        return page(kind, key, items, call.params.get("cursor"), self.page_size)

    async def ping(self, call: Call) -> dict[str, Any]:
        return {}

    # -- tools ----------------------------------------------------------------------------------------------

    async def list_tools(self, call: Call) -> dict[str, Any]:
        return self._list(call, "tools/list", "tools", "tools", self.registries.tools.wire_items())

    def _tool_call(self, call: Call) -> tuple[ToolDefinition, dict[str, Any]]:
        name = _string(call.params, "name")
        arguments = _object(call.params, "arguments")
        tool = self.registries.tools.get(name)
        if tool is None:
            raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown tool `{name}`")
        return tool, arguments

    async def call_tool(self, call: Call) -> dict[str, Any]:
        tool, arguments = self._tool_call(call)
        tasks = self.tasks
        if tasks is not None and tasks.serves(call.session):
            if "task" in call.params:
                return await tasks.call_tool(call, tool, arguments)
            if tool.task_support == "required":
                raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"tool `{tool.name}` must be called as a task")
        return await self.run_tool(tool, arguments, call)

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

    async def run_tool(
        self, tool: ToolDefinition, arguments: dict[str, Any], call: Call, task_context: Any = None
    ) -> dict[str, Any]:
        """Check the arguments, run the tool and shape its `CallToolResult`."""
        try:
            checked = tool.check_arguments(arguments)
        except InvalidArgument as error:
            # SEP-1303: a tool execution error the model can read and correct, not a protocol error.
            return _tool_error(f"invalid arguments: {error}")
        if tool.injected:
            active = self._inject(tool, checked, call, task_context)
        else:
            # For code that finds the request itself (`current_request_context`, 0.3.0's helpers).
            active = activate_lazily(lambda: self.request_context(call, task_context))
        try:
            value = await tool.invoke(checked)
        except MCPError:
            raise
        except Exception:
            logger.exception("tool `%s` failed", tool.name)
            return _tool_error(f"tool `{tool.name}` failed")
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
            can_become_task=task_context is None and self.tasks is not None and self.tasks.can_create(call),
        )

    # -- prompts --------------------------------------------------------------------------------------------

    async def list_prompts(self, call: Call) -> dict[str, Any]:
        return self._list(call, "prompts/list", "prompts", "prompts", self.registries.prompts.wire_items())

    async def get_prompt(self, call: Call) -> dict[str, Any]:
        name = _string(call.params, "name")
        arguments = _object(call.params, "arguments")
        prompt = self.registries.prompts.get(name)
        if prompt is None:
            raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown prompt `{name}`")
        context = self.request_context(call)
        active = context.activate()
        try:
            return await _shielded(f"prompt `{name}`", prompt.render(arguments, context))
        finally:
            deactivate(active)

    # -- resources ------------------------------------------------------------------------------------------

    async def list_resources(self, call: Call) -> dict[str, Any]:
        items = self.registries.resources.wire_items()
        return self._list(call, "resources/list", "resources", "resources", items)

    async def list_resource_templates(self, call: Call) -> dict[str, Any]:
        items = self.registries.resources.templates.wire_items()
        return self._list(call, "resources/templates/list", "templates", "resourceTemplates", items)

    async def read_resource(self, call: Call) -> dict[str, Any]:
        uri = _string(call.params, "uri")
        found = self.registries.resources.resolve(uri)
        if found is None:
            raise MCPError(ErrorCode.RESOURCE_NOT_FOUND, f"resource not found: `{uri}`", {"uri": uri})
        resource, values = found
        context = self.request_context(call)
        active = context.activate()
        try:
            if isinstance(resource, ResourceTemplateDefinition):
                return await _shielded(f"reading resource `{uri}`", resource.read(uri, values, context))
            return await _shielded(f"reading resource `{uri}`", resource.read(uri, context))
        finally:
            deactivate(active)

    def _subscription_uris(self, call: Call) -> list[str]:
        if not self.capabilities.resources_subscribe:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, "resource subscriptions are not supported")
        uri = _string(call.params, "uri")
        if self.registries.resources.resolve(uri) is None:
            raise MCPError(ErrorCode.RESOURCE_NOT_FOUND, f"resource not found: `{uri}`", {"uri": uri})
        return [uri]

    async def subscribe(self, call: Call) -> dict[str, Any]:
        call.session.subscriptions.update(self._subscription_uris(call))
        return {}

    async def unsubscribe(self, call: Call) -> dict[str, Any]:
        call.session.subscriptions.difference_update(self._subscription_uris(call))
        return {}

    # -- logging and completion -----------------------------------------------------------------------------

    async def set_level(self, call: Call) -> dict[str, Any]:
        if not self.capabilities.logging_enabled:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, "logging is not supported")
        level = _string(call.params, "level")
        if level not in LOG_LEVELS:
            raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown log level `{level}`")
        call.session.log_level = level
        return {}

    async def complete(self, call: Call) -> dict[str, Any]:
        if not self.capabilities.completions_enabled:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, "completions are not supported")
        ref = _object(call.params, "ref")
        argument = _object(call.params, "argument")
        name = _string(argument, "name")
        value = _string(argument, "value")
        candidates = self._completion_candidates(call, ref, name)
        folded = value.casefold()
        matches = [c for c in candidates if c.casefold().startswith(folded)] or [
            c for c in candidates if folded in c.casefold()
        ]
        values = matches[:_MAX_COMPLETIONS]
        return {
            "completion": {"values": values, "total": len(matches), "hasMore": len(matches) > len(values)}
        }

    def _may_use(self, call: Call, method: str, params: Mapping[str, Any]) -> bool:
        gate = self.gate
        return gate is None or bool(gate.allows(call.principal, method, params))

    def _completion_candidates(self, call: Call, ref: Mapping[str, Any], argument: str) -> list[str]:
        """The values of a prompt's or template's argument; a target the caller may not get or read is
        answered exactly like an unknown one (completions would leak what it hides)."""
        kind = ref.get("type")
        if kind == "ref/prompt":
            name = _string(ref, "name")
            prompt = self.registries.prompts.get(name)
            if prompt is None or not self._may_use(call, "prompts/get", {"name": name}):
                raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown prompt `{ref.get('name')}`")
            for arg in prompt.arguments:
                if arg["name"] == argument:
                    options = arg.get("completion") or (arg.get("schema") or {}).get("enum") or []
                    return [str(option) for option in options]
            return []
        if kind == "ref/resource":
            uri = _string(ref, "uri")
            template = self.registries.resources.templates.get(uri)
            # A template is authorized as its `uriTemplate` text, as `resources/templates/list` filters it.
            if template is None or not self._may_use(call, "resources/read", {"uri": uri}):
                raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown resource template `{uri}`")
            spec = (template.variables or {}).get(argument) or {}
            options = spec.get("completion", []) if isinstance(spec, Mapping) else spec
            return [str(option) for option in options]
        raise MCPError(ErrorCode.INVALID_PARAMS, "`ref.type` must be `ref/prompt` or `ref/resource`")
