"""`completion/complete`: the values of a prompt's or a resource template's argument."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.server.handlers.common import object_param, string_param

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.server.call import Call
    from pymcp.server.handlers.common import Visibility
    from pymcp.settings import CapabilitySettings

__all__ = ["CompletionHandler"]

_MAX_COMPLETIONS = 100


class CompletionHandler:
    """Completions, given the registries, what the caller may see and whether completions are on."""

    __slots__ = ("capabilities", "registries", "visibility")

    def __init__(
        self, *, registries: RegistryManager, visibility: Visibility, capabilities: CapabilitySettings
    ) -> None:
        self.registries = registries
        self.visibility = visibility
        self.capabilities = capabilities

    async def complete(self, call: Call) -> dict[str, Any]:
        if not self.capabilities.completions_enabled:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, "completions are not supported")
        ref = object_param(call.params, "ref")
        argument = object_param(call.params, "argument")
        name = string_param(argument, "name")
        value = string_param(argument, "value")
        candidates = self._candidates(call, ref, name)
        folded = value.casefold()
        matches = [c for c in candidates if c.casefold().startswith(folded)] or [
            c for c in candidates if folded in c.casefold()
        ]
        values = matches[:_MAX_COMPLETIONS]
        return {
            "completion": {"values": values, "total": len(matches), "hasMore": len(matches) > len(values)}
        }

    def _candidates(self, call: Call, ref: Mapping[str, Any], argument: str) -> list[str]:
        """The values of a prompt's or template's argument; a target the caller may not get or read is
        answered exactly like an unknown one (completions would leak what it hides)."""
        kind = ref.get("type")
        if kind == "ref/prompt":
            name = string_param(ref, "name")
            prompt = self.registries.prompts.get(name)
            if prompt is None or not self.visibility.allows(call, "prompts/get", {"name": name}):
                raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown prompt `{ref.get('name')}`")
            for arg in prompt.arguments:
                if arg["name"] == argument:
                    options = arg.get("completion") or (arg.get("schema") or {}).get("enum") or []
                    return [str(option) for option in options]
            return []
        if kind == "ref/resource":
            uri = string_param(ref, "uri")
            template = self.registries.resources.templates.get(uri)
            # A template is authorized as its `uriTemplate` text, as `resources/templates/list` filters it.
            if template is None or not self.visibility.allows(call, "resources/read", {"uri": uri}):
                raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown resource template `{uri}`")
            spec = (template.variables or {}).get(argument) or {}
            options = spec.get("completion", []) if isinstance(spec, Mapping) else spec
            return [str(option) for option in options]
        raise MCPError(ErrorCode.INVALID_PARAMS, "`ref.type` must be `ref/prompt` or `ref/resource`")
