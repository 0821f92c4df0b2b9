"""The second attack round (issue 12), one test per finding, each against a real uvicorn server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.app import run_http_server
from pymcp.errors import MCPError
from pymcp.security import (
    JWTAuthenticator,
    OAuthProtectedResourceConfig,
    RuleBasedAuthorizer,
    TokenIntrospectionAuthenticator,
    TokenMapAuthenticator,
)
from pymcp.state.store import SUBSCRIPTION_QUEUE_SIZE, MemoryStore
from pymcp.tasks.ledger import Capacity
from server.mcp_client import ACCEPT, McpClient, initialize_message
from support.authservers import CLIENT_ID, CLIENT_SECRET, IdentityProvider
from support.server import serve
from support.waiting import FakeClock, wait_until

TOKENS = {
    "alice-token": {"subject": "alice", "roles": ["admin"], "scopes": ["admin:users"]},
    "bob-token": {"subject": "bob", "roles": ["staff"]},
}
POLICY = {
    "default_effect": "deny",
    "hide_unauthorized_tools": True,
    "hide_unauthorized_capabilities": True,
    "rules": [
        {"methods": ["initialize", "ping", "*/list", "completion/complete"], "allow_anonymous": True},
        {
            "methods": ["initialize", "ping", "*/list", "completion/complete"],
            "allow_roles": ["staff", "admin"],
        },
        {"methods": ["prompts/get"], "prompt": "public_*", "allow_roles": ["staff", "admin"]},
        {"methods": ["prompts/get"], "prompt": "*", "allow_roles": ["admin"]},
        {"methods": ["resources/read"], "resource": "res://public/*", "allow_roles": ["staff", "admin"]},
        {"methods": ["resources/read"], "resource": "res://*", "allow_roles": ["admin"]},
        {"methods": ["tools/call"], "tool": "admin_*", "allow_scopes": ["admin:users"]},
        {"methods": ["tools/call"], "tool": "whoami", "allow_roles": ["staff", "admin"]},
        {"methods": ["tools/call"], "tool": "hold", "allow_roles": ["staff", "admin"]},
        {"methods": ["tasks/*"], "allow_roles": ["staff", "admin"]},
    ],
}


def build(**kwargs: Any) -> Any:
    kwargs.setdefault("authn", TokenMapAuthenticator(TOKENS))
    kwargs.setdefault("authz", RuleBasedAuthorizer(POLICY))
    app = create_app(
        server_settings=ServerSettings(capabilities=CapabilitySettings(completions_enabled=True)), **kwargs
    )
    registries = get_registry_manager(app)

    @registries.tools.register
    def admin_users() -> str:
        """List users (admins only)."""
        return "users"

    @registries.tools.register
    def whoami(request_context: Any) -> str:
        """The caller's subject."""
        principal = request_context.principal
        return "anonymous" if principal is None else str(principal.subject)

    secret_args = [{"name": "env", "completion": ["prod-eu-secret", "prod-us-secret"]}]

    @registries.prompts.register(arguments=secret_args)
    def secret_plan(env: str) -> str:
        """Hidden from staff."""
        return env

    @registries.prompts.register(arguments=[{"name": "env", "completion": ["dev", "test"]}])
    def public_plan(env: str) -> str:
        """Visible to staff."""
        return env

    reads: list[str] = []
    app.state.template_reads = reads

    @registries.resources.register_template(
        uri_template="res://public/{path}", name="public", variables={"path": {"completion": ["doc"]}}
    )
    def public_doc(path: str) -> str:
        reads.append(path)
        return f"public {path}"

    @registries.resources.register_template(
        uri_template="res://admin/{name}", name="admin", variables={"name": {"completion": ["secrets"]}}
    )
    def admin_doc(name: str) -> str:
        reads.append(name)
        return f"admin {name}"

    return app


@pytest.fixture(scope="module")
def app() -> Any:
    return build()


@pytest.fixture(scope="module")
def base_url(app: Any) -> Iterator[str]:
    with serve(app) as url:
        yield url


