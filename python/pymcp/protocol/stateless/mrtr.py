"""Asking the client from inside a handler on a stateless request: replayed multi round-trips.

At 2026-07-28 `ctx.elicit(...)` cannot send a request and wait. Instead the handler runs once per
round: `RoundTrip.ask` returns the answer when the client already gave it (in this retry's
`inputResponses`, or in an earlier round, carried in the signed `requestState`), and otherwise raises
`InputRequired`; the dispatcher catches that and answers `RoundTrip.input_required(exc)`, an
`InputRequiredResult` whose state seals every answer so far. The client asks its user or model and
retries; the handler replays from the start, gets the stored answers back in the same order, and
goes one question further. Code before a question therefore runs once per round: tools that ask
should do nothing irreversible before their last question.

Questions are keyed `q1`, `q2`, … in the order the handler asks them (or by an explicit key). An
answer is reused only for a question of the same method at the same key, so a handler that asks
something else on replay asks again instead of reading the wrong answer.

`InputRequired` derives from `BaseException`, like `asyncio.CancelledError`, so the usual
`except Exception` in tool code does not swallow it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.envelope import StatelessRequest
from pymcp.protocol.stateless.input_required import (
    INPUT_REQUIRED_METHODS,
    input_required,
    read_input_responses,
    required_capability,
)
from pymcp.protocol.stateless.request_state import RequestStateCodec

__all__ = ["InputRequired", "RoundTrip"]


class InputRequired(BaseException):
    """The handler needs the client to answer `requests` (key → input request) first."""

    def __init__(self, requests: Mapping[str, Mapping[str, Any]]) -> None:
        super().__init__(f"input required: {', '.join(requests)}")
        self.requests = dict(requests)


class RoundTrip:
    """The question-and-answer state of one stateless `tools/call`, `prompts/get` or `resources/read`."""

    __slots__ = ("_answers", "_asked", "_caller", "_client", "_codec", "_method", "_params")

    def __init__(
        self,
        *,
        codec: RequestStateCodec,
        client: StatelessRequest,
        caller: str | None,
        method: str,
        params: Mapping[str, Any],
    ) -> None:
        self._codec = codec
        self._client = client
        self._caller = caller
        self._method = method
        self._params = params
        self._asked = 0
        self._answers: dict[str, dict[str, Any]] = {}
        if "requestState" in params:
            stored = codec.open(params["requestState"], caller=caller, method=method, params=params)
            if not isinstance(stored, dict):  # pragma: no cover - we sealed it, so it is ours
                raise MCPError(ErrorCode.INVALID_PARAMS, "`requestState` does not hold answers")
            self._answers = stored

    def ask_all(self, requests: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
        """The answers to several questions asked together, or `InputRequired` for those still open.

        Raises -32021 when the client did not declare what a question needs, -32602 for a malformed
        answer, and -32603 when the method cannot ask at all.
        """
        if self._method not in INPUT_REQUIRED_METHODS:
            raise MCPError(ErrorCode.INTERNAL_ERROR, f"`{self._method}` cannot ask the client for input")
        for request in requests.values():
            self._client.require(required_capability(request))
        pending = {
            key: request
            for key, request in requests.items()
            if self._answers.get(key, {}).get("method") != request.get("method")
        }
        for key, answer in read_input_responses(self._params, pending).items():
            self._answers[key] = {"method": pending[key].get("method"), "answer": answer}
            del pending[key]
        if pending:
            raise InputRequired(pending)
        return {key: self._answers[key]["answer"] for key in requests}

    def ask(self, request: Mapping[str, Any], *, key: str | None = None) -> dict[str, Any]:
        """The answer to one question (numbered in ask order unless `key` is given)."""
        self._asked += 1
        name = key if key is not None else f"q{self._asked}"
        return self.ask_all({name: request})[name]

    def input_required(self, pending: InputRequired) -> dict[str, Any]:
        """The `InputRequiredResult` for `pending`, its state sealing every answer so far."""
        state = self._codec.seal(self._answers, caller=self._caller, method=self._method, params=self._params)
        return input_required(pending.requests, request_state=state, client=self._client)
