"""JWTAuthenticator against a real local JWKS endpoint: signatures, claims, rotation, algorithm attacks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from pymcp.security import AuthenticationError, JWTAuthenticator
from support.authservers import IdentityProvider, new_key

from .conftest import bearer

AUDIENCE = "https://mcp.test/mcp"


def make(idp: IdentityProvider, **options: Any) -> JWTAuthenticator:
    settings: dict[str, Any] = {"issuer": idp.issuer, "audience": AUDIENCE, **options}
    return JWTAuthenticator(idp.jwks_url, **settings)


def unsigned(claims: dict[str, Any], header: dict[str, Any]) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part(header)}.{part(claims)}."


async def test_valid_token_gives_principal(idp: IdentityProvider) -> None:
    token = idp.issue({"sub": "alice", "aud": AUDIENCE, "scope": "tools:read tasks:*", "groups": ["eng"]})
    principal = await make(idp).authenticate(bearer(token))
    assert principal is not None
    assert principal.subject == "alice"
    assert principal.scopes == {"tools:read", "tasks:*"}
    assert principal.claims["groups"] == ["eng"]
    assert principal.claims["iss"] == idp.issuer


async def test_scp_list_and_roles_claim(idp: IdentityProvider) -> None:
    token = idp.issue(
        {"sub": "bob", "aud": [AUDIENCE, "x"], "scp": ["a", "b"], "roles": ["ops"], "name": "Bob"}
    )
    principal = await make(idp).authenticate(bearer(token))
    assert principal is not None
    assert (principal.scopes, principal.roles, principal.display_name) == ({"a", "b"}, {"ops"}, "Bob")


async def test_keys_are_fetched_once_and_cached(idp: IdentityProvider) -> None:
    authn = make(idp)
    for _ in range(3):
        await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE})))
    assert idp.jwks_fetches == 1


async def test_es256_keys_work(idp: IdentityProvider) -> None:
    key = new_key("ES256")
    idp.keys.append(key)
    try:
        token = idp.issue({"sub": "alice", "aud": AUDIENCE}, key=key)
        assert await make(idp).authenticate(bearer(token)) is not None
    finally:
        idp.keys.remove(key)


def now() -> int:
    return int(time.time())


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"sub": "alice", "aud": AUDIENCE, "exp": now() - 120}, "expired"),
        ({"sub": "alice", "aud": AUDIENCE, "nbf": now() + 600}, "not valid yet"),
        ({"sub": "alice", "aud": "https://other/mcp"}, "Invalid token audience"),
        ({"sub": "alice"}, "Invalid Bearer token"),
        ({"sub": "alice", "aud": AUDIENCE, "iss": "https://evil.test"}, "Invalid token issuer"),
        ({"aud": AUDIENCE}, "missing subject"),
    ],
)
async def test_rejected_claims(idp: IdentityProvider, claims: dict[str, Any], message: str) -> None:
    with pytest.raises(AuthenticationError, match=message):
        await make(idp).authenticate(bearer(idp.issue(claims)))


async def test_leeway_accepts_small_clock_skew(idp: IdentityProvider) -> None:
    token = idp.issue({"sub": "alice", "aud": AUDIENCE, "exp": now() - 5})
    assert await make(idp, leeway=30).authenticate(bearer(token)) is not None


async def test_token_without_exp_is_rejected(idp: IdentityProvider) -> None:
    key = idp.keys[-1]
    token = jwt.encode(
        {"sub": "alice", "aud": AUDIENCE, "iss": idp.issuer},
        key.private_key,
        "RS256",
        headers={"kid": key.kid},
    )
    with pytest.raises(AuthenticationError):
        await make(idp).authenticate(bearer(token))


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_alg_none_is_rejected(idp: IdentityProvider, alg: str) -> None:
    token = unsigned(
        {"sub": "alice", "aud": AUDIENCE, "iss": idp.issuer, "exp": now() + 60},
        {"alg": alg, "kid": idp.keys[0].kid},
    )
    with pytest.raises(AuthenticationError, match="Invalid Bearer token"):
        await make(idp).authenticate(bearer(token))


async def test_hs256_signed_with_the_public_key_is_rejected(idp: IdentityProvider) -> None:
    """The HMAC/RSA confusion attack: HS256 with the (public) RSA key as the HMAC secret."""
    key = idp.keys[-1]
    public_pem = key.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    claims = {"sub": "mallory", "aud": AUDIENCE, "iss": idp.issuer, "exp": now() + 60}
    signing_input = unsigned(claims, {"alg": "HS256", "typ": "JWT", "kid": key.kid}).rstrip(".")
    digest = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    token = signing_input + "." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    with pytest.raises(AuthenticationError, match="Invalid Bearer token"):
        await make(idp).authenticate(bearer(token))


async def test_algorithm_must_match_the_key_type(idp: IdentityProvider) -> None:
    """An ES256 token naming an RSA key's kid is refused, even when both algorithms are allowed."""
    ec_key = new_key("ES256")
    ec_key.kid = idp.keys[-1].kid
    token = idp.issue({"sub": "alice", "aud": AUDIENCE}, key=ec_key)
    with pytest.raises(AuthenticationError, match="Invalid Bearer token"):
        await make(idp).authenticate(bearer(token))


