"""Validate every message a server sends against the official MCP JSON schema of the negotiated revision.

The schemas live in `<repo>/../shared/spec/mcp-schema-<version>.json`. Results are checked against the
result type of the request's method (`tools/list` → `ListToolsResult`), notifications and server→client
requests against their own types, errors against the error response type.

For 2026-07-28 (stateless) the revision is the request's `MCP-Protocol-Version` header: results are
checked against `InputRequiredResult` when they ask for input, tasks-extension shapes (not in the core
schema) only against the response envelope.

One deliberate exception: an error answering a message whose id could not be read carries `"id": null`
as JSON-RPC 2.0 requires; the MCP schemas have no null id, so such errors are checked without their id.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import jsonschema

__all__ = ["RESULT_TYPES", "SPEC_DIR", "STATELESS_VERSION", "validate_message", "validator_for"]

STATELESS_VERSION = "2026-07-28"

SPEC_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "spec"

RESULT_TYPES: dict[str, str] = {
    "initialize": "InitializeResult",
    "ping": "EmptyResult",
    "tools/list": "ListToolsResult",
    "tools/call": "CallToolResult",
    "prompts/list": "ListPromptsResult",
    "prompts/get": "GetPromptResult",
    "resources/list": "ListResourcesResult",
    "resources/templates/list": "ListResourceTemplatesResult",
    "resources/read": "ReadResourceResult",
    "resources/subscribe": "EmptyResult",
    "resources/unsubscribe": "EmptyResult",
    "logging/setLevel": "EmptyResult",
    "completion/complete": "CompleteResult",
    "tasks/get": "GetTaskResult",
    "tasks/list": "ListTasksResult",
    "tasks/cancel": "CancelTaskResult",
    "tasks/result": "GetTaskPayloadResult",
}
# 2026-07-28 differences: new methods, removed ones, and the tasks extension (outside the core schema).
STATELESS_RESULT_TYPES: dict[str, str | None] = {
    **RESULT_TYPES,
    "server/discover": "DiscoverResult",
    "subscriptions/listen": "SubscriptionsListenResult",
    "tasks/get": None,
    "tasks/update": None,
    "tasks/cancel": None,
}
MESSAGE_TYPES: dict[str, str] = {
    "notifications/progress": "ProgressNotification",
    "notifications/message": "LoggingMessageNotification",
    "notifications/tools/list_changed": "ToolListChangedNotification",
    "notifications/prompts/list_changed": "PromptListChangedNotification",
    "notifications/resources/list_changed": "ResourceListChangedNotification",
    "notifications/resources/updated": "ResourceUpdatedNotification",
    "notifications/cancelled": "CancelledNotification",
    "notifications/tasks/status": "TaskStatusNotification",
    "sampling/createMessage": "CreateMessageRequest",
    "elicitation/create": "ElicitRequest",
    "roots/list": "ListRootsRequest",
    "ping": "PingRequest",
    "notifications/subscriptions/acknowledged": "SubscriptionsAcknowledgedNotification",
}


@functools.cache
def _schema(version: str) -> dict[str, Any]:
    path = SPEC_DIR / f"mcp-schema-{version}.json"
    schema: dict[str, Any] = json.loads(path.read_text())
    return schema


@functools.cache
def validator_for(version: str, definition: str) -> jsonschema.protocols.Validator:
    """A validator for one definition (`ListToolsResult`, ...) of a revision's schema."""
    schema = _schema(version)
    key = "$defs" if "$defs" in schema else "definitions"
    if definition not in schema[key]:
        raise KeyError(f"{definition} is not defined in the {version} schema")
    root = {**schema, "$ref": f"#/{key}/{definition}"}
    validator_class = jsonschema.validators.validator_for(schema)
    return validator_class(root)  # type: ignore[no-any-return]


