"""Prompt and resource functions get `request_context` like tools, on sessions and on 2026-07-28 requests;
`current_request_context` is importable from `pymcp.server`."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from pymcp import create_app, get_registry_manager
from pymcp.protocol.stateless.envelope import CLIENT_CAPABILITIES_KEY, CLIENT_INFO_KEY, PROTOCOL_VERSION_KEY
from pymcp.server import RequestContext, current_request_context
from server.mcp_client import ACCEPT, McpClient
from support.server import serve

NAME_FORM = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def build() -> Any:
    app = create_app()
    registries = get_registry_manager(app)

    @registries.prompts.register
    def whoami(request_context: RequestContext, topic: str) -> str:
        """Who asks about `topic`."""
        assert current_request_context() is request_context
        return f"{request_context.method} on {request_context.session_id is not None} about {topic}"

    @registries.prompts.register
    async def greet(request_context: RequestContext) -> str:
        """Asks the user's name first."""
        answer = await request_context.elicit("Your name?", NAME_FORM)
        return f"Hello {answer['content']['name']}"

    @registries.prompts.register
    def anything(request_context: RequestContext, **extra: str) -> str:
        """Takes any arguments; a client cannot replace the context."""
        return f"{type(request_context).__name__} {sorted(extra)}"

    @registries.resources.register(uri="memo://caller")
    def caller(request_context: RequestContext) -> str:
        return f"read by {request_context.method}"

    @registries.resources.register_template(uri_template="memo://notes/{name}")
    async def note(name: str, uri: str, request_context: RequestContext) -> str:
        return f"{name} at {uri} for {request_context.request_id}"

    return app


def test_prompts_and_resources_get_the_request_context() -> None:
    with serve(build()) as url, McpClient(url) as client:
        client.initialize()
        whoami = client.result("prompts/get", {"name": "whoami", "arguments": {"topic": "tea"}})
        assert whoami["messages"][0]["content"]["text"] == "prompts/get on True about tea"
        listed = client.result("prompts/list")["prompts"]
        whoami_arguments = next(p for p in listed if p["name"] == "whoami")["arguments"]
        assert [argument["name"] for argument in whoami_arguments] == ["topic"]
        extra = {"name": "anything", "arguments": {"request_context": "forged", "x": "1"}}
        rendered = client.result("prompts/get", extra)["messages"][0]["content"]["text"]
        assert rendered == "RequestContext ['x']"
        caller = client.result("resources/read", {"uri": "memo://caller"})["contents"][0]
        assert caller["text"] == "read by resources/read"
        response, _ = client.call("resources/read", {"uri": "memo://notes/tea"})
        text = response["result"]["contents"][0]["text"]
        assert text == f"tea at memo://notes/tea for {response['id']}"


def test_a_prompt_asks_through_its_context_on_a_2026_request() -> None:
    meta = {
        PROTOCOL_VERSION_KEY: "2026-07-28",
        CLIENT_INFO_KEY: {"name": "tests", "version": "1"},
        CLIENT_CAPABILITIES_KEY: {"elicitation": {}},
    }
    headers = {"Accept": ACCEPT, "Content-Type": "application/json", "MCP-Protocol-Version": "2026-07-28"}
    headers |= {"Mcp-Method": "prompts/get", "Mcp-Name": "greet"}

    def get(params: dict[str, Any]) -> dict[str, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": "prompts/get", "params": {**params, "_meta": meta}}
        answer = httpx.post(url + "/mcp", content=orjson.dumps(body), headers=headers).json()
        return answer["result"]  # type: ignore[no-any-return]

    with serve(build()) as url:
        asked = get({"name": "greet"})
        assert asked["resultType"] == "input_required"
        (key,) = asked["inputRequests"]
        answer = {key: {"action": "accept", "content": {"name": "Ada"}}}
        done = get({"name": "greet", "inputResponses": answer, "requestState": asked["requestState"]})
        assert done["messages"][0]["content"]["text"] == "Hello Ada"


def test_current_request_context_outside_a_request_is_a_lookup_error() -> None:
    with pytest.raises(LookupError, match="no MCP request"):
        current_request_context()


def test_a_resource_handler_with_other_parameters_is_refused_at_registration() -> None:
    registries = get_registry_manager(create_app())
    with pytest.raises(ValueError, match="optionally `request_context` and `uri`"):
        registries.resources.register(lambda request_context, other: "x", uri="memo://bad")
