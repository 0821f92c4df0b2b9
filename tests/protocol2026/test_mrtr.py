"""Replayed multi round-trips: a handler asks, the client answers, the handler replays further."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.envelope import StatelessRequest
from pymcp.protocol.stateless.input_required import elicitation, list_roots, sampling
from pymcp.protocol.stateless.mrtr import InputRequired, RoundTrip
from pymcp.protocol.stateless.request_state import RequestStateCodec
from pymcp.security.principal import Principal, principal_identity

from .conftest import VERSION, schema_errors

CODEC = RequestStateCodec([b"m" * 32])
ALICE = principal_identity(Principal(subject="alice", claims={"iss": "https://idp.example"}))
CLIENT = StatelessRequest(VERSION, {"elicitation": {}, "sampling": {}, "roots": {}})
NAME = elicitation(
    "Name?", {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
)
COLOR = elicitation("Colour?", {"type": "object", "properties": {"color": {"type": "string"}}})
SAMPLE = sampling("Say hi", 20)
ANSWERS = {
    "q1": {"action": "accept", "content": {"name": "Ada"}},
    "q2": {"action": "accept", "content": {"color": "teal"}},
}


def tool(trip: RoundTrip, log: list[str]) -> dict[str, Any]:
    """A handler that asks two questions in turn; `log` records how often its start runs."""
    log.append("start")
    name = trip.ask(NAME)["content"]["name"]
    color = trip.ask(COLOR)["content"]["color"]
    return {"content": [{"type": "text", "text": f"{name}/{color}"}]}


def run(params: dict[str, Any], log: list[str], caller: str | None = ALICE) -> dict[str, Any]:
    trip = RoundTrip(codec=CODEC, client=CLIENT, caller=caller, method="tools/call", params=params)
    try:
        return tool(trip, log)
    except InputRequired as pending:
        return trip.input_required(pending)


def test_three_rounds_to_a_result() -> None:
    log: list[str] = []
    base = {"name": "ask", "arguments": {"x": 1}}
    first = run(base, log)
    assert schema_errors("InputRequiredResult", first) == []
    assert list(first["inputRequests"]) == ["q1"]
    second = run(
        {**base, "inputResponses": {"q1": ANSWERS["q1"]}, "requestState": first["requestState"]}, log
    )
    assert list(second["inputRequests"]) == ["q2"]
    assert second["requestState"] != first["requestState"]
    # Only the latest answer travels; the first comes back from the sealed state.
    final = run(
        {**base, "inputResponses": {"q2": ANSWERS["q2"]}, "requestState": second["requestState"]}, log
    )
    assert final == {"content": [{"type": "text", "text": "Ada/teal"}]}
    assert log == ["start"] * 3


def test_answers_sent_up_front_skip_rounds() -> None:
    assert run({"name": "ask", "inputResponses": ANSWERS}, [])["content"][0]["text"] == "Ada/teal"


def test_missing_or_foreign_answers_ask_again() -> None:
    again = run({"name": "ask", "inputResponses": {"wrong_key": {"action": "accept"}}}, [])
    assert list(again["inputRequests"]) == ["q1"]


def test_malformed_answers_are_invalid_params() -> None:
    with pytest.raises(MCPError, match=r"`inputResponses\.q1` must be an object"):
        run({"name": "ask", "inputResponses": {"q1": 12345}}, [])


def test_state_is_bound_to_the_caller_and_the_request() -> None:
    first = run({"name": "ask"}, [])
    with pytest.raises(MCPError, match="another caller"):
        run(
            {"name": "ask", "requestState": first["requestState"]},
            [],
            caller=principal_identity(Principal(subject="bob")),
        )
    with pytest.raises(MCPError, match="different request"):
        run({"name": "other", "requestState": first["requestState"]}, [])


def test_an_answer_is_reused_only_for_the_same_kind_of_question() -> None:
    first = run({"name": "ask"}, [])
    state = run(
        {"name": "ask", "inputResponses": {"q1": ANSWERS["q1"]}, "requestState": first["requestState"]}, []
    )
    trip = RoundTrip(
        codec=CODEC,
        client=CLIENT,
        caller=ALICE,
        method="tools/call",
        params={"name": "ask", "requestState": state["requestState"]},
    )
    with pytest.raises(InputRequired) as pending:
        trip.ask(SAMPLE)  # q1 is now a sampling question: the stored elicitation answer does not apply
    assert pending.value.requests == {"q1": SAMPLE}


def test_questions_asked_together_go_out_together() -> None:
    trip = RoundTrip(codec=CODEC, client=CLIENT, caller=None, method="prompts/get", params={"name": "p"})
    with pytest.raises(InputRequired) as pending:
        trip.ask_all({"who": NAME, "roots": list_roots()})
    result = trip.input_required(pending.value)
    assert list(result["inputRequests"]) == ["who", "roots"]


def test_undeclared_capabilities_and_other_methods_are_refused() -> None:
    limited = StatelessRequest(VERSION, {"sampling": {}})
    trip = RoundTrip(codec=CODEC, client=limited, caller=None, method="tools/call", params={})
    with pytest.raises(MCPError) as caught:
        trip.ask(NAME)
    assert caught.value.code == ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY
    listing = RoundTrip(codec=CODEC, client=CLIENT, caller=None, method="tools/list", params={})
    with pytest.raises(MCPError, match="`tools/list` cannot ask the client for input"):
        listing.ask(NAME)


def test_tool_code_catching_exception_does_not_swallow_the_signal() -> None:
    trip = RoundTrip(codec=CODEC, client=CLIENT, caller=None, method="tools/call", params={})

    def careless_tool() -> str:
        try:
            trip.ask(NAME)
        except Exception:
            return "swallowed"
        return "answered"

    with pytest.raises(InputRequired):
        careless_tool()
