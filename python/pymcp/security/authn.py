"""Authenticators: Bearer tokens from the `Authorization` header → `Principal`.

- `TokenMapAuthenticator`: a static map of tokens (or their SHA-256 digests), compared in constant time.
- `TokenIntrospectionAuthenticator`: RFC 7662 introspection, async, cached, one request per token at a time.
- `JWTAuthenticator`: signed JWT access tokens checked against the issuer's JWKS (RFC 7517/7519/9068).

Every authenticator returns `None` when the request carries no Bearer token (anonymous) and raises
`AuthenticationError` when it carries one that is not valid; a failure to reach the identity provider is
an `AuthenticationError` as well (the client gets 401, never 500).
"""

from __future__ import annotations

import asyncio
import difflib
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson

from pymcp.security.authz import AuthenticationError, Authenticator
from pymcp.security.bearer import bearer_token
from pymcp.security.principal import Principal, frozen_principal

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

logger = logging.getLogger("pymcp.security")

INVALID_TOKEN = "Invalid Bearer token"
MISSING_SUBJECT = "Invalid token principal: missing subject"


# -- the Bearer token ------------------------------------------------------------------------------


def _authorization_header(request: Any) -> str | None:
    """The `Authorization` header of a Starlette request/connection or of a raw ASGI scope."""
    headers = getattr(request, "headers", None)
    if headers is not None:
        value = headers.get("authorization")
        return value if isinstance(value, str) else None
    if isinstance(request, Mapping):
        for name, raw in request.get("headers") or ():
            if name.lower() == b"authorization":
                return bytes(raw).decode("latin-1")
    return None


def get_bearer_token(request: Any) -> str | None:
    """The Bearer token of `request` (a Starlette request or an ASGI scope), or None.

    The scheme is case-insensitive and the token is stripped; any other scheme, or `Bearer` with nothing
    after it, gives None (the request is anonymous).
    """
    header = _authorization_header(request)
    return bearer_token([header], strict=False) if header else None


def _token_digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


def hash_token(token: str) -> str:
    """The `sha256:<hex>` key under which a token map may hold `token` without holding the secret."""
    return "sha256:" + _token_digest(token).hex()


class AllowAnonymousAuthenticator:
    """Treats every request as anonymous."""

    async def authenticate(self, request: Any) -> Principal | None:
        return None


# -- claim handling for all ----------------------------------------------------------------------------


def _string_set(value: Any) -> set[str]:
    """Scopes or roles from a claim: a space-separated string or a list of strings (others dropped)."""
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list | tuple | set | frozenset):
        return {item for item in value if isinstance(item, str) and item}
    return set()


def _principal_from_claims(
    claims: Mapping[str, Any],
    *,
    subject_claim: str,
    display_name_claim: str,
    scopes_claims: Sequence[str],
    roles_claim: str,
) -> Principal:
    subject = claims.get(subject_claim)
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError(MISSING_SUBJECT)
    display_name = claims.get(display_name_claim)
    scopes: set[str] = set()
    for claim in scopes_claims:
        if claim in claims:
            scopes = _string_set(claims[claim])
            break
    return frozen_principal(
        subject,
        display_name=display_name if isinstance(display_name, str) else None,
        scopes=scopes,
        roles=_string_set(claims.get(roles_claim)),
        claims=claims,
    )


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# -- static token map ------------------------------------------------------------------------------

_ENTRY_KEYS = ("claims", "display_name", "expires_at", "roles", "scopes", "subject")


def _entry_error(where: str, problem: str) -> ValueError:
    return ValueError(f"token map {where}: {problem}")


def _parse_expiry(where: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _entry_error(where, "`expires_at` must be epoch seconds or an ISO 8601 date-time")
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _entry_error(where, f"`expires_at` `{value}` is not an ISO 8601 date-time") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)  # a date-time without offset is read as UTC
        return moment.timestamp()
    return float(value)


def _entry_strings(where: str, key: str, value: Any) -> set[str]:
    if value is None:
        return set()
    if isinstance(value, str):
        return set(value.split())
    if isinstance(value, list | tuple | set | frozenset) and all(isinstance(item, str) for item in value):
        return {item for item in value if item}
    raise _entry_error(where, f"`{key}` must be a string or a list of strings")


