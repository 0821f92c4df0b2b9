"""2026-07-28 requests over stdio: a request whose `_meta` names its revision is served statelessly,
beside the `initialize` session, by a real server process reading stdin."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from pymcp.protocol.stateless.envelope import PROTOCOL_VERSION_KEY
from server.mcp_client import initialize_message

from .conftest import meta, schema_errors

TESTS_DIR = Path(__file__).resolve().parents[1]
MULTI_ROUND = "test_input_required_result_multi_round"
ELICITATION = {"elicitation": {}}


def stateless(request_id: int, method: str, params: dict[str, Any] | None = None, **meta_extra: Any) -> Any:
    capabilities = meta_extra.pop("capabilities", {})
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": method,
        "params": {**(params or {}), "_meta": meta(capabilities, **meta_extra)},
    }


def serve_stdio(messages: list[Any], mode: str = "dual") -> dict[Any, dict[str, Any]]:
    """Run a server process on `messages` (then end of input); its replies by id."""
    script = (
        "from conformance_server import build_app\n"
        "from pymcp import create_app, get_registry_manager, run_stdio_server\n"
        # Every process signs `requestState` with the same key, so any of them takes a retry.
        f"app = create_app(protocol_mode={mode!r}, request_state_keys=[b'k' * 32])\n"
        "get_registry_manager(app).tools.add(get_registry_manager(build_app()).tools.get("
        f"{MULTI_ROUND!r}))\n"
        "run_stdio_server(app)\n"
    )
    stdin = b"".join(orjson.dumps(message) + b"\n" for message in messages)
    run = subprocess.run(
        [sys.executable, "-c", script],
        input=stdin,
        capture_output=True,
        timeout=30,
        cwd=TESTS_DIR,
        check=True,
    )
    assert run.stderr == b""
    # Requests run concurrently: match replies by id, not by position.
    replies = {reply.get("id"): reply for reply in map(orjson.loads, run.stdout.splitlines())}
    assert len(replies) == len(run.stdout.splitlines())
    return replies


def retry_with(previous: dict[str, Any], content: dict[str, Any]) -> dict[str, Any]:
    """The params that answer the one question of `previous` (an `input_required` result)."""
    (key,) = previous["inputRequests"]
    answers = {key: {"action": "accept", "content": content}}
    return {"name": MULTI_ROUND, "inputResponses": answers, "requestState": previous["requestState"]}


def test_stateless_requests_over_stdio_beside_a_session() -> None:
    replies = serve_stdio(
        [
            stateless(2, "server/discover"),  # before any handshake
            stateless(3, "tools/call", {"name": MULTI_ROUND}, capabilities=ELICITATION),
            initialize_message(),
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            stateless(4, "tools/list"),
            stateless(5, "ping"),  # removed at 2026-07-28
            stateless(6, "tools/list", **{PROTOCOL_VERSION_KEY: "2030-01-01"}),
        ]
    )
    discover = replies[2]["result"]
    assert discover["supportedVersions"] == ["2026-07-28"]
    assert not schema_errors("DiscoverResult", discover)
    asked = replies[3]["result"]
    assert asked["resultType"] == "input_required"
    assert not schema_errors("InputRequiredResult", asked)
    assert replies[0]["result"]["protocolVersion"] == "2025-11-25"
    listed = replies[4]["result"]
    assert listed["resultType"] == "complete"
    assert [tool["name"] for tool in listed["tools"]] == [MULTI_ROUND]
    assert replies[5]["error"]["code"] == -32601
    assert replies[6]["error"]["code"] == -32022

    # Each retry in a new process: the answers and the state travel in the request itself.
    second_round = stateless(7, "tools/call", retry_with(asked, {"name": "Ada"}), capabilities=ELICITATION)
    second = serve_stdio([second_round])[7]["result"]
    assert second["resultType"] == "input_required"
    retry = retry_with(second, {"color": "teal"})
    done = serve_stdio([stateless(8, "tools/call", retry, capabilities=ELICITATION)])[8]["result"]
    assert done["content"] == [{"type": "text", "text": "Ada likes teal"}]
    state = retry["requestState"]
    spot = state.index(".") + 5  # a character of the signed body
    tampered = {
        **retry,
        "requestState": state[:spot] + ("B" if state[spot] == "A" else "A") + state[spot + 1 :],
    }
    refused = serve_stdio([stateless(9, "tools/call", tampered, capabilities=ELICITATION)])[9]
    assert refused["error"]["code"] == -32602


@pytest.mark.parametrize("mode", ["stable", "dual"])
def test_the_mode_decides_who_serves_a_request_with_meta(mode: str) -> None:
    reply = serve_stdio([stateless(1, "tools/list")], mode)[1]
    if mode == "stable":
        # Stable mode knows no per-request versions: it is a session request without a session.
        assert reply["error"] == {"code": -32600, "message": "server not initialized."}
    else:
        assert reply["result"]["resultType"] == "complete"
