"""Soak: mixed good and bad traffic against one server process; its RSS must be flat after warm-up.

Users open sessions, call tools (some as tasks), read resources, then delete their sessions; attackers
send refused tokens, oversized `clientInfo`, huge batches, deep params, dot-segment URIs and other
principals' session ids. Every 10 s the server's RSS is sampled; at the end the growth after warm-up
(the first third) is printed in MiB per minute. Not part of `make check`.

Run: .venv/bin/python benches/soak.py [--seconds 600] [--users 32]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
ACCEPT = "application/json, text/event-stream"

APP = """
from pymcp import create_app, get_registry_manager
from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator

tokens = {f"user-{n}": {"subject": f"user-{n}", "roles": ["staff"]} for n in range(64)}
app = create_app(
    authn=TokenMapAuthenticator(tokens),
    authz=RuleBasedAuthorizer({"rules": [{"methods": ["*"], "allow_roles": ["staff"]}]}),
    require_authn=True,
)
registries = get_registry_manager(app)

@registries.tools.register(execution={"taskSupport": "optional"})
def echo(text: str) -> str:
    '''Echo.'''
    return text

@registries.resources.register_template(uri_template="res://docs/{name}", name="doc")
def doc(name: str) -> str:
    '''A document.'''
    return name
"""


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Counts:
    def __init__(self) -> None:
        self.requests = 0
        self.server_errors = 0


async def post(
    http: httpx.AsyncClient, url: str, body: bytes, headers: dict[str, str], counts: Counts
) -> httpx.Response:
    response = await http.post(url, content=body, headers=headers)
    counts.requests += 1
    if response.status_code >= 500:
        counts.server_errors += 1
    return response


async def good_user(n: int, url: str, stop: float, counts: Counts) -> None:
    base = {"accept": ACCEPT, "content-type": "application/json", "authorization": f"Bearer user-{n % 64}"}
    init = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "soak", "version": "1"},
    }
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < stop:
            opened = await post(
                http,
                url,
                orjson.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init}),
                base,
                counts,
            )
            if opened.status_code != 200:
                continue
            session = {
                **base,
                "mcp-session-id": opened.headers["mcp-session-id"],
                "mcp-protocol-version": "2025-11-25",
            }
            await post(http, url, b'{"jsonrpc":"2.0","method":"notifications/initialized"}', session, counts)
            for i in range(20):
                call: dict[str, object] = {
                    "name": "echo",
                    "arguments": {"text": "x" * random.randint(1, 2000)},
                }
                if i % 5 == 0:
                    call["task"] = {"ttl": 5000}
                await post(
                    http,
                    url,
                    orjson.dumps({"jsonrpc": "2.0", "id": i + 1, "method": "tools/call", "params": call}),
                    session,
                    counts,
                )
                await post(
                    http,
                    url,
                    orjson.dumps(
                        {
                            "jsonrpc": "2.0",
                            "id": 100 + i,
                            "method": "resources/read",
                            "params": {"uri": f"res://docs/{i}"},
                        }
                    ),
                    session,
                    counts,
                )
            response = await http.delete(url, headers=session)
            counts.requests += 1
            counts.server_errors += response.status_code >= 500


async def attacker(url: str, stop: float, counts: Counts) -> None:
    base = {"accept": ACCEPT, "content-type": "application/json"}
    deep = b'{"a":' * 200 + b"1" + b"}" * 200
    bodies = [
        (b'{"jsonrpc":"2.0","id":1,"method":"ping"}', {"authorization": "Bearer nope"}),
        (b"[" + b"0," * 50_000 + b"0]", {"authorization": "Bearer user-1"}),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"clientInfo":{"name":"%s"}}}'
            % (b"x" * 100_000),
            {"authorization": "Bearer user-2"},
        ),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","x":%s}}' % deep,
            {"authorization": "Bearer user-3", "mcp-session-id": "0" * 32},
        ),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"res://docs/../x"}}',
            {"authorization": "Bearer user-4", "mcp-session-id": "f" * 32},
        ),
    ]
    async with httpx.AsyncClient(timeout=30) as http:
        while time.monotonic() < stop:
            body, extra = random.choice(bodies)
            await post(http, url, body, {**base, **extra}, counts)


async def drive(url: str, seconds: float, users: int, pid: int) -> None:
    stop = time.monotonic() + seconds
    counts = Counts()
    work = [asyncio.create_task(good_user(n, url, stop, counts)) for n in range(users)]
    work += [asyncio.create_task(attacker(url, stop, counts)) for _ in range(max(1, users // 8))]
    samples: list[tuple[float, float]] = []
    started = time.monotonic()
    while time.monotonic() < stop:
        await asyncio.sleep(min(10.0, max(0.0, stop - time.monotonic())))
        samples.append((time.monotonic() - started, rss_mib(pid)))
        print(
            f"{samples[-1][0]:6.0f} s  RSS {samples[-1][1]:7.1f} MiB  requests {counts.requests}", flush=True
        )
    await asyncio.gather(*work)
    after_warmup = [s for s in samples if s[0] >= seconds / 3]
    if len(after_warmup) >= 2:
        (t0, r0), (t1, r1) = after_warmup[0], after_warmup[-1]
        print(
            f"growth after warm-up: {(r1 - r0) / max(t1 - t0, 1) * 60:+.2f} MiB/min ({r0:.1f} → {r1:.1f} MiB)"
        )
    print(f"{counts.requests} requests, {counts.server_errors} answered 5xx")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--users", type=int, default=32)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        Path(workdir, "soak_app.py").write_text(APP)
        port = 18000 + os.getpid() % 1000
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "soak_app:app", "--port", str(port), "--http", "h11",
             "--log-level", "warning", "--no-access-log"],
            cwd=workdir,
            env={**os.environ, "PYTHONPATH": workdir},
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}/mcp"
            for _ in range(100):
                try:
                    httpx.get(f"http://127.0.0.1:{port}/")
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
            asyncio.run(drive(url, options.seconds, options.users, server.pid))
        finally:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    main()
