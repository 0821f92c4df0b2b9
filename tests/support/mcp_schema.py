"""Validate every message a server sends against the official MCP wire types of the negotiated revision.

The wire types are the official Python SDK's (`mcp_types`, installed from the lock file with the pinned
`mcp` package): its per-revision models are generated from the official JSON schemas, so a result that
breaks the schema breaks them too. Unknown keys are reported as well (the models themselves ignore them),
so a misspelt field cannot pass as an extension.

`make spec-check` also checks every message against the JSON schema files themselves: it sets
`PYMCP_SPEC_DIR` to a folder of `mcp-schema-<version>.json` files (see `tests/support/spec_schema.py`).
`make check` reads nothing outside the repository.

Results are checked against the result type of the request's method (`tools/list` → `ListToolsResult`),
notifications and server→client requests against their own types, errors against the error response
type. For 2026-07-28 (stateless) the revision is the request's `MCP-Protocol-Version` header: results are
checked against `InputRequiredResult` when they ask for input, tasks-extension shapes (outside the core
schema) only against the response envelope.

One deliberate exception: an error answering a message whose id could not be read carries `"id": null`
as JSON-RPC 2.0 requires; the older schemas have no null id, so such errors are checked without their id.
"""

from __future__ import annotations

import functools
import json
import types
from typing import Any

import mcp_types._v2025_11_25 as wire_2025
import mcp_types._v2026_07_28 as wire_2026
from pydantic import BaseModel, TypeAdapter, ValidationError

from support import spec_schema

__all__ = ["STATELESS_VERSION", "SchemaCheckedApp", "validate_message", "wire_errors"]

STATELESS_VERSION = "2026-07-28"

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
# Keys the core schema leaves open: `_meta` everywhere, and free-form objects (`structuredContent`,
# JSON Schemas, `arguments`, `experimental`, `requestState`, ...) whose contents are not MCP's.
OPEN_OBJECTS = frozenset(
    {
        "_meta",
        "structuredContent",
        "inputSchema",
        "outputSchema",
        "requestedSchema",
        "arguments",
        "experimental",
        "extensions",
        "data",
        "properties",
        "annotations",
        "inputResponses",
        "inputRequests",
        "params",
    }
)


def _era(version: str) -> types.ModuleType:
    """The SDK's wire models for a revision (every pre-2026 revision is checked in the 2025-11-25 era)."""
    return wire_2026 if version == STATELESS_VERSION else wire_2025


@functools.cache
def _adapter(version: str, definition: str) -> TypeAdapter[Any]:
    era = _era(version)
    target = getattr(era, definition, None)
    if target is None:
        raise KeyError(f"{definition} is not an official wire type of {version}")
    return TypeAdapter(target)


def _unknown_keys(instance: Any, dumped: Any, path: str = "") -> list[str]:
    """Keys of `instance` that the wire model dropped (it ignores unknown keys), outside open objects."""
    if isinstance(instance, dict) and isinstance(dumped, dict):
        problems = []
        for key, value in instance.items():
            where = f"{path}.{key}" if path else key
            if key not in dumped:
                if value is not None:
                    problems.append(f"{where}: unknown key `{key}`")
            elif key not in OPEN_OBJECTS:
                problems.extend(_unknown_keys(value, dumped[key], where))
        return problems
    if isinstance(instance, list) and isinstance(dumped, list) and len(instance) == len(dumped):
        return [
            problem
            for index, (item, dumped_item) in enumerate(zip(instance, dumped, strict=True))
            for problem in _unknown_keys(item, dumped_item, f"{path}[{index}]")
        ]
    return []


def wire_errors(version: str, definition: str, instance: Any) -> list[str]:
    """Every way `instance` breaks the official wire type `definition` of `version` (empty when valid)."""
    adapter = _adapter(version, definition)
    try:
        model = adapter.validate_python(instance, by_alias=True, by_name=False)
    except ValidationError as invalid:
        return [f"{'.'.join(map(str, error['loc']))}: {error['msg']}" for error in invalid.errors()]
    dumped = adapter.dump_python(model, by_alias=True, mode="json", exclude_none=True)
    if isinstance(model, BaseModel) or isinstance(dumped, dict):
        problems = _unknown_keys(instance, dumped)
    else:
        problems = []
    return problems + spec_schema.schema_errors(version, definition, instance)


def _check(version: str, definition: str, instance: Any, what: str) -> None:
    errors = wire_errors(version, definition, instance)
    if errors:
        raise AssertionError(
            f"{what} is not a valid {definition} ({version}): {'; '.join(errors[:5])}\n"
            f"{json.dumps(instance)[:2000]}"
        )


def validate_message(message: Any, version: str, *, request_method: str | None = None) -> None:
    """Check one message the server sent; `request_method` is the method of the request it answers."""
    assert isinstance(message, dict), f"a server message must be an object: {message!r}"
    assert message.get("jsonrpc") == "2.0", f"`jsonrpc` must be 2.0: {message!r}"
    if "error" in message:
        checked = {k: v for k, v in message.items() if not (k == "id" and v is None)}
        if "id" not in checked:
            checked["id"] = 0  # the 2025 era requires an id; null ids are JSON-RPC 2.0 (see module doc)
        _check(version, "JSONRPCErrorResponse", checked, "error")
        assert set(message) == {"jsonrpc", "id", "error"}, f"unexpected envelope keys: {sorted(message)}"
        return
    if "result" in message:
        assert set(message) == {"jsonrpc", "id", "result"}, (
            f"unexpected envelope keys (`_meta` belongs in result): {sorted(message)}"
        )
        _check(version, "JSONRPCResultResponse", message, "response")
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