@dataclass(frozen=True, slots=True)
class _TokenEntry:
    digest: bytes
    # Built once and reused by every request with this token (its policy bindings are cached on it); it is
    # read-only, so tool code cannot change what the next request sees.
    principal: Principal
    expires_at: float | None


def _token_entry(index: int, key: Any, entry: Any) -> _TokenEntry:
    if not isinstance(key, str) or not key.strip():
        raise _entry_error(f"entry {index}", "the token must be a non-empty string")
    if key.startswith("sha256:"):
        hex_digest = key[len("sha256:") :].lower()
        if len(hex_digest) != 64 or any(ch not in "0123456789abcdef" for ch in hex_digest):
            raise _entry_error(f"entry {index}", "a `sha256:` key must be followed by 64 hex digits")
        digest = bytes.fromhex(hex_digest)
    else:
        if key != key.strip() or any(ch.isspace() for ch in key):
            raise _entry_error(f"entry {index}", "the token must not contain whitespace")
        digest = _token_digest(key)
    where = f"entry {index} (sha256:{digest.hex()[:8]}…)"
    if not isinstance(entry, Mapping):
        raise _entry_error(where, "the entry must be an object")
    for name in entry:
        if name not in _ENTRY_KEYS:
            close = difflib.get_close_matches(str(name), _ENTRY_KEYS, n=1)
            hint = f" (did you mean `{close[0]}`?)" if close else ""
            raise _entry_error(where, f"unknown key `{name}`{hint}")
    subject = entry.get("subject")
    if not isinstance(subject, str) or not subject:
        raise _entry_error(where, "`subject` must be a non-empty string")
    display_name = entry.get("display_name")
    if display_name is not None and not isinstance(display_name, str):
        raise _entry_error(where, "`display_name` must be a string")
    claims = entry.get("claims")
    claims = {} if claims is None else claims
    if not isinstance(claims, Mapping):
        raise _entry_error(where, "`claims` must be an object")
    principal = frozen_principal(
        subject,
        display_name=display_name,
        scopes=_entry_strings(where, "scopes", entry.get("scopes")),
        roles=_entry_strings(where, "roles", entry.get("roles")),
        claims=claims,
    )
    return _TokenEntry(digest, principal, _parse_expiry(where, entry.get("expires_at")))


class TokenMapAuthenticator:
    """Static Bearer tokens: `{token or "sha256:<hex>": {subject, display_name?, roles?, scopes?, claims?,
    expires_at?}}`.

    The map is validated here (`ValueError` naming the entry by index and digest prefix, never the token).
    Each presented token is hashed once and compared with every stored digest in constant time. `roles`
    and `scopes` given as a string are split on whitespace (pymcp-kit 0.3.0 kept them whole).
    """

    def __init__(self, token_map: Mapping[str, Mapping[str, Any]]) -> None:
        if not isinstance(token_map, Mapping):
            raise ValueError("the token map must be an object mapping tokens to principals")
        entries = [_token_entry(index, key, entry) for index, (key, entry) in enumerate(token_map.items())]
        seen: dict[bytes, int] = {}
        for index, entry in enumerate(entries):
            if entry.digest in seen:
                raise _entry_error(f"entry {index}", f"the same token as entry {seen[entry.digest]}")
            seen[entry.digest] = index
        self._entries: tuple[_TokenEntry, ...] = tuple(entries)

    def lookup(self, token: str) -> Principal:
        """The principal of `token`; `AuthenticationError` for an unknown or expired token."""
        digest = _token_digest(token)
        found: _TokenEntry | None = None
        for entry in self._entries:  # no early exit: the time taken does not depend on which entry matched
            if hmac.compare_digest(entry.digest, digest):
                found = entry
        if found is None:
            raise AuthenticationError(INVALID_TOKEN)
        if found.expires_at is not None and time.time() >= found.expires_at:
            raise AuthenticationError("Bearer token has expired")
        return found.principal

    async def authenticate_token(self, token: str) -> Principal:
        return self.lookup(token)

    async def authenticate(self, request: Any) -> Principal | None:
        token = get_bearer_token(request)
        return None if token is None else self.lookup(token)


