"""The MCP wire protocol: JSON-RPC 2.0 messages (more modules land here: versions, schema, types)."""

from pymcp.protocol.jsonrpc import (
    InvalidMessage,
    Message,
    Notification,
    Request,
    Response,
    encode_batch,
    encode_error,
    encode_notification,
    encode_request,
    encode_result,
    parse,
)

__all__ = [
    "InvalidMessage",
    "Message",
    "Notification",
    "Request",
    "Response",
    "encode_batch",
    "encode_error",
    "encode_notification",
    "encode_request",
    "encode_result",
    "parse",
]
