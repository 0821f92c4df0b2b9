"""Multi round-trip requests: `InputRequiredResult` builders and the `inputResponses` reader.

At 2026-07-28 a server never sends requests to the client. A `tools/call`, `prompts/get` or
`resources/read` that needs the user (elicitation), the client's model (sampling) or its roots
answers with `{"resultType": "input_required", "inputRequests": {key: request}, "requestState"?}`;
the client asks, then retries the same request with `inputResponses: {key: result}`.

Rules kept here:
- no other method may answer `input_required` (`INPUT_REQUIRED_METHODS`);
- every result has `inputRequests`, `requestState` or both;
- a request the client did not declare the capability for is never sent: `input_required` raises
  -32021 naming the capability, and `supported_requests` lets a tool ask only what the client can answer;
- `read_input_responses` returns the well-formed answers to the keys asked this round, ignores keys
  it did not ask, and raises -32602 for a malformed answer or a malformed `inputResponses`; a key
  left unanswered is simply absent, so the handler can ask again instead of failing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pymcp.errors import ErrorCode, InvalidArgument, MCPError
from pymcp.protocol.stateless.envelope import StatelessRequest
from pymcp.protocol.stateless.results import RESULT_INPUT_REQUIRED
from pymcp.protocol.user_schema import compile_user_schema

__all__ = [
    "ELICIT",
    "INPUT_REQUIRED_METHODS",
    "LIST_ROOTS",
    "SAMPLE",
    "elicitation",
    "input_required",
    "list_roots",
    "read_input_responses",
    "required_capability",
    "sampling",
    "supported_requests",
    "unanswered",
    "url_elicitation",
]

ELICIT = "elicitation/create"
SAMPLE = "sampling/createMessage"
LIST_ROOTS = "roots/list"
INPUT_REQUIRED_METHODS: frozenset[str] = frozenset(("tools/call", "prompts/get", "resources/read"))
_ELICIT_ACTIONS = frozenset(("accept", "decline", "cancel"))
_ROLES = frozenset(("user", "assistant"))


def _invalid(message: str) -> MCPError:
    return MCPError(ErrorCode.INVALID_PARAMS, message)


def elicitation(message: str, requested_schema: Mapping[str, Any]) -> dict[str, Any]:
    """A form elicitation: ask the user to fill `requested_schema` (flat object of primitive fields)."""
    if requested_schema.get("type") != "object" or not isinstance(
        requested_schema.get("properties"), Mapping
    ):
        raise ValueError("requested_schema must be an object schema with `properties`")
    return {
        "method": ELICIT,
        "params": {"mode": "form", "message": message, "requestedSchema": dict(requested_schema)},
    }


def url_elicitation(message: str, url: str) -> dict[str, Any]:
    """A URL elicitation: send the user to `url` (sensitive input never passes through the client)."""
    return {"method": ELICIT, "params": {"mode": "url", "message": message, "url": url}}


def sampling(
    messages: str | Sequence[Mapping[str, Any]],
    max_tokens: int,
    *,
    system_prompt: str | None = None,
    temperature: float | None = None,
    stop_sequences: Sequence[str] | None = None,
    model_preferences: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A sampling request; a plain string is one user text message."""
    if isinstance(messages, str):
        messages = [{"role": "user", "content": {"type": "text", "text": messages}}]
    params: dict[str, Any] = {"messages": [dict(message) for message in messages], "maxTokens": max_tokens}
    if system_prompt is not None:
        params["systemPrompt"] = system_prompt
    if temperature is not None:
        params["temperature"] = temperature
    if stop_sequences is not None:
        params["stopSequences"] = list(stop_sequences)
    if model_preferences is not None:
        params["modelPreferences"] = dict(model_preferences)
    return {"method": SAMPLE, "params": params}


def list_roots() -> dict[str, Any]:
    """A roots request."""
    return {"method": LIST_ROOTS, "params": {}}


def required_capability(input_request: Mapping[str, Any]) -> dict[str, Any]:
    """The client capability an input request needs, as a `ClientCapabilities` object."""
    method = input_request.get("method")
    if method == ELICIT:
        params = input_request.get("params")
        mode = params.get("mode", "form") if isinstance(params, Mapping) else "form"
        return {"elicitation": {"url" if mode == "url" else "form": {}}}
    if method == SAMPLE:
        return {"sampling": {}}
    if method == LIST_ROOTS:
        return {"roots": {}}
    raise ValueError(f"`{method}` cannot be an input request (expected {ELICIT}, {SAMPLE} or {LIST_ROOTS})")


