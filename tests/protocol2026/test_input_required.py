"""`InputRequiredResult` builders and the `inputResponses` reader, checked against the 2026 schema."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.envelope import StatelessRequest
from pymcp.protocol.stateless.input_required import (
    elicitation,
    input_required,
    list_roots,
    read_input_responses,
    required_capability,
    sampling,
    supported_requests,
    unanswered,
    url_elicitation,
)

from .conftest import VERSION, schema_errors

NAME_FORM = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
EVERYTHING = StatelessRequest(VERSION, {"elicitation": {}, "sampling": {}, "roots": {}})
SAMPLING_ONLY = StatelessRequest(VERSION, {"sampling": {}})
ASK = {
    "user_name": elicitation("What is your name?", NAME_FORM),
    "greeting": sampling("Generate a greeting", 50, system_prompt="be kind", temperature=0.2),
    "client_roots": list_roots(),
    "login": url_elicitation("Sign in", "https://example.com/login"),
}
ANSWERS: dict[str, Any] = {
    "user_name": {"action": "accept", "content": {"name": "Alice"}},
    "greeting": {
        "role": "assistant",
        "content": {"type": "text", "text": "Hello!"},
        "model": "m",
        "stopReason": "endTurn",
    },
    "client_roots": {"roots": [{"uri": "file:///test/root", "name": "Test Root"}]},
    "login": {"action": "accept"},
}


def test_results_validate_against_the_2026_schema() -> None:
    everything = StatelessRequest(
        VERSION, {"elicitation": {"form": {}, "url": {}}, "sampling": {}, "roots": {}}
    )
    result = input_required(ASK, request_state="opaque", client=everything)
    assert schema_errors("InputRequiredResult", result) == []
    assert result["resultType"] == "input_required"
    response = {"jsonrpc": "2.0", "id": 1, "result": result}
    assert schema_errors("CallToolResultResponse", response) == []
    for key, request in ASK.items():
        assert schema_errors("InputRequest", request) == [], key
    for key, answer in ANSWERS.items():
        assert schema_errors("InputResponse", answer) == [], key
    retry = {"name": "t", "inputResponses": ANSWERS, "requestState": "opaque", "_meta": {}}
    assert schema_errors("InputResponses", retry["inputResponses"]) == []


def test_state_only_result() -> None:
    result = input_required(request_state="s", client=SAMPLING_ONLY)
    assert result == {"resultType": "input_required", "requestState": "s"}
    assert schema_errors("InputRequiredResult", result) == []


def test_a_result_must_ask_or_carry_state() -> None:
    with pytest.raises(ValueError, match="needs input requests, a request state or both"):
        input_required({}, client=EVERYTHING)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(ValueError, match="non-empty strings"):
        input_required({"": list_roots()}, client=EVERYTHING)


def test_never_asks_what_the_client_cannot_answer() -> None:
    with pytest.raises(MCPError) as caught:
        input_required({"user_name": ASK["user_name"], "greeting": ASK["greeting"]}, client=SAMPLING_ONLY)
    assert caught.value.code == ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY
    assert caught.value.data == {"requiredCapabilities": {"elicitation": {"form": {}}}}
    assert list(supported_requests(ASK, SAMPLING_ONLY)) == ["greeting"]
    assert list(supported_requests(ASK, EVERYTHING)) == ["user_name", "greeting", "client_roots"]


@pytest.mark.parametrize(
    ("request_", "capability"),
    [
        (ASK["user_name"], {"elicitation": {"form": {}}}),
        (ASK["login"], {"elicitation": {"url": {}}}),
        ({"method": "elicitation/create", "params": {"message": "m"}}, {"elicitation": {"form": {}}}),
        (ASK["greeting"], {"sampling": {}}),
        (ASK["client_roots"], {"roots": {}}),
    ],
)
def test_required_capability(request_: dict[str, Any], capability: dict[str, Any]) -> None:
    assert required_capability(request_) == capability


def test_only_three_methods_can_be_input_requests() -> None:
    with pytest.raises(ValueError, match="`tools/call` cannot be an input request"):
        required_capability({"method": "tools/call"})


def test_elicitation_needs_an_object_schema() -> None:
    with pytest.raises(ValueError, match="object schema"):
        elicitation("m", {"type": "string"})


def test_reading_answers() -> None:
    params = {"inputResponses": {**ANSWERS, "unknown_extra_key": {"action": "accept"}, "another": 12345}}
    answers = read_input_responses(params, ASK)
    assert answers == ANSWERS
    assert unanswered(
        ASK, read_input_responses({"inputResponses": {"greeting": ANSWERS["greeting"]}}, ASK)
    ) == {key: value for key, value in ASK.items() if key != "greeting"}


def test_no_responses_is_no_answers() -> None:
    assert read_input_responses({}, ASK) == {}
    assert read_input_responses({"inputResponses": {"wrong_key": {"action": "accept"}}}, ASK) == {}


@pytest.mark.parametrize(
    ("responses", "message"),
    [
        (None, "`inputResponses` must be an object"),
        ([], "`inputResponses` must be an object"),
        ({"user_name": 12345}, "`inputResponses.user_name` must be an object"),
        ({"user_name": {"action": "maybe"}}, "`accept`, `decline` or `cancel`"),
        (
            {"user_name": {"action": "accept", "content": "Alice"}},
            "`inputResponses.user_name.content` must be an",
        ),
        ({"user_name": {"action": "accept", "content": {}}}, "does not match the requested schema"),
        ({"user_name": {"action": "accept", "content": {"name": 7}}}, "does not match the requested schema"),
        ({"greeting": {**ANSWERS["greeting"], "role": "system"}}, "`user` or `assistant`"),
        ({"greeting": {**ANSWERS["greeting"], "model": None}}, "`inputResponses.greeting.model`"),
        ({"greeting": {**ANSWERS["greeting"], "content": "Hello"}}, "content block or a list of them"),
        ({"greeting": {**ANSWERS["greeting"], "content": []}}, "content block or a list of them"),
        ({"client_roots": {"roots": "file:///"}}, "list of objects with a string `uri`"),
        ({"client_roots": {"roots": [{"name": "x"}]}}, "list of objects with a string `uri`"),
    ],
)
def test_malformed_answers_are_invalid_params(responses: Any, message: str) -> None:
    with pytest.raises(MCPError) as caught:
        read_input_responses({"inputResponses": responses}, ASK)
    assert caught.value.code == ErrorCode.INVALID_PARAMS
    assert message in caught.value.message


def test_declined_elicitation_needs_no_content() -> None:
    assert read_input_responses({"inputResponses": {"user_name": {"action": "decline"}}}, ASK) == {
        "user_name": {"action": "decline"}
    }