async def test_algorithm_outside_the_allow_list(idp: IdentityProvider) -> None:
    token = idp.issue({"sub": "alice", "aud": AUDIENCE})
    with pytest.raises(AuthenticationError):
        await make(idp, algorithms=["ES256"]).authenticate(bearer(token))


async def test_wrong_signature_is_rejected(idp: IdentityProvider) -> None:
    impostor = new_key("RS256")
    impostor.kid = idp.keys[-1].kid
    token = idp.issue({"sub": "alice", "aud": AUDIENCE}, key=impostor)
    with pytest.raises(AuthenticationError, match="Invalid Bearer token"):
        await make(idp).authenticate(bearer(token))


@pytest.mark.parametrize("token", ["not-a-jwt", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30.", "...."])
async def test_garbage_tokens(idp: IdentityProvider, token: str) -> None:
    with pytest.raises(AuthenticationError, match="Invalid Bearer token"):
        await make(idp).authenticate(bearer(token))


async def test_rotation_unknown_kid_refetches(idp: IdentityProvider) -> None:
    original = list(idp.keys)
    authn = make(idp, jwks_refetch_cooldown=0)
    try:
        await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE})))
        idp.rotate()
        principal = await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE})))
        assert principal is not None
        assert idp.jwks_fetches == 2
    finally:
        idp.keys = original


async def test_unknown_kid_refetch_has_a_cooldown(idp: IdentityProvider) -> None:
    authn = make(idp, jwks_refetch_cooldown=60)
    await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE})))
    stranger = new_key("RS256")
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            await authn.authenticate(bearer(idp.issue({"sub": "x", "aud": AUDIENCE}, key=stranger)))
    assert idp.jwks_fetches == 1


async def test_jwks_down_is_a_401(idp: IdentityProvider) -> None:
    idp.down = True
    with pytest.raises(AuthenticationError, match="keys are unavailable"):
        await make(idp).authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE})))


async def test_jwks_down_is_not_asked_again_before_the_cooldown(idp: IdentityProvider) -> None:
    idp.down = True
    authn = make(idp, jwks_refetch_cooldown=60)
    for _ in range(3):
        with pytest.raises(AuthenticationError, match="keys are unavailable"):
            await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE})))
    assert idp.jwks_fetches == 1


async def test_jwks_recovers_after_the_cooldown(idp: IdentityProvider) -> None:
    idp.down = True
    authn = make(idp, jwks_refetch_cooldown=0)
    with pytest.raises(AuthenticationError, match="keys are unavailable"):
        await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE})))
    idp.down = False
    assert await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE}))) is not None


async def test_keys_are_kept_when_a_refresh_fails(idp: IdentityProvider) -> None:
    authn = make(idp, jwks_cache_ttl=0)
    token = idp.issue({"sub": "alice", "aud": AUDIENCE})
    assert await authn.authenticate(bearer(token)) is not None
    idp.down = True
    assert await authn.authenticate(bearer(token)) is not None


async def test_static_jwks(idp: IdentityProvider) -> None:
    authn = JWTAuthenticator(jwks={"keys": [idp.keys[-1].jwk]}, issuer=idp.issuer, audience=AUDIENCE)
    assert await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE}))) is not None


async def test_symmetric_keys_in_the_jwks_are_ignored(idp: IdentityProvider) -> None:
    secret = {"kty": "oct", "k": base64.urlsafe_b64encode(b"k" * 32).decode(), "kid": "hmac"}
    authn = JWTAuthenticator(jwks={"keys": [secret]}, issuer=idp.issuer, audience=AUDIENCE)
    token = jwt.encode(
        {"sub": "a", "aud": AUDIENCE, "exp": now() + 60}, b"k" * 32, "HS256", headers={"kid": "hmac"}
    )
    with pytest.raises(AuthenticationError):
        await authn.authenticate(bearer(token))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"algorithms": ["HS256"]}, "algorithm `HS256` is not allowed"),
        ({"algorithms": ["none"]}, "algorithm `none` is not allowed"),
        ({"algorithms": []}, "`algorithms` must not be empty"),
        ({"audience": ""}, "`audience` must name this server"),
        ({"jwks": {"keys": []}}, "exactly one of `jwks_url` and `jwks`"),
    ],
)
def test_bad_options(idp: IdentityProvider, options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make(idp, **options)


async def test_a_token_gives_one_reused_read_only_principal(idp: IdentityProvider) -> None:
    authn = make(idp)
    token = idp.issue({"sub": "alice", "aud": AUDIENCE, "scope": "a", "groups": ["eng"]})
    first, again = await authn.authenticate(bearer(token)), await authn.authenticate(bearer(token))
    assert first is again  # verified once: the policy binding cached on it is reused
    assert first is not None
    with pytest.raises(TypeError, match="read-only"):
        first.scopes.add("admin")
    with pytest.raises(TypeError, match="read-only"):
        first.claims["groups"].append("admins")
    other = await authn.authenticate(bearer(idp.issue({"sub": "alice", "aud": AUDIENCE, "scope": "b"})))
    assert other is not None
    assert other.scopes == {"b"}


async def test_verified_tokens_are_kept_no_longer_than_the_keys(idp: IdentityProvider) -> None:
    authn = make(idp, jwks_cache_ttl=0)
    token = idp.issue({"sub": "alice", "aud": AUDIENCE})
    first, again = await authn.authenticate(bearer(token)), await authn.authenticate(bearer(token))
    assert first == again
    assert first is not again