def supported_requests(
    input_requests: Mapping[str, Mapping[str, Any]], request: StatelessRequest
) -> dict[str, Mapping[str, Any]]:
    """The input requests the client declared it can answer, in their original order."""
    return {
        key: input_request
        for key, input_request in input_requests.items()
        if request.supports(required_capability(input_request))
    }


def input_required(
    input_requests: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    request_state: str | None = None,
    client: StatelessRequest,
) -> dict[str, Any]:
    """An `InputRequiredResult` asking `client` for `input_requests` and/or carrying `request_state`.

    Raises -32021 when the client did not declare a capability one of the requests needs, and
    ValueError for a result that would break the protocol (nothing to ask and no state, bad keys).
    """
    if not input_requests and request_state is None:
        raise ValueError("an input-required result needs input requests, a request state or both")
    result: dict[str, Any] = {"resultType": RESULT_INPUT_REQUIRED}
    if input_requests:
        needed: dict[str, Any] = {}
        for key, input_request in input_requests.items():
            if not isinstance(key, str) or not key:
                raise ValueError(f"input request keys must be non-empty strings, got `{key!r}`")
            for name, sub in required_capability(input_request).items():
                needed.setdefault(name, {}).update(sub)
        client.require(needed)
        result["inputRequests"] = {key: dict(value) for key, value in input_requests.items()}
    if request_state is not None:
        result["requestState"] = request_state
    return result


def _check_elicit_result(key: str, answer: Mapping[str, Any], input_request: Mapping[str, Any]) -> None:
    if answer.get("action") not in _ELICIT_ACTIONS:
        raise _invalid(f"`inputResponses.{key}.action` must be `accept`, `decline` or `cancel`")
    content = answer.get("content")
    if content is None:
        return
    if not isinstance(content, Mapping):
        raise _invalid(f"`inputResponses.{key}.content` must be an object")
    params = input_request.get("params")
    schema = params.get("requestedSchema") if isinstance(params, Mapping) else None
    if answer["action"] == "accept" and isinstance(schema, Mapping):
        try:
            compile_user_schema(schema)(dict(content))
        except InvalidArgument as exc:
            raise _invalid(
                f"`inputResponses.{key}.content` does not match the requested schema: {exc}"
            ) from None


def _check_sampling_result(key: str, answer: Mapping[str, Any]) -> None:
    if answer.get("role") not in _ROLES:
        raise _invalid(f"`inputResponses.{key}.role` must be `user` or `assistant`")
    if not isinstance(answer.get("model"), str):
        raise _invalid(f"`inputResponses.{key}.model` must be a string")
    content = answer.get("content")
    blocks = content if isinstance(content, list) else [content]
    if not blocks or not all(
        isinstance(block, Mapping) and isinstance(block.get("type"), str) for block in blocks
    ):
        raise _invalid(f"`inputResponses.{key}.content` must be a content block or a list of them")


def _check_roots_result(key: str, answer: Mapping[str, Any]) -> None:
    roots = answer.get("roots")
    if not isinstance(roots, list) or not all(
        isinstance(root, Mapping) and isinstance(root.get("uri"), str) for root in roots
    ):
        raise _invalid(f"`inputResponses.{key}.roots` must be a list of objects with a string `uri`")


def read_input_responses(
    params: Mapping[str, Any], input_requests: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The client's well-formed answers to `input_requests` found in `params.inputResponses`.

    Keys not asked are ignored; keys asked but not answered are absent from the result.
    """
    if "inputResponses" not in params:
        return {}
    responses = params["inputResponses"]
    if not isinstance(responses, Mapping):
        raise _invalid("`inputResponses` must be an object mapping input request keys to results")
    answers: dict[str, dict[str, Any]] = {}
    for key, input_request in input_requests.items():
        if key not in responses:
            continue
        answer = responses[key]
        if not isinstance(answer, Mapping):
            raise _invalid(f"`inputResponses.{key}` must be an object")
        method = input_request.get("method")
        if method == ELICIT:
            _check_elicit_result(key, answer, input_request)
        elif method == SAMPLE:
            _check_sampling_result(key, answer)
        else:
            _check_roots_result(key, answer)
        answers[key] = dict(answer)
    return answers


def unanswered(input_requests: Mapping[str, Any], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The input requests still without an answer, to ask again."""
    return {key: value for key, value in input_requests.items() if key not in answers}
