"""HTTP load: a trivial `tools/call`, at 16 connections, with `wrk`, on both protocol revisions.

Starts, one at a time on 127.0.0.1, each server in its own process (same uvicorn options: h11, asyncio
loop, no access log): a bare Starlette route that parses the JSON-RPC body with orjson and returns a
result (once with one header, once with the headers and body a 2026-07-28 client sends with a token, so
that HTTP parsing costs it what it costs pymcp); pymcp (this checkout) on a 2025-11-25 session and on the
2026-07-28 stateless path (per-request `_meta` and routing headers), each without and with the seed's
authn+authz; pymcp-kit 0.3.0 (its own virtualenv, both modes). Prints requests/s, p50/p99 latency, server
CPU per call, RSS after the load, and the ratios of throughput and p99 to the first bare row's.

`--baseline DIR` adds the pymcp rows again, served from another checkout's `python/` directory (with its
built `_core`): before/after numbers from one run on one machine.

Each server runs on two uvicorn stacks, one table each: `h11` (pure Python parser, asyncio loop) and
`fast` (httptools and uvloop, what `uvicorn[standard]` installs and most deployments run). The fast stack
spends less per request in the HTTP server, so the same pymcp overhead weighs more in its ratios.
pymcp-kit 0.3.0's virtualenv has neither, so its rows are on the h11 stack only. The README's
Performance section holds the last side-by-side run.

Run: .venv/bin/python benches/http_load.py [--seconds 10] [--connections 16] [--only REGEX] [--repeat N]
     [--stack h11|fast|both]
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
SESSION_VERSION = "2025-06-18"  # what 0.3.0 speaks too
STATELESS_VERSION = "2026-07-28"

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
STATELESS_CALL = {
    **CALL,
    "params": {
        **CALL["params"],
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
            "io.modelcontextprotocol/clientInfo": {"name": "wrk", "version": "1"},
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    },
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


STACKS = {"h11": ["--http", "h11", "--loop", "asyncio"], "fast": ["--http", "httptools", "--loop", "uvloop"]}


def _start(
    python: Path, source: str, workdir: Path, port: int, pythonpath: Path | None, stack: str
) -> subprocess.Popen[bytes]:
    (workdir / "bench_app.py").write_text(source)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    command = [str(python), "-m", "uvicorn", "bench_app:app", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", *STACKS[stack]]
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


def _base_headers(auth: bool) -> dict[str, str]:
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    if auth:
        headers["authorization"] = f"Bearer {TOKEN}"
    return headers


STATELESS_HEADERS = {"mcp-protocol-version": STATELESS_VERSION, "mcp-method": "tools/call", "mcp-name": "add"}


def _stateless_headers(url: str, auth: bool) -> dict[str, str]:
    headers = {**_base_headers(auth), **STATELESS_HEADERS}
    check = httpx.post(url, json=STATELESS_CALL, headers=headers).json()
    assert check["result"]["content"][0]["text"] == "3", check
    return headers


def _session_headers(url: str, auth: bool) -> dict[str, str]:
    headers = _base_headers(auth)
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": SESSION_VERSION,
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


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _wrk(
    url: str, headers: dict[str, str], body: dict[str, object], seconds: int, connections: int, workdir: Path
) -> dict[str, float]:
    script = workdir / "call.lua"
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    script.write_text(WRK_SCRIPT.format(body=json.dumps(json.dumps(body)), headers=lines))
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in output:
        raise RuntimeError(f"errors under load:\n{output}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)$", output, re.MULTILINE))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    return {"rps": rps, "p50": _ms(latency["50"]), "p99": _ms(latency["99"]), "requests": total}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--only", default=None, help="run only the servers whose name matches this regex")
    parser.add_argument("--baseline", type=Path, default=None, help="another checkout to measure beside")
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds over all servers; each keeps its best (default 1)"
    )
    parser.add_argument("--stack", choices=["h11", "fast", "both"], default="both", help="uvicorn stack")
    args = parser.parse_args()
    plain, secured = MCP_APP.format(auth=False, token=TOKEN), MCP_APP.format(auth=True, token=TOKEN)
    # name, python, app source, kind ("bare", "session", "stateless"), auth, PYTHONPATH, stacks
    both = ("h11", "fast")
    servers: list[tuple[str, Path, str, str, bool, Path | None, tuple[str, ...]]] = [
        ("bare Starlette route", OURS, BARE_APP, "bare", False, None, both),
        ("bare Starlette route, MCP headers", OURS, BARE_APP, "bare", True, None, both),
    ]
    checkouts: list[tuple[str, Path | None]] = [("", None)]
    if args.baseline is not None:
        checkouts.append((" (baseline)", args.baseline.resolve() / "python"))
    for label, pythonpath in checkouts:
        for kind, revision in (("session", "2025-11-25 session"), ("stateless", "2026-07-28 stateless")):
            servers += [(f"pymcp {revision}{label}", OURS, plain, kind, False, pythonpath, both)]
            servers += [(f"pymcp {revision} + seed auth{label}", OURS, secured, kind, True, pythonpath, both)]
    if COMPAT.exists():
        servers += [("pymcp-kit 0.3.0", COMPAT, plain, "session", False, None, ("h11",))]
        servers += [("pymcp-kit 0.3.0 + seed auth", COMPAT, secured, "session", True, None, ("h11",))]
    if args.only is not None:
        servers = [server for server in servers if server[3] == "bare" or re.search(args.only, server[0])]
    stacks = both if args.stack == "both" else (args.stack,)
    # interleaved: drift hits all alike
    rounds = [(server, stack) for _ in range(args.repeat) for stack in stacks for server in servers]
    best: dict[tuple[str, str], dict[str, float]] = {}
    for (name, python, source, kind, auth, pythonpath, supported), stack in rounds:
        if stack not in supported:
            continue
        print(f"http_load: {name} ({stack})", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory() as tmp:
            port = _free_port()
            server = _start(python, source, Path(tmp), port, pythonpath, stack)
            try:
                url = f"http://127.0.0.1:{port}/mcp"
                if kind == "bare":
                    # the second bare row reads what a 2026-07-28 client sends with a token: the same bytes
                    # to parse as the pymcp rows (HTTP header parsing is a large part of the cost)
                    headers = {**_base_headers(auth), **(STATELESS_HEADERS if auth else {})}
                    body = STATELESS_CALL if auth else CALL
                elif kind == "session":
                    headers, body = _session_headers(url, auth), CALL
                else:
                    headers, body = _stateless_headers(url, auth), STATELESS_CALL
                cpu_before = _cpu_seconds(server.pid)
                measured = _wrk(url, headers, body, args.seconds, args.connections, Path(tmp))
                measured["cpu_us"] = (_cpu_seconds(server.pid) - cpu_before) / measured["requests"] * 1e6
                measured["rss"] = _rss_kib(server.pid) / 1024
                if (stack, name) not in best or measured["rps"] > best[stack, name]["rps"]:
                    best[stack, name] = measured
            finally:
                server.terminate()
                server.wait(10)
    rounds_note = f", best of {args.repeat} interleaved rounds" if args.repeat > 1 else ""
    for stack in stacks:
        print(
            f"\ntools/call of a trivial tool, uvicorn {' + '.join(STACKS[stack][1::2])}, "
            f"{args.connections} connections, {args.seconds} s each (wrk){rounds_note}\n"
        )
        print(
            "| server | req/s | x bare | x bare (same request) | CPU µs/call | CPU x bare (same request) "
            "| p50 ms | p99 ms | p99 x bare (same request) | RSS MiB |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        bare, same = best[stack, servers[0][0]], best[stack, servers[1][0]]
        for (row_stack, name), m in best.items():
            if row_stack != stack:
                continue
            print(
                f"| {name} | {m['rps']:.0f} | {m['rps'] / bare['rps']:.2f} | {m['rps'] / same['rps']:.2f} "
                f"| {m['cpu_us']:.0f} | {m['cpu_us'] / same['cpu_us']:.2f} | {m['p50']:.2f} | {m['p99']:.2f} "
                f"| {m['p99'] / same['p99']:.2f} | {m['rss']:.1f} |"
            )


if __name__ == "__main__":
    main()
