"""OAuth 2.0 Protected Resource Metadata (RFC 9728): the configuration and the document the server serves."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from starlette.requests import HTTPConnection

from pymcp.security.challenge import bearer_challenge

__all__ = [
    "METADATA_PATH",
    "METADATA_PATHS",
    "OAuthProtectedResourceConfig",
    "build_www_authenticate",
    "canonical_resource_uri",
    "protected_resource_metadata_url",
]

METADATA_PATH = "/.well-known/oauth-protected-resource"
# The root document and the one for the `/mcp` endpoint (RFC 9728 §3.1 inserts the well-known part before
# the resource's path); both describe the same resource.
METADATA_PATHS: frozenset[str] = frozenset({METADATA_PATH, METADATA_PATH + "/mcp"})

# Tokens are only read from the Authorization header (RFC 6750 §2.1); the other methods are refused.
_SUPPORTED_BEARER_METHODS = frozenset({"header"})


def _check_absolute_url(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"`{name}` must be an absolute URL")
    parts = urlsplit(value)
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"`{name}` must be an absolute URL")
    if parts.fragment:
        raise ValueError(f"`{name}` must not contain a fragment")
    return value


def _string_tuple(name: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str) or not isinstance(value, Sequence | frozenset | set):
        raise ValueError(f"`{name}` must be a list of strings")
    items = tuple(value)
    if not all(isinstance(item, str) for item in items):
        raise ValueError(f"`{name}` must be a list of strings")
    return items


@dataclass(frozen=True)
class OAuthProtectedResourceConfig:
    """What the server tells clients about where to get tokens for it (pymcp-kit 0.3.0's fields)."""

    authorization_servers: Sequence[str]
    resource: str | None = None
    resource_metadata_url: str | None = None
    scopes_supported: Sequence[str] = ()
    bearer_methods_supported: Sequence[str] = ("header",)
    resource_name: str | None = None
    documentation_uri: str | None = None
    extra_metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        servers = _string_tuple("authorization_servers", self.authorization_servers)
        if not servers:
            raise ValueError("`authorization_servers` must not be empty")
        for server in servers:
            _check_absolute_url("authorization_servers", server)
        object.__setattr__(self, "authorization_servers", servers)
        for name in ("resource", "resource_metadata_url", "documentation_uri"):
            value = getattr(self, name)
            if value is not None:
                _check_absolute_url(name, value)
        object.__setattr__(self, "scopes_supported", _string_tuple("scopes_supported", self.scopes_supported))
        methods = _string_tuple("bearer_methods_supported", self.bearer_methods_supported)
        unsupported = [method for method in methods if method not in _SUPPORTED_BEARER_METHODS]
        if unsupported:
            raise ValueError(
                f"bearer method `{unsupported[0]}` is not supported (tokens are only read from headers)"
            )
        object.__setattr__(self, "bearer_methods_supported", methods)
        if self.resource_name is not None and not isinstance(self.resource_name, str):
            raise ValueError("`resource_name` must be a string")
        if not isinstance(self.extra_metadata, Mapping):
            raise ValueError("`extra_metadata` must be a mapping")

    def metadata(self, resource: str | None = None) -> dict[str, Any]:
        """The RFC 9728 document; `resource` is used when the configuration names none."""
        document: dict[str, Any] = {
            "resource": self.resource or resource,
            "authorization_servers": list(self.authorization_servers),
        }
        if self.scopes_supported:
            document["scopes_supported"] = list(self.scopes_supported)
        if self.bearer_methods_supported:
            document["bearer_methods_supported"] = list(self.bearer_methods_supported)
        if self.resource_name:
            document["resource_name"] = self.resource_name
        if self.documentation_uri:
            document["resource_documentation"] = self.documentation_uri
        document.update(self.extra_metadata)
        return document

    def static_metadata_url(self) -> str | None:
        """The metadata URL when the configuration alone determines it (no request needed)."""
        if self.resource_metadata_url:
            return self.resource_metadata_url
        if self.resource:
            parts = urlsplit(self.resource)
            path = parts.path.rstrip("/")
            return urlunsplit((parts.scheme, parts.netloc, METADATA_PATH + path, parts.query, ""))
        return None

    def resolved_metadata_url(self, request: HTTPConnection) -> str:
        """The metadata URL for challenges: configured, derived from `resource`, or from the base URL."""
        return self.static_metadata_url() or str(request.base_url).rstrip("/") + METADATA_PATH


def canonical_resource_uri(request: HTTPConnection, *, path: str = "/mcp") -> str:
    """The MCP resource URI of the server `request` reached (its base URL and `path`)."""
    return str(request.base_url).rstrip("/") + "/" + path.lstrip("/")


def protected_resource_metadata_url(request: HTTPConnection, *, path: str | None = None) -> str:
    """The RFC 9728 metadata URL on the server `request` reached (for the resource at `path`, if given)."""
    suffix = "/" + path.lstrip("/") if path else ""
    return str(request.base_url).rstrip("/") + METADATA_PATH + suffix


def build_www_authenticate(
    request: HTTPConnection,
    *,
    scopes: Sequence[str] | None = None,
    error: str | None = None,
    error_description: str | None = None,
    metadata_url: str | None = None,
) -> str:
    """A `Bearer` challenge pointing at the protected resource metadata (0.3.0 helper)."""
    return bearer_challenge(
        resource_metadata=metadata_url or protected_resource_metadata_url(request),
        error=error,
        scopes=dict.fromkeys(scopes or ()),
        error_description=error_description,
    )
