"""Registries of tools, prompts and resources (the names of pymcp-kit 0.3.0's `pymcp.registry`)."""

from pymcp.registry.base import dump_value
from pymcp.registry.manager import (
    RegistryManager,
    get_current_registry_manager,
    get_registry_manager,
    prompt_registry,
    resource_registry,
    set_current_registry_manager,
    tool_registry,
)
from pymcp.registry.prompts import PromptDefinition, PromptRegistry
from pymcp.registry.resources import (
    ResourceDefinition,
    ResourceHandler,
    ResourceRegistry,
    ResourceTemplateDefinition,
    ResourceUpdatedListener,
)
from pymcp.registry.tools import (
    AsyncToolFunction,
    SyncToolFunction,
    ToolDefinition,
    ToolExecutionConfig,
    ToolFunction,
    ToolRegistry,
)

__all__ = [
    "AsyncToolFunction",
    "PromptDefinition",
    "PromptRegistry",
    "RegistryManager",
    "ResourceDefinition",
    "ResourceHandler",
    "ResourceRegistry",
    "ResourceTemplateDefinition",
    "ResourceUpdatedListener",
    "SyncToolFunction",
    "ToolDefinition",
    "ToolExecutionConfig",
    "ToolFunction",
    "ToolRegistry",
    "dump_value",
    "get_current_registry_manager",
    "get_registry_manager",
    "prompt_registry",
    "resource_registry",
    "set_current_registry_manager",
    "tool_registry",
]
