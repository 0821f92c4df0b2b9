"""App-scoped registries: `create_app` snapshots the global ones; `get_registry_manager(app)` adds later."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from pymcp.registry.prompts import PromptRegistry
from pymcp.registry.resources import ResourceRegistry
from pymcp.registry.tools import ToolRegistry

__all__ = [
    "RegistryManager",
    "get_current_registry_manager",
    "get_registry_manager",
    "prompt_registry",
    "resource_registry",
    "set_current_registry_manager",
    "tool_registry",
]

tool_registry = ToolRegistry()
prompt_registry = PromptRegistry()
resource_registry = ResourceRegistry()


class RegistryManager:
    """The tools, prompts and resources one app serves."""

    def __init__(
        self,
        tools: ToolRegistry | None = None,
        prompts: PromptRegistry | None = None,
        resources: ResourceRegistry | None = None,
    ) -> None:
        self.tools = tools if tools is not None else ToolRegistry()
        self.prompts = prompts if prompts is not None else PromptRegistry()
        self.resources = resources if resources is not None else ResourceRegistry()

    @classmethod
    def snapshot_globals(cls) -> RegistryManager:
        """Copies of the global registries as they are now (0.3.0 semantics)."""
        return cls(tool_registry.copy(), prompt_registry.copy(), resource_registry.copy())


_current: ContextVar[RegistryManager | None] = ContextVar("pymcp_registry_manager", default=None)


def get_registry_manager(app: Any) -> RegistryManager:
    """The registries of an app made by `create_app` (register there to change a running app)."""
    state = getattr(app, "state", None)
    manager = getattr(state, "registry_manager", None)
    if not isinstance(manager, RegistryManager):
        raise LookupError("this app has no registry manager: was it made by `pymcp.create_app`?")
    return manager


def get_current_registry_manager() -> RegistryManager | None:
    """The registry manager set for the current context, if any."""
    return _current.get()


def set_current_registry_manager(manager: RegistryManager | None) -> None:
    """Set the registry manager of the current context (0.3.0 API)."""
    _current.set(manager)
