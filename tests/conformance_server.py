"""The server the official MCP conformance suite runs against (`conformance server --url .../mcp`).

Built only with pymcp's public API. Run it by hand with
`uvicorn conformance_server:app --app-dir tests --port 3001`.
"""

from __future__ import annotations

import asyncio
import base64
import io
import struct
import wave
from typing import Any

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.server import RequestContext

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
                    "type": "object",
                    "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                }
            },
            "properties": {"name": {"type": "string"}, "address": {"$ref": "#/$defs/address"}},
            "additionalProperties": False,
        }
    )
    def json_schema_2020_12_tool(name: str | None = None, address: dict[str, Any] | None = None) -> str:
        """A tool whose input schema uses JSON Schema 2020-12 features."""
        return f"name={name}, address={address}"

    @tools.register
    async def test_reconnection(request_context: RequestContext) -> str:
        """Closes its SSE stream mid-call; the result arrives when the client resumes."""
        await request_context.close_sse_stream()
        await asyncio.sleep(0.1)
        return "Reconnection test completed successfully"

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


app = build_app()
