"""The wire answers a 0.3.0 client relies on: the same status, code and text as pymcp-kit 0.3.0.

`EXPECTED` is what 0.3.0 answers; the `compat` test checks that against 0.3.0 itself (same app, same
requests), so the table cannot drift.
"""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from oracle.compat030 import require_030
from server.mcp_client import ACCEPT, initialize_message
from support.server import serve

from .kit030_process import serve_030

INITIALIZE = initialize_message()


def _answer(response: httpx.Response) -> tuple[int, Any]:
    """(status, the JSON-RPC error as code and message, or the result)."""
    if not response.content:
        return response.status_code, None
    body = response.json()
    if "error" in body:
        return response.status_code, (body["error"]["code"], body["error"]["message"])
    return response.status_code, body["result"]


def _exchanges(base_url: str) -> dict[str, tuple[Any, ...]]:
    url = f"{base_url}/mcp"
    with httpx.Client(headers={"accept": ACCEPT, "content-type": "application/json"}, timeout=10) as http:

        def post(message: dict[str, Any], **headers: str) -> tuple[int, Any]:
            return _answer(http.post(url, json=message, headers=headers))

        def call(method: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
            message: dict[str, Any] = {"jsonrpc": "2.0", "id": 2, "method": method}
            if params is not None:
                message["params"] = params
            return post(message, **{"mcp-session-id": session})

        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        answers: dict[str, tuple[Any, ...]] = {
            "no session header": post(ping),
            "unknown session": post(ping, **{"mcp-session-id": "0" * 32}),
            "accept q=0": post(ping, accept="application/json, text/event-stream;q=0"),
            "delete unknown session": _answer(http.delete(url, headers={"mcp-session-id": "0" * 32})),
        }
        session = http.post(url, json=INITIALIZE).headers["mcp-session-id"]
        answers["before initialized"] = call("tools/list")
        answers["ping before initialized"] = call("ping")
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        answers["initialized"] = post(initialized, **{"mcp-session-id": session})
        answers["initialize again"] = call("initialize", INITIALIZE["params"])
        answers["_meta not an object"] = call("ping", {"_meta": [1]})
        answers["tool"] = call("tools/call", {"name": "test_simple_text", "arguments": {}})
        answers["template"] = call("resources/read", {"uri": "test://template/7/data"})
        answers["prompt"] = call("prompts/get", {"name": "test_simple_prompt"})
        answers["variable named uri"] = call("resources/read", {"uri": "note://abc"})
        answers["unknown method"] = call("no/such")
        answers.update(_texts_that_differ(http, url, session))
        # A task-augmented call of a tool that uses `task_context` and `cancel_token`.
        _, created = call(
            "tools/call", {"name": "count_slowly", "arguments": {"steps": 3}, "task": {"ttl": 60000}}
        )
        status, result = call("tasks/result", {"taskId": created["task"]["taskId"]})
        task_id = created["task"]["taskId"]
        seen = call("tools/call", {"name": "task_status", "arguments": {"task_id": task_id}})
        answers["task"] = (created["task"]["status"], status, result["content"], seen)
    return answers


def _texts_that_differ(http: httpx.Client, url: str, session: str) -> dict[str, tuple[Any, ...]]:
    headers = {"mcp-session-id": session}

    def call(method: str, params: dict[str, Any]) -> tuple[int, Any]:
        message = {"jsonrpc": "2.0", "id": 3, "method": method, "params": params}
        return _answer(http.post(url, json=message, headers=headers))

    def raw(body: Any) -> tuple[int, Any]:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return _answer(http.post(url, content=content, headers=headers))

    return {
        "unknown tool": call("tools/call", {"name": "nope"}),
        "unknown prompt": call("prompts/get", {"name": "nope"}),
        "missing prompt argument": call(
            "prompts/get", {"name": "test_prompt_with_arguments", "arguments": {"arg1": "x"}}
        ),
        "unknown resource": call("resources/read", {"uri": "test://nope"}),
        "subscribe to an unknown resource": call("resources/subscribe", {"uri": "test://nope"}),
        "unknown task": call("tasks/get", {"taskId": "nope"}),
        "no task id": call("tasks/get", {}),
        "bad task cursor": call("tasks/list", {"cursor": "abc"}),
        "bad task ttl": call(
            "tools/call", {"name": "count_slowly", "arguments": {"steps": 1}, "task": {"ttl": "x"}}
        ),
        "unknown log level": call("logging/setLevel", {"level": "loud"}),
        "malformed JSON": raw(b"{"),
        "empty batch": raw(b"[]"),
        "jsonrpc 1.0": raw({"jsonrpc": "1.0", "id": 1, "method": "ping"}),
        "null id": raw({"jsonrpc": "2.0", "id": None, "method": "ping"}),
        "scalar params": raw({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": 3}),
    }


SIMPLE_TEXT = "This is a simple text response for testing."
EXPECTED: dict[str, tuple[Any, ...]] = {
    "no session header": (400, (-32602, "MCP-Session-Id header required")),
    "unknown session": (404, (-32001, "Session not found")),
    "accept q=0": (406, (-32602, "Accept header must include application/json and text/event-stream")),
    "delete unknown session": (404, (-32001, "Session not found")),
    "before initialized": (200, (-32600, "server not initialized.")),
    "ping before initialized": (200, {}),
    "initialized": (202, None),
    "initialize again": (200, (-32600, "server already initialized.")),
    "_meta not an object": (200, (-32602, "params._meta must be an object")),
    "unknown method": (200, (-32601, "Method not found: no/such")),
    "tool": (200, {"content": [{"type": "text", "text": SIMPLE_TEXT}]}),
    "task": (
        "working",
        200,
        [{"type": "text", "text": "counted to 3"}],
        (200, {"content": [{"type": "text", "text": "completed True"}]}),
    ),
    "template": (
        200,
        {
            "contents": [
                {
                    "uri": "test://template/7/data",
                    "mimeType": "application/json",
                    "text": '{"id": "7", "templateTest": true, "data": "Data for ID: 7"}',
                }
            ]
        },
    ),
    "variable named uri": (
        200,
        {"contents": [{"uri": "note://abc", "mimeType": "text/plain", "text": "note abc"}]},
    ),
    "prompt": (
        200,
        {
            "description": "A prompt without arguments.",
            "messages": [
                {"role": "user", "content": {"type": "text", "text": "This is a simple prompt for testing."}}
            ],
        },
    ),
}


# Deliberate differences (docs/migration.md, "Other error texts"): the code is the same unless noted,
# the text names the offending input; unknown tools are -32602 (tools page), and a message that is not
# valid JSON-RPC is refused with 400 (transport page: a POST the server cannot accept).
OURS: dict[str, tuple[Any, ...]] = {
    "unknown tool": (200, (-32602, "unknown tool `nope`")),
    "unknown prompt": (200, (-32602, "unknown prompt `nope`")),
    "missing prompt argument": (200, (-32602, "missing required argument(s): `arg2`")),
    "unknown resource": (200, (-32002, "resource not found: `test://nope`")),
    "subscribe to an unknown resource": (200, (-32002, "resource not found: `test://nope`")),
    "unknown task": (200, (-32602, "task not found")),
    "no task id": (200, (-32602, "`taskId` must be a string")),
    "bad task cursor": (200, (-32602, "invalid cursor")),
    "bad task ttl": (200, (-32602, "task `ttl` must be a non-negative integer of milliseconds, got `'x'`")),
    "unknown log level": (200, (-32602, "unknown log level `loud`")),
    "malformed JSON": (400, (-32700, "body is not valid JSON: unexpected end of data at line 1 column 2")),
    "empty batch": (400, (-32600, "JSON-RPC batches are only accepted for 2025-03-26 sessions")),
    "jsonrpc 1.0": (400, (-32600, '`jsonrpc` must be "2.0"')),
    "null id": (400, (-32600, "`id` must be a string or an integer")),
    "scalar params": (400, (-32600, "`params` must be an object or an array")),
}
THEIRS: dict[str, tuple[Any, ...]] = {
    "unknown tool": (200, (-32601, "No such tool 'nope'")),
    "unknown prompt": (200, (-32602, "Invalid params: unknown prompt 'nope'")),
    "missing prompt argument": (200, (-32602, "Missing required argument(s): arg2")),
    "unknown resource": (200, (-32002, "Resource not found: test://nope")),
    "subscribe to an unknown resource": (200, (-32002, "Unknown resources: test://nope")),
    "unknown task": (200, (-32602, "Failed to retrieve task: Task not found")),
    "no task id": (200, (-32602, "Invalid params: missing taskId")),
    "bad task cursor": (200, (-32602, "Invalid params: invalid cursor")),
    "bad task ttl": (200, (-32602, "Invalid params: ttl must be a number")),
    "unknown log level": (200, (-32602, "Invalid params: unknown log level 'loud'")),
    "malformed JSON": (400, (-32700, "Parse error")),
    "empty batch": (400, (-32600, "Batch JSON-RPC requests are not supported")),
    "jsonrpc 1.0": (200, (-32600, "Invalid JSON-RPC request")),
    "null id": (200, (-32600, "Request id must not be null")),
    "scalar params": (200, (-32600, "Params must be an object or array")),
}


def test_our_answers_are_030s_except_the_listed_texts(kit030_app: Any) -> None:
    with serve(kit030_app) as url:
        assert _exchanges(url) == {**EXPECTED, **OURS}


@pytest.mark.compat
def test_the_table_is_what_030_answers() -> None:
    require_030()
    with serve_030("kit030_server:app") as url:
        assert _exchanges(url) == {**EXPECTED, **THEIRS}
