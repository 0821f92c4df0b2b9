"""Authentication, authorization and OAuth metadata: pymcp-kit 0.3.0's `pymcp.security`, and more.

Names load on first use: `pymcp.security.rules` alone never imports the web stack."""

from typing import TYPE_CHECKING

from pymcp._lazy import lazy_exports

if TYPE_CHECKING:
    from pymcp.security.authn import (
        AllowAnonymousAuthenticator,
        JWTAuthenticator,
        TokenIntrospectionAuthenticator,
        TokenMapAuthenticator,
        get_bearer_token,
        hash_token,
    )
    from pymcp.security.authz import (
        AllowAllAuthorizer,
        AuthenticationError,
        Authenticator,
        AuthorizationError,
        Authorizer,
        AuthzRequest,
        DenyAllAuthorizer,
        MethodAllowListAuthorizer,
        build_authz_request,
        infer_capability,
    )
    from pymcp.security.gate import SecurityGate
    from pymcp.security.middleware import SecurityMiddleware
    from pymcp.security.oauth import OAuthProtectedResourceConfig
    from pymcp.security.principal import Principal, principal_identity
    from pymcp.security.rules import RuleBasedAuthorizer, load_json_config

__all__ = [
    "AllowAllAuthorizer",
    "AllowAnonymousAuthenticator",
    "AuthenticationError",
    "Authenticator",
    "AuthorizationError",
    "Authorizer",
    "AuthzRequest",
    "DenyAllAuthorizer",
    "JWTAuthenticator",
    "MethodAllowListAuthorizer",
    "OAuthProtectedResourceConfig",
    "Principal",
    "RuleBasedAuthorizer",
    "SecurityGate",
    "SecurityMiddleware",
    "TokenIntrospectionAuthenticator",
    "TokenMapAuthenticator",
    "build_authz_request",
    "get_bearer_token",
    "hash_token",
    "infer_capability",
    "load_json_config",
    "principal_identity",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "AllowAllAuthorizer": "pymcp.security.authz",
        "AllowAnonymousAuthenticator": "pymcp.security.authn",
        "AuthenticationError": "pymcp.security.authz",
        "Authenticator": "pymcp.security.authz",
        "AuthorizationError": "pymcp.security.authz",
        "Authorizer": "pymcp.security.authz",
        "AuthzRequest": "pymcp.security.authz",
        "DenyAllAuthorizer": "pymcp.security.authz",
        "JWTAuthenticator": "pymcp.security.authn",
        "MethodAllowListAuthorizer": "pymcp.security.authz",
        "OAuthProtectedResourceConfig": "pymcp.security.oauth",
        "Principal": "pymcp.security.principal",
        "RuleBasedAuthorizer": "pymcp.security.rules",
        "SecurityGate": "pymcp.security.gate",
        "SecurityMiddleware": "pymcp.security.middleware",
        "TokenIntrospectionAuthenticator": "pymcp.security.authn",
        "TokenMapAuthenticator": "pymcp.security.authn",
        "build_authz_request": "pymcp.security.authz",
        "get_bearer_token": "pymcp.security.authn",
        "hash_token": "pymcp.security.authn",
        "infer_capability": "pymcp.security.authz",
        "load_json_config": "pymcp.security.rules",
        "principal_identity": "pymcp.security.principal",
    },
)
