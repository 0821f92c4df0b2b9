"""Hypothesis over HTTP against a real uvicorn server with two principals: whatever bob (or an anonymous
caller) sends — any method, headers, body, even alice's session and task ids — the answer is a clear
2xx/4xx, never a 5xx or a hang, and never carries anything of alice's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator
from server.mcp_client import ACCEPT, McpClient
from support.server import serve

SECRET = "alice-secret-7f3a"
TOKENS = {
    "alice-token": {"subject": "alice", "roles": ["staff"]},
    "bob-token": {"subject": "bob", "roles": ["staff"]},
}
POLICY = {
    "default_effect": "deny",
    "hide_unauthorized_tools": True,
    "rules": [
        {"methods": ["*"], "allow_roles": ["staff"]},
        {"methods": ["initialize", "ping", "tools/list"], "allow_anonymous": True},
    ],
}
METHODS = [
    "initialize", "ping", "tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list",
    "resources/read", "resources/templates/list", "resources/subscribe", "completion/complete",
    "tasks/get", "tasks/list", "tasks/result", "tasks/cancel", "notifications/initialized",
]  # fmt: skip
PROTOCOL_HEADERS = ["2025-11-25", "2025-06-18", "2025-03-26", "2026-07-28", "1999-01-01"]


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, str]]:
    app = create_app(
        authn=TokenMapAuthenticator(TOKENS),
        authz=RuleBasedAuthorizer(POLICY),
        server_settings=ServerSettings(capabilities=CapabilitySettings(completions_enabled=True)),
    )
    registries = get_registry_manager(app)

    @registries.tools.register(execution={"taskSupport": "optional"})
    def remember(text: str) -> str:
        """Echo a text (alice stores her secret through it)."""
        return text

    @registries.prompts.register(arguments=[{"name": "topic", "completion": ["a", "b"]}])
    def plan(topic: str) -> str:
        """A prompt."""
        return topic

    @registries.resources.register_template(uri_template="res://docs/{name}", name="doc")
    def doc(name: str) -> str:
        """A document."""
        return name

    with serve(app) as url, McpClient(url, headers={"authorization": "Bearer alice-token"}) as alice:
        alice.initialize()
        created = alice.result(
            "tools/call", {"name": "remember", "arguments": {"text": SECRET}, "task": {"ttl": 600_000}}
        )
        task_id = created["task"]["taskId"]
        assert alice.result("tasks/result", {"taskId": task_id})["content"][0]["text"] == SECRET
        assert alice.session_id is not None
        yield {"url": url, "alice_session": alice.session_id, "alice_task": task_id}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def exchanges(draw: st.DrawFn, alice_session: str, alice_task: str) -> tuple[str, dict[str, str], bytes]:
    verb = draw(st.sampled_from(["POST", "POST", "POST", "GET", "DELETE", "PUT"]))
    headers: dict[str, str] = {}
    token = draw(st.sampled_from([None, "bob-token", "nope", "alice-tokenx"]))
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if draw(st.booleans()):
        headers["accept"] = draw(st.sampled_from([ACCEPT, "text/html", "*/*"]))
    if draw(st.booleans()):
        headers["content-type"] = draw(st.sampled_from(["application/json", "text/plain"]))
    if draw(st.booleans()):
        headers["mcp-session-id"] = draw(st.sampled_from([alice_session, "0" * 32, "x"]))
    if draw(st.booleans()):
        headers["mcp-protocol-version"] = draw(st.sampled_from(PROTOCOL_HEADERS))
    if draw(st.booleans()):
        headers["origin"] = draw(st.sampled_from(["http://evil.example", "http://127.0.0.1"]))
    params = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(["remember", "plan", "nope"]) | json_values,
                "arguments": st.dictionaries(st.sampled_from(["text", "topic"]), json_values, max_size=2),
                "uri": st.sampled_from(["res://docs/x", "res://docs/../x", "res://%2e%2e/x"]) | json_values,
                "taskId": st.sampled_from([alice_task, "0" * 32]) | json_values,
                "ref": json_values,
                "task": json_values,
                "_meta": json_values,
            },
        )
    )
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": draw(st.sampled_from(METHODS))}
    if draw(st.booleans()):
        message["id"] = draw(st.integers(0, 9) | st.text(max_size=4))
    message["params"] = params
    body = draw(
        st.sampled_from([orjson.dumps(message), orjson.dumps([message]), b"", b"{", b"[" * 70 + b"]" * 70])
    )
    return verb, headers, body


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_nothing_bob_sends_gets_a_5xx_a_hang_or_alices_data(server: dict[str, str], data: Any) -> None:
    verb, headers, body = data.draw(exchanges(server["alice_session"], server["alice_task"]))
    with httpx.Client(timeout=10) as http:  # a hang fails the example with a timeout
        response = http.request(verb, server["url"] + "/mcp", headers=headers, content=body)
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            text = "".join(response.iter_text())
        else:
            text = response.text
    assert response.status_code < 500, (verb, headers, body, text)
    assert SECRET not in text
    assert server["alice_task"] not in text or server["alice_task"] in body.decode("utf-8", "replace")
    # A 2026-07-28 request has no session: the id is never looked up, and it is served as its own caller.
    stateless = headers.get("mcp-protocol-version") == "2026-07-28"
    borrowed = headers.get("mcp-session-id") == server["alice_session"] and not stateless
    if borrowed and headers.get("authorization") != "Bearer alice-token":
        assert response.status_code in (400, 401, 403, 404, 405, 406, 408, 413, 415), text
