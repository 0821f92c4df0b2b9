"""JSON-RPC parse and encode speed: the facade (orjson + Rust classifier) against orjson + Python checks.

Run: .venv/bin/python -m pytest benches/bench_jsonrpc.py --benchmark-enable
msgspec is measured when installed (it is not a dependency).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from oracle import jsonrpc as oracle
from pymcp.protocol import jsonrpc

SMALL = orjson.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 1, "b": 2}},
    }
)
LARGE = orjson.dumps(
    {
        "jsonrpc": "2.0",
        "id": "req-42",
        "method": "tools/call",
        "params": {
            "name": "index_documents",
            "arguments": {
                "documents": [
                    {
                        "id": i,
                        "title": f"document {i}",
                        "tags": ["a", "b"],
                        "score": i / 7,
                        "body": "lorem " * 8,
                    }
                    for i in range(78)
                ]
            },
            "_meta": {"progressToken": "p-1"},
        },
    }
)
assert 10_000 < len(LARGE) < 10_500  # about 10 KiB

RESULT = {
    "content": [{"type": "text", "text": "3"}],
    "structuredContent": {"sum": 3, "inputs": [1, 2]},
    "isError": False,
}
BODIES = {"small": SMALL, "10KiB": LARGE}


def orjson_then_python_checks(body: bytes) -> Any:
    """What a pure-Python implementation would do: decode, then check the message in Python."""
    return oracle.classify(orjson.loads(body))


def msgspec_decoder() -> Callable[[bytes], Any]:
    msgspec = pytest.importorskip("msgspec")

    class Request(msgspec.Struct, forbid_unknown_fields=False):
        jsonrpc: str
        id: int | str
        method: str
        params: dict[str, Any] | None = None

    return msgspec.json.Decoder(Request).decode


@pytest.mark.parametrize("size", BODIES)
def test_parse_facade(benchmark: Any, size: str) -> None:
    assert isinstance(benchmark(jsonrpc.parse, BODIES[size]), jsonrpc.Request)


@pytest.mark.parametrize("size", BODIES)
def test_parse_orjson_python_checks(benchmark: Any, size: str) -> None:
    assert isinstance(benchmark(orjson_then_python_checks, BODIES[size]), jsonrpc.Request)


@pytest.mark.parametrize("size", BODIES)
def test_parse_orjson_loads_only(benchmark: Any, size: str) -> None:
    assert isinstance(benchmark(orjson.loads, BODIES[size]), dict)


@pytest.mark.parametrize("size", BODIES)
def test_parse_msgspec_typed(benchmark: Any, size: str) -> None:
    decode = msgspec_decoder()
    assert benchmark(decode, BODIES[size]).method == "tools/call"


def test_encode_result(benchmark: Any) -> None:
    assert benchmark(jsonrpc.encode_result, 1, RESULT).startswith(b'{"jsonrpc":"2.0","id":1,')


def orjson_envelope(id: int, result: Any) -> bytes:
    """The least an encoder must do: build the envelope and dump it."""
    return orjson.dumps({"jsonrpc": "2.0", "id": id, "result": result})


def test_encode_result_orjson_only(benchmark: Any) -> None:
    assert benchmark(orjson_envelope, 1, RESULT) == jsonrpc.encode_result(1, RESULT)
