"""Reloading a policy without a restart: API, SIGHUP and file watch, on a real uvicorn process under load.

The load is a short, bounded loop of concurrent clients; every request must get an answer (allowed: 200
with a result, denied: 403), and every request sent after the server logged the reload must be decided
by the new policy.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from pymcp._core import PolicyError
from pymcp.security import Principal, RuleBasedAuthorizer
from server.mcp_client import initialize_message
from support.server import free_port

TOKEN = "reload-token"
ACCEPT = "application/json, text/event-stream"

ALLOW_DEPLOY = {"rules": [{"id": "ops", "methods": ["*"], "allow_roles": ["ops"]}]}
DENY_DEPLOY = {
    "rules": [
        {"id": "no-deploy", "methods": ["tools/call"], "tool": "deploy_*", "effect": "deny"},
        {"id": "ops", "methods": ["*"], "allow_roles": ["ops"]},
    ]
}
INVALID = {"rules": [{"id": "ops", "methods": ["*"], "allow_role": ["ops"]}]}

APP = """
import logging
import sys

from pymcp.app import create_app
from pymcp.registry.manager import get_registry_manager
from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator

logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(name)s %(message)s")
authz = RuleBasedAuthorizer.from_file({policy!r}, reload_on_sighup=True, watch_seconds={watch})
app = create_app(authn=TokenMapAuthenticator({{{token!r}: {{"subject": "alice", "roles": ["ops"]}}}}),
                 authz=authz, require_authn=True)


@get_registry_manager(app).tools.register
def deploy_prod() -> str:
    return "deployed"