# -- caches of the remote authenticators -----------------------------------------------------------


class _SingleFlight:
    """One in-flight computation per key; concurrent callers for the same key share its result."""

    def __init__(self) -> None:
        self._running: dict[Any, asyncio.Task[Any]] = {}

    async def run(self, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        task = self._running.get(key)
        if task is None or task.get_loop() is not asyncio.get_running_loop():
            task = asyncio.ensure_future(compute())
            self._running[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        # shield: one caller giving up (client disconnect) must not cancel the others' lookup
        return await asyncio.shield(task)

    def _forget(self, key: Any, done: asyncio.Task[Any]) -> None:
        if self._running.get(key) is done:
            del self._running[key]
        if not done.cancelled():
            done.exception()  # retrieved: nobody else may be waiting for it


class _ExpiringCache:
    """A bounded map of values that expire at a monotonic deadline (the oldest entry goes first when full)."""

    def __init__(self, max_size: int) -> None:
        self._items: dict[bytes, tuple[float, Any]] = {}
        self._max_size = max_size

    def get(self, key: bytes) -> Any:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= time.monotonic():
            del self._items[key]
            return None
        return item[1]

    def put(self, key: bytes, value: Any, ttl: float) -> None:
        if ttl <= 0 or self._max_size <= 0:
            return
        self._items.pop(key, None)
        while len(self._items) >= self._max_size:
            del self._items[next(iter(self._items))]
        self._items[key] = (time.monotonic() + ttl, value)


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
        self._cache = _ExpiringCache(max_cache_size)
        self._in_flight = _SingleFlight()
        self._throttle = _Throttle(max_concurrent_introspections, max_introspections_per_second)

    async def authenticate(self, request: Any) -> Principal | None:
        token = get_bearer_token(request)
        return None if token is None else await self.authenticate_token(token)

    async def authenticate_token(self, token: str) -> Principal:
        """The principal of a Bearer token (the middleware calls this with the token it already read)."""
        key = _token_digest(token)
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
        import httpx  # see _HEAVY_IMPORTS

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
        audiences = _as_list(claims.get("aud"))
        if self.expected_audience is not None and self.expected_audience not in audiences:
            raise AuthenticationError("Invalid token audience")
        if self.expected_resource is not None:
            # RFC 8707: the resource may be reported as `resource` or, as most servers do, in `aud`.
            resources = _as_list(claims["resource"]) if "resource" in claims else audiences
            if self.expected_resource not in resources:
                raise AuthenticationError("Invalid token resource")
        return _principal_from_claims(
            claims,
            subject_claim=self.subject_claim,
            display_name_claim=self.display_name_claim,
            scopes_claims=(self.scopes_claim,),
            roles_claim=self.roles_claim,
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
        self._fetching = _SingleFlight()
        self._verified = _ExpiringCache(_VERIFIED_CACHE_SIZE)
        if jwks is not None:
            self._keys = _index_jwks(jwks)

    async def authenticate(self, request: Any) -> Principal | None:
        token = get_bearer_token(request)
        return None if token is None else await self.authenticate_token(token)

    async def authenticate_token(self, token: str) -> Principal:
        """The principal of a Bearer token (the middleware calls this with the token it already read)."""
        key = _token_digest(token)
        cached: Principal | None = self._verified.get(key)
        if cached is not None:
            return cached
        principal, expires_at = await self._verify(token)
        if expires_at is not None:
            self._verified.put(key, principal, min(expires_at - time.time(), self.jwks_cache_ttl))
        return principal

    async def _verify(self, token: str) -> tuple[Principal, float | None]:
        """The principal of a token checked from scratch, and when the token expires (epoch seconds)."""
        import jwt  # see _HEAVY_IMPORTS

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
        principal = _principal_from_claims(
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
        import httpx  # see _HEAVY_IMPORTS

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
    import jwt  # see _HEAVY_IMPORTS

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
