"""`pymcp bench server`: an ASGI app driven in this process (no sockets), on a session and stateless."""

from __future__ import annotations

import asyncio
import importlib
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from pathlib import Path
from typing import Any

import orjson

from pymcp.bench.output import Progress, Timing, format_ns, table

__all__ = ["InProcessClient", "bench_server", "load_app", "print_server"]

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

SESSION_VERSION = "2025-11-25"
STATELESS_VERSION = "2026-07-28"


def load_app(spec: str) -> Any:
    """`module:attribute` (the current directory is importable, as for uvicorn)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"`{spec}` is not `MODULE:APP` (for example `server:app`)")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    module = importlib.import_module(module_name)
    try:
        app = getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"module `{module_name}` has no `{attribute}`") from None
    if not callable(app):
        raise ValueError(f"`{spec}` is not an ASGI app")
    return app


class InProcessClient:
    """Calls an ASGI app directly: one prepared scope per request, the body in one message, no sockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lifespan: asyncio.Task[None] | None = None
        self._shutdown: asyncio.Queue[Message] = asyncio.Queue()

    async def start(self) -> None:
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue: asyncio.Queue[Message] = self._shutdown
        queue.put_nowait({"type": "lifespan.startup"})

        async def send(message: Message) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.failed" and not started.done():
                lines = str(message.get("message") or "").strip().splitlines() or ["no reason given"]
                started.set_exception(ValueError(f"the app failed to start: {lines[-1]}"))
            elif kind == "lifespan.startup.complete" and not started.done():
                started.set_result(None)

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan = asyncio.ensure_future(self.app(scope, queue.get, send))
        done, _ = await asyncio.wait((started, self._lifespan), return_when=asyncio.FIRST_COMPLETED)
        if started in done:
            started.result()
        elif not started.done():
            started.cancel()  # an app without lifespan support returned at once

    async def stop(self) -> None:
        if self._lifespan is not None and not self._lifespan.done():
            self._shutdown.put_nowait({"type": "lifespan.shutdown"})
            await asyncio.wait_for(self._lifespan, 10)

    def prepare(
        self, headers: Mapping[str, str], body: bytes
    ) -> Callable[[], Awaitable[tuple[int, dict[bytes, bytes], bytes]]]:
        """A function that POSTs `body` to `/mcp` with `headers` and returns status, headers and body."""
        raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]
        raw_headers.append((b"content-length", b"%d" % len(body)))
        template = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/mcp",
            "raw_path": b"/mcp",
            "root_path": "",
            "query_string": b"",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        request_message = {"type": "http.request", "body": body, "more_body": False}
        app = self.app

        async def call() -> tuple[int, dict[bytes, bytes], bytes]:
            sent = False
            status = 0
            response_headers: dict[bytes, bytes] = {}
            chunks: list[bytes] = []

            async def receive() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return request_message
                await asyncio.Event().wait()  # the client never goes away while we wait for the answer
                return {"type": "http.disconnect"}

            async def send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    response_headers.update(message.get("headers") or ())
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))

            await app(dict(template), receive, send)
            return status, response_headers, b"".join(chunks)

        return call


def _rpc(request_id: int, method: str, params: dict[str, Any]) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def _stateless_params(params: dict[str, Any]) -> dict[str, Any]:
    from pymcp.protocol.stateless.envelope import (
        CLIENT_CAPABILITIES_KEY,
        CLIENT_INFO_KEY,
        PROTOCOL_VERSION_KEY,
    )

    meta = {
        PROTOCOL_VERSION_KEY: STATELESS_VERSION,
        CLIENT_INFO_KEY: {"name": "pymcp-bench", "version": "1"},
        CLIENT_CAPABILITIES_KEY: {},
    }
    return {**params, "_meta": meta}


def _reply_error(status: int, body: bytes) -> str | None:
    """Why a reply is not a success (None when it is one)."""
    text = body
    if body.startswith(b"event:") or b"\ndata: " in body:
        found = re.findall(rb"^data: (.*)$", body, re.MULTILINE)
        text = found[-1] if found else b"{}"
    try:
        parsed = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return f"HTTP {status}: the reply is not JSON"
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        return f"HTTP {status}: {error.get('message')}"
    if status >= 300:
        return f"HTTP {status}"
    result = parsed.get("result") if isinstance(parsed, dict) else None
    if isinstance(result, dict) and result.get("isError"):
        return f"HTTP {status}: the tool reported an error"
    return None


