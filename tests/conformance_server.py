"""The server the official MCP conformance suite runs against (`conformance server --url .../mcp`).

One dual-mode app serves both the 2025-11-25 suite (sessions) and the 2026-07-28 suite (stateless,
multi round-trip tools, listen streams, the tasks extension). Built only with pymcp's public API.
Run it by hand with `uvicorn conformance_server:app --app-dir tests --port 3001`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import wave
from typing import Any

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.input_required import elicitation, list_roots, sampling
from pymcp.server import RequestContext
from pymcp.server.context import current_request_context

__all__ = ["app", "build_app"]

# A 1x1 red PNG.
PNG_BASE64 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def _wav_base64() -> str:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as audio:
        audio.setnchannels(1)
        audio.setsampwidth(2)
        audio.setframerate(8000)
        audio.writeframes(struct.pack("<80h", *([0] * 80)))
    return base64.b64encode(buffer.getvalue()).decode("ascii")


WAV_BASE64 = _wav_base64()
EMBEDDED = {
    "uri": "test://embedded-resource",
    "mimeType": "text/plain",
    "text": "This is an embedded resource content.",
}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _form(message: str, field: str, kind: str = "string") -> dict[str, Any]:
    return elicitation(
        message, {"type": "object", "properties": {field: {"type": kind}}, "required": [field]}
    )


NAME_FORM = _form("What is your name?", "name")
CONFIRM_FORM = _form("Please confirm", "ok", "boolean")
CAPITAL_QUESTION = sampling("What is the capital of France?", 100)
TASK_TOOL = {"taskSupport": "optional"}


def build_app() -> Any:
    """A fresh app with every tool, resource and prompt the suite expects."""
    app = create_app(
        server_settings=ServerSettings(
            name="pymcp-conformance",
            capabilities=CapabilitySettings(
                tools_list_changed=True,
                prompts_list_changed=True,
                resources_list_changed=True,
                resources_subscribe=True,
                logging_enabled=True,
                completions_enabled=True,
            ),
        )
    )
    registries = get_registry_manager(app)
    tools, prompts, resources = registries.tools, registries.prompts, registries.resources

    @tools.register
    def test_simple_text() -> str:
        """Returns a simple text response."""
        return "This is a simple text response for testing."

    @tools.register
    def test_image_content() -> list[dict[str, Any]]:
        """Returns an image."""
        return [{"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}]

    @tools.register
    def test_audio_content() -> list[dict[str, Any]]:
        """Returns audio."""
        return [{"type": "audio", "data": WAV_BASE64, "mimeType": "audio/wav"}]

    @tools.register
    def test_embedded_resource() -> list[dict[str, Any]]:
        """Returns an embedded resource."""
        return [{"type": "resource", "resource": EMBEDDED}]

    @tools.register
    def test_multiple_content_types() -> list[dict[str, Any]]:
        """Returns text, an image and a resource."""
        return [
            _text("Multiple content types test:"),
            {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"},
            {"type": "resource", "resource": EMBEDDED},
        ]

    @tools.register
    async def test_tool_with_logging(request_context: RequestContext) -> str:
        """Sends three log messages while it runs."""
        for step, message in enumerate(
            ("Tool execution started", "Tool processing data", "Tool execution completed")
        ):
            if step:
                await asyncio.sleep(0.05)
            await request_context.log("info", message)
        return "Logging test completed"

    @tools.register
    async def test_tool_with_progress(request_context: RequestContext) -> str:
        """Reports progress 0, 50 and 100 of 100."""
        for progress in (0, 50, 100):
            await request_context.report_progress(progress, 100, f"progress {progress}%")
            await asyncio.sleep(0.05)
        return "Progress test completed"

    @tools.register
    def test_error_handling() -> dict[str, Any]:
        """Always fails, as a tool execution error."""
        return {"isError": True, "content": [_text("This tool intentionally returns an error for testing")]}

    @tools.register
    async def test_sampling(prompt: str, request_context: RequestContext) -> str:
        """Asks the client's model to answer `prompt`."""
        answer = await request_context.sample(
            [{"role": "user", "content": _text(prompt)}],
            max_tokens=100,
        )
        content = answer.get("content", {}) if isinstance(answer, dict) else {}
        return f"LLM response: {content.get('text', '') if isinstance(content, dict) else content}"

    @tools.register
    async def test_elicitation(message: str, request_context: RequestContext) -> str:
        """Asks the user for a username and an email."""
        answer = await request_context.elicit(
            message,
            {
                "type": "object",
                "properties": {
                    "username": {"type": "string", "description": "User's response"},
                    "email": {"type": "string", "description": "User's email address"},
                },
                "required": ["username", "email"],
            },
        )
        return f"User response: action={answer.get('action')}, content={answer.get('content')}"

    @tools.register
    async def test_elicitation_sep1034_defaults(request_context: RequestContext) -> str:
        """Elicitation whose fields all have defaults (SEP-1034)."""
        answer = await request_context.elicit(
            "Please review and update the form fields with defaults",
            {
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "User name", "default": "John Doe"},
                    "age": {"type": "integer", "description": "User age", "default": 30},
                    "score": {"type": "number", "description": "User score", "default": 95.5},
                    "status": {
                        "type": "string",
                        "description": "User status",
                        "enum": ["active", "inactive", "pending"],
                        "default": "active",
                    },
                    "verified": {"type": "boolean", "description": "Verification status", "default": True},
                },
            },
        )
        return f"Elicitation completed: action={answer.get('action')}, content={answer.get('content')}"

    @tools.register
    async def test_elicitation_sep1330_enums(request_context: RequestContext) -> str:
        """Elicitation with every enum form of SEP-1330."""
        options = [
            {"const": "option1", "title": "First Option"},
            {"const": "option2", "title": "Second Option"},
        ]
        answer = await request_context.elicit(
            "Please select options from the enum fields",
            {
                "type": "object",
                "properties": {
                    "untitledSingle": {"type": "string", "enum": ["option1", "option2", "option3"]},
                    "titledSingle": {"type": "string", "oneOf": options},
                    "legacyEnum": {
                        "type": "string",
                        "enum": ["opt1", "opt2", "opt3"],
                        "enumNames": ["Option One", "Option Two", "Option Three"],
                    },
                    "untitledMulti": {
                        "type": "array",
                        "items": {"type": "string", "enum": ["option1", "option2", "option3"]},
                    },
                    "titledMulti": {"type": "array", "items": {"anyOf": options}},
                },
            },
        )
        return f"Elicitation completed: action={answer.get('action')}, content={answer.get('content')}"

    @tools.register(
        input_schema={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "$defs": {
                "address": {
                    "$anchor": "addressDef",
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                }
            },
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": "#/$defs/address"},
                "contactMethod": {"type": "string", "enum": ["phone", "email"]},
                "phone": {"type": "string"},
                "email": {"type": "string"},
            },
            "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
            "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
            "then": {"required": ["phone"]},
            "else": {"required": ["email"]},
            "additionalProperties": False,
        }
    )
    def json_schema_2020_12_tool(
        name: str | None = None,
        address: dict[str, Any] | None = None,
        contactMethod: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> str:
        """A tool whose input schema uses JSON Schema 2020-12 features."""
        return f"name={name}, address={address}, contact={contactMethod or phone or email}"

    @tools.register
    async def test_reconnection(request_context: RequestContext) -> str:
        """Closes its SSE stream mid-call; the result arrives when the client resumes."""
        await request_context.close_sse_stream()
        await asyncio.sleep(0.1)
        return "Reconnection test completed successfully"

    _register_2026_tools(tools, prompts)

    @resources.register(uri="test://static-text", name="static-text", mime_type="text/plain")
    def static_text() -> str:
        """A static text resource."""
        return "This is the content of the static text resource."

    @resources.register(uri="test://static-binary", name="static-binary", mime_type="image/png")
    def static_binary() -> bytes:
        """A static binary resource (a PNG)."""
        return base64.b64decode(PNG_BASE64)

    @resources.register(uri="test://watched-resource", name="watched-resource", mime_type="text/plain")
    def watched_resource() -> str:
        """A resource clients can subscribe to."""
        return "Watched resource content"

    @resources.register_template(
        uri_template="test://template/{id}/data", name="template", mime_type="application/json"
    )
    def template_data(id: str) -> str:
        """Data for one id."""
        return f'{{"id": "{id}", "templateTest": true, "data": "Data for ID: {id}"}}'

    @prompts.register
    def test_simple_prompt() -> str:
        """A prompt without arguments."""
        return "This is a simple prompt for testing."

    @prompts.register(
        arguments=[
            {
                "name": "arg1",
                "description": "First test argument",
                "required": True,
                "completion": ["test1", "test2"],
            },
            {"name": "arg2", "description": "Second test argument", "required": True},
        ]
    )
    def test_prompt_with_arguments(arg1: str, arg2: str) -> str:
        """A prompt with two arguments."""
        return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"

    @prompts.register(arguments=[{"name": "resourceUri", "description": "URI to embed", "required": True}])
    def test_prompt_with_embedded_resource(resourceUri: str) -> list[dict[str, Any]]:
        """A prompt that embeds a resource."""
        return [
            {
                "role": "user",
                "content": {
                    "type": "resource",
                    "resource": {
                        "uri": resourceUri,
                        "mimeType": "text/plain",
                        "text": "Embedded resource content.",
                    },
                },
            },
            {"role": "user", "content": _text("Please process the embedded resource above.")},
        ]

    @prompts.register
    def test_prompt_with_image() -> list[dict[str, Any]]:
        """A prompt with an image."""
        return [
            {"role": "user", "content": {"type": "image", "data": PNG_BASE64, "mimeType": "image/png"}},
            {"role": "user", "content": _text("Please analyze the image above.")},
        ]

    return app


def _register_2026_tools(tools: Any, prompts: Any) -> None:
    """The fixtures of the 2026-07-28 scenarios; the asking ones work on sessions too."""

    @tools.register
    async def test_missing_capability(request_context: RequestContext) -> str:
        """Needs the client's model (sampling)."""
        answer = await request_context.sample([{"role": "user", "content": _text("Say hi")}], max_tokens=10)
        return f"sampled: {answer.get('content')}"

    @tools.register
    async def test_streaming_elicitation(request_context: RequestContext) -> str:
        """Asks the user to confirm."""
        answer = await request_context.elicit(
            "Please confirm", {"type": "object", "properties": {"ok": {"type": "boolean"}}}
        )
        return f"confirmed: {answer.get('action')}"

    @tools.register
    async def test_logging_tool(request_context: RequestContext) -> str:
        """Logs one message (sent only when the request asked for a log level)."""
        await request_context.log("info", "test_logging_tool ran")
        return "logged"

    def _toggle(registry: Any, name: str, function: Any) -> str:
        if registry.get(name) is None:
            registry.register(function, name=name)
            return f"added `{name}`"
        registry.remove(name)
        return f"removed `{name}`"

    def dynamic() -> str:
        """Added and removed by the trigger fixtures."""
        return "dynamic"

    @tools.register
    def test_trigger_tool_change() -> str:
        """Changes the tool list."""
        return _toggle(tools, "dynamic_tool", dynamic)

    @tools.register
    def test_trigger_prompt_change() -> str:
        """Changes the prompt list."""
        return _toggle(prompts, "dynamic_prompt", dynamic)

    @tools.register
    async def test_input_required_result_elicitation(request_context: RequestContext) -> str:
        """Asks the user's name."""
        answer = (await request_context.request_input({"user_name": NAME_FORM}))["user_name"]
        return f"Hello, {answer.get('content', {}).get('name')}!"

    @tools.register
    async def test_input_required_result_sampling(request_context: RequestContext) -> str:
        """Asks the client's model a question."""
        answer = await request_context.request_input({"capital_question": CAPITAL_QUESTION})
        return f"model said: {answer['capital_question'].get('content')}"

    @tools.register
    async def test_input_required_result_list_roots(request_context: RequestContext) -> str:
        """Reads the client's roots."""
        answer = await request_context.list_roots()
        return f"roots: {[root.get('uri') for root in answer.get('roots', [])]}"

    async def confirm_with_state(request_context: RequestContext) -> str:
        """Asks for a confirmation; the answer comes back through the signed state."""
        answer = await request_context.request_input({"confirm": CONFIRM_FORM})
        return f"state-ok: confirmed={answer['confirm'].get('content', {}).get('ok')}"

    # The tampered-state scenario sends the same tool's state back altered: it must be refused.
    for name in ("test_input_required_result_request_state", "test_input_required_result_tampered_state"):
        tools.register(confirm_with_state, name=name)

    @tools.register
    async def test_input_required_result_multiple_inputs(request_context: RequestContext) -> str:
        """Asks the user, the model and the roots at once."""
        answers = await request_context.request_input(
            {
                "user_name": NAME_FORM,
                "greeting": sampling("Generate a greeting", 50),
                "client_roots": list_roots(),
            }
        )
        return f"state-ok: answered {', '.join(sorted(answers))}"

    @tools.register
    async def test_input_required_result_multi_round(request_context: RequestContext) -> str:
        """Two questions, one round each."""
        name = await request_context.elicit("What is your name?", NAME_FORM["params"]["requestedSchema"])
        color = await request_context.elicit(
            "Step 2: What is your favorite color?",
            {"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]},
        )
        return f"{name.get('content', {}).get('name')} likes {color.get('content', {}).get('color')}"

    @tools.register
    async def test_input_required_result_capabilities(request_context: RequestContext) -> str:
        """Asks only what the client declared it can answer."""
        wanted = {"confirm": CONFIRM_FORM, "capital_question": CAPITAL_QUESTION}
        asked = {
            key: request
            for key, request in wanted.items()
            if request_context.client_supports({request["method"].split("/")[0]: {}})
        }
        answers = await request_context.request_input(asked) if asked else {}
        return f"answered {', '.join(sorted(answers)) or 'nothing'}"

    @prompts.register
    async def test_input_required_result_prompt() -> str:
        """A prompt that asks the user for context first."""
        answer = await current_request_context().elicit(
            "What context should the prompt use?",
            {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]},
        )
        return f"Context: {answer.get('content', {}).get('context')}"

    @tools.register(
        input_schema={
            "type": "object",
            "properties": {
                "region": {"type": "string", "x-mcp-header": "Region"},
                "query": {"type": "string"},
            },
            "required": ["region"],
        }
    )
    def run_query(region: str, query: str | None = None) -> str:
        """Runs a query in a region (the region travels in the `Mcp-Param-Region` header too)."""
        return f"ran {query!r} in {region}"

    # The tasks extension fixtures.

    @tools.register
    def greet(name: str) -> str:
        """Greets someone (never a task)."""
        return f"Hello, {name}!"

    @tools.register(execution=TASK_TOOL)
    async def slow_compute(seconds: float, label: str | None = None) -> str:
        """Sleeps `seconds`, then answers (a task when the client offers the extension)."""
        await asyncio.sleep(seconds)
        return f"computed {label or ''} after {seconds}s"

    @tools.register(execution={"taskSupport": "required"})
    async def failing_job() -> dict[str, Any]:
        """Always ends with a tool error, after a second."""
        await asyncio.sleep(1)
        return {"isError": True, "content": [_text("failing_job failed on purpose")]}

    @tools.register(execution=TASK_TOOL)
    async def protocol_error_job() -> str:
        """Always ends with a protocol error."""
        raise MCPError(ErrorCode.INTERNAL_ERROR, "protocol_error_job failed on purpose")

    @tools.register
    async def test_tool_with_task(request_context: RequestContext) -> str:
        """Asks the user's name on the call, then finishes as a task (when the client offers tasks)."""
        answer = (await request_context.request_input({"user_name": NAME_FORM}))["user_name"]
        name = answer.get("content", {}).get("name")

        async def finish() -> str:
            await asyncio.sleep(0.1)
            return f"Hello, {name}, from a task"

        return str(await request_context.continue_as_task(finish))

    confirm_schema = {
        "type": "object",
        "properties": {"confirm": {"type": "boolean"}, "name": {"type": "string"}},
    }

    @tools.register(execution=TASK_TOOL)
    async def confirm_delete(filename: str, request_context: RequestContext) -> str:
        """Deletes a file once the user confirms (as a task, it waits in `input_required`)."""
        answer = await request_context.elicit(f"Delete `{filename}`?", confirm_schema)
        confirmed = answer.get("action") == "accept" and answer.get("content", {}).get("confirm") is True
        return f"{'deleted' if confirmed else 'kept'} {filename}"

    @tools.register(execution=TASK_TOOL)
    async def multi_input(request_context: RequestContext) -> str:
        """Asks two questions at once."""
        answers = await request_context.request_input(
            {
                "first": elicitation("First answer?", confirm_schema),
                "second": elicitation("Second answer?", confirm_schema),
            }
        )
        return f"answered {', '.join(sorted(answers))}"


app = build_app()