def session(base_url: str, token: str | None) -> McpClient:
    client = McpClient(base_url, headers={"authorization": f"Bearer {token}"} if token else {})
    client.initialize()
    return client


# -- 1: completion/complete is authorized as the prompts/get or resources/read of its ref ----------------


def complete(client: McpClient, ref: dict[str, Any]) -> dict[str, Any]:
    response, _ = client.call(
        "completion/complete", {"ref": ref, "argument": {"name": next(iter(ARGS[ref["type"]])), "value": ""}}
    )
    return response


ARGS = {"ref/prompt": ("env",), "ref/resource": ("path",)}


def test_completion_of_a_hidden_prompt_is_answered_like_an_unknown_one(base_url: str) -> None:
    with session(base_url, "bob-token") as bob:
        public = complete(bob, {"type": "ref/prompt", "name": "public_plan"})
        assert public["result"]["completion"]["values"] == ["dev", "test"]
        hidden = complete(bob, {"type": "ref/prompt", "name": "secret_plan"})
        unknown = complete(bob, {"type": "ref/prompt", "name": "no_plan"})
        assert "result" not in hidden
        assert hidden["error"]["code"] == unknown["error"]["code"] == -32602
        assert hidden["error"]["message"].replace("secret_plan", "X") == unknown["error"]["message"].replace(
            "no_plan", "X"
        )
    with session(base_url, "alice-token") as alice:
        values = complete(alice, {"type": "ref/prompt", "name": "secret_plan"})["result"]["completion"]
        assert values["values"] == ["prod-eu-secret", "prod-us-secret"]


def test_completion_of_a_hidden_template_is_answered_like_an_unknown_one(base_url: str) -> None:
    with session(base_url, "bob-token") as bob:
        public = complete(bob, {"type": "ref/resource", "uri": "res://public/{path}"})
        assert public["result"]["completion"]["values"] == ["doc"]
        hidden = complete(bob, {"type": "ref/resource", "uri": "res://admin/{name}"})
        unknown = complete(bob, {"type": "ref/resource", "uri": "res://nothing/{name}"})
        assert "result" not in hidden
        assert hidden["error"]["code"] == unknown["error"]["code"]
        assert hidden["error"]["message"].replace("res://admin/{name}", "X") == unknown["error"][
            "message"
        ].replace("res://nothing/{name}", "X")


# -- 7: no scope-hint oracle --------------------------------------------------------------------------------


def test_anonymous_challenge_is_the_same_for_hidden_and_unknown_tools(base_url: str) -> None:
    with session(base_url, None) as anonymous:
        hidden = anonymous.post(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "admin_users"}}
        )
        unknown = anonymous.post(
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "nope"}}
        )
    assert hidden.status_code == unknown.status_code == 401
    assert hidden.headers["www-authenticate"] == unknown.headers["www-authenticate"] == "Bearer"
    assert hidden.json()["error"] == unknown.json()["error"]


def test_forbidden_is_the_same_for_hidden_and_unknown_tools(base_url: str) -> None:
    with session(base_url, "bob-token") as bob:
        hidden = bob.post(
            {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "admin_users"}}
        )
        unknown = bob.post({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "nope"}})
    assert hidden.status_code == unknown.status_code == 403
    assert "www-authenticate" not in hidden.headers
    assert "www-authenticate" not in unknown.headers
    assert hidden.json()["error"] == unknown.json()["error"]


# -- 10: resource URIs with dot segments never reach authorization nor the handler -----------------------


@pytest.mark.parametrize(
    "uri",
    [
        "res://public/doc/../../admin/secrets",
        "res://public/%2e%2e/admin/secrets",
        "res://public/%2E./admin/secrets",
        "res://public/..%2fadmin%2fsecrets",
        "res://public/%252e%252e/admin/secrets",
        "res://public/.\\..\\admin",
    ],
)
def test_dot_segments_in_resource_uris_are_refused(app: Any, base_url: str, uri: str) -> None:
    app.state.template_reads.clear()
    with session(base_url, "bob-token") as bob:
        response, _ = bob.call("resources/read", {"uri": uri})
        assert response["error"]["code"] == -32602
        assert "`..` segment" in response["error"]["message"]
        assert (
            bob.result("resources/read", {"uri": "res://public/doc"})["contents"][0]["text"] == "public doc"
        )
    assert app.state.template_reads == ["doc"]