"""


class Server:
    """A uvicorn process serving the app above (the main thread of its process, so SIGHUP can be handled)."""

    def __init__(self, tmp_path: Path, watch: float | None) -> None:
        self.policy = tmp_path / "policy.json"
        self.write(ALLOW_DEPLOY)
        (tmp_path / "reload_app.py").write_text(APP.format(policy=str(self.policy), watch=watch, token=TOKEN))
        port = free_port()
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "reload_app:app",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            cwd=tmp_path,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: list[str] = []
        self.reloaded = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(self.url.removesuffix("/mcp") + "/", timeout=1)
                break
            except httpx.TransportError:
                assert self.process.poll() is None, "".join(self.lines)
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)

    def write(self, policy: dict[str, Any]) -> None:
        # Written next to the file then renamed: the watcher never sees half a file.
        temporary = self.policy.with_suffix(".tmp")
        temporary.write_text(json.dumps(policy))
        temporary.replace(self.policy)

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line)
            if line.startswith("pymcp.policy"):
                self.reloaded.set()

    def wait_for_log(self) -> str:
        assert self.reloaded.wait(20), "".join(self.lines)
        self.reloaded.clear()
        return next(line for line in reversed(self.lines) if line.startswith("pymcp.policy")).strip()

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.reader.join(5)
        assert self.process.stderr is not None
        self.process.stderr.close()


def _session(client: httpx.Client, url: str) -> dict[str, str]:
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    init = initialize_message()
    response = client.post(url, content=orjson.dumps(init), headers=headers)
    assert response.status_code == 200, response.text
    headers |= {"Mcp-Session-Id": response.headers["mcp-session-id"], "MCP-Protocol-Version": "2025-11-25"}
    done = client.post(
        url, content=b'{"jsonrpc":"2.0","method":"notifications/initialized"}', headers=headers
    )
    assert done.status_code == 202
    return headers


class Load:
    """A few clients calling `deploy_prod` in a loop; each answer is kept with when its request was sent."""

    def __init__(self, url: str, clients: int = 4) -> None:
        self.url = url
        self.stop = threading.Event()
        self.answers: list[tuple[float, str]] = []
        self.errors: list[str] = []
        self.threads = [threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(clients)]
        for thread in self.threads:
            thread.start()

    def _run(self, number: int) -> None:
        with httpx.Client(timeout=10) as client:
            headers = _session(client, self.url)
            request_id = 0
            while not self.stop.is_set():
                request_id += 1
                call = {
                    "jsonrpc": "2.0",
                    "id": request_id,
                    "method": "tools/call",
                    "params": {"name": "deploy_prod"},
                }
                sent = time.monotonic()
                try:
                    response = client.post(self.url, content=orjson.dumps(call), headers=headers)
                except httpx.HTTPError as error:
                    self.errors.append(f"client {number}: {error!r}")
                    continue
                if response.status_code == 200 and '"deployed"' in response.text:
                    self.answers.append((sent, "allow"))
                elif response.status_code == 403 and "-32007" in response.text:
                    self.answers.append((sent, "deny"))
                else:
                    self.errors.append(f"client {number}: {response.status_code} {response.text}")

    def count(self) -> int:
        return len(self.answers)

    def wait_for(self, more: int) -> None:
        target = self.count() + more
        deadline = time.monotonic() + 30
        while self.count() < target:
            assert not self.errors, self.errors
            assert time.monotonic() < deadline, "the load stalled"
            time.sleep(0.01)

    def finish(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(15)


@pytest.fixture
def sighup_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path, watch=None)
    yield server
    server.stop()


@pytest.fixture
def watched_server(tmp_path: Path) -> Iterator[Server]:
    server = Server(tmp_path, watch=0.05)
    yield server
    server.stop()


def _swap_under_load(server: Server, trigger: Any) -> None:
    load = Load(server.url)
    try:
        load.wait_for(50)
        server.write(DENY_DEPLOY)
        trigger()
        line = server.wait_for_log()
        swapped = time.monotonic()  # the server logged the reload before this moment
        assert line.endswith("reloaded (2 rules)"), line
        load.wait_for(50)
    finally:
        load.finish()
    assert not load.errors, load.errors
    before = [effect for sent, effect in load.answers if sent < swapped]
    after = [effect for sent, effect in load.answers if sent >= swapped]
    assert before[0] == "allow"
    assert len(after) >= 50
    assert set(after) == {"deny"}


def test_sighup_reloads_under_load(sighup_server: Server) -> None:
    _swap_under_load(sighup_server, lambda: sighup_server.process.send_signal(signal.SIGHUP))


def test_file_change_reloads_under_load(watched_server: Server) -> None:
    _swap_under_load(watched_server, lambda: None)


def test_an_invalid_policy_keeps_the_old_one(sighup_server: Server) -> None:
    sighup_server.write(INVALID)
    sighup_server.process.send_signal(signal.SIGHUP)
    line = sighup_server.wait_for_log()
    assert "not reloaded, the current one stays: unknown key `allow_role` in rule 0 `ops`" in line
    load = Load(sighup_server.url, clients=1)
    try:
        load.wait_for(5)
    finally:
        load.finish()
    assert {effect for _, effect in load.answers} == {"allow"}


def test_reload_api_swaps_atomically_and_refuses_bad_policies(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alice = Principal("alice", roles={"ops"})
    authz = RuleBasedAuthorizer(ALLOW_DEPLOY)
    assert authz.is_allowed(alice, "tools/call", "deploy_prod")
    authz.reload(DENY_DEPLOY)
    assert not authz.is_allowed(alice, "tools/call", "deploy_prod")
    assert authz.decide(alice, "tools/call", "deploy_prod").rule_id == "no-deploy"
    with pytest.raises(PolicyError, match="unknown key `allow_role` in rule 0 `ops`"):
        authz.reload(INVALID)
    assert authz.decide(alice, "tools/call", "deploy_prod").rule_id == "no-deploy"
    with pytest.raises(ValueError, match="needs a path"):
        authz.reload_file()
    missing = tmp_path / "missing.json"
    with caplog.at_level(logging.ERROR, logger="pymcp.policy"):
        assert not authz.reload_file(missing)
    assert [record.getMessage() for record in caplog.records] == [
        f"policy `{missing}` not reloaded: cannot read it (No such file or directory)"
    ]


def test_watch_seconds_must_be_positive(tmp_path: Path) -> None:
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(ALLOW_DEPLOY))
    with pytest.raises(ValueError, match="`watch_seconds` must be a positive number"):
        RuleBasedAuthorizer.from_file(path, watch_seconds=0)


def test_sighup_outside_the_main_thread_fails_at_start_up(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "policy.json"
    path.write_text(json.dumps(ALLOW_DEPLOY))
    reloader = RuleBasedAuthorizer.from_file(path, reload_on_sighup=True).reloader
    assert reloader is not None
    failures: list[BaseException] = []

    def start_in_a_thread() -> None:
        async def start() -> None:
            reloader.start()

        try:
            asyncio.run(start())
        except RuntimeError as error:
            failures.append(error)

    thread = threading.Thread(target=start_in_a_thread)
    thread.start()
    thread.join(10)
    assert "`reload_on_sighup` needs the server's event loop in the main thread" in str(failures[0])


def test_every_worker_reloads_on_a_file_change(tmp_path: Path) -> None:
    """`uvicorn --workers 2`: each worker watches the file; after both logged the reload, all deny."""
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(ALLOW_DEPLOY))
    (tmp_path / "reload_app.py").write_text(APP.format(policy=str(policy), watch=0.05, token=TOKEN))
    port = free_port()
    url = f"http://127.0.0.1:{port}/mcp"
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "reload_app:app", "--port", str(port), "--workers", "2"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    lines: list[str] = []
    reloads = threading.Semaphore(0)
    started = threading.Semaphore(0)

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if line.startswith("pymcp.policy"):
                reloads.release()
            if "Application startup complete" in line:
                started.release()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        for _ in range(2):
            assert started.acquire(timeout=30), "".join(lines)
        temporary = policy.with_suffix(".tmp")
        temporary.write_text(json.dumps(DENY_DEPLOY))
        temporary.replace(policy)
        for _ in range(2):
            assert reloads.acquire(timeout=30), "".join(lines)
        # New connections spread over both workers; every one of them now decides with the new policy.
        for _ in range(20):
            with httpx.Client(timeout=10) as client:
                headers = _session(client, url)
                call = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "deploy_prod"}}
                assert client.post(url, content=orjson.dumps(call), headers=headers).status_code == 403
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        reader.join(5)
        process.stderr.close()


def test_stdio_reloads_on_sighup(tmp_path: Path) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(json.dumps(ALLOW_DEPLOY))
    (tmp_path / "reload_app.py").write_text(APP.format(policy=str(policy), watch=None, token=TOKEN))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pymcp",
            "run",
            "reload_app:app",
            "--stdio",
            "--principal-subject",
            "alice",
            "--principal-role",
            "ops",
        ],
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    assert process.stderr is not None

    def send(message: dict[str, Any]) -> None:
        assert process.stdin is not None
        process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()

    def ask(request_id: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
        assert process.stdout is not None
        send({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})
        answer: dict[str, Any] = json.loads(process.stdout.readline())
        return answer

    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        init = {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "t", "version": "1"},
        }
        assert "result" in ask(0, "initialize", init)
        send({"jsonrpc": "2.0", "method": "notifications/initialized"})
        deploy = {"name": "deploy_prod"}
        assert ask(1, "tools/call", deploy)["result"]["content"][0]["text"] == "deployed"
        policy.write_text(json.dumps(DENY_DEPLOY))
        process.send_signal(signal.SIGHUP)
        line = process.stderr.readline()
        assert line.startswith("pymcp.policy"), line
        assert ask(2, "tools/call", deploy)["error"]["code"] == -32007
    finally:
        watchdog.cancel()
        process.stdin.close()
        process.wait(20)
        process.stdout.close()
        process.stderr.close()
