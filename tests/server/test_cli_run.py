"""`pymcp run MODULE:APP` over stdio and HTTP, driven by the official `mcp` SDK client; start-up errors."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from support.server import free_port

# The console script, not `python -m pymcp`: it must find the module in the current directory by itself.
PYMCP = str(Path(sys.executable).parent / "pymcp")
TOKEN = "run-token"

SERVER = f"""
from pymcp.app import create_app
from pymcp.registry.manager import get_registry_manager
from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator

policy = {{"rules": [{{"methods": ["*"], "allow_roles": ["ops"]}}]}}
app = create_app(
    authn=TokenMapAuthenticator({{"{TOKEN}": {{"subject": "alice", "roles": ["ops"]}}}}),
    authz=RuleBasedAuthorizer(policy),
    require_authn=True,
)
open_app = create_app()
not_an_app = 42


@get_registry_manager(app).tools.register
def deploy(version: str = "1") -> str:
    \"\"\"Deploy.\"\"\"
    return f"deployed {{version}}"
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "server.py").write_text(SERVER)
    return tmp_path


def _stdio(project: Path, *options: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=PYMCP, args=["run", "server:app", "--stdio", *options], cwd=str(project), env=dict(os.environ)
    )


async def test_stdio_with_a_declared_principal(project: Path) -> None:
    params = _stdio(project, "--principal-subject", "alice", "--principal-role", "ops")
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        assert [tool.name for tool in (await session.list_tools()).tools] == ["deploy"]
        result = await session.call_tool("deploy", {"version": "7"})
        assert result.content[0].text == "deployed 7"  # type: ignore[union-attr]


async def test_app_dir_imports_from_elsewhere(project: Path) -> None:
    params = StdioServerParameters(
        command=PYMCP,
        args=[
            "run",
            "server:app",
            "--app-dir",
            str(project),
            "--stdio",
            "--principal-subject",
            "a",
            "--principal-role",
            "ops",
        ],
        cwd="/",
        env=dict(os.environ),
    )
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        assert (await session.call_tool("deploy", {})).content[0].text == "deployed 1"  # type: ignore[union-attr]


async def test_stdio_principal_is_authorized_like_any_other(project: Path) -> None:
    params = _stdio(project, "--principal-subject", "bob", "--principal-role", "dev")
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        with pytest.raises(Exception, match="Forbidden"):
            await session.initialize()


def _run(project: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYMCP, "run", *argv], cwd=project, capture_output=True, text=True, timeout=60, check=False
    )


def test_a_secured_app_on_stdio_needs_a_principal(project: Path) -> None:
    done = _run(project, "server:app", "--stdio")
    assert done.returncode == 2
    assert done.stderr.startswith("pymcp run: `server:app` is secured and stdio carries no tokens:")
    assert "`--principal-subject NAME`" in done.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["server"], "`server` is not MODULE:APP"),
        (["nowhere:app"], "cannot import `nowhere` from `"),
        (["server:app", "--app-dir", "missing"], "`--app-dir missing` is not a directory"),
        (["server:missing"], "`server` has no `missing`"),
        (["server:not_an_app"], "`server:not_an_app` is not an app made by `pymcp.create_app`"),
        (["server:app", "--principal-subject", "x"], "`--principal-*` options are for `--stdio`"),
        (["server:app", "--http", "0.0.0.0:8099"], "binding `0.0.0.0` reaches beyond this machine"),
        (
            ["server:open_app", "--stdio", "--principal-role", "x"],
            "`--principal-role` and `--principal-scope` need",
        ),
    ],
)
def test_start_up_errors(project: Path, argv: list[str], message: str) -> None:
    done = _run(project, *argv)
    assert done.returncode == 2
    assert done.stderr.startswith(f"pymcp run: {message}")
    assert done.stderr.count("\n") == 1


def test_http_address_is_checked(project: Path) -> None:
    done = _run(project, "server:app", "--http", "localhost")
    assert done.returncode == 2
    assert "`localhost` is not HOST:PORT" in done.stderr


@pytest.fixture
def http_server(project: Path) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        [PYMCP, "run", "server:app", "--http", f"127.0.0.1:{port}"],
        cwd=project,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate()[1]
                assert time.monotonic() < deadline
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


async def test_http_with_the_official_client(http_server: str) -> None:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        streamable_http_client(http_server + "/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("deploy", {})
        assert result.content[0].text == "deployed 1"  # type: ignore[union-attr]
    async with httpx.AsyncClient() as client:
        assert (await client.post(http_server + "/mcp", json={})).status_code == 401
