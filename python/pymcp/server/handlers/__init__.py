"""The method handlers, one room per concern, each given the collaborators it needs (never the
dispatcher): `lifecycle`, `tools`, `prompts`, `resources`, `completion`, `tasks`; `runner` runs tools
for `tools/call` and for tasks. `build_handlers` composes them into the dispatcher's method tables."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymcp.server.handlers.common import Visibility
from pymcp.server.handlers.completion import CompletionHandler
from pymcp.server.handlers.lifecycle import Lifecycle
from pymcp.server.handlers.ownership import TaskOwners
from pymcp.server.handlers.prompts import PromptHandlers
from pymcp.server.handlers.resources import ResourceHandlers
from pymcp.server.handlers.runner import ToolRunner
from pymcp.server.handlers.tasks import TaskMethods
from pymcp.server.handlers.tools import ToolHandlers

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.security.gate import SecurityGate
    from pymcp.server.call import Handler
    from pymcp.server.session import Session
    from pymcp.settings import ServerSettings
    from pymcp.tasks.engine import TaskEngine

__all__ = ["Handlers", "build_handlers"]


@dataclass(frozen=True, slots=True)
class Handlers:
    """The composed handlers: `table` answers a session's methods; `stateless_table` holds what a
    2026-07-28 request is answered by instead or besides; `tasks` is None when tasks are off."""

    lifecycle: Lifecycle
    tasks: TaskMethods | None
    table: dict[str, Handler]
    stateless_table: dict[str, Handler]


def build_handlers(
    *,
    app: Any,
    settings: ServerSettings,
    registries: RegistryManager,
    gate: SecurityGate | None,
    task_engine: TaskEngine | None,
    session_by_id: Callable[[str], Session | None],
) -> Handlers:
    """Every handler of the server, wired once at `create_app`."""
    capabilities = settings.capabilities
    tasks_enabled = task_engine is not None and capabilities.tasks_enabled
    owners = TaskOwners(capabilities, secured=gate is not None) if tasks_enabled else None
    runner = ToolRunner(app=app, capabilities=capabilities, task_owners=owners)
    tasks: TaskMethods | None = None
    if task_engine is not None and owners is not None:
        tasks = TaskMethods(
            task_engine, runner=runner, owners=owners, settings=settings, session_by_id=session_by_id
        )
    visibility = Visibility(gate, capabilities.list_page_size)
    lifecycle = Lifecycle(settings=settings, registries=registries, gate=gate, tasks_enabled=tasks_enabled)
    tools = ToolHandlers(registries=registries, visibility=visibility, runner=runner, tasks=tasks)
    prompts = PromptHandlers(registries=registries, visibility=visibility, runner=runner)
    resources = ResourceHandlers(
        registries=registries, visibility=visibility, runner=runner, capabilities=capabilities
    )
    completion = CompletionHandler(registries=registries, visibility=visibility, capabilities=capabilities)
    table: dict[str, Handler] = {
        "ping": lifecycle.ping,
        "tools/list": tools.list_tools,
        "tools/call": tools.call_tool,
        "prompts/list": prompts.list_prompts,
        "prompts/get": prompts.get_prompt,
        "resources/list": resources.list_resources,
        "resources/templates/list": resources.list_resource_templates,
        "resources/read": resources.read_resource,
        "resources/subscribe": resources.subscribe,
        "resources/unsubscribe": resources.unsubscribe,
        "logging/setLevel": lifecycle.set_level,
        "completion/complete": completion.complete,
    }
    stateless_table: dict[str, Handler] = {"tools/call": tools.call_tool_stateless}
    if tasks is not None:
        table.update(tasks.table())
        stateless_table.update(tasks.extension_table())
    return Handlers(lifecycle=lifecycle, tasks=tasks, table=table, stateless_table=stateless_table)
