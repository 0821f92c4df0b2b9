"""TokenMapAuthenticator: hashed keys, expiry, constant-time lookup, and clear errors for bad maps."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pymcp import _core
from pymcp.security import AuthenticationError, Principal, TokenMapAuthenticator, hash_token
from pymcp.security.authn.claims import token_digest

SCOPE_WITH_TOKEN = {"type": "http", "headers": [(b"authorization", b"Bearer secret-token")]}


def scope_with(header: str | None) -> dict[str, Any]:
    headers = [] if header is None else [(b"authorization", header.encode())]
    return {"type": "http", "headers": headers}


async def test_seed_entry_gives_its_principal() -> None:
    authn = TokenMapAuthenticator(
        {
            "secret-token": {
                "subject": "alice",
                "display_name": "Alice",
                "roles": ["ops"],
                "scopes": ["tools:*", "tasks:*"],
                "claims": {"tenant": "acme"},
            }
        }
    )
    principal = await authn.authenticate(SCOPE_WITH_TOKEN)
    assert principal == Principal(
        subject="alice",
        display_name="Alice",
        scopes={"tools:*", "tasks:*"},
        roles={"ops"},
        claims={"tenant": "acme"},
    )


async def test_hashed_key_matches_the_plain_token() -> None:
    authn = TokenMapAuthenticator({hash_token("secret-token"): {"subject": "alice"}})
    principal = await authn.authenticate(SCOPE_WITH_TOKEN)
    assert principal is not None
    assert principal.subject == "alice"
    assert hash_token("secret-token") == "sha256:" + hashlib.sha256(b"secret-token").hexdigest()


async def test_uppercase_hex_digest_is_accepted() -> None:
    authn = TokenMapAuthenticator(
        {hash_token("secret-token").upper().replace("SHA256", "sha256"): {"subject": "a"}}
    )
    assert await authn.authenticate(SCOPE_WITH_TOKEN) is not None


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwdw==", "Bearer", "Bearer    "])
async def test_no_bearer_token_is_anonymous(header: str | None) -> None:
    authn = TokenMapAuthenticator({"secret-token": {"subject": "alice"}})
    assert await authn.authenticate(scope_with(header)) is None


@pytest.mark.parametrize("header", ["bearer secret-token", "BEARER   secret-token  "])
async def test_scheme_is_case_insensitive_and_token_stripped(header: str) -> None:
    authn = TokenMapAuthenticator({"secret-token": {"subject": "alice"}})
    assert await authn.authenticate(scope_with(header)) is not None


@pytest.mark.parametrize(
    "token", ["wrong", "secret-toke", "secret-token2", "SECRET-TOKEN", "sha256:" + "0" * 64]
)
async def test_unknown_token_is_rejected(token: str) -> None:
    authn = TokenMapAuthenticator({"secret-token": {"subject": "alice"}})
    with pytest.raises(AuthenticationError, match="Invalid Bearer token"):
        await authn.authenticate(scope_with(f"Bearer {token}"))


async def test_the_digest_itself_is_not_a_token() -> None:
    authn = TokenMapAuthenticator({hash_token("secret-token"): {"subject": "alice"}})
    with pytest.raises(AuthenticationError):
        await authn.authenticate(scope_with("Bearer " + hash_token("secret-token")))


async def test_string_scopes_and_roles_are_split_on_whitespace() -> None:
    authn = TokenMapAuthenticator(
        {"t": {"subject": "a", "scopes": "tools:read  tasks:*", "roles": "ops dev"}}
    )
    principal = authn.lookup("t")
    assert principal.scopes == {"tools:read", "tasks:*"}
    assert principal.roles == {"ops", "dev"}


@pytest.mark.parametrize(
    "expires_at",
    [
        0,
        1_000_000_000.5,
        "2001-09-09T01:46:40Z",
        "2001-09-09T01:46:40",
        (datetime.now(UTC) - timedelta(seconds=5)).isoformat(),
    ],
)
def test_expired_entries_are_rejected(expires_at: object) -> None:
    authn = TokenMapAuthenticator({"t": {"subject": "a", "expires_at": expires_at}})
    with pytest.raises(AuthenticationError, match="expired"):
        authn.lookup("t")


@pytest.mark.parametrize("expires_at", [4_102_444_800, "2100-01-01T00:00:00+00:00", None])
def test_entries_not_yet_expired_work(expires_at: object) -> None:
    authn = TokenMapAuthenticator({"t": {"subject": "a", "expires_at": expires_at}})
    assert authn.lookup("t").subject == "a"


def test_each_token_gives_one_read_only_principal() -> None:
    """Built once, so its cached policy binding is reused; read-only, so no request changes the next."""
    authn = TokenMapAuthenticator({"t": {"subject": "a", "scopes": ["x"], "claims": {"k": ["v"]}}})
    first = authn.lookup("t")
    assert authn.lookup("t") is first
    for change in (
        lambda: first.scopes.add("admin"),
        lambda: first.roles.update({"admin"}),
        lambda: first.claims.update(k="w"),
        lambda: first.claims["k"].append("w"),
    ):
        with pytest.raises(TypeError, match="read-only"):
            change()
    assert authn.lookup("t").scopes == {"x"}
    assert authn.lookup("t").claims == {"k": ["v"]}


def test_lookup_compares_against_every_entry() -> None:
    """No early exit (the constant-time path, in Rust): with the same digest stored three times the walk
    goes on past the first match and reports the last; the token map finds its first and last entries."""
    digest = token_digest("t")
    assert _core.TokenTable([digest, digest, digest]).find(b"t") == 2
    entries = {f"token-{i}": {"subject": f"user-{i}"} for i in range(50)}
    authn = TokenMapAuthenticator(entries)
    assert authn.lookup("token-0").subject == "user-0"
    assert authn.lookup("token-49").subject == "user-49"


BAD_MAPS: list[tuple[Any, str]] = [
    (["t"], "the token map must be an object"),
    ({"": {"subject": "a"}}, "entry 0: the token must be a non-empty string"),
    ({"has space": {"subject": "a"}}, "entry 0: the token must not contain whitespace"),
    ({"sha256:abc": {"subject": "a"}}, "entry 0: a `sha256:` key must be followed by 64 hex digits"),
    ({"t": "alice"}, r"entry 0 \(sha256:[0-9a-f]{8}…\): the entry must be an object"),
    ({"t": {}}, "entry 0 .*`subject` must be a non-empty string"),
    ({"ok": {"subject": "a"}, "t": {"subject": ""}}, "entry 1 .*`subject` must be a non-empty string"),
    ({"t": {"subject": "a", "role": ["ops"]}}, r"unknown key `role` \(did you mean `roles`\?\)"),
    ({"t": {"subject": "a", "scopes": [1]}}, "`scopes` must be a string or a list of strings"),
    ({"t": {"subject": "a", "display_name": 3}}, "`display_name` must be a string"),
    ({"t": {"subject": "a", "claims": []}}, "`claims` must be an object"),
    ({"t": {"subject": "a", "expires_at": "soon"}}, "`expires_at` `soon` is not an ISO 8601 date-time"),
    ({"t": {"subject": "a", "expires_at": True}}, "`expires_at` must be epoch seconds"),
    ({"t": {"subject": "a"}, hash_token("t"): {"subject": "b"}}, "entry 1: the same token as entry 0"),
]


@pytest.mark.parametrize(("token_map", "message"), BAD_MAPS)
def test_bad_maps_fail_at_construction_with_one_line(token_map: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message) as info:
        TokenMapAuthenticator(token_map)
    assert "\n" not in str(info.value)


def test_errors_never_show_the_token() -> None:
    with pytest.raises(ValueError, match="subject") as info:
        TokenMapAuthenticator({"super-secret-value": {"subject": ""}})
    assert "super-secret-value" not in str(info.value)
