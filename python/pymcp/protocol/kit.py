"""pymcp-kit 0.3.0's `pymcp.protocol` helpers: constants, JSON-RPC envelopes and checks, over ours."""

from __future__ import annotations

from typing import Any

from pymcp._unsupported import unsupported, unsupported_function
from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.versions import STABLE_VERSIONS

__all__ = [
    "DEFAULT_MCP_APPS_UI_MIME_TYPES",
    "MCP_APPS_UI",
    "MCP_ENTERPRISE_MANAGED_AUTHORIZATION",
    "MCP_OAUTH_CLIENT_CREDENTIALS",
    "MCP_TASKS",
    "JSONArray",
    "JSONObject",
    "JSONValue",
    "MCPError",
    "MCPErrorCode",
    "PayloadFactory",
    "RPCId",
    "build_error_envelope",
    "build_result_envelope",
    "get_payload_factory",
    "is_notification",
    "negotiate_protocol_version",
    "validate_against_schema",
    "validate_jsonrpc_request",
    "validate_rpc_id",
    "validate_tool_arguments",
]

JSONValue = Any
JSONObject = dict[str, Any]
JSONArray = list[Any]
RPCId = str | int | None

MCP_TASKS = "io.modelcontextprotocol/tasks"
MCP_APPS_UI = "io.modelcontextprotocol/ui"
MCP_ENTERPRISE_MANAGED_AUTHORIZATION = "io.modelcontextprotocol/enterprise-managed-authorization"
MCP_OAUTH_CLIENT_CREDENTIALS = "io.modelcontextprotocol/oauth-client-credentials"
DEFAULT_MCP_APPS_UI_MIME_TYPES: tuple[str, ...] = ("text/html;profile=mcp-app",)


class MCPErrorCode:
    """0.3.0's error code constants (`pymcp.errors.ErrorCode` is the enum the server uses).

    0.3.0 had two "session not found" codes; the server answers -32001 everywhere.
    """

    PARSE_ERROR = int(ErrorCode.PARSE_ERROR)
    INVALID_REQUEST = int(ErrorCode.INVALID_REQUEST)
    METHOD_NOT_FOUND = int(ErrorCode.METHOD_NOT_FOUND)
    INVALID_PARAMS = int(ErrorCode.INVALID_PARAMS)
    INTERNAL_ERROR = int(ErrorCode.INTERNAL_ERROR)
    SESSION_NOT_FOUND = -32000
    SESSION_EXPIRED = int(ErrorCode.SESSION_NOT_FOUND)
    RESOURCE_NOT_FOUND = int(ErrorCode.RESOURCE_NOT_FOUND)
    TOOL_EXECUTION_FAILED = int(ErrorCode.TOOL_EXECUTION_FAILED)
    CANCELLED = int(ErrorCode.CANCELLED)
    TIMEOUT = int(ErrorCode.TIMEOUT)
    UNAUTHORIZED = int(ErrorCode.UNAUTHORIZED)
    FORBIDDEN = int(ErrorCode.FORBIDDEN)
    RATE_LIMITED = int(ErrorCode.RATE_LIMITED)
    URL_ELICITATION_REQUIRED = int(ErrorCode.URL_ELICITATION_REQUIRED)
    HEADER_MISMATCH = int(ErrorCode.HEADER_MISMATCH)
    MISSING_REQUIRED_CLIENT_CAPABILITY = int(ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY)
    UNSUPPORTED_PROTOCOL_VERSION = int(ErrorCode.UNSUPPORTED_PROTOCOL_VERSION)


def negotiate_protocol_version(
    requested_version: str | None, settings: Any = None
) -> tuple[str | None, str | None]:
    """(version, None) when `initialize` can settle on one, else (None, the reason), like 0.3.0."""
    versions = tuple(getattr(settings, "served_versions", None) or STABLE_VERSIONS)
    if not requested_version:
        return versions[0], None
    if requested_version in versions:
        return requested_version, None
    return None, f"Unsupported protocolVersion '{requested_version}'. Supported: {', '.join(versions)}"


def build_result_envelope(rpc_id: RPCId, result: JSONObject) -> JSONObject:
    return {"jsonrpc": "2.0", "id": rpc_id, "result": result}


def build_error_envelope(rpc_id: RPCId, code: int, message: str, data: JSONValue = None) -> JSONObject:
    return {"jsonrpc": "2.0", "id": rpc_id, "error": MCPError(code, message, data).to_error()}


def is_notification(payload: JSONObject) -> bool:
    """A message with a method and no id."""
    return "method" in payload and "id" not in payload


def validate_rpc_id(rpc_id: object) -> bool:
    """A request id is a string or an integer (not a bool)."""
    return isinstance(rpc_id, str | int) and not isinstance(rpc_id, bool)


_PROTOCOL = "messages are parsed and checked by `pymcp.protocol.parse` (errors come back as `InvalidMessage`)"
validate_jsonrpc_request = unsupported_function("pymcp.protocol.validate_jsonrpc_request", _PROTOCOL)
_ARGUMENTS = (
    "tool arguments are checked against the tool schema on each call (`ToolDefinition.check_arguments`)"
)
validate_against_schema = unsupported_function("pymcp.protocol.validate_against_schema", _ARGUMENTS)
validate_tool_arguments = unsupported_function("pymcp.protocol.validate_tool_arguments", _ARGUMENTS)
_PAYLOADS = (
    "results are shaped by the dispatcher for each revision; build envelopes with `build_result_envelope`"
)
PayloadFactory = unsupported("pymcp.protocol.PayloadFactory", _PAYLOADS)
get_payload_factory = unsupported_function("pymcp.protocol.get_payload_factory", _PAYLOADS)
