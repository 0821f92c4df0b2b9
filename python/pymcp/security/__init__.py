"""Authentication, authorization and OAuth metadata: pymcp-kit 0.3.0's `pymcp.security`, and more."""

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
