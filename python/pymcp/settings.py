"""Server, capability and middleware settings (the dataclasses and defaults of pymcp-kit 0.3.0)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pymcp import _core
from pymcp._allocator import DEFAULT_MMAP_THRESHOLD, check_mmap_threshold
from pymcp._hosts import check_allowed_hosts
from pymcp.protocol.versions import DRAFT_VERSIONS, KNOWN_VERSIONS, STABLE_VERSIONS, versions_for_mode

__all__ = [
    "DEFAULT_MAX_REQUEST_BYTES",
    "MCP_APPS_UI",
    "MCP_ENTERPRISE_MANAGED_AUTHORIZATION",
    "MCP_OAUTH_CLIENT_CREDENTIALS",
    "PACKAGE_VERSION",
    "SUPPORTED_PROTOCOL_VERSIONS",
    "CapabilitySettings",
    "MiddlewareConfig",
    "ServerSettings",
]

PACKAGE_VERSION: str = _core.__version__  # one source: the Cargo workspace version, in PEP 440 form
DEFAULT_MAX_REQUEST_BYTES = 4 * 1024 * 1024
# The revisions `initialize` can negotiate, newest first (0.3.0 name).
SUPPORTED_PROTOCOL_VERSIONS = STABLE_VERSIONS


MCP_APPS_UI = "io.modelcontextprotocol/ui"
MCP_OAUTH_CLIENT_CREDENTIALS = "io.modelcontextprotocol/oauth-client-credentials"
MCP_ENTERPRISE_MANAGED_AUTHORIZATION = "io.modelcontextprotocol/enterprise-managed-authorization"


def _ignored(message: str) -> None:
    """A 0.3.0 setting that has no effect as given: warn where the settings are made."""
    warnings.warn(message, UserWarning, stacklevel=4)


@dataclass(slots=True)
class CapabilitySettings:
    """What `initialize` (and `server/discover`) advertises (field names and defaults of 0.3.0).

    `mcp_apps_enabled`, `oauth_client_credentials_enabled` and `enterprise_managed_authorization_enabled`
    advertise those extensions under `capabilities.extensions` (with their `*_settings`, or the MIME
    types for apps); `extensions` adds more by id. These only advertise: the server does not implement
    the client-credentials or enterprise flows itself. A `*_settings` without its switch warns.
    """

    tools_list_changed: bool = False
    prompts_list_changed: bool = False
    resources_list_changed: bool = False
    resources_subscribe: bool = True
    advertise_empty_prompts: bool = False
    advertise_empty_resources: bool = False
    logging_enabled: bool = False
    completions_enabled: bool = False
    tasks_enabled: bool = True
    tasks_tool_call: bool = True
    tasks_list: bool = True
    tasks_cancel: bool = True
    list_page_size: int = 50
    mcp_apps_enabled: bool = False
    mcp_apps_mime_types: tuple[str, ...] = ("text/html;profile=mcp-app",)
    mcp_apps_settings: Mapping[str, Any] | None = None
    oauth_client_credentials_enabled: bool = False
    oauth_client_credentials_settings: Mapping[str, Any] | None = None
    enterprise_managed_authorization_enabled: bool = False
    enterprise_managed_authorization_settings: Mapping[str, Any] | None = None
    extensions: Mapping[str, Any] | None = None
    experimental_features: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.list_page_size <= 0:
            raise ValueError(f"list_page_size must be positive, got `{self.list_page_size}`")
        if self.mcp_apps_enabled and not self.mcp_apps_mime_types:
            raise ValueError("mcp_apps_enabled needs at least one mime type in `mcp_apps_mime_types`")
        for switch, settings in (
            ("mcp_apps_enabled", self.mcp_apps_settings),
            ("oauth_client_credentials_enabled", self.oauth_client_credentials_settings),
            ("enterprise_managed_authorization_enabled", self.enterprise_managed_authorization_settings),
        ):
            if settings is not None and not getattr(self, switch):
                name = switch.removesuffix("_enabled") + "_settings"
                _ignored(f"`{name}` has no effect unless `{switch}=True`")
        if self.extensions is not None and not all(isinstance(key, str) for key in self.extensions):
            raise ValueError("`extensions` must map extension ids (strings) to their settings")

    def advertised_extensions(self) -> dict[str, Any]:
        """The `capabilities.extensions` entries these settings advertise (empty when none)."""
        extensions: dict[str, Any] = {}
        if self.mcp_apps_enabled:
            extensions[MCP_APPS_UI] = (
                dict(self.mcp_apps_settings)
                if self.mcp_apps_settings is not None
                else {"mimeTypes": list(self.mcp_apps_mime_types)}
            )
        if self.oauth_client_credentials_enabled:
            extensions[MCP_OAUTH_CLIENT_CREDENTIALS] = dict(self.oauth_client_credentials_settings or {})
        if self.enterprise_managed_authorization_enabled:
            extensions[MCP_ENTERPRISE_MANAGED_AUTHORIZATION] = dict(
                self.enterprise_managed_authorization_settings or {}
            )
        extensions.update(self.extensions or {})
        return extensions


@dataclass(slots=True)
class ServerSettings:
    """Who the server is and which protocol revisions it speaks.

    `protocol_mode` is "stable" (2025-11-25 and older, through `initialize` and sessions), "draft"
    (2026-07-28 only: stateless, every request carries its version in `_meta`) or "dual" (the default:
    both on the same endpoint). `request_state_keys` sign the `requestState` of multi round-trip
    requests (the first signs, all verify; give every instance the same keys when several serve one
    client); without keys each app draws a random one. `request_state_ttl_seconds` bounds how long a
    client may take to answer. `task_lease_seconds` is how long a task outlives its worker's last
    renewal (a third of it apart) before another worker declares it failed: shorter notices a dead
    worker sooner, at the cost of more store writes.
    `allowed_origins`, `max_request_bytes`, `sse_history_limit`, `session_queue_size` and the session
    timeouts (seconds) are new: they bound what one client can make the server hold.
    `health_path` (liveness) and `ready_path` (readiness: the store answers) are served outside
    authentication; `None` turns one off.

    `allowed_hosts` names the `Host` values served (`name` or `name:port`; required to bind beyond
    loopback). The limits, each refused with a clear error (docs/security.md lists defaults and errors):
    `max_sessions_per_principal` (on all workers sharing the store, each session counted until it is
    deleted or its record expires; the caller's own oldest idle session on the worker that got the
    `initialize` is evicted first), `max_client_info_bytes` (the `clientInfo` plus `capabilities` a
    session stores), `max_batch_length`, `max_json_depth` and `max_json_array_length` (of `params`),
    `body_timeout` and `body_min_rate` (a body must arrive within the first and, after a 5-second grace,
    at least at the second, in bytes per second), `max_tasks_per_principal` and `max_tasks` (running, on
    all workers sharing the store), `max_stored_tasks_per_principal` (kept until their ttl ends, finished
    or not, on all workers), `max_task_argument_bytes` and `max_task_result_bytes`, and for a Redis store
    (one server or a cluster) `store_pool_size` calls at once, for a turn among which a request waits up
    to `store_pool_timeout` seconds.

    `malloc_mmap_threshold` (glibc only; bytes, or `None` to leave malloc alone) pins glibc's mmap
    threshold while the app serves, so that large bodies do not leave the heap fragmented and RSS
    creeping up; a `MALLOC_MMAP_THRESHOLD_` environment variable takes precedence.
    """

    name: str = "pymcp-kit"
    version: str = PACKAGE_VERSION
    protocol_mode: str = "dual"
    protocol_versions: Sequence[str] | None = None
    initializable_protocol_versions: Sequence[str] | None = None
    capabilities: CapabilitySettings = field(default_factory=CapabilitySettings)
    title: str | None = None
    description: str | None = None
    website_url: str | None = None
    icons: Sequence[Mapping[str, Any]] | None = None
    allowed_origins: Sequence[str] | None = None
    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    sse_history_limit: int = 1000
    session_queue_size: int = 1000
    session_idle_timeout: float = 600.0
    session_handshake_timeout: float = 30.0
    request_state_keys: Sequence[bytes] | None = None
    request_state_ttl_seconds: float = 600.0
    task_lease_seconds: float = 15.0
    health_path: str | None = "/health"
    ready_path: str | None = "/ready"
    allowed_hosts: Sequence[str] | None = None
    max_sessions_per_principal: int = 100
    max_client_info_bytes: int = 16 * 1024
    max_batch_length: int = 100
    max_json_depth: int = 64
    max_json_array_length: int = 10_000
    body_timeout: float = 60.0
    body_min_rate: float = 1024.0
    max_tasks_per_principal: int = 16
    max_tasks: int = 256
    max_stored_tasks_per_principal: int = 256
    max_task_argument_bytes: int = 1024 * 1024
    max_task_result_bytes: int = 4 * 1024 * 1024
    store_pool_size: int = 64
    store_pool_timeout: float = 10.0
    malloc_mmap_threshold: int | None = DEFAULT_MMAP_THRESHOLD

    def __post_init__(self) -> None:
        versions = (
            tuple(self.protocol_versions)
            if self.protocol_versions is not None
            else versions_for_mode(self.protocol_mode)
        )
        if not versions:
            raise ValueError("protocol_versions cannot be empty")
        for version in versions:
            if version not in KNOWN_VERSIONS:
                raise ValueError(f"unsupported protocol version configured: `{version}`")
        self.protocol_versions = versions
        if self.initializable_protocol_versions is None:
            initializable = tuple(v for v in versions if v not in DRAFT_VERSIONS)
            # Draft-only mode over HTTP never reaches `initialize`; stdio keeps the stable handshake.
            self.initializable_protocol_versions = initializable or STABLE_VERSIONS
        else:
            self.initializable_protocol_versions = tuple(self.initializable_protocol_versions)
            for version in self.initializable_protocol_versions:
                if version not in KNOWN_VERSIONS or version in DRAFT_VERSIONS:
                    raise ValueError(f"`{version}` cannot be negotiated with `initialize`")
        for name in ("health_path", "ready_path"):
            path = getattr(self, name)
            if path is not None and (not isinstance(path, str) or not path.startswith("/") or path == "/mcp"):
                raise ValueError(
                    f"`{name}` must be a path starting with `/` (not `/mcp`), or None; got `{path}`"
                )
        if self.health_path is not None and self.health_path == self.ready_path:
            raise ValueError(f"`health_path` and `ready_path` are both `{self.health_path}`")
        if self.max_request_bytes <= 0:
            raise ValueError(f"max_request_bytes must be positive, got `{self.max_request_bytes}`")
        if self.sse_history_limit < 0 or self.session_queue_size <= 0:
            raise ValueError("sse_history_limit must be >= 0 and session_queue_size > 0")
        hosts = check_allowed_hosts(self.allowed_hosts)
        self.allowed_hosts = None if hosts is None else tuple(sorted(hosts))
        for name in (
            "max_sessions_per_principal",
            "max_client_info_bytes",
            "max_batch_length",
            "max_json_depth",
            "max_json_array_length",
            "body_timeout",
            "body_min_rate",
            "max_tasks_per_principal",
            "max_tasks",
            "max_stored_tasks_per_principal",
            "max_task_argument_bytes",
            "max_task_result_bytes",
            "store_pool_size",
            "store_pool_timeout",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got `{getattr(self, name)}`")
        check_mmap_threshold(self.malloc_mmap_threshold)
        if not self.task_lease_seconds >= 0.003:
            raise ValueError(f"task_lease_seconds must be at least 0.003, got `{self.task_lease_seconds}`")

    @property
    def stateless_versions(self) -> tuple[str, ...]:
        """The revisions served statelessly (per-request `_meta`), newest first; empty in stable mode."""
        return tuple(v for v in self.protocol_versions or () if v in DRAFT_VERSIONS)

    @property
    def served_versions(self) -> tuple[str, ...]:
        """The revisions `initialize` can settle on, newest first."""
        return tuple(self.initializable_protocol_versions or STABLE_VERSIONS)

    def server_info(self) -> dict[str, Any]:
        """The `Implementation` object sent in `initialize` results and the health endpoint."""
        info: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.title is not None:
            info["title"] = self.title
        if self.description is not None:
            info["description"] = self.description
        if self.website_url is not None:
            info["websiteUrl"] = self.website_url
        if self.icons:
            info["icons"] = [dict(icon) for icon in self.icons]
        return info


@dataclass(slots=True)
class MiddlewareConfig:
    """HTTP middleware and security wiring (0.3.0 field names).

    Unlike 0.3.0, CORS is off unless configured (`cors=None`), and a CORS config may not combine
    `allow_origins=["*"]` with `allow_credentials=True`. `error_handling` is accepted for 0.3.0 (which
    ignored it too) and warns when not empty: errors always become JSON-RPC errors without details.
    """

    cors: Mapping[str, Any] | None = None
    logging: Mapping[str, Any] | None = None
    error_handling: Mapping[str, Any] | None = None
    compression: Mapping[str, Any] | None = None
    custom: Sequence[Any] | None = None
    authn: Any = None
    authz: Any = None
    require_authn: bool = False
    auth_exempt_paths: Sequence[str] | None = None
    oauth: Any = None

    def __post_init__(self) -> None:
        if self.error_handling:
            _ignored("`error_handling` has no effect: errors always become JSON-RPC errors without details")
