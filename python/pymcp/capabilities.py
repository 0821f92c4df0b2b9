"""0.3.0 import path `pymcp.capabilities`: what the client declared and what the server advertises."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymcp._compat import dispatcher_of
from pymcp._unsupported import unsupported
from pymcp.protocol.versions import STABLE_VERSIONS
from pymcp.server.capabilities import server_capabilities, tasks_capability
from pymcp.settings import CapabilitySettings

__all__ = [
    "ClientCapabilities",
    "CompletionsCapability",
    "LoggingCapability",
    "PromptsCapability",
    "ResourcesCapability",
    "ServerCapabilities",
    "ServerExperimentalCapability",
    "ServerTasksCapability",
    "ToolsCapability",
    "build_capabilities",
    "get_server_capabilities",
    "negotiate_capabilities",
]

_PROVIDERS = "the advertised capabilities come from `CapabilitySettings`: use `build_capabilities`"
ToolsCapability = unsupported("pymcp.capabilities.ToolsCapability", _PROVIDERS)
PromptsCapability = unsupported("pymcp.capabilities.PromptsCapability", _PROVIDERS)
ResourcesCapability = unsupported("pymcp.capabilities.ResourcesCapability", _PROVIDERS)
LoggingCapability = unsupported("pymcp.capabilities.LoggingCapability", _PROVIDERS)
CompletionsCapability = unsupported("pymcp.capabilities.CompletionsCapability", _PROVIDERS)
ServerTasksCapability = unsupported("pymcp.capabilities.ServerTasksCapability", _PROVIDERS)
ServerExperimentalCapability = unsupported("pymcp.capabilities.ServerExperimentalCapability", _PROVIDERS)


class ClientCapabilities:
    """The capabilities a client declared at `initialize` (0.3.0 class and methods)."""

    def __init__(self, capabilities: Mapping[str, Any] | None = None) -> None:
        self.capabilities = dict(capabilities or {})

    def _section(self, name: str) -> dict[str, Any]:
        section = self.capabilities.get(name)
        return section if isinstance(section, dict) else {}

    def supports(self, feature: str) -> bool:
        return feature in self.capabilities or self.supports_extension(f"io.modelcontextprotocol/{feature}")

    def get_capabilities(self) -> dict[str, Any]:
        return dict(self.capabilities)

    def supports_extension(self, extension_name: str) -> bool:
        return extension_name in self._section("extensions")

    def supports_roots(self) -> bool:
        return "roots" in self.capabilities

    def supports_roots_list_changed(self) -> bool:
        return bool(self._section("roots").get("listChanged"))

    def supports_sampling(self) -> bool:
        return "sampling" in self.capabilities

    def supports_sampling_tools(self) -> bool:
        return "tools" in self._section("sampling")

    def supports_elicitation(self, mode: str | None = None) -> bool:
        """Whether the client elicits (in `mode`, when given); an empty object means form only."""
        if "elicitation" not in self.capabilities:
            return False
        modes = self._section("elicitation")
        return mode is None or (mode in modes if modes else mode == "form")

    def supports_client_tasks(self) -> bool:
        return "tasks" in self.capabilities

    def supports_task_request(self, namespace: str, method: str) -> bool:
        requests = self._section("tasks").get("requests")
        section = requests.get(namespace) if isinstance(requests, dict) else None
        return isinstance(section, dict) and method in section

    def supports_experimental(self, key: str) -> bool:
        return key in self._section("experimental")


def build_capabilities(
    settings: CapabilitySettings, tools: Any, prompts: Any, resources: Any, *, protocol_revision: Any = None
) -> dict[str, Any]:
    """What a server with these settings and registries advertises at 2025-11-25."""
    del tools, protocol_revision  # tools are always advertised; one revision's shape
    templates = getattr(resources, "templates", ())
    return server_capabilities(
        settings,
        prompts=len(prompts) > 0,
        resources=len(resources) > 0 or len(templates) > 0,
        tasks=tasks_capability(settings) if settings.tasks_enabled else None,
    )


class ServerCapabilities:
    """The capabilities an app advertises (0.3.0 wrapper): fixed ones, or an app's, read when asked."""

    def __init__(
        self, *, app: Any = None, capabilities: dict[str, Any] | None = None, protocol_revision: Any = None
    ) -> None:
        self._app = app
        self._capabilities = capabilities
        self._version = protocol_revision if isinstance(protocol_revision, str) else STABLE_VERSIONS[0]

    def get_capabilities(self) -> dict[str, Any]:
        if self._capabilities is not None:
            return dict(self._capabilities)
        if self._app is None:
            return {}
        return dispatcher_of(self._app).capabilities(self._version)


def negotiate_capabilities(
    client_caps: dict[str, Any] | None, server_caps: ServerCapabilities
) -> dict[str, Any]:
    """The server's capabilities (the server is authoritative; nothing is intersected)."""
    del client_caps
    return server_caps.get_capabilities()


def get_server_capabilities(app: Any) -> ServerCapabilities:
    """What `app` advertises at 2025-11-25 (before per-principal filtering)."""
    return ServerCapabilities(app=app)