# -- 8: OAuth metadata and challenges never reflect the Host header ----------------------------------------


def test_oauth_metadata_never_follows_an_unchecked_host() -> None:
    oauth = OAuthProtectedResourceConfig(authorization_servers=["https://idp.test"])
    with serve(build(oauth=oauth, require_authn=True)) as url:
        evil = {"host": "evil.example"}
        document = httpx.get(url + "/.well-known/oauth-protected-resource", headers=evil)
        assert document.json()["resource"] == url + "/mcp"
        refused = httpx.post(url + "/mcp", content=b"{}", headers=evil)
        assert refused.status_code == 401
        assert "evil.example" not in refused.headers["www-authenticate"]
        assert url + "/.well-known/oauth-protected-resource" in refused.headers["www-authenticate"]


def test_oauth_metadata_follows_an_allowed_host_and_says_it_varies() -> None:
    oauth = OAuthProtectedResourceConfig(authorization_servers=["https://idp.test"])
    app = build(oauth=oauth, require_authn=True, allowed_hosts=["mcp.example", "127.0.0.1"])
    with serve(app) as url:
        document = httpx.get(url + "/.well-known/oauth-protected-resource", headers={"host": "mcp.example"})
        assert document.json()["resource"] == "http://mcp.example/mcp"
        assert document.headers["vary"] == "Host"
        evil = httpx.get(url + "/.well-known/oauth-protected-resource", headers={"host": "evil.example"})
        assert "evil.example" not in evil.text


# -- 12: exempt paths are matched inside the mount -------------------------------------------------------


def test_exempt_path_naming_the_mounted_endpoint_does_not_disable_authentication() -> None:
    inner = build(require_authn=True, auth_exempt_paths=["/api/mcp", "/health"])
    outer = Starlette(routes=[Mount("/api", app=inner)])
    with serve(outer) as url:
        anonymous = httpx.post(
            url + "/api/mcp",
            content=orjson.dumps(initialize_message()),
            headers={"accept": ACCEPT, "content-type": "application/json"},
        )
        assert anonymous.status_code == 401
        with McpClient(url + "/api", headers={"authorization": "Bearer alice-token"}) as alice:
            alice.url = url + "/api/mcp"
            alice.initialize()
            result = alice.result("tools/call", {"name": "whoami"})
            assert result["content"][0]["text"] == "alice"


# -- 13: allowed hosts --------------------------------------------------------------------------------------


def test_hosts_outside_allowed_hosts_are_refused() -> None:
    with serve(build(allowed_hosts=["127.0.0.1"])) as url:
        good = httpx.post(
            url + "/mcp",
            content=orjson.dumps(initialize_message()),
            headers={"accept": ACCEPT, "content-type": "application/json"},
        )
        assert good.status_code == 200
        rebound = httpx.post(
            url + "/mcp",
            content=orjson.dumps(initialize_message()),
            headers={
                "accept": ACCEPT,
                "content-type": "application/json",
                "host": "evil.example",
                "origin": "http://evil.example",
            },
        )
        assert rebound.status_code == 403
        assert rebound.json()["error"]["message"] == "host `evil.example` is not allowed"


def test_binding_beyond_loopback_needs_allowed_hosts() -> None:
    with pytest.raises(ValueError, match="set `allowed_hosts`"):
        run_http_server(create_app(), host="0.0.0.0")
    with pytest.raises(ValueError, match="is not a host name"):
        create_app(allowed_hosts=["http://mcp.example/"])


# -- 16: a token in the query string is refused on exempt paths too ---------------------------------------


def test_query_token_on_an_exempt_path_is_refused(base_url: str) -> None:
    response = httpx.get(base_url + "/?access_token=alice-token")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Access tokens in the query string are not supported"
    assert httpx.get(base_url + "/").status_code == 200