async def _session_headers(client: InProcessClient, base: dict[str, str]) -> dict[str, str] | str:
    """Headers of an initialized 2025-11-25 session (or why it could not be opened)."""
    init = _rpc(
        0,
        "initialize",
        {
            "protocolVersion": SESSION_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "pymcp-bench", "version": "1"},
        },
    )
    status, headers, body = await client.prepare(base, init)()
    problem = _reply_error(status, body)
    if problem is not None:
        return problem
    session = {
        **base,
        "mcp-session-id": headers[b"mcp-session-id"].decode(),
        "mcp-protocol-version": SESSION_VERSION,
    }
    notification = orjson.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    await client.prepare(session, notification)()
    return session


async def _pick_tool(client: InProcessClient, headers: dict[str, str]) -> str | None:
    """The first listed tool that needs no arguments."""
    status, _, body = await client.prepare(headers, _rpc(1, "tools/list", {}))()
    if status != 200:
        return None
    for tool in orjson.loads(body).get("result", {}).get("tools", []):
        if not tool.get("inputSchema", {}).get("required"):
            return str(tool["name"])
    return None


async def _bench_server(
    app: ASGIApp, *, token: str | None, tool: str | None, arguments: dict[str, Any], calls: int
) -> list[dict[str, Any]]:
    from pymcp.protocol.stateless.headers import encode_header_value

    client = InProcessClient(app)
    await client.start()
    rows: list[dict[str, Any]] = []
    try:
        base = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        modes = [("anonymous", base)]
        if token is not None:
            modes.append(("token", {**base, "authorization": f"Bearer {token}"}))
        plans: list[
            tuple[str, str, str, Callable[[], Awaitable[tuple[int, dict[bytes, bytes], bytes]]] | str]
        ] = []
        for auth, headers in modes:
            session = await _session_headers(client, headers)
            chosen = tool
            if chosen is None and not isinstance(session, str):
                chosen = await _pick_tool(client, session)
            call_params = {"name": chosen, "arguments": arguments} if chosen is not None else None
            for method, params in (("tools/list", {}), ("tools/call", call_params)):
                label = f"{method} {chosen}" if method == "tools/call" and chosen else method
                if params is None:
                    why = session if isinstance(session, str) else "no tool without arguments (use --tool)"
                    plans += [
                        (version, auth, method, why) for version in (SESSION_VERSION, STATELESS_VERSION)
                    ]
                    continue
                if isinstance(session, str):
                    plans.append((SESSION_VERSION, auth, label, session))
                else:
                    plans.append(
                        (SESSION_VERSION, auth, label, client.prepare(session, _rpc(2, method, params)))
                    )
                stateless = {**headers, "mcp-protocol-version": STATELESS_VERSION, "mcp-method": method}
                if method == "tools/call":
                    stateless["mcp-name"] = encode_header_value(str(chosen))
                plans.append(
                    (
                        STATELESS_VERSION,
                        auth,
                        label,
                        client.prepare(stateless, _rpc(2, method, _stateless_params(params))),
                    )
                )
        progress = Progress(len(plans))
        for version, auth, label, plan in plans:
            progress.step(f"{label} ({version}, {auth})")
            row: dict[str, Any] = {"method": label, "revision": version, "auth": auth}
            rows.append(row)
            if isinstance(plan, str):
                row["skipped"] = plan
                continue
            status, _, body = await plan()
            problem = _reply_error(status, body)
            if problem is not None:
                row["skipped"] = problem
                continue
            clock = time.perf_counter
            samples = []
            started = clock()
            for _ in range(calls):
                begin = clock()
                await plan()
                samples.append(clock() - begin)
            timing = Timing(calls, clock() - started, tuple(samples))
            row["timing"] = timing.as_json()
        progress.close()
    finally:
        await client.stop()
    return rows


def bench_server(
    spec: str,
    *,
    token: str | None = None,
    tool: str | None = None,
    arguments: dict[str, Any] | None = None,
    calls: int = 2000,
) -> dict[str, Any]:
    app = load_app(spec)
    rows = asyncio.run(_bench_server(app, token=token, tool=tool, arguments=arguments or {}, calls=calls))
    return {"benchmark": "server", "app": spec, "calls": calls, "cases": rows}


def print_server(report: Mapping[str, Any]) -> None:
    rows = []
    for row in report["cases"]:
        name = f"{row['method']} ({row['revision']}, {row['auth']})"
        if "skipped" in row:
            rows.append([name, "-", "-", "-", f"skipped: {row['skipped']}"])
            continue
        timing = row["timing"]
        rows.append(
            [
                name,
                f"{timing['per_second']:,.0f}",
                f"{timing['mean_ns'] / 1e3:,.1f}",
                format_ns(timing["p50_ns"] / 1e9),
                format_ns(timing["p99_ns"] / 1e9),
            ]
        )
    print(f"pymcp bench server {report['app']}: in process, no sockets, {report['calls']:,} calls per case\n")
    print(table(["case", "calls/s", "µs/call", "p50", "p99"], rows))
