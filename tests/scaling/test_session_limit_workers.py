"""Two worker processes sharing one Redis: `max_sessions_per_principal` counts a caller's sessions on both
workers, so the limit holds in total, not per worker."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

import orjson
import pytest

from scaling.conftest import Worker
from server.mcp_client import McpClient, initialize_message
from support.mcp_schema import validate_message

pytestmark = [pytest.mark.redis, pytest.mark.slow]

OVER_THE_LIMIT = {"code": -32008, "message": "too many open sessions for this caller (limit 3)"}


def busy_session(worker: Worker, clients: ExitStack, token: str = "alice-token") -> McpClient:
    """A new session on `worker` with its GET stream open: not idle, so never ended to make room."""
    client = clients.enter_context(worker.client(token))
    client.initialize()
    stream = clients.enter_context(client.http.stream("GET", client.url, headers=client.headers()))
    assert stream.status_code == 200
    return client


def refused_error(worker: Worker) -> dict[str, object]:
    with worker.client() as client:
        response = client.post(initialize_message())
    assert response.status_code == 429, response.text
    message = orjson.loads(response.content)
    validate_message(message, "2025-11-25")
    return message["error"]  # type: ignore[no-any-return]


def test_a_callers_session_limit_holds_across_workers(worker_factory: Callable[..., Worker]) -> None:
    a = worker_factory("a", max_sessions_per_principal=3)
    b = worker_factory("b", max_sessions_per_principal=3)
    with ExitStack() as clients:
        first = busy_session(a, clients)
        busy_session(a, clients)
        busy_session(b, clients)
        assert refused_error(a) == OVER_THE_LIMIT
        assert refused_error(b) == OVER_THE_LIMIT
        busy_session(b, clients, token="bob-token")  # another caller is unaffected
        with b.join(first) as on_b:  # ended through the other worker: a slot on both
            assert on_b.http.delete(on_b.url, headers=on_b.headers()).is_success
        with a.client() as again:
            again.initialize()
            assert again.result("ping") == {}
        assert refused_error(b) == OVER_THE_LIMIT
    assert a.schema_problems() == []
    assert b.schema_problems() == []