def _check(version: str, definition: str, instance: Any, what: str) -> None:
    errors = sorted(validator_for(version, definition).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        details = "; ".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
        raise AssertionError(
            f"{what} is not a valid {definition} ({version}): {details}\n{json.dumps(instance)[:2000]}"
        )


def validate_message(message: Any, version: str, *, request_method: str | None = None) -> None:
    """Check one message the server sent; `request_method` is the method of the request it answers."""
    assert isinstance(message, dict), f"a server message must be an object: {message!r}"
    assert message.get("jsonrpc") == "2.0", f"`jsonrpc` must be 2.0: {message!r}"
    errors_type = "JSONRPCErrorResponse" if version in ("2025-11-25", STATELESS_VERSION) else "JSONRPCError"
    if "error" in message:
        checked = {k: v for k, v in message.items() if not (k == "id" and v is None)}
        if version not in ("2025-11-25", STATELESS_VERSION) and "id" not in checked:
            checked["id"] = 0  # older schemas require an id; null ids are JSON-RPC 2.0 (see module doc)
        _check(version, errors_type, checked, "error")
        assert set(message) == {"jsonrpc", "id", "error"}, f"unexpected envelope keys: {sorted(message)}"
        return
    if "result" in message:
        assert set(message) == {"jsonrpc", "id", "result"}, (
            f"unexpected envelope keys (`_meta` belongs in result): {sorted(message)}"
        )
        envelope = (
            "JSONRPCResultResponse" if version in ("2025-11-25", STATELESS_VERSION) else "JSONRPCResponse"
        )
        _check(version, envelope, message, "response")
        definition: str | None = RESULT_TYPES.get(request_method or "")
        if request_method == "tools/call" and "task" in message["result"]:
            definition = "CreateTaskResult"
        if version == STATELESS_VERSION:
            result_type = message["result"].get("resultType")
            assert isinstance(result_type, str), f"a 2026-07-28 result needs `resultType`: {message!r}"
            definition = STATELESS_RESULT_TYPES.get(request_method or "")
            if result_type == "input_required":
                definition = "InputRequiredResult"
            elif result_type != "complete":
                definition = None  # an extension's result (the tasks extension's `task`)
        if definition is not None:
            _check(version, definition, message["result"], f"`{request_method}` result")
        return
    method = message.get("method")
    assert isinstance(method, str), f"not a response, request or notification: {message!r}"
    definition = MESSAGE_TYPES.get(method)
    assert definition is not None, f"the server sent an unexpected method `{method}`"
    _check(version, definition, message, f"`{method}`")


class SchemaCheckedApp:
    """ASGI wrapper that validates every JSON-RPC message the wrapped server sends on `/mcp` (JSON bodies
    and SSE events), for tests driven by clients we do not control (the conformance suite, the SDK).

    The revision is the session's negotiated one (read from its `initialize` result). Problems are
    collected in `problems`; `checked` counts the messages validated.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.versions: dict[str, str] = {}
        self.problems: list[str] = []
        self.checked = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] != "/mcp":
            await self.app(scope, receive, send)
            return
        methods: dict[Any, str] = {}
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        state: dict[str, Any] = {
            "session": headers.get("mcp-session-id"),
            "sse": False,
            "buffer": b"",
            "stateless": headers.get("mcp-protocol-version") == STATELESS_VERSION,
        }

        async def recording_receive() -> Any:
            message = await receive()
            if message["type"] == "http.request" and message.get("body"):
                try:
                    parsed = json.loads(message["body"])
                except ValueError:
                    return message
                for item in parsed if isinstance(parsed, list) else [parsed]:
                    if isinstance(item, dict) and "method" in item and "id" in item:
                        methods[item["id"]] = item["method"]
            return message

        async def checking_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                response_headers = {k.decode().lower(): v.decode() for k, v in message.get("headers", [])}
                state["sse"] = response_headers.get("content-type", "").startswith("text/event-stream")
                state["session"] = response_headers.get("mcp-session-id", state["session"])
            elif message["type"] == "http.response.body":
                self._body(
                    state, methods, message.get("body", b""), final=not message.get("more_body", False)
                )
            await send(message)

        await self.app(scope, recording_receive, checking_send)

    def _body(self, state: dict[str, Any], methods: dict[Any, str], body: bytes, *, final: bool) -> None:
        if state["sse"]:
            state["buffer"] += body
            *events, state["buffer"] = state["buffer"].split(b"\n\n")
            for event in events:
                for line in event.split(b"\n"):
                    if line.startswith(b"data: ") and line[6:].strip():  # `: keep-alive` is a comment
                        self._check(state, methods, json.loads(line[6:]))
        else:
            state["buffer"] += body
            if final and state["buffer"]:
                parsed = json.loads(state["buffer"])
                for item in parsed if isinstance(parsed, list) else [parsed]:
                    self._check(state, methods, item)

    def _check(self, state: dict[str, Any], methods: dict[Any, str], message: Any) -> None:
        method = methods.get(message.get("id")) if "method" not in message else None
        if method == "initialize" and "result" in message and state["session"]:
            self.versions[state["session"]] = message["result"]["protocolVersion"]
        version = (
            STATELESS_VERSION
            if state["stateless"]
            else self.versions.get(state["session"] or "", "2025-11-25")
        )
        self.checked += 1
        try:
            validate_message(message, version, request_method=method)
        except AssertionError as problem:
            self.problems.append(str(problem))
