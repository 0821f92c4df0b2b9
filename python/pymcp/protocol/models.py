"""pymcp-kit 0.3.0's pydantic wire models (needs the `pydantic` extra: `pip install pymcp-kit[pydantic]`).

Each model names the members the MCP schema requires and keeps any other member as given
(`extra="allow"`), so `Model(**wire).model_dump(by_alias=True, exclude_none=True)` round-trips.
"""

from __future__ import annotations

from typing import Any

try:
    from pydantic import BaseModel, ConfigDict, create_model
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        "pymcp's wire models need pydantic: install the `pydantic` extra (`pip install pymcp-kit[pydantic]`)"
    ) from error

__all__ = ["MODELS"]


class _WireModel(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


# name → (required members, {member: default})
_SHAPES: dict[str, tuple[tuple[str, ...], dict[str, Any]]] = {
    "Annotations": ((), {}),
    "AudioContent": (("data", "mimeType"), {"type": "audio"}),
    "CallToolRequestParams": (("name",), {}),
    "CallToolResult": ((), {}),
    "CancelledNotification": (("params",), {"jsonrpc": "2.0", "method": "notifications/cancelled"}),
    "CancelledNotificationParams": (("requestId",), {}),
    "ElicitationCompleteNotificationParams": (("elicitationId",), {}),
    "ElicitationCreateParams": (("message",), {}),
    "ElicitationResult": (("action",), {}),
    "EmbeddedResource": (("resource",), {"type": "resource"}),
    "GetPromptRequestParams": (("name",), {}),
    "GetPromptResult": (("messages",), {}),
    "ImageContent": (("data", "mimeType"), {"type": "image"}),
    "InitializeParams": ((), {}),
    "InitializeResult": (("protocolVersion", "capabilities", "serverInfo"), {}),
    "JSONRPCError": (("code", "message"), {}),
    "JSONRPCNotification": (("method",), {"jsonrpc": "2.0"}),
    "JSONRPCRequest": (("method",), {"jsonrpc": "2.0"}),
    "JSONRPCResponse": (("id",), {"jsonrpc": "2.0"}),
    "ListPromptsResult": (("prompts",), {}),
    "ListResourcesResult": (("resources",), {}),
    "ListRootsResult": (("roots",), {}),
    "ListToolsResult": (("tools",), {}),
    "ProgressNotification": (("params",), {"jsonrpc": "2.0", "method": "notifications/progress"}),
    "ProgressNotificationParams": ((), {}),
    "Prompt": (("name",), {}),
    "PromptArgument": (("name",), {}),
    "PromptMessage": (("role", "content"), {}),
    "ReadResourceRequestParams": (("uri",), {}),
    "ReadResourceResult": (("contents",), {}),
    "Resource": (("uri", "name"), {}),
    "ResourceLink": (("uri", "name"), {"type": "resource_link"}),
    "ResourceTemplate": (("uriTemplate", "name"), {}),
    "Root": (("uri",), {}),
    "ServerInfo": (("name", "version"), {}),
    "Task": (("taskId", "status", "createdAt", "lastUpdatedAt"), {}),
    "TasksListResult": (("tasks",), {}),
    "TextContent": (("text",), {"type": "text"}),
    "TextResourceContents": (("uri", "mimeType", "text"), {}),
    "Tool": (("name", "inputSchema"), {}),
    "ToolIcon": (("src",), {}),
}


def _model(name: str, required: tuple[str, ...], defaults: dict[str, Any]) -> type[BaseModel]:
    fields: dict[str, Any] = {member: (Any, ...) for member in required}
    fields.update({member: (Any, value) for member, value in defaults.items()})
    return create_model(name, __base__=_WireModel, __module__="pymcp.protocol", **fields)


MODELS: dict[str, type[BaseModel]] = {
    name: _model(name, required, defaults) for name, (required, defaults) in _SHAPES.items()
}
