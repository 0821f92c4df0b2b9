"""End to end: the security page's examples, as written, on a real server; a principal × method matrix;
session hijack attempts. Real uvicorn, real clients (httpx and the official `mcp` client)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from pymcp.app import create_app
from pymcp.demo import build_demo
from pymcp.registry.manager import get_registry_manager
from pymcp.security import (
    JWTAuthenticator,
    OAuthProtectedResourceConfig,
    RuleBasedAuthorizer,
    TokenMapAuthenticator,
)
from support.authservers import IdentityProvider, identity_provider
from support.server import serve

from .seed import SEED_JSON, SEED_POLICY, SEED_RULES, SEED_TOKEN_MAP

ALICE = "secret-token"
ACCEPT = "application/json, text/event-stream"


def run_block(code: str) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(compile(code, "<security.md>", "exec"), namespace)
    return namespace


def add_tools(app: Any) -> Any:
    tools = get_registry_manager(app).tools

    @tools.register
    def deploy_prod(version: str = "1.0") -> str:
        """Deploy to production."""
        return f"deployed {version}"

    @tools.register
    def read_file(path: str = "/etc/motd") -> str:
        """Read a file."""
        return "hello"

    @tools.register(execution={"taskSupport": "optional"})
    async def deploy_slowly(seconds: float = 0.05) -> str:
        """A deploy that can run as a task."""
        await asyncio.sleep(seconds)
        return "deployed slowly"

    return app


class Client:
    """A raw Streamable HTTP client over httpx: exact statuses and headers."""

    def __init__(self, base_url: str, token: str | None) -> None:
        self.url = base_url + "/mcp"
        self.token = token
        self.session_id: str | None = None
        self.next_id = 0

    def headers(self, session_id: str | None) -> dict[str, str]:
        headers = {"Accept": ACCEPT, "Content-Type": "application/json"}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}"
        if session_id is not None:
            headers["Mcp-Session-Id"] = session_id
            headers["MCP-Protocol-Version"] = "2025-11-25"
        return headers

    def post(self, message: dict[str, Any], session_id: str | None = None) -> httpx.Response:
        sid = session_id if session_id is not None else self.session_id
        return httpx.post(self.url, content=orjson.dumps(message), headers=self.headers(sid), timeout=10)

    def call(
        self, method: str, params: dict[str, Any] | None = None, session_id: str | None = None
    ) -> httpx.Response:
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id, "method": method}
        if params is not None:
            message["params"] = params
        return self.post(message, session_id)

    def initialize(self) -> httpx.Response:
        response = self.call(
            "initialize",
            {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "e2e", "version": "1"},
            },
        )
        if response.status_code == 200:
            self.session_id = response.headers["mcp-session-id"]
            done = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
            assert done.status_code == 202, done.text
        return response


@pytest.fixture(scope="module")
def seed_app() -> Any:
    return add_tools(run_block(SEED_RULES)["app"])


@pytest.fixture(scope="module")
def seed_server(seed_app: Any) -> Iterator[str]:
    with serve(seed_app) as base_url:
        yield base_url


# -- the examples as written ----------------------------------------------------------------------


def test_token_map_example() -> None:
    app = add_tools(run_block(SEED_TOKEN_MAP)["app"])
    with serve(app) as base_url:
        assert Client(base_url, None).initialize().status_code == 401
        assert Client(base_url, "wrong").initialize().status_code == 401
        alice = Client(base_url, ALICE)
        assert alice.initialize().status_code == 200
        names = {tool["name"] for tool in alice.call("tools/list", {}).json()["result"]["tools"]}
        assert names == {"deploy_prod", "read_file", "deploy_slowly"}
        result = alice.call("tools/call", {"name": "read_file", "arguments": {}}).json()["result"]
        assert result["content"] == [{"type": "text", "text": "hello"}]
        assert not result.get("isError")


async def test_rules_example_with_the_official_client(seed_server: str) -> None:
    """alice gets a working session; the tools she may not call are hidden and refused."""
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {ALICE}"}) as http,
        streamable_http_client(seed_server + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        await session.send_ping()
        tools = await session.list_tools()
        assert sorted(tool.name for tool in tools.tools) == ["deploy_prod", "deploy_slowly"]
        result = await session.call_tool("deploy_prod", {"version": "2.0"})
        assert not result.is_error
        assert result.content[0].text == "deployed 2.0"  # type: ignore[union-attr]
        with pytest.raises(Exception, match="Forbidden"):
            await session.call_tool("read_file", {})


def test_json_policy_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "authz_policy.json").write_bytes(orjson.dumps(SEED_POLICY))
    monkeypatch.chdir(tmp_path)
    authz = run_block(SEED_JSON)["authz"]
    assert isinstance(authz, RuleBasedAuthorizer)
    authn = TokenMapAuthenticator({ALICE: {"subject": "alice", "roles": ["ops"]}})
    with serve(add_tools(create_app(authn=authn, authz=authz, require_authn=True))) as base_url:
        alice = Client(base_url, ALICE)
        assert alice.initialize().status_code == 200
        assert alice.call("tools/call", {"name": "deploy_prod", "arguments": {}}).status_code == 200
        assert alice.call("tools/call", {"name": "read_file", "arguments": {}}).status_code == 403


# -- what the rules example refuses ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "params", "status"),
    [
        ("ping", None, 200),
        ("tools/list", {}, 200),
        ("tasks/list", {}, 200),
        ("tools/call", {"name": "deploy_prod", "arguments": {}}, 200),
        ("tools/call", {"name": "read_file", "arguments": {}}, 403),
        ("tools/call", {"name": "nonexistent", "arguments": {}}, 403),
        ("prompts/list", {}, 403),
        ("resources/list", {}, 403),
        ("resources/read", {"uri": "file:///etc/passwd"}, 403),
        (
            "completion/complete",
            {"ref": {"type": "ref/prompt", "name": "p"}, "argument": {"name": "a", "value": ""}},
            403,
        ),
        ("logging/setLevel", {"level": "debug"}, 403),
    ],
)
def test_alice_matrix(seed_server: str, method: str, params: dict[str, Any] | None, status: int) -> None:
    alice = Client(seed_server, ALICE)
    assert alice.initialize().status_code == 200
    response = alice.call(method, params)
    assert response.status_code == status, response.text
    if status == 403:
        assert response.json()["error"]["code"] == -32007
        assert response.json()["id"] == alice.next_id


@pytest.mark.parametrize(
    ("method", "status"),
    [("tasks/list", 200), ("tasks/get", 403), ("tasks/result", 403), ("tasks/cancel", 403)],
)
def test_alice_tasks_matrix(seed_server: str, method: str, status: int) -> None:
    """tasks/get and tasks/result are allowed but only reach her own tasks; tasks/cancel is refused."""
    alice = Client(seed_server, ALICE)
    alice.initialize()
    params = {} if method == "tasks/list" else {"taskId": "not-hers"}
    response = alice.call(method, params)
    if method in ("tasks/get", "tasks/result"):
        assert response.json()["error"]["code"] == -32602
    else:
        assert response.status_code == status, response.text


@pytest.mark.parametrize("token", [None, "wrong", "Secret-Token"])
@pytest.mark.parametrize("method", ["initialize", "ping", "tools/list", "tools/call", "tasks/list"])
def test_everyone_else_gets_401(seed_server: str, token: str | None, method: str) -> None:
    response = Client(seed_server, token).call(method, {"name": "deploy_prod", "arguments": {}})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["error"]["code"] == -32006


def test_task_on_an_allowed_tool(seed_server: str) -> None:
    alice = Client(seed_server, ALICE)
    alice.initialize()
    created = alice.call("tools/call", {"name": "deploy_slowly", "arguments": {}, "task": {"ttl": 60000}})
    assert created.status_code == 200, created.text
    task_id = created.json()["result"]["task"]["taskId"]
    result = alice.call("tasks/result", {"taskId": task_id})
    assert result.json()["result"]["content"][0]["text"] == "deployed slowly"
    assert alice.call("tasks/cancel", {"taskId": task_id}).status_code == 403


# -- sessions belong to their principal -----------------------------------------------------------

OPEN_POLICY = {"default_effect": "allow", "rules": []}
TWO_USERS = {"alice-token": {"subject": "alice"}, "bob-token": {"subject": "bob"}}


@pytest.fixture(scope="module")
def common_server() -> Iterator[str]:
    app = create_app(
        authn=TokenMapAuthenticator(TWO_USERS), authz=RuleBasedAuthorizer(OPEN_POLICY), require_authn=False
    )
    with serve(add_tools(app)) as base_url:
        yield base_url


@pytest.mark.parametrize("intruder", ["bob-token", None])
def test_session_hijack_is_answered_as_unknown(common_server: str, intruder: str | None) -> None:
    alice = Client(common_server, "alice-token")
    assert alice.initialize().status_code == 200
    stolen = alice.session_id
    assert stolen is not None
    other = Client(common_server, intruder)
    post = other.call("tools/list", {}, session_id=stolen)
    assert post.status_code == 404, post.text
    get = httpx.get(other.url, headers={**other.headers(stolen), "Accept": "text/event-stream"}, timeout=5)
    assert get.status_code == 404
    delete = httpx.delete(other.url, headers=other.headers(stolen), timeout=5)
    assert delete.status_code == 404
    assert alice.call("tools/list", {}).status_code == 200  # alice's session is untouched


def test_anonymous_session_is_not_upgraded(common_server: str) -> None:
    anonymous = Client(common_server, None)
    assert anonymous.initialize().status_code == 200
    bob = Client(common_server, "bob-token")
    assert bob.call("tools/list", {}, session_id=anonymous.session_id).status_code == 404
    assert anonymous.call("tools/list", {}).status_code == 200


# -- the demo's policy: principal × method × tool ------------------------------------------------

DEMO_TOKENS = {"alice": "demo-alice", "bob": "demo-bob"}
DEMO_TOOLS = {"deploy_service", "list_services", "build_report"}


@pytest.fixture(scope="module")
def demo_server() -> Iterator[str]:
    with serve(build_demo(tokens=DEMO_TOKENS).app) as base_url:
        yield base_url


DEMO_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("tools/list", {}),
    ("tools/call", {"name": "deploy_service", "arguments": {"service": "web", "version": "9"}}),
    ("tools/call", {"name": "list_services", "arguments": {}}),
    ("tools/call", {"name": "build_report", "arguments": {"seconds": 0}}),
    ("tools/call", {"name": "no_such_tool", "arguments": {}}),
    ("prompts/list", {}),
    ("resources/list", {}),
]
EXPECTED = {
    "alice": [200, 200, 200, 200, 403, 403, 403],
    "bob": [200, 403, 200, 403, 403, 403, 403],
}


@pytest.mark.parametrize("user", ["alice", "bob"])
@pytest.mark.parametrize("index", range(len(DEMO_CALLS)))
def test_demo_matrix(demo_server: str, user: str, index: int) -> None:
    client = Client(demo_server, DEMO_TOKENS[user])
    assert client.initialize().status_code == 200
    method, params = DEMO_CALLS[index]
    response = client.call(method, params)
    assert response.status_code == EXPECTED[user][index], response.text
    body = response.json()
    if response.status_code == 403:
        assert body["error"]["code"] == -32007
    elif method == "tools/call":
        assert not body["result"].get("isError"), body


@pytest.mark.parametrize(("user", "visible"), [("alice", DEMO_TOOLS), ("bob", {"list_services"})])
def test_demo_lists_only_usable_tools(demo_server: str, user: str, visible: set[str]) -> None:
    client = Client(demo_server, DEMO_TOKENS[user])
    client.initialize()
    assert {tool["name"] for tool in client.call("tools/list", {}).json()["result"]["tools"]} == visible


@pytest.mark.parametrize("index", range(len(DEMO_CALLS)))
def test_demo_anonymous_gets_401(demo_server: str, index: int) -> None:
    method, params = DEMO_CALLS[index]
    assert Client(demo_server, None).call(method, params).status_code == 401


def test_demo_bob_cannot_use_alices_session(demo_server: str) -> None:
    alice = Client(demo_server, DEMO_TOKENS["alice"])
    alice.initialize()
    bob = Client(demo_server, DEMO_TOKENS["bob"])
    deploy = DEMO_CALLS[1][1]
    assert bob.call("tools/call", deploy, session_id=alice.session_id).status_code == 404


# -- OAuth metadata and JWTs through create_app ---------------------------------------------------


RESOURCE = "https://mcp.test/mcp"


@pytest.fixture(scope="module")
def jwt_server() -> Iterator[tuple[str, IdentityProvider]]:
    oauth = OAuthProtectedResourceConfig(authorization_servers=["https://idp.test"], resource=RESOURCE)
    with identity_provider() as idp:
        authn = JWTAuthenticator(idp.jwks_url, issuer=idp.issuer, audience=RESOURCE)
        authz = RuleBasedAuthorizer({"rules": [{"methods": ["*"], "allow_scopes": ["mcp"]}]})
        app = create_app(authn=authn, authz=authz, require_authn=True, oauth=oauth)
        with serve(add_tools(app)) as base_url:
            yield base_url, idp


async def test_jwt_with_the_official_client(jwt_server: tuple[str, IdentityProvider]) -> None:
    base_url, idp = jwt_server
    token = idp.issue({"sub": "alice", "aud": RESOURCE, "scope": "mcp"})
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as client,
        streamable_http_client(base_url + "/mcp", http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("read_file", {})
        assert not result.is_error


def test_oauth_metadata_and_jwt_refusals(jwt_server: tuple[str, IdentityProvider]) -> None:
    base_url, idp = jwt_server
    metadata = httpx.get(base_url + "/.well-known/oauth-protected-resource/mcp")
    assert metadata.json() == {
        "resource": RESOURCE,
        "authorization_servers": ["https://idp.test"],
        "bearer_methods_supported": ["header"],
    }
    challenge = 'Bearer resource_metadata="https://mcp.test/.well-known/oauth-protected-resource/mcp"'
    refused = Client(base_url, None).call("ping")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == challenge
    wrong_audience = idp.issue({"sub": "alice", "aud": "https://other.test/mcp", "scope": "mcp"})
    answer = Client(base_url, wrong_audience).call("ping")
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith(challenge + ', error="invalid_token"')
    no_scope = Client(base_url, idp.issue({"sub": "bob", "aud": RESOURCE}))
    forbidden = no_scope.initialize()
    assert forbidden.status_code == 403
    assert forbidden.headers["www-authenticate"].startswith(
        challenge + ', error="insufficient_scope", scope="mcp"'
    )