# -- 2: the session cap is per principal, and only the same principal's idle sessions are evicted -----------


def test_a_principal_over_its_session_cap_only_evicts_its_own_idle_sessions() -> None:
    with serve(build(max_sessions_per_principal=3)) as url, ExitStack() as clients:
        bob = clients.enter_context(session(url, "bob-token"))
        bob_stream = clients.enter_context(bob.http.stream("GET", bob.url, headers=bob.headers()))
        assert bob_stream.status_code == 200
        alices = [clients.enter_context(session(url, "alice-token")) for _ in range(5)]  # two over the cap
        # alice's two oldest sessions ended; bob's, with its open stream, is untouched
        for ended in alices[:2]:
            assert ended.post({"jsonrpc": "2.0", "id": 1, "method": "ping"}).status_code == 404
        for alice in alices[2:]:
            assert alice.result("ping") == {}
        assert bob.result("ping") == {}


def test_a_principal_whose_sessions_are_all_busy_is_refused_a_new_one() -> None:
    carol_tokens = TokenMapAuthenticator({"carol": {"subject": "carol", "roles": ["staff"]}})
    with serve(build(max_sessions_per_principal=1, authn=carol_tokens)) as url, ExitStack() as clients:
        carol = clients.enter_context(session(url, "carol"))
        stream = clients.enter_context(carol.http.stream("GET", carol.url, headers=carol.headers()))
        assert stream.status_code == 200
        second = clients.enter_context(McpClient(url, headers={"authorization": "Bearer carol"}))
        refused = second.post(initialize_message())
        assert refused.status_code == 429
        assert refused.json()["error"] == {
            "code": -32008,
            "message": "too many open sessions for this caller (limit 1)",
        }


# -- 3: what a session stores is bounded -------------------------------------------------------------------


def test_a_large_client_info_is_refused_and_no_session_is_kept(app: Any, base_url: str) -> None:
    before = len(app.state.session_manager.sessions)
    message = initialize_message()
    message["params"]["clientInfo"] = {"name": "x" * 100_000, "version": "1"}
    with McpClient(base_url) as client:
        response = client.post(message)
    assert response.status_code == 400
    assert "mcp-session-id" not in response.headers
    error = response.json()["error"]
    assert error["code"] == -32602
    assert "more than `max_client_info_bytes` (16384)" in error["message"]
    assert len(app.state.session_manager.sessions) == before


# -- 11: only access tokens authenticate; introspection calls are bounded -------------------------------


def whoami(url: str, token: str) -> httpx.Response:
    with McpClient(url, headers={"authorization": f"Bearer {token}"}) as client:
        return client.post(initialize_message())


def test_jwt_typ_must_say_access_token(idp: IdentityProvider) -> None:
    audience = "https://mcp.test/mcp"
    strict = JWTAuthenticator(idp.jwks_url, issuer=idp.issuer, audience=audience)
    lenient = JWTAuthenticator(
        idp.jwks_url, issuer=idp.issuer, audience=audience, accepted_types=["at+jwt", "JWT"]
    )
    access = idp.issue({"sub": "alice", "aud": audience})
    id_token_shaped = idp.issue({"sub": "alice", "aud": audience}, typ="JWT")
    untyped = idp.issue({"sub": "alice", "aud": audience}, typ=None)
    with serve(create_app(authn=strict, require_authn=True)) as url:
        assert whoami(url, access).status_code == 200
        for token in (id_token_shaped, untyped):
            refused = whoami(url, token)
            assert refused.status_code == 401
            assert refused.json()["error"]["message"] == "Invalid Bearer token"
    with serve(create_app(authn=lenient, require_authn=True)) as url:
        assert whoami(url, id_token_shaped).status_code == 200
        assert whoami(url, untyped).status_code == 401
    with pytest.raises(ValueError, match="accepted_types"):
        JWTAuthenticator(idp.jwks_url, issuer=idp.issuer, audience=audience, accepted_types="JWT")


