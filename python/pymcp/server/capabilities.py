"""What a server advertises in `initialize`, from its capability settings and what is registered."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pymcp.settings import CapabilitySettings

__all__ = ["server_capabilities", "tasks_capability"]


def server_capabilities(
    caps: CapabilitySettings, *, prompts: bool, resources: bool, tasks: Mapping[str, Any] | None
) -> dict[str, Any]:
    """Prompts and resources appear only when some are registered (or `advertise_empty_*` is set);
    `tasks` is the tasks capability when this revision has one."""
    result: dict[str, Any] = {"tools": {"listChanged": caps.tools_list_changed}}
    if prompts or caps.advertise_empty_prompts:
        result["prompts"] = {"listChanged": caps.prompts_list_changed}
    if resources or caps.advertise_empty_resources:
        result["resources"] = {
            "subscribe": caps.resources_subscribe,
            "listChanged": caps.resources_list_changed,
        }
    if caps.logging_enabled:
        result["logging"] = {}
    if caps.completions_enabled:
        result["completions"] = {}
    if tasks is not None:
        result["tasks"] = dict(tasks)
    if caps.experimental_features:
        result["experimental"] = dict(caps.experimental_features)
    return result


def tasks_capability(caps: CapabilitySettings) -> dict[str, Any]:
    """The 2025-11-25 `tasks` capability the settings ask for."""
    capability: dict[str, Any] = {}
    if caps.tasks_list:
        capability["list"] = {}
    if caps.tasks_cancel:
        capability["cancel"] = {}
    if caps.tasks_tool_call:
        capability["requests"] = {"tools": {"call": {}}}
    return capability
