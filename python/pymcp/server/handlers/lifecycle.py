"""The session's life: the `initialize` handshake and what it advertises, `ping`, `logging/setLevel`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.versions import negotiate
from pymcp.security.principal import principal_identity
from pymcp.server.capabilities import server_capabilities, tasks_capability
from pymcp.server.context import LOG_LEVELS
from pymcp.server.handlers.common import string_param
from pymcp.server.handlers.ownership import TASK_VERSIONS
from pymcp.server.limits import check_client_info_size, params_object
from pymcp.server.session import Session

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.security.gate import SecurityGate
    from pymcp.security.principal import Principal
    from pymcp.server.call import Call
    from pymcp.settings import ServerSettings

__all__ = ["Lifecycle"]


class Lifecycle:
    """The handshake and the session-wide methods, given the settings, the registries (what is there to
    advertise), the gate (what this caller may see) and whether the tasks capability is on."""

    __slots__ = ("gate", "registries", "server_info", "settings", "tasks_enabled")

    def __init__(
        self,
        *,
        settings: ServerSettings,
        registries: RegistryManager,
        gate: SecurityGate | None,
        tasks_enabled: bool,
    ) -> None:
        self.settings = settings
        self.registries = registries
        self.gate = gate
        self.tasks_enabled = tasks_enabled
        self.server_info = settings.server_info()  # compiled once, at create_app

    def capabilities(self, version: str) -> dict[str, Any]:
        """What this server advertises at `version` (prompts and resources only when there are some)."""
        caps = self.settings.capabilities
        resources = self.registries.resources
        result = server_capabilities(
            caps,
            prompts=len(self.registries.prompts) > 0,
            resources=len(resources) > 0 or len(resources.templates) > 0,
            tasks=tasks_capability(caps) if self.tasks_enabled and version in TASK_VERSIONS else None,
        )
        # `capabilities.extensions` exists from 2026-07-28 on (0.3.0 also advertised them only there)
        if version in self.settings.stateless_versions and (extensions := caps.advertised_extensions()):
            result["extensions"] = extensions
        return result

    def handshake(
        self, params: dict[str, Any] | list[Any] | None, principal: Principal | None, session_id: str | None
    ) -> tuple[Session, dict[str, Any]]:
        """The session an authorized `initialize` opens, and its result (what `principal` may see)."""
        settings = self.settings
        checked = params_object(params)
        capabilities = checked.get("capabilities", {})
        client_info = checked.get("clientInfo", {})
        if not isinstance(capabilities, dict) or not isinstance(client_info, dict):
            raise MCPError(ErrorCode.INVALID_PARAMS, "`capabilities` and `clientInfo` must be objects")
        check_client_info_size(client_info, capabilities, settings.max_client_info_bytes)
        version = negotiate(checked.get("protocolVersion"), settings.served_versions)
        session = Session(
            session_id,
            owner=principal_identity(principal),
            protocol_version=version,
            client_info=client_info,
            client_capabilities=capabilities,
            history_limit=settings.sse_history_limit,
            queue_size=settings.session_queue_size,
        )
        advertised = self.capabilities(version)
        if self.gate is not None:
            advertised = self.gate.filter_capabilities(principal, advertised)
        result = {"protocolVersion": version, "capabilities": advertised, "serverInfo": self.server_info}
        return session, result

    async def ping(self, call: Call) -> dict[str, Any]:
        return {}

    async def set_level(self, call: Call) -> dict[str, Any]:
        if not self.settings.capabilities.logging_enabled:
            raise MCPError(ErrorCode.METHOD_NOT_FOUND, "logging is not supported")
        level = string_param(call.params, "level")
        if level not in LOG_LEVELS:
            raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown log level `{level}`")
        call.session.log_level = level
        return {}