def introspecting(idp: IdentityProvider, **options: Any) -> TokenIntrospectionAuthenticator:
    return TokenIntrospectionAuthenticator(
        idp.introspection_url, client_id=CLIENT_ID, client_secret=CLIENT_SECRET, **options
    )


def test_introspection_accepts_only_access_tokens(idp: IdentityProvider) -> None:
    idp.tokens["refresh"] = {"active": True, "sub": "alice", "token_type": "refresh_token"}
    idp.tokens["urn-id"] = {
        "active": True,
        "sub": "alice",
        "token_type": "urn:ietf:params:oauth:token-type:id_token",
    }
    idp.tokens["access"] = {"active": True, "sub": "alice", "token_type": "Bearer"}
    with serve(create_app(authn=introspecting(idp), require_authn=True)) as url:
        assert whoami(url, "access").status_code == 200
        for token in ("refresh", "urn-id"):
            refused = whoami(url, token)
            assert refused.status_code == 401
            assert refused.json()["error"]["message"] == "Invalid Bearer token"


def test_random_tokens_cannot_turn_into_as_many_introspection_calls(idp: IdentityProvider) -> None:
    idp.tokens["alice"] = {"active": True, "sub": "alice"}
    authn = introspecting(idp, max_introspections_per_second=2, negative_cache_ttl=0)
    with serve(create_app(authn=authn, require_authn=True)) as url:
        started = time.monotonic()

        async def flood() -> list[int]:
            async with httpx.AsyncClient() as http:
                replies = await asyncio.gather(
                    *(
                        http.post(
                            url + "/mcp", content=b"{}", headers={"authorization": f"Bearer random-{n}"}
                        )
                        for n in range(200)
                    )
                )
            return [reply.status_code for reply in replies]

        assert set(asyncio.run(flood())) == {401}
        elapsed = time.monotonic() - started
        # the bucket holds 2 calls and refills at 2 per second: the flood cost a handful, not 200
        assert idp.introspections <= 2 + 2 * elapsed + 1
        assert idp.introspections < 200


# -- 4: cheap checks (session, batch) before the body is parsed; bounded batches ---------------------------

HUGE_ARRAY = b"[" + b"0," * 1_500_000 + b"0]"


def test_a_huge_array_is_refused_before_it_is_parsed(base_url: str) -> None:
    with McpClient(base_url) as anonymous:
        refused = anonymous.post(HUGE_ARRAY)
        assert refused.status_code == 400
        assert (
            refused.json()["error"]["message"] == "JSON-RPC batches are only accepted for 2025-03-26 sessions"
        )
        # with someone else's (or no real) session id, the session is looked up first: 404, nothing parsed
        stranger = anonymous.post(b"{" * 100_000, **{"mcp-session-id": "0" * 32})
        assert stranger.status_code == 404
    with session(base_url, "bob-token") as bob:
        assert bob.post(HUGE_ARRAY).status_code == 400


def test_batches_are_bounded() -> None:
    with serve(build(max_batch_length=3)) as url, McpClient(url) as old:
        old.initialize("2025-03-26")
        pings = [{"jsonrpc": "2.0", "id": n, "method": "ping"} for n in range(4)]
        refused = old.post(pings)
        assert refused.status_code == 400
        assert refused.json()["error"] == {"code": -32600, "message": "a batch may hold at most 3 messages"}
        assert len(old.post(pings[:3]).json()) == 3


# -- 16: deep params are a clear -32602, on a session and on a 2026-07-28 round trip -----------------------


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def test_deeply_nested_params_get_a_clear_error(base_url: str) -> None:
    with session(base_url, "bob-token") as bob:
        body = b'{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"whoami","x":%s}}' % nested(
            300
        )
        answer = bob.post(body).json()
        assert answer["id"] == 5
        assert answer["error"] == {
            "code": -32602,
            "message": "`params` are nested deeper than `max_json_depth` (64)",
        }
        assert bob.result("tools/call", {"name": "whoami", "arguments": {}, "x": orjson.loads(nested(60))})


