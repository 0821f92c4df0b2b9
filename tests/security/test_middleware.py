"""The security middleware (`SecurityGate.wrap`) in front of a tiny Starlette app on a real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from pymcp.errors import MCPError
from pymcp.protocol.jsonrpc import encode_error
from pymcp.security import (
    AuthenticationError,
    AuthorizationError,
    AuthzRequest,
    OAuthProtectedResourceConfig,
    Principal,
    SecurityGate,
    SecurityMiddleware,
    TokenMapAuthenticator,
    hash_token,
)
from support.server import serve

TOKENS: dict[str, dict[str, Any]] = {
    "alice-token": {"subject": "alice", "scopes": ["tools:call"]},
    hash_token("bob-token"): {"subject": "bob"},
}


class CallNeedsScope:
    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        if request.rpc_method == "tools/call" and (principal is None or "tools:call" not in principal.scopes):
            raise AuthorizationError("needs `tools:call`", required_scopes=["tools:call"])

    def required_scopes_for(self, principal: Principal | None, request: AuthzRequest) -> tuple[str, ...]:
        return ("tools:call",) if request.rpc_method == "tools/call" else ()


class BrokenAuthenticator:
    async def authenticate(self, request: Any) -> Principal | None:
        raise RuntimeError("database is on fire")


def inner_app(gate_ref: list[SecurityGate]) -> Starlette:
    """Echoes the principal and the body; for `tools/call` it asks the gate, as the dispatcher does."""

    async def mcp(request: Request) -> Response:
        principal = request.scope["pymcp.principal"]
        body = await request.body()
        if body:
            message = orjson.loads(body)
            if isinstance(message, dict) and message.get("method") == "tools/call":
                try:
                    gate_ref[0].authorize(principal, "tools/call", message.get("params"))
                except MCPError as error:
                    return Response(
                        encode_error(message.get("id"), error),
                        status_code=error.http_status,
                        headers=error.headers,
                    )
        subject = principal.subject if principal else None
        return JSONResponse({"principal": subject, "body": body.decode()})

    async def plain(request: Request) -> Response:
        return JSONResponse({"principal": request.scope.get("pymcp.principal"), "path": request.url.path})

    return Starlette(
        routes=[
            Route("/mcp", mcp, methods=["GET", "POST", "DELETE", "OPTIONS"]),
            Route("/", plain),
            Route("/health", plain),
            Route("/health/", plain),
            Route("/other", plain),
        ]
    )


def served(**options: Any) -> Iterator[str]:
    settings: dict[str, Any] = {
        "authn": TokenMapAuthenticator(TOKENS),
        "authz": CallNeedsScope(),
        "require_authn": True,
        "auth_exempt_paths": None,
        "oauth": None,
        **options,
    }
    gate = SecurityGate.from_config(**settings)
    assert gate is not None
    with serve(SecurityMiddleware(inner_app([gate]), gate)) as base_url:
        yield base_url


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    yield from served()


@pytest.fixture(scope="module")
def oauth_server() -> Iterator[str]:
    oauth = OAuthProtectedResourceConfig(
        authorization_servers=["https://auth.test"], scopes_supported=["tools:call"]
    )
    yield from served(oauth=oauth, require_authn=False)


@pytest.fixture(scope="module")
def open_server() -> Iterator[str]:
    yield from served(require_authn=False, auth_exempt_paths=["/other"])


def call(method: str = "tools/list", id: Any = 7, **params: Any) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": id, "method": method, "params": params})


def post(base_url: str, body: bytes = b"", *, token: str | None = None, **options: Any) -> httpx.Response:
    headers = dict(options.pop("headers", {}))
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.post(base_url + options.pop("path", "/mcp"), content=body, headers=headers, **options)


def test_valid_token_reaches_the_app_with_the_body_intact(server: str) -> None:
    body = call("tools/list", note="é" * 1000)
    for token, subject in (("alice-token", "alice"), ("bob-token", "bob")):
        response = post(server, body, token=token)
        assert response.status_code == 200
        assert response.json() == {"principal": subject, "body": body.decode()}


def test_missing_credentials_get_401_without_reading_the_body(server: str) -> None:
    """Finding 5: the body is never parsed to answer 401 (0.3.0 echoed the id; we answer `id: null`)."""
    response = post(server, call("tools/list", id="abc"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "jsonrpc": "2.0",
        "id": None,
        "error": {"code": -32006, "message": "Authentication required"},
    }


def test_401_names_no_scope_so_targets_stay_secret(server: str) -> None:
    """Finding 7: a scope hint would tell a hidden tool from an unknown one."""
    for name in ("deploy", "no-such-tool"):
        response = post(server, call("tools/call", name=name))
        assert response.headers["www-authenticate"] == "Bearer"


def test_invalid_token(server: str) -> None:
    response = post(server, call(id=1), token="nope")
    assert response.status_code == 401
    assert (
        response.headers["www-authenticate"]
        == 'Bearer error="invalid_token", error_description="Invalid Bearer token"'
    )
    assert response.json()["error"] == {"code": -32006, "message": "Invalid Bearer token"}
    assert response.json()["id"] is None


@pytest.mark.parametrize(
    "query", ["access_token=alice-token", "x=1&access_token=", "access_token", "%61ccess_token=alice-token"]
)
def test_token_in_query_string_is_refused(server: str, query: str) -> None:
    response = httpx.post(
        f"{server}/mcp?{query}", content=call(), headers={"Authorization": "Bearer alice-token"}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert response.json()["error"]["message"] == "Access tokens in the query string are not supported"


def test_query_parameter_merely_containing_the_name_is_fine(server: str) -> None:
    assert post(server, call(), token="alice-token", params={"my_access_token_hint": "1"}).status_code == 200


@pytest.mark.parametrize(
    "header",
    ["Bearer", "Bearer two tokens", "Bearer tök", 'bearer "quoted"'],
)
def test_malformed_bearer_header_is_400(server: str, header: str) -> None:
    response = post(server, call(), headers={"Authorization": header.encode("latin-1")})
    assert response.status_code == 400
    assert 'error="invalid_request"' in response.headers["www-authenticate"]
    assert response.json()["error"]["code"] == -32600


def test_repeated_authorization_header_is_400(server: str) -> None:
    headers = [("Authorization", "Bearer alice-token"), ("Authorization", "Bearer bob-token")]
    response = httpx.post(server + "/mcp", content=call(), headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "Only one Authorization header is allowed"


def test_other_schemes_are_anonymous(server: str, open_server: str) -> None:
    basic = {"Authorization": "Basic YWxpY2U6cHc="}
    assert post(server, call(), headers=basic).status_code == 401
    response = post(open_server, call(), headers=basic)
    assert response.status_code == 200
    assert response.json()["principal"] is None


@pytest.mark.parametrize(
    ("body", "expected_id"),
    [
        (orjson.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}), None),
        (b"{not json", None),
        (b"[1, 2]", None),
        (orjson.dumps({"jsonrpc": "2.0", "id": 5, "method": "x", "params": {"pad": "a" * 70_000}}), None),
        (orjson.dumps({"jsonrpc": "2.0", "id": 9, "method": 3}), None),
        (call("tools/list", id=4), None),
        (b"", None),
    ],
)
def test_error_body_id_is_always_null(server: str, body: bytes, expected_id: Any) -> None:
    response = post(server, body)
    assert response.status_code == 401
    assert response.json()["id"] == expected_id


@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_get_and_delete_are_authenticated_too(server: str, method: str) -> None:
    assert httpx.request(method, server + "/mcp").status_code == 401
    response = httpx.request(method, server + "/mcp", headers={"Authorization": "Bearer alice-token"})
    assert response.json()["principal"] == "alice"


def test_exempt_paths_match_exactly(server: str) -> None:
    for path in ("/", "/health"):
        response = httpx.get(server + path, headers={"Authorization": "Bearer nope"})
        assert response.status_code == 200
        assert response.json() == {"principal": None, "path": path}
    assert httpx.get(server + "/health/").status_code == 401
    assert httpx.get(server + "/other").status_code == 401


def test_configured_exempt_paths_replace_the_defaults(open_server: str) -> None:
    assert httpx.get(open_server + "/other", headers={"Authorization": "Bearer nope"}).status_code == 200
    assert httpx.get(open_server + "/health", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_options_preflight_passes(server: str) -> None:
    response = httpx.options(
        server + "/mcp", headers={"Origin": "http://localhost", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 200
    assert response.json()["principal"] is None


def test_metadata_paths_without_oauth_reach_the_app(server: str) -> None:
    assert httpx.get(server + "/.well-known/oauth-protected-resource").status_code == 404


def test_optional_authentication_lets_anonymous_through(open_server: str) -> None:
    response = post(open_server, call())
    assert response.status_code == 200
    assert response.json()["principal"] is None


def test_anonymous_denied_by_the_gate_gets_401(open_server: str) -> None:
    response = post(open_server, call("tools/call", id=3, name="deploy"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer scope="tools:call"'
    assert response.json()["id"] == 3


def test_principal_without_scope_gets_403_insufficient_scope(open_server: str) -> None:
    response = post(open_server, call("tools/call", name="deploy"), token="bob-token")
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        'Bearer error="insufficient_scope", scope="tools:call", error_description="needs `tools:call`"'
    )
    assert response.json()["error"] == {"code": -32007, "message": "needs `tools:call`"}
    assert post(open_server, call("tools/call", name="deploy"), token="alice-token").status_code == 200


@pytest.mark.parametrize(
    "path", ["/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"]
)
def test_protected_resource_metadata(oauth_server: str, path: str) -> None:
    response = httpx.get(oauth_server + path, headers={"Authorization": "Bearer nope"})
    assert response.status_code == 200
    assert response.json() == {
        "resource": oauth_server + "/mcp",
        "authorization_servers": ["https://auth.test"],
        "scopes_supported": ["tools:call"],
        "bearer_methods_supported": ["header"],
    }
    assert httpx.post(oauth_server + path).status_code == 405
    assert httpx.head(oauth_server + path).status_code == 200


def test_challenges_point_at_the_metadata(oauth_server: str) -> None:
    metadata = f'resource_metadata="{oauth_server}/.well-known/oauth-protected-resource"'
    response = post(oauth_server, call(), token="nope")
    assert response.headers["www-authenticate"].startswith(f'Bearer {metadata}, error="invalid_token"')
    denied = post(oauth_server, call("tools/call", name="deploy"))
    assert denied.status_code == 401
    assert denied.headers["www-authenticate"] == f'Bearer {metadata}, scope="tools:call"'
    forbidden = post(oauth_server, call("tools/call", name="deploy"), token="bob-token")
    assert forbidden.headers["www-authenticate"].startswith(f'Bearer {metadata}, error="insufficient_scope"')


def test_a_broken_authenticator_is_a_401_not_a_500() -> None:
    for base_url in served(authn=BrokenAuthenticator()):
        response = post(base_url, call(), token="alice-token")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Authentication failed"
        assert "fire" not in response.text


def test_authentication_errors_from_custom_authenticators() -> None:
    class Refuses:
        async def authenticate(self, request: Any) -> Principal | None:
            raise AuthenticationError("token revoked")

    for base_url in served(authn=Refuses()):
        response = post(base_url, call(), token="x")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "token revoked"


def test_a_subclass_overriding_authenticate_is_honoured() -> None:
    class OnlyAlice(TokenMapAuthenticator):
        async def authenticate(self, request: Any) -> Principal | None:
            principal = await super().authenticate(request)
            if principal is not None and principal.subject != "alice":
                raise AuthenticationError("alice only")
            return principal

    for base_url in served(authn=OnlyAlice(TOKENS)):
        assert post(base_url, call(), token="alice-token").status_code == 200
        refused = post(base_url, call(), token="bob-token")
        assert refused.status_code == 401
        assert refused.json()["error"]["message"] == "alice only"
