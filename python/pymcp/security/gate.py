"""The security gate: everything the server asks of security, behind one object built once by `create_app`.

HTTP requests are authenticated by `SecurityMiddleware(app, gate)`; each JSON-RPC request is then authorized
exactly once by the dispatcher through `authorize`, with the principal of that request (or the declared
principal on stdio). List results and capabilities are filtered with `filter_list` / `filter_capabilities`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.targets import SUBSCRIPTION_METHODS, TARGET_KEYS
from pymcp.security.authz import (
    Authenticator,
    AuthorizationError,
    Authorizer,
    AuthzRequest,
    build_authz_request,
)
from pymcp.security.challenge import bearer_challenge, current_resource_metadata_url
from pymcp.security.oauth import OAuthProtectedResourceConfig
from pymcp.security.principal import Principal
from pymcp.security.rules import RuleBasedAuthorizer

__all__ = ["DEFAULT_EXEMPT_PATHS", "MCP_PATH", "SecurityGate", "exempt_path_set"]

DEFAULT_EXEMPT_PATHS: tuple[str, ...] = ("/", "/health", "/ready")
MCP_PATH = "/mcp"


def exempt_path_set(paths: Sequence[str] | None) -> frozenset[str]:
    """The paths that skip authentication (exact match); the MCP endpoint can never be one of them."""
    if paths is None:
        return frozenset(DEFAULT_EXEMPT_PATHS)
    if isinstance(paths, str) or not all(isinstance(path, str) for path in paths):
        raise TypeError("`auth_exempt_paths` must be a list of paths, not a string")
    for path in paths:
        if not path.startswith("/"):
            raise ValueError(f"exempt path `{path}` must start with `/`")
        if path.rstrip("/") == MCP_PATH:
            raise ValueError(f"`{path}` cannot be exempt from authentication: it serves MCP requests")
    return frozenset(paths)


# list method → (the authorizer's filter method, the method each item is checked against, the item's key)
_LIST_FILTERS: dict[str, tuple[str, str | None, str]] = {
    "tools/list": ("filter_tools", "tools/call", "name"),
    "prompts/list": ("filter_prompts", "prompts/get", "name"),
    "resources/list": ("filter_resources", "resources/read", "uri"),
    # A template names no concrete resource; reading one is authorized per URI, so templates are not filtered.
    "resources/templates/list": ("filter_resource_templates", None, "uriTemplate"),
}


class SecurityGate:
    """Authentication (HTTP middleware), authorization (once per JSON-RPC request) and list filtering."""

    def __init__(
        self,
        *,
        authenticator: Authenticator | None = None,
        authorizer: Authorizer | None = None,
        require_authentication: bool = False,
        exempt_paths: Sequence[str] | None = None,
        oauth: OAuthProtectedResourceConfig | None = None,
        allowed_hosts: Sequence[str] | None = None,
    ) -> None:
        self.authenticator = authenticator
        self.allowed_hosts = allowed_hosts
        self.authorizer = authorizer
        self.require_authentication = require_authentication
        self.exempt_paths = exempt_path_set(exempt_paths)
        self.oauth = oauth
        # RuleBasedAuthorizer answers the common case, allowed, with one call into its compiled policy;
        # other authorizers are only ever asked through their own `authorize`.
        self._is_allowed: Callable[[Principal | None, str, str | None], bool] | None = (
            authorizer.is_allowed if isinstance(authorizer, RuleBasedAuthorizer) else None
        )

    @classmethod
    def from_config(
        cls,
        *,
        authn: Authenticator | None,
        authz: Authorizer | None,
        require_authn: bool,
        auth_exempt_paths: Sequence[str] | None,
        oauth: OAuthProtectedResourceConfig | None,
        allowed_hosts: Sequence[str] | None = None,
    ) -> SecurityGate | None:
        """The gate for `create_app`'s security arguments; `None` when no security is configured at all."""
        if authn is None and authz is None and not require_authn and oauth is None:
            return None
        if oauth is not None and not isinstance(oauth, OAuthProtectedResourceConfig):
            raise TypeError("`oauth` must be an `OAuthProtectedResourceConfig`")
        return cls(
            authenticator=authn,
            authorizer=authz,
            require_authentication=require_authn,
            exempt_paths=auth_exempt_paths,
            oauth=oauth,
            allowed_hosts=allowed_hosts,
        )

    def challenge(
        self,
        metadata_url: str | None,
        *,
        error: str | None = None,
        scopes: Sequence[str] = (),
        description: str | None = None,
    ) -> str:
        """The `WWW-Authenticate` value of every refusal (the middleware's 400/401 and `authorize`'s)."""
        return bearer_challenge(
            resource_metadata=metadata_url, error=error, scopes=scopes, error_description=description
        )

    # -- authorization -------------------------------------------------------------------------------

    def authorize(self, principal: Principal | None, method: str, params: Mapping[str, Any] | None) -> None:
        """Allow the request or raise `MCPError`: 403 `FORBIDDEN`, or 401 `UNAUTHORIZED` when anonymous."""
        authorizer = self.authorizer
        if authorizer is None:
            return
        fast_path, target = _fast_path_target(method, params) if self._is_allowed else (False, None)
        if fast_path and self._is_allowed is not None and self._is_allowed(principal, method, target):
            return
        request = build_authz_request(rpc_method=method, params=params)
        try:
            authorizer.authorize(principal, request)
        except AuthorizationError as denial:
            raise self._denied(principal, request, denial) from None
        if fast_path:
            # is_allowed and authorize disagree: never let the slower path widen what the fast path refused.
            raise self._denied(principal, request, AuthorizationError())

    def required_scopes(self, principal: Principal | None, request: AuthzRequest) -> tuple[str, ...]:
        """Scopes that would let `principal` make `request` (empty when unknown or of no help)."""
        lookup = getattr(self.authorizer, "required_scopes_for", None)
        if lookup is None:
            return ()
        return tuple(lookup(principal, request))

    def resource_metadata_url(self) -> str | None:
        """The RFC 9728 metadata URL for challenges: the current HTTP request's, or the configured one."""
        if self.oauth is None:
            return None
        return current_resource_metadata_url.get() or self.oauth.static_metadata_url()

    def _denied(
        self, principal: Principal | None, request: AuthzRequest, denial: AuthorizationError
    ) -> MCPError:
        scopes = denial.required_scopes
        if not scopes and self._is_allowed is None:  # RuleBasedAuthorizer's denial already names them
            scopes = self.required_scopes(principal, request)
        metadata_url = self.resource_metadata_url()
        if principal is None:
            if scopes and self._hidden_target(principal, request):
                scopes = ()
            # An anonymous caller is told to authenticate (401), not that it is forbidden.
            challenge = self.challenge(metadata_url, scopes=scopes)
            return MCPError(
                ErrorCode.UNAUTHORIZED,
                "Authentication required",
                http_status=401,
                headers={"WWW-Authenticate": challenge},
            )
        message = denial.message or "Forbidden"
        if scopes and self._hidden_target(principal, request):
            # A hint would tell a hidden target from an unknown one: answer both alike.
            scopes, message = (), "Forbidden"
        headers: dict[str, str] = {}
        if scopes:
            headers["WWW-Authenticate"] = self.challenge(
                metadata_url, error="insufficient_scope", scopes=scopes, description=message
            )
        return MCPError(ErrorCode.FORBIDDEN, message, http_status=403, headers=headers)

    # -- filtering -----------------------------------------------------------------------------------

    def filter_capabilities(
        self, principal: Principal | None, capabilities: dict[str, Any]
    ) -> dict[str, Any]:
        """The capabilities `principal` may see (the authorizer's `filter_capabilities`, if it has one)."""
        filter_capabilities = getattr(self.authorizer, "filter_capabilities", None)
        if filter_capabilities is None:
            return capabilities
        return dict(filter_capabilities(principal, capabilities))

    def filter_list(
        self, principal: Principal | None, method: str, items: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """The items of a `*/list` result that `principal` may use.

        The authorizer's own `filter_*` method decides when it has one; otherwise each item is kept when
        the call it names (`tools/call` with its name, ...) is authorized.
        """
        authorizer = self.authorizer
        if authorizer is None:
            return items
        try:
            filter_name, item_method, item_key = _LIST_FILTERS[method]
        except KeyError:
            raise ValueError(f"`{method}` is not a list method") from None
        own_filter = getattr(authorizer, filter_name, None)
        if own_filter is not None:
            return list(own_filter(principal, items))
        if item_method is None:
            return items
        kept: list[dict[str, Any]] = []
        for item in items:
            target = item.get(item_key)
            if isinstance(target, str) and self.allows(principal, item_method, {item_key: target}):
                kept.append(item)
        return kept

    def _hidden_target(self, principal: Principal | None, request: AuthzRequest) -> bool:
        """Whether the request names a tool, prompt or resource that the authorizer's own list filter
        hides from `principal` (an authorizer without one hides nothing on purpose: its hints stay)."""
        for method, target, key in (
            ("tools/list", request.tool_name, "name"),
            ("prompts/list", request.prompt_name, "name"),
            ("resources/list", request.resource_uri, "uri"),
            *(("resources/list", uri, "uri") for uri in request.resource_uris),
        ):
            own_filter = getattr(self.authorizer, _LIST_FILTERS[method][0], None)
            if target is not None and own_filter is not None and not own_filter(principal, [{key: target}]):
                return True
        return False

    def allows(self, principal: Principal | None, method: str, params: Mapping[str, Any]) -> bool:
        """Whether `principal` may make this request (no error raised, nothing logged by the gate)."""
        if self.authorizer is None:
            return True
        try:
            self.authorizer.authorize(principal, build_authz_request(rpc_method=method, params=params))
        except AuthorizationError:
            return False
        return True


def _fast_path_target(method: str, params: Mapping[str, Any] | None) -> tuple[bool, str | None]:
    """Whether `is_allowed` can decide this request, and the one target (tool, prompt, URI) it takes."""
    key = TARGET_KEYS.get(method)
    if key is not None:
        value = params.get(key) if type(params) is dict or isinstance(params, Mapping) else None
        return True, value if isinstance(value, str) else None
    # subscriptions may name several URIs: the full request decides
    return method not in SUBSCRIPTION_METHODS, None