def test_deep_params_on_a_stateless_round_trip_are_a_clear_error() -> None:
    from conformance_server import build_app as conformance_app

    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
    }
    with serve(conformance_app()) as url:
        body = b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"%s","x":%s,"_meta":%s}}' % (
            b"test_input_required_result_multi_round",
            nested(300),
            orjson.dumps(meta),
        )
        headers = {
            "accept": ACCEPT,
            "content-type": "application/json",
            "mcp-protocol-version": "2026-07-28",
            "mcp-method": "tools/call",
            "mcp-name": "test_input_required_result_multi_round",
        }
        answer = httpx.post(url + "/mcp", content=body, headers=headers)
        assert answer.json()["error"]["code"] == -32602
        assert "max_json_depth" in answer.json()["error"]["message"]


def test_stdio_ping_is_authorized() -> None:
    import io

    from pymcp import run_stdio_server

    app = create_app(
        authz=RuleBasedAuthorizer({"rules": [{"methods": ["initialize"], "allow_anonymous": True}]})
    )
    sink = io.BytesIO()
    ping = orjson.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}) + b"\n"
    run_stdio_server(app, input_stream=io.BytesIO(ping), output_stream=sink)
    assert orjson.loads(sink.getvalue())["error"]["code"] == -32006


# -- 9: slow bodies are cut off ----------------------------------------------------------------------------


