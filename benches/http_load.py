"""HTTP load: a trivial `tools/call` on an initialized session, at 16 connections, with `wrk`.

Starts, one at a time on 127.0.0.1, each server in its own process (same uvicorn options: h11, asyncio
loop, no access log): pymcp (this checkout, without and with the seed's authn+authz), pymcp-kit 0.3.0
(its own virtualenv, same two modes) and a bare Starlette route that parses the JSON-RPC body with
orjson and returns a result. Prints requests/s, p50/p99 latency, RSS after the load and the ratio to
the bare route.

Run: .venv/bin/python benches/http_load.py [--seconds 10] [--connections 16]
Needs `wrk` (Debian package) and, for 0.3.0, `.venvs/pymcp-kit-0.3.0` (`make compat-venv`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
OURS = Path(sys.executable)
COMPAT = Path(os.environ.get("PYMCP_COMPAT_PYTHON", REPO / ".venvs" / "pymcp-kit-0.3.0" / "bin" / "python"))
TOKEN = "bench-token"

MCP_APP = """
from pymcp import create_app, tool_registry

@tool_registry.register
def add(a: int, b: int) -> int:
    '''Add two numbers.'''
    return a + b

AUTH = {auth}
if AUTH:
    from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator
    alice = {{"subject": "alice", "roles": ["ops"], "scopes": ["tools:*"]}}
    authn = TokenMapAuthenticator({{"{token}": alice}})
    methods = ["initialize", "ping", "tools/list", "tools/call", "notifications/initialized"]
    authz = RuleBasedAuthorizer({{
        "default_effect": "deny",
        "hide_unauthorized_tools": True,
        "rules": [{{"methods": methods, "allow_subjects": ["alice"], "effect": "allow"}}],
    }})
    app = create_app(authn=authn, authz=authz, require_authn=True)
else:
    app = create_app()
"""

BARE_APP = """
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

async def rpc(request: Request) -> Response:
    message = orjson.loads(await request.body())
    result = {"content": [{"type": "text", "text": "3"}]}
    body = orjson.dumps({"jsonrpc": "2.0", "id": message["id"], "result": result})
    return Response(body, media_type="application/json")

app = Starlette(routes=[Route("/mcp", rpc, methods=["POST"])])
"""

CALL = {
    "jsonrpc": "2.0",
    "id": 7,
    "method": "tools/call",
    "params": {"name": "add", "arguments": {"a": 1, "b": 2}},
}
WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
{headers}
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(python: Path, source: str, workdir: Path, port: int) -> subprocess.Popen[bytes]:
    (workdir / "bench_app.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    command = [str(python), "-m", "uvicorn", "bench_app:app", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", "--http", "h11", "--loop", "asyncio"]
    # stderr is dropped: 0.3.0 logs every request at INFO (part of what is measured, not worth reading)
    server = subprocess.Popen(command, cwd=workdir, env=env, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not start") from None
            time.sleep(0.1)


def _session_headers(url: str, auth: bool) -> dict[str, str]:
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    if auth:
        headers["authorization"] = f"Bearer {TOKEN}"
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "wrk", "version": "1"},
        },
    }
    response = httpx.post(url, json=init, headers=headers)
    response.raise_for_status()
    headers["mcp-session-id"] = response.headers["mcp-session-id"]
    headers["mcp-protocol-version"] = response.json()["result"]["protocolVersion"]
    httpx.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers)
    check = httpx.post(url, json=CALL, headers=headers).json()
    assert check["result"]["content"][0]["text"] == "3", check
    return headers


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(
    url: str, headers: dict[str, str], seconds: int, connections: int, workdir: Path
) -> dict[str, float]:
    script = workdir / "call.lua"
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    script.write_text(WRK_SCRIPT.format(body=json.dumps(json.dumps(CALL)), headers=lines))
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"errors under load:\n{output}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": _ms(latency["50"]), "p99": _ms(latency["99"])}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    servers: list[tuple[str, Path, str, bool]] = [("bare Starlette route", OURS, BARE_APP, False)]
    servers += [("pymcp (this checkout)", OURS, MCP_APP.format(auth=False, token=TOKEN), False)]
    servers += [("pymcp + seed authn/authz", OURS, MCP_APP.format(auth=True, token=TOKEN), True)]
    if COMPAT.exists():
        servers += [("pymcp-kit 0.3.0", COMPAT, MCP_APP.format(auth=False, token=TOKEN), False)]
        servers += [("pymcp-kit 0.3.0 + seed auth", COMPAT, MCP_APP.format(auth=True, token=TOKEN), True)]
    results: list[tuple[str, dict[str, float]]] = []
    for name, python, source, auth in servers:
        with tempfile.TemporaryDirectory() as tmp:
            port = _free_port()
            server = _start(python, source, Path(tmp), port)
            try:
                url = f"http://127.0.0.1:{port}/mcp"
                headers = (
                    _session_headers(url, auth)
                    if source != BARE_APP
                    else {"content-type": "application/json"}
                )
                measured = _wrk(url, headers, args.seconds, args.connections, Path(tmp))
                measured["rss"] = _rss_kib(server.pid) / 1024
                results.append((name, measured))
            finally:
                server.terminate()
                server.wait(10)
    bare = results[0][1]
    print(f"\ntools/call of a trivial tool, {args.connections} connections, {args.seconds} s each (wrk)\n")
    print("| server | req/s | p50 ms | p99 ms | RSS MiB | ratio to bare |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, m in results:
        ratio = m["rps"] / bare["rps"]
        print(
            f"| {name} | {m['rps']:.0f} | {m['p50']:.2f} | {m['p99']:.2f} | {m['rss']:.1f} | {ratio:.2f}x |"
        )


if __name__ == "__main__":
    main()
