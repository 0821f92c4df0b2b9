"""A minimal stateless (2026-07-28) POST endpoint assembled from the draft modules — test scaffolding only.

The real endpoint is the server's transport and dispatcher; this one exists so the official client
and the official conformance suite can exercise `pymcp.protocol.draft` before that wiring lands. It
carries the conformance fixtures that concern the draft modules (MRTR tools and prompt, the
missing-capability tool, an `x-mcp-header` tool, one resource) and nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.draft.envelope import (
    StatelessRequest,
    check_method,
    http_status_for,
    route_http,
    validate_request,
)
from pymcp.protocol.draft.headers import RequestHeaders
from pymcp.protocol.draft.input_required import (
    elicitation,
    input_required,
    list_roots,
    sampling,
    supported_requests,
)
from pymcp.protocol.draft.mrtr import InputRequired, RoundTrip
from pymcp.protocol.draft.param_headers import check_param_headers, header_map
from pymcp.protocol.draft.request_state import RequestStateCodec
from pymcp.protocol.draft.results import CachePolicy, decorate_result, discover_result, ordered
from pymcp.protocol.jsonrpc import InvalidMessage, Notification, Request, encode_error, encode_result, parse

__all__ = ["SERVER_INFO", "SUPPORTED", "Scaffold"]

SUPPORTED = ("2026-07-28",)
SERVER_INFO = {"name": "draft-scaffold", "version": "0.0.1"}
CAPABILITIES = {"tools": {}, "prompts": {}, "resources": {}}
InputRequests = dict[str, dict[str, Any]]


def _form(message: str, field: str, kind: str = "string") -> dict[str, Any]:
    schema = {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    return elicitation(message, schema)


NAME = _form("What is your name?", "name")
COLOR = _form("Step 2: What is your favorite color?", "color")
CONFIRM = _form("Please confirm", "ok", "boolean")
CAPITAL = sampling("What is the capital of France?", 100)
ROOTS = list_roots()
REGION_SCHEMA = {
    "type": "object",
    "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "query": {"type": "string"}},
    "required": ["region"],
}
REGION_HEADERS = header_map(REGION_SCHEMA)
# tool name → the rounds of questions it asks (each round's questions go out together)
MRTR_TOOLS: dict[str, list[InputRequests]] = {
    "test_input_required_result_elicitation": [{"user_name": NAME}],
    "test_input_required_result_sampling": [{"capital_question": CAPITAL}],
    "test_input_required_result_list_roots": [{"client_roots": ROOTS}],
    "test_input_required_result_request_state": [{"confirm": CONFIRM}],
    "test_input_required_result_tampered_state": [{"confirm": CONFIRM}],
    "test_input_required_result_multiple_inputs": [
        {"user_name": NAME, "greeting": sampling("Generate a greeting", 50), "client_roots": ROOTS}
    ],
    "test_input_required_result_multi_round": [{"step1": NAME}, {"step2": COLOR}],
    "test_input_required_result_capabilities": [{"confirm": CONFIRM, "capital_question": CAPITAL}],
    "ask_name": [{"name": NAME}, {"color": COLOR}],
}
PROMPT = "test_input_required_result_prompt"
PROMPT_ROUNDS = [{"user_context": _form("What context should the prompt use?", "context")}]
TEXT_RESOURCE = {"uri": "test://static-text", "name": "static-text", "mimeType": "text/plain"}


def _tool(name: str, schema: Mapping[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "description": f"fixture {name}", "inputSchema": dict(schema or {"type": "object"})}


TOOLS = ordered(
    [
        *(_tool(name) for name in MRTR_TOOLS),
        _tool("test_missing_capability"),
        _tool("test_streaming_elicitation"),
        _tool("test_logging_tool"),
        _tool("run_query", REGION_SCHEMA),
    ],
    "name",
)


def _text(text: str) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text}]}


class Scaffold:
    """The ASGI app: one POST per request, JSON answers, statuses from `http_status_for`."""

    def __init__(self) -> None:
        self.codec = RequestStateCodec()
        self.seen_methods: list[str] = []

    def gather(
        self,
        method: str,
        params: Mapping[str, Any],
        request: StatelessRequest,
        rounds: list[InputRequests],
        *,
        only_supported: bool = False,
    ) -> dict[str, Any]:
        """Ask `rounds` one after the other (replayed on every retry); returns every answer."""
        trip = RoundTrip(codec=self.codec, client=request, principal=None, method=method, params=params)
        answers: dict[str, Any] = {}
        try:
            for asked in rounds:
                # ask only what the client can answer instead of refusing with -32021
                answers.update(trip.ask_all(supported_requests(asked, request) if only_supported else asked))
        except InputRequired as pending:
            return trip.input_required(pending)
        return answers

    def call_tool(self, params: Mapping[str, Any], request: StatelessRequest, headers: RequestHeaders) -> Any:
        name = params.get("name")
        arguments = params.get("arguments") or {}
        if name in MRTR_TOOLS:
            only_supported = name == "test_input_required_result_capabilities"
            answers = self.gather(
                "tools/call", params, request, MRTR_TOOLS[name], only_supported=only_supported
            )
            if answers.get("resultType") == "input_required":
                return answers
            if name == "ask_name":
                return _text(
                    f"{answers['name']['content']['name']} likes {answers['color']['content']['color']}"
                )
            return _text(f"state-ok: answered {', '.join(sorted(answers))}")
        if name == "test_missing_capability":
            request.require({"sampling": {}})
            return _text("sampling declared")
        if name == "test_streaming_elicitation":
            return input_required({"confirm": CONFIRM}, client=request)
        if name == "test_logging_tool":
            return _text("logged nothing: no log level was requested")
        if name == "run_query":
            check_param_headers(REGION_HEADERS, arguments, headers)
            return _text(f"ran in {arguments.get('region')}")
        raise MCPError(ErrorCode.INVALID_PARAMS, f"unknown tool `{name}`")

    def handle(
        self, method: str, params: Mapping[str, Any], request: StatelessRequest, headers: RequestHeaders
    ) -> Any:
        if method == "server/discover":
            return discover_result(
                supported_versions=SUPPORTED, capabilities=CAPABILITIES, server_info=SERVER_INFO
            )
        if method == "tools/list":
            return {"tools": TOOLS}
        if method == "tools/call":
            return self.call_tool(params, request, headers)
        if method == "prompts/list":
            return {"prompts": [{"name": PROMPT}]}
        if method == "prompts/get" and params.get("name") == PROMPT:
            answers = self.gather(method, params, request, PROMPT_ROUNDS)
            if answers.get("resultType") == "input_required":
                return answers
            context = answers["user_context"].get("content", {}).get("context", "")
            return {
                "messages": [{"role": "user", "content": {"type": "text", "text": f"Context: {context}"}}]
            }
        if method == "resources/list":
            return {"resources": [TEXT_RESOURCE]}
        if method == "resources/templates/list":
            return {"resourceTemplates": []}
        if method == "resources/read":
            uri = params.get("uri")
            if uri != TEXT_RESOURCE["uri"]:
                raise MCPError(ErrorCode.INVALID_PARAMS, f"resource `{uri}` not found", {"uri": uri})
            return {"contents": [{"uri": uri, "mimeType": "text/plain", "text": "static text"}]}
        raise MCPError(ErrorCode.METHOD_NOT_FOUND, f"method `{method}` not found", http_status=404)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] != "POST":
            await self.respond(send, 405, b"", [(b"allow", b"POST")])
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        request_id: str | int | None = None
        try:
            message = parse(body)
            if isinstance(message, Notification):
                await self.respond(send, 202, b"")
                return
            if isinstance(message, InvalidMessage):
                request_id = message.id
                raise message.error
            if not isinstance(message, Request):
                raise MCPError(
                    ErrorCode.INVALID_REQUEST, "the body must be one JSON-RPC request", http_status=400
                )
            request_id = message.id
            headers = RequestHeaders.from_asgi(scope["headers"])
            assert route_http("draft", headers, has_session_id=False, stateless_meta=False) == "stateless"
            request = validate_request(message.method, message.params, headers, supported_versions=SUPPORTED)
            check_method(message.method, tasks_extension=False)
            self.seen_methods.append(message.method)
            params = message.params if isinstance(message.params, dict) else {}
            result = self.handle(message.method, params, request, headers)
            decorated = decorate_result(message.method, result, server_info=SERVER_INFO, cache=CachePolicy())
            await self.respond(send, 200, encode_result(message.id, decorated))
        except MCPError as error:
            await self.respond(send, http_status_for(error), encode_error(request_id, error))

    @staticmethod
    async def respond(
        send: Any, status: int, body: bytes, extra: list[tuple[bytes, bytes]] | None = None
    ) -> None:
        headers = [(b"content-type", b"application/json")] if body else []
        await send({"type": "http.response.start", "status": status, "headers": headers + (extra or [])})
        await send({"type": "http.response.body", "body": body})
