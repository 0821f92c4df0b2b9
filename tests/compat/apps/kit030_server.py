"""An MCP server written only against pymcp-kit 0.3.0's documented API (it runs unchanged on 0.3.0).

It registers the conformance fixtures on the global registries, and reaches the client through 0.3.0's
helpers: `request_elicitation`, `request_sampling`, `send_log_message`, `request_context.report_progress`,
`task_context` and `cancel_token` in a task tool. Serve it with `uvicorn kit030_server:app`, or over
stdio with `python kit030_server.py --stdio`.
"""

import asyncio
import sys

from pymcp import (
    CapabilitySettings,
    ServerSettings,
    create_app,
    prompt_registry,
    resource_registry,
    run_stdio_server,
    tool_registry,
)
from pymcp.middleware import MiddlewareConfig
from pymcp.session import request_elicitation
from pymcp.session.notifications import send_log_message
from pymcp.session.sampling import request_sampling
from pymcp.tasks import get_task_manager

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQAAAAA="
EMBEDDED = {
    "uri": "test://embedded-resource",
    "mimeType": "text/plain",
    "text": "This is an embedded resource content.",
}


@tool_registry.register
def test_simple_text():
    """Returns a simple text response."""
    return "This is a simple text response for testing."


@tool_registry.register
def test_image_content():
    """Returns an image."""
    return [{"type": "image", "data": PNG, "mimeType": "image/png"}]


@tool_registry.register
def test_audio_content():
    """Returns audio."""
    return [{"type": "audio", "data": WAV, "mimeType": "audio/wav"}]


@tool_registry.register
def test_embedded_resource():
    """Returns an embedded resource."""
    return [{"type": "resource", "resource": EMBEDDED}]


@tool_registry.register
def test_multiple_content_types():
    """Returns text, an image and a resource."""
    return [
        {"type": "text", "text": "Multiple content types test:"},
        {"type": "image", "data": PNG, "mimeType": "image/png"},
        {"type": "resource", "resource": EMBEDDED},
    ]


@tool_registry.register
def test_error_handling():
    """Always fails, as a tool execution error."""
    return {
        "isError": True,
        "content": [{"type": "text", "text": "This tool intentionally returns an error"}],
    }


@tool_registry.register
async def test_tool_with_logging(request_context):
    """Sends three log messages while it runs."""
    for message in ("Tool execution started", "Tool processing data", "Tool execution completed"):
        await send_log_message(request_context.app, request_context.session_id, "info", data=message)
        await asyncio.sleep(0.05)
    return "Logging test completed"


@tool_registry.register
async def test_tool_with_progress(request_context):
    """Reports progress 0, 50 and 100 of 100."""
    for progress in (0, 50, 100):
        await request_context.report_progress(progress, 100, f"progress {progress}%")
        await asyncio.sleep(0.05)
    return "Progress test completed"


@tool_registry.register
async def test_sampling(prompt: str, request_context):
    """Asks the client's model to answer `prompt`."""
    result = await request_sampling(
        request_context.app,
        request_context.session_id,
        {"messages": [{"role": "user", "content": {"type": "text", "text": prompt}}], "maxTokens": 100},
    )
    return f"LLM response: {result.get('content', {}).get('text', '')}"


async def _elicit(request_context, message, schema):
    _, response = await request_elicitation(
        request_context.app, request_context.session_id, {"message": message, "requestedSchema": schema}
    )
    return response.get("result", {})