def test_trickling_bodies_are_answered_408_and_closed() -> None:
    with serve(build(body_timeout=1.0)) as url:
        host, port = url.removeprefix("http://").split(":")
        request = (
            b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Accept: application/json, text/event-stream\r\nContent-Length: 100\r\n\r\n{"
        )
        connections = [socket.create_connection((host, int(port)), timeout=30) for _ in range(20)]
        try:
            for connection in connections:
                connection.sendall(request)
            for connection in connections:
                answer = b""
                while chunk := connection.recv(65536):  # until the server closes the connection
                    answer += chunk
                head, _, body = answer.partition(b"\r\n\r\n")
                assert head.startswith(b"HTTP/1.1 408")
                assert orjson.loads(body)["error"]["message"] == "the body arrived too slowly"
        finally:
            for connection in connections:
                connection.close()


# -- 6: tasks per principal, task argument and result bytes ------------------------------------------------


def test_tasks_are_bounded_per_principal_and_in_size() -> None:
    release = threading.Event()
    app = build(max_tasks_per_principal=2, max_task_argument_bytes=1000, max_task_result_bytes=300)
    tools = get_registry_manager(app).tools

    @tools.register(execution={"taskSupport": "optional"})
    async def hold(text: str = "") -> str:
        """Wait until the test releases it."""
        await asyncio.to_thread(release.wait, 30)
        return text

    def start(client: McpClient, text: str = "") -> dict[str, Any]:
        response, _ = client.call("tools/call", {"name": "hold", "arguments": {"text": text}, "task": {}})
        return response

    with serve(app) as url, ExitStack() as clients:
        alice = clients.enter_context(session(url, "alice-token"))
        bob = clients.enter_context(session(url, "bob-token"))
        for _ in range(2):
            assert "result" in start(alice)
        refused = start(alice)
        assert refused["error"] == {
            "code": -32008,
            "message": "too many running tasks for this caller (limit 2)",
        }
        assert "result" in start(bob)  # another caller is not affected
        too_big = start(bob, "x" * 2000)
        assert too_big["error"]["code"] == -32602
        assert "more than `max_task_argument_bytes` (1000)" in too_big["error"]["message"]
        large_result = start(bob, "y" * 500)["result"]["task"]["taskId"]
        release.set()
        final = bob.error("tasks/result", {"taskId": large_result})
        assert final == {"code": -32603, "message": "the task result takes 539 bytes, more than 300"}
        status = bob.result("tasks/get", {"taskId": large_result})
        assert status["status"] == "failed"
        assert "more than 300" in status["statusMessage"]


def test_finished_tasks_a_caller_keeps_are_bounded_until_they_expire() -> None:
    app = build(max_stored_tasks_per_principal=3)
    tools = get_registry_manager(app).tools

    @tools.register(execution={"taskSupport": "optional"})
    def hold() -> str:
        """Finish at once (the policy lets staff call `hold`)."""
        return "done"

    def start(client: McpClient, ttl: int) -> dict[str, Any]:
        response, _ = client.call("tools/call", {"name": "hold", "arguments": {}, "task": {"ttl": ttl}})
        return response

    def completed(client: McpClient, task_id: str) -> bool:
        return bool(client.result("tasks/get", {"taskId": task_id})["status"] == "completed")

    with serve(app) as url, ExitStack() as clients:
        alice = clients.enter_context(session(url, "alice-token"))
        bob = clients.enter_context(session(url, "bob-token"))
        kept = [start(alice, 60_000)["result"]["task"]["taskId"] for _ in range(3)]
        # finished, and still kept: finishing does not free a place
        assert wait_until(lambda: all(completed(alice, task_id) for task_id in kept))
        refused = start(alice, 60_000)["error"]
        assert refused["code"] == -32008
        assert "this caller keeps 3 tasks, its limit (`max_stored_tasks_per_principal`)" in refused["message"]
        assert "result" in start(bob, 60_000)  # another caller is not affected


async def test_kept_tasks_free_their_place_when_their_ttl_ends() -> None:
    clock = FakeClock()
    capacity = Capacity(MemoryStore(clock=clock), 10, 10, lease_ms=1_000, max_kept_per_owner=2)
    await capacity.admit("alice", "a1", ttl_ms=1_000)
    await capacity.admit("alice", "a2", ttl_ms=5_000)
    for task_id in ("a1", "a2"):
        await capacity.dismiss("alice", task_id)  # finished: no longer running, still kept
    with pytest.raises(MCPError, match=r"this caller keeps 2 tasks, its limit"):
        await capacity.admit("alice", "a3", ttl_ms=1_000)
    await capacity.admit("bob", "b1", ttl_ms=1_000)  # another caller is not affected
    clock.advance(1)
    await capacity.admit("alice", "a3", ttl_ms=1_000)  # the first one's ttl ended


# -- 15: a deleted session frees its memory at once; event queues are bounded -----------------------------


def test_deleted_sessions_leave_nothing_behind() -> None:
    app = create_app()
    store = app.state.state_store
    with serve(app) as url, McpClient(url) as client:
        for _ in range(300):
            client.session_id = None
            client.initialize()
            assert client.http.delete(client.url, headers=client.headers()).status_code == 204
        sessions = app.state.session_manager
        assert sessions.sessions == {}
        assert sessions._owned == {}
        assert app.state.dispatcher.sessions == set()
        assert not any(namespace == "session" for namespace, _ in store._spaces)
        assert len(store._expiries) <= 64
        assert all(subscription.pending <= SUBSCRIPTION_QUEUE_SIZE for subscription in store._subscriptions)


async def test_an_unread_subscription_holds_a_bounded_number_of_events() -> None:
    store = MemoryStore()
    unread = await store.subscribe()
    for n in range(3 * SUBSCRIPTION_QUEUE_SIZE):
        await store.create("task", "alice", str(n), {"status": "working"}, ttl_ms=60_000)
        await store.transition("task", "alice", str(n), {"status": "completed"}, from_statuses=["working"])
        await store.delete("task", "alice", str(n))
    assert unread.pending == SUBSCRIPTION_QUEUE_SIZE  # type: ignore[attr-defined]
    assert store._spaces == {}
    assert len(store._expiries) <= 64
    assert (await unread.get()).record_id == str(2 * SUBSCRIPTION_QUEUE_SIZE)  # the newest were kept


def test_long_arrays_in_params_get_a_clear_error(base_url: str) -> None:
    with session(base_url, "bob-token") as bob:
        refused = bob.error("tools/call", {"name": "whoami", "arguments": {}, "x": [0] * 10_001})
        assert refused == {
            "code": -32602,
            "message": "`params` hold an array of 10001 items, more than `max_json_array_length` (10000)",
        }
        assert bob.result("tools/call", {"name": "whoami", "arguments": {}, "x": [0] * 10_000})
