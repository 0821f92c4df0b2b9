"""Authorization protocols, the request an authorizer sees, and the simple authorizers of pymcp-kit 0.3.0."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from pymcp.errors import AuthenticationError, AuthorizationError
from pymcp.protocol.targets import SUBSCRIPTION_METHODS, TARGET_KEYS, TARGET_KINDS
from pymcp.security.principal import Principal

__all__ = [
    "AllowAllAuthorizer",
    "AuthenticationError",
    "Authenticator",
    "AuthorizationError",
    "Authorizer",
    "AuthzRequest",
    "DenyAllAuthorizer",
    "MethodAllowListAuthorizer",
    "build_authz_request",
    "infer_capability",
]


@dataclass(frozen=True, slots=True)
class AuthzRequest:
    """What is being asked for; the fields of pymcp-kit 0.3.0's `AuthzRequest`."""

    http_method: str | None = None
    path: str | None = None
    rpc_method: str | None = None
    params: Mapping[str, Any] | None = None
    capability: str | None = None
    tool_name: str | None = None
    prompt_name: str | None = None
    resource_uri: str | None = None
    resource_uris: tuple[str, ...] = ()


def infer_capability(method: str | None) -> str | None:
    """The capability a method belongs to: the part before the first `/` (`tools/call` → `tools`)."""
    if not method:
        return None
    head, sep, _ = method.partition("/")
    return head if sep else None


def build_authz_request(
    *,
    rpc_method: str | None,
    params: Mapping[str, Any] | None = None,
    http_method: str | None = None,
    path: str | None = None,
) -> AuthzRequest:
    """Build the `AuthzRequest` for a JSON-RPC method and its params."""
    params = params if isinstance(params, Mapping) else None
    tool_name = prompt_name = resource_uri = None
    resource_uris: tuple[str, ...] = ()
    if params is not None and rpc_method is not None:
        key = TARGET_KEYS.get(rpc_method)
        target = params.get(key) if key is not None else None
        if isinstance(target, str):
            kind = TARGET_KINDS[rpc_method]
            tool_name = target if kind == "tool" else None
            prompt_name = target if kind == "prompt" else None
            resource_uri = target if kind == "resource" else None
        if rpc_method in SUBSCRIPTION_METHODS:
            uri = params.get("uri")
            uris = params.get("uris")
            found = [u for u in uris if isinstance(u, str)] if isinstance(uris, list) else []
            if isinstance(uri, str):
                found.append(uri)
            resource_uris = tuple(dict.fromkeys(found))
    return AuthzRequest(
        http_method=http_method,
        path=path,
        rpc_method=rpc_method,
        params=params,
        capability=infer_capability(rpc_method),
        tool_name=tool_name,
        prompt_name=prompt_name,
        resource_uri=resource_uri,
        resource_uris=resource_uris,
    )


@runtime_checkable
class Authenticator(Protocol):
    """Turns a request into a principal (`None`: anonymous); bad credentials raise `AuthenticationError`."""

    async def authenticate(self, request: Any) -> Principal | None: ...


@runtime_checkable
class Authorizer(Protocol):
    """Decides requests; raise `AuthorizationError` to deny. List filters keep only what may be used."""

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None: ...


class AllowAllAuthorizer:
    """Allows everything."""

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        return None


class DenyAllAuthorizer:
    """Denies everything and hides every tool, prompt and resource."""

    def __init__(self, reason: str = "access denied") -> None:
        self.reason = reason

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        raise AuthorizationError(self.reason)

    def filter_capabilities(
        self, principal: Principal | None, capabilities: dict[str, Any]
    ) -> dict[str, Any]:
        return {}

    def filter_tools(self, principal: Principal | None, items: Sequence[Any]) -> list[Any]:
        return []

    filter_prompts = filter_resources = filter_resource_templates = filter_tools


class MethodAllowListAuthorizer:
    """Allows only the listed JSON-RPC methods (and, unless told otherwise, non-RPC HTTP requests)."""

    def __init__(self, allowed_methods: Iterable[str], *, allow_non_rpc: bool = True) -> None:
        self.allowed_methods = frozenset(allowed_methods)
        self.allow_non_rpc = allow_non_rpc

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        if request.rpc_method is None:
            if self.allow_non_rpc:
                return
            raise AuthorizationError(f"rpc method required for: {request.http_method} {request.path}")
        if request.rpc_method not in self.allowed_methods:
            raise AuthorizationError(f"method not allowed: {request.rpc_method}")