@tool_registry.register
async def test_elicitation(message: str, request_context):
    """Asks the user for a username and an email."""
    answer = await _elicit(
        request_context,
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


@tool_registry.register
async def test_elicitation_sep1034_defaults(request_context):
    """Elicitation whose fields all have defaults (SEP-1034)."""
    answer = await _elicit(
        request_context,
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


@tool_registry.register
async def test_elicitation_sep1330_enums(request_context):
    """Elicitation with every enum form of SEP-1330."""
    options = [{"const": "option1", "title": "First Option"}, {"const": "option2", "title": "Second Option"}]
    answer = await _elicit(
        request_context,
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


@tool_registry.register(execution={"taskSupport": "optional"})
async def count_slowly(steps: int, task_context=None, cancel_token=None):
    """Counts to `steps`, reporting progress; stops early when cancelled."""
    for step in range(1, steps + 1):
        if cancel_token is not None and cancel_token.is_cancelled():
            return f"cancelled at {step}"
        if task_context is not None:
            await task_context.send_progress(step, steps, f"step {step}")
        await asyncio.sleep(0.01)
    if task_context is not None:
        await task_context.finish_progress("done")
    return f"counted to {steps}"


@tool_registry.register
async def task_status(task_id: str, request_context):
    """The status of one of the caller's tasks, read through 0.3.0's task manager."""
    manager = get_task_manager(request_context.app)
    user = request_context.session_context.user
    record = await manager.get_task(task_id, request_context.session_id, principal=user)
    listed, _, _ = await manager.list_tasks(request_context.session_id, None, principal=user)
    return f"{record.to_wire()['status']} {[task.task_id for task in listed] == [task_id]}"


@resource_registry.register(uri="test://static-text", name="static-text", mime_type="text/plain")
def static_text():
    """A static text resource."""
    return "This is the content of the static text resource."


@resource_registry.register(uri="test://static-binary", name="static-binary", mime_type="image/png")
def static_binary():
    """A static binary resource (a PNG)."""
    import base64

    return base64.b64decode(PNG)


@resource_registry.register(uri="test://watched-resource", name="watched-resource", mime_type="text/plain")
def watched_resource():
    """A resource clients can subscribe to."""
    return "Watched resource content"


@resource_registry.register_template(
    uri_template="test://template/{id}/data", name="template", mime_type="application/json"
)
def template_data(id: str):
    """Data for one id."""
    return f'{{"id": "{id}", "templateTest": true, "data": "Data for ID: {id}"}}'


@resource_registry.register_template(uri_template="note://{uri}", name="note")
def note(uri: str):
    """A note; its variable is named like the optional `uri` parameter."""
    return f"note {uri}"


@prompt_registry.register
def test_simple_prompt():
    """A prompt without arguments."""
    return "This is a simple prompt for testing."


@prompt_registry.register(
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
def test_prompt_with_arguments(arg1: str, arg2: str):
    """A prompt with two arguments."""
    return f"Prompt with arguments: arg1='{arg1}', arg2='{arg2}'"


@prompt_registry.register(
    arguments=[{"name": "resourceUri", "description": "URI to embed", "required": True}]
)
def test_prompt_with_embedded_resource(resourceUri: str):
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
        {"role": "user", "content": {"type": "text", "text": "Please process the embedded resource above."}},
    ]


@prompt_registry.register
def test_prompt_with_image():
    """A prompt with an image."""
    return [
        {"role": "user", "content": {"type": "image", "data": PNG, "mimeType": "image/png"}},
        {"role": "user", "content": {"type": "text", "text": "Please analyze the image above."}},
    ]


app = create_app(
    middleware_config=MiddlewareConfig(
        cors={
            "allow_origins": ["http://localhost:3000"],
            "allow_credentials": False,
            "allow_methods": ["GET", "POST", "DELETE"],
            "allow_headers": ["*"],
        },
        logging={"level": "WARNING"},
        compression={"enabled": False},
    ),
    server_settings=ServerSettings(
        name="kit030-app",
        capabilities=CapabilitySettings(
            tools_list_changed=True,
            prompts_list_changed=True,
            resources_list_changed=True,
            resources_subscribe=True,
            logging_enabled=True,
            completions_enabled=True,
        ),
    ),
)

if __name__ == "__main__" and "--stdio" in sys.argv:
    run_stdio_server(app)
