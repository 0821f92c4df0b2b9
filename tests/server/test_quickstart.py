"""The README quick start, as written, over HTTP (uvicorn) and over stdio, each in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import orjson

from server.mcp_client import initialize_message
from support.server import free_port
from support.waiting import serving, wait_until

QUICKSTART = '''
from pymcp import create_app, tool_registry

@tool_registry.register
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b

app = create_app()
'''
CALL = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "add", "arguments": {"a": 2, "b": 40}},
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def test_quickstart_over_http(tmp_path: Path) -> None:
    (tmp_path / "quickstart.py").write_text(QUICKSTART)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "quickstart:app", "--port", str(port), "--log-level", "warning"],
        cwd=tmp_path,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        started = wait_until(lambda: serving(url + "/", server), within=15)
        assert started, "the quick start server did not start"
        assert httpx.get(url + "/").json()["status"] == "ok"
        init = httpx.post(url + "/mcp", content=orjson.dumps(initialize_message()), headers=HEADERS)
        session = {**HEADERS, "mcp-session-id": init.headers["mcp-session-id"]}
        notify = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert httpx.post(url + "/mcp", content=orjson.dumps(notify), headers=session).status_code == 202
        result = httpx.post(url + "/mcp", content=orjson.dumps(CALL), headers=session).json()["result"]
        assert result == {"content": [{"type": "text", "text": "42"}]}
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_quickstart_over_stdio(tmp_path: Path) -> None:
    (tmp_path / "quickstart.py").write_text(QUICKSTART)
    lines = [initialize_message(), {"jsonrpc": "2.0", "method": "notifications/initialized"}, CALL]
    stdin = b"".join(orjson.dumps(line) + b"\n" for line in lines) + b"not json\n"
    pymcp = str(Path(sys.executable).parent / "pymcp")  # `pymcp run quickstart:app --stdio`, as in the README
    run = subprocess.run(
        [pymcp, "run", "quickstart:app", "--stdio"],
        input=stdin,
        capture_output=True,
        timeout=30,
        cwd=tmp_path,
        check=True,
    )
    # requests run concurrently: match replies by id, not by position
    replies = {reply["id"]: reply for reply in map(orjson.loads, run.stdout.splitlines())}
    assert replies[0]["result"]["serverInfo"]["name"] == "pymcp-kit"
    assert replies[2] == {"jsonrpc": "2.0", "id": 2, "result": {"content": [{"type": "text", "text": "42"}]}}
    assert replies[None]["error"]["code"] == -32700
    assert len(replies) == 3
