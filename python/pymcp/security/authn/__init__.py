"""Authenticators: Bearer tokens from the `Authorization` header → `Principal`.

- `TokenMapAuthenticator`: a static map of tokens (or their SHA-256 digests), compared in constant time.
- `TokenIntrospectionAuthenticator`: RFC 7662 introspection, async, cached, one request per token at a time.
- `JWTAuthenticator`: signed JWT access tokens checked against the issuer's JWKS (RFC 7517/7519/9068).

Every authenticator returns `None` when the request carries no Bearer token (anonymous) and raises
`AuthenticationError` when it carries one that is not valid; a failure to reach the identity provider is
an `AuthenticationError` as well (the client gets 401, never 500).
"""

from pymcp.security.authn.claims import AllowAnonymousAuthenticator, get_bearer_token, hash_token
from pymcp.security.authn.introspection import TokenIntrospectionAuthenticator
from pymcp.security.authn.jwt import DEFAULT_JWT_ALGORITHMS, JWTAuthenticator
from pymcp.security.authn.token_map import TokenMapAuthenticator
from pymcp.security.authz import AuthenticationError, Authenticator
from pymcp.security.principal import Principal

# _HEAVY_IMPORTS: httpx and PyJWT (with cryptography) are imported where they are used. Together they add
# about 9 MiB to every worker, and most servers use neither the introspection nor the JWT authenticator.

__all__ = [
    "DEFAULT_JWT_ALGORITHMS",
    "AllowAnonymousAuthenticator",
    "AuthenticationError",
    "Authenticator",
    "JWTAuthenticator",
    "Principal",
    "TokenIntrospectionAuthenticator",
    "TokenMapAuthenticator",
    "get_bearer_token",
    "hash_token",
]
