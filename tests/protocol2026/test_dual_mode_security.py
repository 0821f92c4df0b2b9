"""The seed's security example (token map + `RuleBasedAuthorizer`) behaves identically on both revisions.

One dual-mode server; the official `mcp` 2.3.0 client in its default mode (which adopts 2026-07-28,
stateless: every request authenticated and authorized on its own) and pinned to the 2025-11-25
handshake. Every caller (the operator, a user without the role, an anonymous client) must get the same
allow/deny outcome for the same operation in both modes, and see the same filtered lists.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp import MCPError as ClientError
from mcp.client.streamable_http import streamable_http_client

from pymcp import create_app, get_registry_manager
from pymcp.errors import ErrorCode
from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator
from security.seed import SEED_POLICY
from support.mcp_schema import SchemaCheckedApp
from support.server import serve

from .conftest import VERSION, meta

FORBIDDEN = int(ErrorCode.FORBIDDEN)
TOKENS = {
    "secret-token": {"subject": "alice", "roles": ["ops"], "scopes": ["tools:*", "tasks:*"]},
    "intern-token": {"subject": "alice", "roles": ["intern"]},
    "bob-token": {"subject": "bob", "roles": ["ops"]},
}


def secured_app() -> Any:
    app = create_app(
        authn=TokenMapAuthenticator(TOKENS),
        authz=RuleBasedAuthorizer(SEED_POLICY),  # the security page's example policy, as written
        require_authn=True,
    )
    tools = get_registry_manager(app).tools

    @tools.register
    def deploy_service(name: str) -> str:
        """Deploys a service."""
        return f"deployed {name}"

    @tools.register
    def read_secrets() -> str:
        """Reads secrets (no rule allows it)."""
        return "secrets"

    return app


@pytest.fixture(scope="module")
def secured() -> Iterator[tuple[SchemaCheckedApp, str]]:
    checked = SchemaCheckedApp(secured_app())
    with serve(checked) as base_url:
        yield checked, f"{base_url}/mcp"


@asynccontextmanager
async def connect(url: str, token: str | None, mode: str) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=10) as http,
        Client(streamable_http_client(url, http_client=http), mode=mode, cache=None) as client,
    ):
        yield client


async def outcomes(url: str, token: str | None, mode: str) -> dict[str, Any]:
    """What one caller can do: the tools it sees and the fate of each call."""
    seen: dict[str, Any] = {}
    try:
        async with connect(url, token, mode) as client:
            seen["version"] = client.protocol_version
            seen["tools"] = sorted(tool.name for tool in (await client.list_tools()).tools)
            for name, arguments in (("deploy_service", {"name": "web"}), ("read_secrets", {})):
                try:
                    result = await client.call_tool(name, arguments)
                    seen[name] = result.content[0].text  # type: ignore[union-attr]
                except ClientError as error:
                    seen[name] = f"denied {error.error.code}"
    except Exception as error:  # the handshake itself was refused (401/403)
        seen["connect"] = type(error).__name__
    return seen


@pytest.mark.parametrize("token", ["secret-token", "intern-token", "bob-token", None])
async def test_same_decisions_on_both_revisions(
    secured: tuple[SchemaCheckedApp, str], token: str | None
) -> None:
    checked, url = secured
    modern = await outcomes(url, token, "auto")
    legacy = await outcomes(url, token, "legacy")
    if "version" in modern:
        assert (modern.pop("version"), legacy.pop("version")) == (VERSION, "2025-11-25")
    assert modern == legacy
    if token == "secret-token":
        assert modern == {
            "tools": ["deploy_service"],
            "deploy_service": "deployed web",
            "read_secrets": f"denied {FORBIDDEN}",
        }
    elif token == "intern-token":
        assert modern["tools"] == []
        assert modern["deploy_service"] == f"denied {FORBIDDEN}"
    else:
        assert "connect" in modern
    assert not checked.problems, "\n".join(checked.problems[:5])


def post(url: str, body: dict[str, Any], **headers: str) -> httpx.Response:
    base = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}
    return httpx.post(url, json=body, headers={**base, **headers})


def test_stateless_denials_keep_their_http_status_and_challenge(
    secured: tuple[SchemaCheckedApp, str],
) -> None:
    _, url = secured
    call = {
        "jsonrpc": "2.0",
        "id": 9,
        "method": "tools/call",
        "params": {"name": "read_secrets", "arguments": {}, "_meta": meta()},
    }
    routing = {"MCP-Protocol-Version": VERSION, "Mcp-Method": "tools/call", "Mcp-Name": "read_secrets"}
    anonymous = post(url, call, **routing)
    assert anonymous.status_code == 401
    assert "www-authenticate" in anonymous.headers
    forbidden = post(url, call, Authorization="Bearer secret-token", **routing)
    assert (forbidden.status_code, forbidden.json()["error"]["code"], forbidden.json()["id"]) == (
        403,
        FORBIDDEN,
        9,
    )
    discover = {"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": meta()}}
    found = post(
        url, discover, Authorization="Bearer secret-token", **{**routing, "Mcp-Method": "server/discover"}
    )
    result = found.json()["result"]
    # The capabilities were filtered for alice: the answer is hers alone.
    assert result["cacheScope"] == "private"
    assert result["supportedVersions"] == [VERSION]
