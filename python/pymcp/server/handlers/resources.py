"""`resources/list`, `resources/templates/list`, `resources/read` and (un)subscribing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.registry.resources import ResourceTemplateDefinition
from pymcp.server.context import deactivate
from pymcp.server.handlers.common import shielded, string_param

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.server.call import Call
    from pymcp.server.handlers.common import Visibility
    from pymcp.server.handlers.runner import ToolRunner
    from pymcp.settings import CapabilitySettings

__all__ = ["ResourceHandlers"]


def _not_found(uri: str) -> MCPError:
    return MCPError(ErrorCode.RESOURCE_NOT_FOUND, f"resource not found: `{uri}`", {"uri": uri})


class ResourceHandlers:
    """The resources room, given the registries, what the caller may see, the runner's request
    context (a resource is read with it) and whether subscriptions are on."""

    __slots__ = ("capabilities", "registries", "runner", "visibility")

    def __init__(
        self,
        *,
        registries: RegistryManager,
        visibility: Visibility,
        runner: ToolRunner,
        capabilities: CapabilitySettings,
    ) -> None:
        self.registries = registries
        self.visibility = visibility
        self.runner = runner
        self.capabilities = capabilities

    async def list_resources(self, call: Call) -> dict[str, Any]:
        items = self.registries.resources.wire_items()
        return self.visibility.list_page(call, "resources/list", "resources", "resources", items)

    async def list_resource_templates(self, call: Call) -> dict[str, Any]:
        items = self.registries.resources.templates.wire_items()
        return self.visibility.list_page(
            call, "resources/templates/list", "templates", "resourceTemplates", items
        )

    async def read_resource(self, call: Call) -> dict[str, Any]:
        uri = string_param(call.params, "uri")
        found = self.registries.resources.resolve(uri)
        if found is None:
            raise _not_found(uri)
        resource, values = found
        context = self.runner.request_context(call)
        active = context.activate()
        try:
            if isinstance(resource, ResourceTemplateDefinition):
                return await shielded(f"reading resource `{uri}`", resource.read(uri, values, context))
            return await shielded(f"reading resource `{uri}`", resource.read(uri, context))
        finally:
            deactivate(active)

    def _subscription_uris(self, call: Call) -> list[str]:
        if not self.capabilities.resources_subscribe:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, "resource subscriptions are not supported")
        uri = string_param(call.params, "uri")
        if self.registries.resources.resolve(uri) is None:
            raise _not_found(uri)
        return [uri]

    async def subscribe(self, call: Call) -> dict[str, Any]:
        call.session.subscriptions.update(self._subscription_uris(call))
        return {}

    async def unsubscribe(self, call: Call) -> dict[str, Any]:
        call.session.subscriptions.difference_update(self._subscription_uris(call))
        return {}
