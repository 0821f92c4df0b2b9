"""stdio transport: newline-delimited JSON-RPC through the same dispatcher."""

from __future__ import annotations

import io
from typing import Any

import orjson

from pymcp import run_stdio_server
from server.conftest import build_app
from support.mcp_schema import validate_message


def _run(lines: list[Any]) -> list[dict[str, Any]]:
    source = io.BytesIO(
        b"".join(line if isinstance(line, bytes) else orjson.dumps(line) + b"\n" for line in lines)
    )
    sink = io.BytesIO()
    run_stdio_server(build_app(), input_stream=source, output_stream=sink)
    return [orjson.loads(line) for line in sink.getvalue().splitlines()]


def _initialize(version: str = "2025-11-25") -> list[Any]:
    params = {"protocolVersion": version, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    return [
        {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
    ]


def test_progress_and_logs_come_before_the_result() -> None:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "slow", "arguments": {"steps": 2, "wait": 0}, "_meta": {"progressToken": "p"}},
    }
    out = _run([*_initialize(), call])
    for message in out:
        validate_message(
            message, "2025-11-25", request_method="initialize" if message.get("id") == 0 else "tools/call"
        )
    methods = [message.get("method", message.get("id")) for message in out]
    progress, log = "notifications/progress", "notifications/message"
    assert methods == [0, progress, log, progress, log, 1]


def test_bad_lines_and_requests_before_initialize() -> None:
    out = _run(
        [
            b"{not json\n",
            b"[]\n",
            {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            {"jsonrpc": "2.0", "id": 2, "method": "ping"},
        ]
    )
    assert [m.get("error", {}).get("code") for m in out] == [-32700, -32600, -32600, None]
    assert out[3] == {"jsonrpc": "2.0", "id": 2, "result": {}}


def test_batches_on_2025_03_26() -> None:
    batch = [{"jsonrpc": "2.0", "id": 5, "method": "ping"}, {"jsonrpc": "2.0", "id": 6, "method": "nope"}]
    out = _run([*_initialize("2025-03-26"), batch])
    assert out[1][0] == {"jsonrpc": "2.0", "id": 5, "result": {}}
    assert out[1][1]["error"]["code"] == -32601
