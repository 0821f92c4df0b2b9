"""`JWTAuthenticator`: signed JWT access tokens checked against the issuer's JWKS (RFC 7517/7519/9068)."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from pymcp.security.authn.caches import ExpiringCache, SingleFlight
from pymcp.security.authn.claims import (
    INVALID_TOKEN,
    get_bearer_token,
    logger,
    principal_from_claims,
    token_digest,
)
from pymcp.security.authz import AuthenticationError
from pymcp.security.principal import Principal

__all__ = ["DEFAULT_JWT_ALGORITHMS", "JWTAuthenticator"]

# -- JWT access tokens -----------------------------------------------------------------------------

DEFAULT_JWT_ALGORITHMS: tuple[str, ...] = (
    "RS256",
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
    "ES256",
    "ES384",
    "ES512",
    "EdDSA",
)
# Each algorithm with the only key type (and curve) it may be verified with: no HMAC/RSA confusion.
_KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "EdDSA": ("OKP", None),
}


# Verified JWTs kept (the oldest go first): a bound on memory, far above the tokens live at once.
_VERIFIED_CACHE_SIZE = 10_000


def _media_type(value: str) -> str:
    """A `typ` value compared as RFC 7515 §4.1.9 says: case-insensitively, `application/` optional."""
    value = value.strip().lower()
    return value.removeprefix("application/")


class JWTAuthenticator:
    """Validates JWT access tokens signed by keys from the issuer's JWKS.

    Only asymmetric algorithms from `algorithms` are accepted (never `none`, never HMAC), and a key is
    only used for the algorithm family it belongs to. The JWKS is fetched when first needed, kept for
    `jwks_cache_ttl` seconds, and fetched again when a token names an unknown `kid` (at most once per
    `jwks_refetch_cooldown` seconds). `audience` is required: a token issued for another resource must
    not work here (RFC 8707). Scopes come from `scope` (space-separated) or `scp` (a list); every claim,
    `groups` included, is kept in `Principal.claims`.

    A verified token's principal is cached by the token's SHA-256 digest until its `exp` (at most
    `jwks_cache_ttl` seconds, so a key withdrawn from the JWKS stops working as soon as the keys would be
    fetched again): requests with the same token share one read-only principal and its policy bindings.

    The header's `typ` must be one of `accepted_types` (RFC 9068 §4: `at+jwt`, so an ID token signed by
    the same keys is not taken for an access token); for an identity provider that types its access
    tokens `JWT`, pass `accepted_types=("at+jwt", "JWT")` and make sure `audience` is this server only.
    """

    def __init__(
        self,
        jwks_url: str | None = None,
        *,
        issuer: str | None,
        audience: str | Sequence[str],
        jwks: Mapping[str, Any] | None = None,
        algorithms: Iterable[str] = DEFAULT_JWT_ALGORITHMS,
        leeway: float = 30.0,
        subject_claim: str = "sub",
        display_name_claim: str = "name",
        scopes_claims: Sequence[str] = ("scope", "scp"),
        roles_claim: str = "roles",
        required_claims: Sequence[str] = ("exp",),
        jwks_cache_ttl: float = 300.0,
        jwks_refetch_cooldown: float = 30.0,
        timeout: float = 5.0,
        verify_tls: bool = True,
        accepted_types: Sequence[str] = ("at+jwt",),
    ) -> None:
        if (jwks_url is None) == (jwks is None):
            raise ValueError("give exactly one of `jwks_url` and `jwks`")
        self.algorithms = tuple(algorithms)
        for algorithm in self.algorithms:
            if algorithm not in _KEY_TYPES:
                raise ValueError(
                    f"algorithm `{algorithm}` is not allowed (use one of {', '.join(DEFAULT_JWT_ALGORITHMS)})"
                )
        if not self.algorithms:
            raise ValueError("`algorithms` must not be empty")
        if not audience:
            raise ValueError("`audience` must name this server (the token's `aud`)")
        if isinstance(accepted_types, str) or not accepted_types:
            raise ValueError("`accepted_types` must be a non-empty list of `typ` values, such as `at+jwt`")
        self.accepted_types = frozenset(_media_type(value) for value in accepted_types)
        self.jwks_url = jwks_url
        self.issuer = issuer
        self.audience: list[str] = [audience] if isinstance(audience, str) else list(audience)
        self.leeway = leeway
        self.subject_claim = subject_claim
        self.display_name_claim = display_name_claim
        self.scopes_claims = tuple(scopes_claims)
        self.roles_claim = roles_claim
        self.required_claims = list(required_claims)
        self.jwks_cache_ttl = jwks_cache_ttl
        self.jwks_refetch_cooldown = jwks_refetch_cooldown
        self.timeout = timeout
        self.verify_tls = verify_tls
        self._keys: dict[str | None, list[_VerificationKey]] = {}
        self._keys_expire_at = float("inf") if jwks is not None else 0.0
        self._last_fetch = float("-inf")
        self._fetching = SingleFlight()
        self._verified = ExpiringCache(_VERIFIED_CACHE_SIZE)
        if jwks is not None:
            self._keys = _index_jwks(jwks)

    async def authenticate(self, request: Any) -> Principal | None:
        token = get_bearer_token(request)
        return None if token is None else await self.authenticate_token(token)

    async def authenticate_token(self, token: str) -> Principal:
        """The principal of a Bearer token (the middleware calls this with the token it already read)."""
        key = token_digest(token)
        cached: Principal | None = self._verified.get(key)
        if cached is not None:
            return cached
        principal, expires_at = await self._verify(token)
        if expires_at is not None:
            self._verified.put(key, principal, min(expires_at - time.time(), self.jwks_cache_ttl))
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float | None]:
        """The principal of a token checked from scratch, and when the token expires (epoch seconds)."""
        import jwt  # see _HEAVY_IMPORTS in pymcp.security.authn

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthenticationError(INVALID_TOKEN) from None
        token_type = header.get("typ")
        if not isinstance(token_type, str) or _media_type(token_type) not in self.accepted_types:
            raise AuthenticationError(INVALID_TOKEN)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self.algorithms:
            raise AuthenticationError(INVALID_TOKEN)
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise AuthenticationError(INVALID_TOKEN)
        key = await self._key_for(kid, algorithm)
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": self.required_claims, "verify_iss": self.issuer is not None},
            )
        except jwt.ExpiredSignatureError:
            raise AuthenticationError("Bearer token has expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthenticationError("Bearer token is not valid yet") from None
        except jwt.InvalidAudienceError:
            raise AuthenticationError("Invalid token audience") from None
        except jwt.InvalidIssuerError:
            raise AuthenticationError("Invalid token issuer") from None
        except jwt.PyJWTError:
            raise AuthenticationError(INVALID_TOKEN) from None
        principal = principal_from_claims(
            claims,
            subject_claim=self.subject_claim,
            display_name_claim=self.display_name_claim,
            scopes_claims=self.scopes_claims,
            roles_claim=self.roles_claim,
        )
        exp = claims.get("exp")
        return principal, float(exp) if isinstance(exp, int | float) else None

    async def _key_for(self, kid: str | None, algorithm: str) -> _VerificationKey:
        if self.jwks_url is not None and time.monotonic() >= self._keys_expire_at:
            await self._refresh()
        key = self._matching_key(kid, algorithm)
        if (
            key is None
            and self.jwks_url is not None
            and time.monotonic() - self._last_fetch >= self.jwks_refetch_cooldown
        ):
            await self._refresh()  # the issuer may have rotated its keys
            key = self._matching_key(kid, algorithm)
        if key is None:
            if not any(self._keys.values()):
                raise AuthenticationError("Token verification keys are unavailable")
            raise AuthenticationError(INVALID_TOKEN)
        return key

    def _matching_key(self, kid: str | None, algorithm: str) -> _VerificationKey | None:
        key_type, curve = _KEY_TYPES[algorithm]
        candidates = [
            key
            for key in self._keys.get(kid, [])
            if key.key_type == key_type
            and (curve is None or key.curve == curve)
            and key.declared_algorithm in (None, algorithm)
        ]
        # Without a `kid`, the key must be unambiguous.
        return candidates[0] if len(candidates) == 1 else None

    async def _refresh(self) -> None:
        await self._fetching.run("jwks", self._fetch)

    async def _fetch(self) -> None:
        import httpx  # see _HEAVY_IMPORTS in pymcp.security.authn

        assert self.jwks_url is not None
        self._last_fetch = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=self.verify_tls) as client:
                response = await client.get(self.jwks_url, headers={"Accept": "application/json"})
            response.raise_for_status()
            document = orjson.loads(response.content)
            if not isinstance(document, dict):
                raise ValueError("the JWKS is not a JSON object")
        except (httpx.HTTPError, ValueError) as exc:  # orjson.JSONDecodeError is a ValueError
            logger.warning("fetching the JWKS at %s failed: %s", self.jwks_url, type(exc).__name__)
            # Keep what we have and do not ask again before the cooldown: a down identity provider must
            # not make every request wait for a timeout.
            self._keys_expire_at = time.monotonic() + self.jwks_refetch_cooldown
            if not any(self._keys.values()):
                raise AuthenticationError("Token verification keys are unavailable") from None
            return
        self._keys = _index_jwks(document)
        self._keys_expire_at = time.monotonic() + self.jwks_cache_ttl


@dataclass(frozen=True, slots=True)
class _VerificationKey:
    key_type: str
    curve: str | None
    declared_algorithm: str | None
    key: Any


def _index_jwks(document: Mapping[str, Any]) -> dict[str | None, list[_VerificationKey]]:
    """Signing keys by `kid` (and every key under None, for tokens without a `kid`); unusable keys skipped."""
    import jwt  # see _HEAVY_IMPORTS in pymcp.security.authn

    keys: dict[str | None, list[_VerificationKey]] = {None: []}
    entries = document.get("keys")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig" or entry.get("kty") == "oct":
            continue  # symmetric keys are never used: they would allow HMAC forgeries with public data
        declared = entry.get("alg")
        try:
            key = jwt.PyJWK(entry).key
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            logger.warning("skipping an unusable key in the JWKS (kid %r)", entry.get("kid"))
            continue
        curve = entry.get("crv")
        verification_key = _VerificationKey(
            key_type=str(entry["kty"]),
            curve=curve if isinstance(curve, str) else None,
            declared_algorithm=declared if isinstance(declared, str) else None,
            key=key,
        )
        keys[None].append(verification_key)
        kid = entry.get("kid")
        if isinstance(kid, str):
            keys.setdefault(kid, []).append(verification_key)
    return keys
