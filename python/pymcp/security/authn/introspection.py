"""`TokenIntrospectionAuthenticator`: RFC 7662 introspection, async, cached, throttled, single-flight."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import orjson

from pymcp.security.authn.caches import ExpiringCache, SingleFlight
from pymcp.security.authn.claims import (
    INVALID_TOKEN,
    as_list,
    get_bearer_token,
    logger,
    principal_from_claims,
    token_digest,
)
from pymcp.security.authz import AuthenticationError
from pymcp.security.principal import Principal

__all__ = ["TokenIntrospectionAuthenticator"]

# -- RFC 7662 introspection ------------------------------------------------------------------------


# `token_type` values (RFC 7662 §2.2, bare or as RFC 8693 URNs) that are never access tokens.
_NOT_ACCESS_TOKENS = frozenset(("refresh_token", "id_token"))


class _Throttle:
    """At most `concurrent` calls at once and `per_second` started per second (a token bucket holding up
    to one second's worth); a call over the rate is refused at once rather than queued."""

    def __init__(self, concurrent: int, per_second: float) -> None:
        if concurrent <= 0 or per_second <= 0:
            raise ValueError("introspection limits must be positive")
        self._slots = asyncio.Semaphore(concurrent)
        self._rate = per_second
        self._capacity = max(1.0, per_second)
        self._tokens = self._capacity
        self._updated = time.monotonic()

    def _take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._capacity, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    async def run(self, call: Callable[[], Awaitable[Any]]) -> Any:
        if not self._take():
            logger.warning("token introspection is over its rate limit: refusing a token unchecked")
            raise AuthenticationError("Token introspection failed")
        async with self._slots:
            return await call()


class TokenIntrospectionAuthenticator:
    """Validates tokens with an RFC 7662 introspection endpoint (pymcp-kit 0.3.0's keyword arguments).

    Results are cached by the token's SHA-256 digest for `cache_ttl` seconds (never past the token's `exp`),
    rejections for `negative_cache_ttl` seconds; concurrent requests with the same token share one
    introspection call. Failing to reach the endpoint is a 401 ("Token introspection failed"), not cached.
    At most `max_concurrent_introspections` calls run at once and `max_introspections_per_second` start
    per second; a token that would exceed the rate is refused (401, not cached), so a flood of random
    tokens cannot turn into a flood of calls. A token whose `token_type` is a refresh or ID token is refused.
    """

    def __init__(
        self,
        introspection_url: str,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        timeout: float = 5.0,
        token_type_hint: str | None = "access_token",
        subject_claim: str = "sub",
        display_name_claim: str = "name",
        scopes_claim: str = "scope",
        roles_claim: str = "roles",
        expected_audience: str | None = None,
        expected_resource: str | None = None,
        expected_issuer: str | None = None,
        verify_tls: bool = True,
        extra_params: Mapping[str, str] | None = None,
        cache_ttl: float = 60.0,
        negative_cache_ttl: float = 5.0,
        max_cache_size: int = 10_000,
        leeway: float = 0.0,
        max_concurrent_introspections: int = 16,
        max_introspections_per_second: float = 50.0,
    ) -> None:
        if not introspection_url:
            raise ValueError("`introspection_url` must not be empty")
        if timeout <= 0:
            raise ValueError("`timeout` must be positive")
        if cache_ttl < 0 or negative_cache_ttl < 0:
            raise ValueError("cache lifetimes must not be negative")
        self.introspection_url = introspection_url
        self.client_id = client_id
        self.client_secret = client_secret
        self.timeout = timeout
        self.token_type_hint = token_type_hint
        self.subject_claim = subject_claim
        self.display_name_claim = display_name_claim
        self.scopes_claim = scopes_claim
        self.roles_claim = roles_claim
        self.expected_audience = expected_audience
        self.expected_resource = expected_resource
        self.expected_issuer = expected_issuer
        self.verify_tls = verify_tls
        self.extra_params = dict(extra_params or {})
        self.cache_ttl = cache_ttl
        self.negative_cache_ttl = negative_cache_ttl
        self.leeway = leeway
        self._cache = ExpiringCache(max_cache_size)
        self._in_flight = SingleFlight()
        self._throttle = _Throttle(max_concurrent_introspections, max_introspections_per_second)

    async def authenticate(self, request: Any) -> Principal | None:
        token = get_bearer_token(request)
        return None if token is None else await self.authenticate_token(token)

    async def authenticate_token(self, token: str) -> Principal:
        """The principal of a Bearer token (the middleware calls this with the token it already read)."""
        key = token_digest(token)
        cached = self._cache.get(key)
        if cached is None:
            cached = await self._in_flight.run(key, lambda: self._introspect_and_cache(key, token))
        if isinstance(cached, AuthenticationError):
            raise AuthenticationError(cached.message)
        assert isinstance(cached, Principal)
        return cached

    async def _introspect_and_cache(self, key: bytes, token: str) -> Principal | AuthenticationError:
        claims = await self._throttle.run(lambda: self._introspect(token))  # failures propagate uncached
        now = time.time()
        try:
            principal = self._check(claims, now)
        except AuthenticationError as rejection:
            self._cache.put(key, rejection, self.negative_cache_ttl)
            return rejection
        ttl = self.cache_ttl
        exp = claims.get("exp")
        if isinstance(exp, int | float) and not isinstance(exp, bool):
            ttl = min(ttl, exp - now)
        self._cache.put(key, principal, ttl)
        return principal

    async def _introspect(self, token: str) -> Mapping[str, Any]:
        import httpx  # see _HEAVY_IMPORTS in pymcp.security.authn

        form = {"token": token, **self.extra_params}
        if self.token_type_hint:
            form["token_type_hint"] = self.token_type_hint
        auth = httpx.BasicAuth(self.client_id, self.client_secret or "") if self.client_id else None
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=self.verify_tls, auth=auth) as client:
                response = await client.post(
                    self.introspection_url, data=form, headers={"Accept": "application/json"}
                )
        except httpx.HTTPError as exc:
            logger.warning("token introspection at %s failed: %s", self.introspection_url, type(exc).__name__)
            raise AuthenticationError("Token introspection failed") from None
        if response.status_code != 200:
            logger.warning(
                "token introspection at %s answered %d", self.introspection_url, response.status_code
            )
            raise AuthenticationError("Token introspection failed")
        try:
            claims = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            raise AuthenticationError("Token introspection returned invalid JSON") from None
        if not isinstance(claims, dict):
            raise AuthenticationError("Token introspection returned invalid JSON")
        return claims

    def _check(self, claims: Mapping[str, Any], now: float) -> Principal:
        if claims.get("active") is not True:
            raise AuthenticationError(INVALID_TOKEN)
        token_type = claims.get("token_type")
        if (
            isinstance(token_type, str)
            and token_type.strip().lower().rpartition(":")[2] in _NOT_ACCESS_TOKENS
        ):
            # RFC 7662 §2.2: a live refresh or ID token is still not an access token.
            raise AuthenticationError(INVALID_TOKEN)
        exp = claims.get("exp")
        if exp is not None and (not _is_number(exp) or exp + self.leeway <= now):
            raise AuthenticationError("Bearer token has expired")
        nbf = claims.get("nbf")
        if nbf is not None and (not _is_number(nbf) or nbf - self.leeway > now):
            raise AuthenticationError("Bearer token is not valid yet")
        if self.expected_issuer is not None and claims.get("iss") != self.expected_issuer:
            raise AuthenticationError("Invalid token issuer")
        audiences = as_list(claims.get("aud"))
        if self.expected_audience is not None and self.expected_audience not in audiences:
            raise AuthenticationError("Invalid token audience")
        if self.expected_resource is not None:
            # RFC 8707: the resource may be reported as `resource` or, as most servers do, in `aud`.
            resources = as_list(claims["resource"]) if "resource" in claims else audiences
            if self.expected_resource not in resources:
                raise AuthenticationError("Invalid token resource")
        return principal_from_claims(
            claims,
            subject_claim=self.subject_claim,
            display_name_claim=self.display_name_claim,
            scopes_claims=(self.scopes_claim,),
            roles_claim=self.roles_claim,
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
