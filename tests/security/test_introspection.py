"""TokenIntrospectionAuthenticator against a real local RFC 7662 endpoint."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from pymcp.security import AuthenticationError, TokenIntrospectionAuthenticator
from support.authservers import CLIENT_ID, CLIENT_SECRET, IdentityProvider
from support.waiting import eventually

from .conftest import bearer


def make(idp: IdentityProvider, **options: Any) -> TokenIntrospectionAuthenticator:
    return TokenIntrospectionAuthenticator(
        idp.introspection_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **options
    )


async def test_active_token_gives_principal_with_claims(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice", name="Alice", scope="tools:read tasks:*", roles=["ops"], groups=["g"])
    principal = await make(idp).authenticate(bearer("tok"))
    assert principal is not None
    assert principal.subject == "alice"
    assert principal.display_name == "Alice"
    assert principal.scopes == {"tools:read", "tasks:*"}
    assert principal.roles == {"ops"}
    assert principal.claims["groups"] == ["g"]
    assert principal.claims["iss"] == idp.issuer


async def test_no_token_is_anonymous_without_a_call(idp: IdentityProvider) -> None:
    assert await make(idp).authenticate({"type": "http", "headers": []}) is None
    assert idp.introspections == 0


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"active": False, "sub": "alice"}, "Invalid Bearer token"),
        ({"active": "true", "sub": "alice"}, "Invalid Bearer token"),
        ({"sub": "alice", "exp": 1}, "expired"),
        ({"sub": "alice", "nbf": 4_102_444_800}, "not valid yet"),
        ({"sub": "alice", "exp": "soon"}, "expired"),
        ({"name": "no subject"}, "missing subject"),
    ],
)
async def test_rejected_tokens(idp: IdentityProvider, claims: dict[str, Any], message: str) -> None:
    idp.add_token("tok", **claims)
    with pytest.raises(AuthenticationError, match=message):
        await make(idp).authenticate(bearer("tok"))


async def test_unknown_token_is_rejected(idp: IdentityProvider) -> None:
    with pytest.raises(AuthenticationError, match="Invalid Bearer token"):
        await make(idp).authenticate(bearer("nope"))


@pytest.mark.parametrize(
    ("options", "claims", "message"),
    [
        ({"expected_issuer": "https://other"}, {}, "Invalid token issuer"),
        ({"expected_audience": "https://mcp.test"}, {"aud": "https://else"}, "Invalid token audience"),
        ({"expected_audience": "https://mcp.test"}, {}, "Invalid token audience"),
        ({"expected_resource": "https://mcp.test"}, {"resource": ["https://else"]}, "Invalid token resource"),
        ({"expected_resource": "https://mcp.test"}, {"aud": "https://else"}, "Invalid token resource"),
    ],
)
async def test_issuer_audience_resource_checks(
    idp: IdentityProvider, options: dict[str, Any], claims: dict[str, Any], message: str
) -> None:
    idp.add_token("tok", sub="alice", **claims)
    with pytest.raises(AuthenticationError, match=message):
        await make(idp, **options).authenticate(bearer("tok"))


@pytest.mark.parametrize(
    "claims",
    [
        {"aud": ["https://a", "https://mcp.test"]},
        {"resource": "https://mcp.test"},
        {"aud": "https://mcp.test"},
    ],
)
async def test_matching_audience_or_resource(idp: IdentityProvider, claims: dict[str, Any]) -> None:
    idp.add_token("tok", sub="alice", **claims)
    option = "expected_audience" if "aud" in claims else "expected_resource"
    assert await make(idp, **{option: "https://mcp.test"}).authenticate(bearer("tok")) is not None


async def test_results_are_cached_by_token(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice")
    authn = make(idp)
    for _ in range(3):
        assert await authn.authenticate(bearer("tok")) is not None
    assert idp.introspections == 1
    idp.tokens.clear()  # revoked at the provider: still valid here until the cache entry ends
    assert await authn.authenticate(bearer("tok")) is not None


async def test_cache_never_outlives_exp(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice", exp=time.time() + 0.2)
    authn = make(idp, cache_ttl=60)
    assert await authn.authenticate(bearer("tok")) is not None
    await asyncio.sleep(0.3)
    with pytest.raises(AuthenticationError, match="expired"):
        await authn.authenticate(bearer("tok"))
    assert idp.introspections == 2


async def test_zero_ttl_disables_the_cache(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice")
    authn = make(idp, cache_ttl=0)
    await authn.authenticate(bearer("tok"))
    await authn.authenticate(bearer("tok"))
    assert idp.introspections == 2


async def test_rejections_are_cached_briefly(idp: IdentityProvider) -> None:
    authn = make(idp, negative_cache_ttl=5)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            await authn.authenticate(bearer("nope"))
    assert idp.introspections == 1


async def test_concurrent_requests_share_one_introspection(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice")
    idp.delay = 0.2
    authn = make(idp)
    principals = await asyncio.gather(*(authn.authenticate(bearer("tok")) for _ in range(10)))
    assert {p.subject for p in principals if p is not None} == {"alice"}
    assert idp.introspections == 1


async def test_a_cancelled_waiter_does_not_cancel_the_others(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice")
    idp.delay = 0.2
    authn = make(idp)
    first = asyncio.ensure_future(authn.authenticate(bearer("tok")))
    second = asyncio.ensure_future(authn.authenticate(bearer("tok")))
    assert await eventually(lambda: idp.introspections == 1)  # both wait on that one request
    first.cancel()
    principal = await second
    assert principal is not None
    assert idp.introspections == 1


async def test_timeout_is_a_401_not_a_crash(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice")
    idp.delay = 1.0
    with pytest.raises(AuthenticationError, match="Token introspection failed"):
        await make(idp, timeout=0.1).authenticate(bearer("tok"))


async def test_provider_down_is_a_401_and_not_cached(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice")
    idp.down = True
    authn = make(idp)
    with pytest.raises(AuthenticationError, match="Token introspection failed"):
        await authn.authenticate(bearer("tok"))
    idp.down = False
    assert await authn.authenticate(bearer("tok")) is not None


async def test_connection_refused_is_a_401() -> None:
    authn = TokenIntrospectionAuthenticator("http://127.0.0.1:9/introspect", timeout=1)
    with pytest.raises(AuthenticationError, match="Token introspection failed"):
        await authn.authenticate(bearer("tok"))


async def test_wrong_client_credentials_are_a_401(idp: IdentityProvider) -> None:
    idp.add_token("tok", sub="alice")
    authn = TokenIntrospectionAuthenticator(idp.introspection_url, client_id=CLIENT_ID, client_secret="bad")
    with pytest.raises(AuthenticationError, match="Token introspection failed"):
        await authn.authenticate(bearer("tok"))


async def test_invalid_json_answer(idp: IdentityProvider) -> None:
    with pytest.raises(AuthenticationError, match="invalid JSON"):
        await make(idp).authenticate(bearer("not-json"))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"introspection_url": ""}, "`introspection_url` must not be empty"),
        ({"introspection_url": "http://x", "timeout": 0}, "`timeout` must be positive"),
        ({"introspection_url": "http://x", "cache_ttl": -1}, "cache lifetimes must not be negative"),
    ],
)
def test_bad_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TokenIntrospectionAuthenticator(**options)
