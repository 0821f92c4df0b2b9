"""Per-request `_meta` of revision 2026-07-28: validation, era routing and client capabilities.

Every 2026-07-28 request is self-describing. `params._meta` must carry the protocol version and the
client capabilities (client info is optional); over HTTP the routing headers must repeat the body.
`validate_request` checks one request in a fixed order, first failure wins:

1. `params` is an object whose `_meta` carries the two required keys with the right types
   → else -32602 (HTTP 400);
2. over HTTP, `MCP-Protocol-Version`, `Mcp-Method` and (for named methods) `Mcp-Name` are present and
   equal the body → else -32020 `HeaderMismatch` (HTTP 400); checked before the version so a client that
   disagrees with itself hears about that rather than about an unsupported version;
3. the version is served → else -32022 `UnsupportedProtocolVersion` with `{supported, requested}` (400).

Capabilities are declared per request and never remembered: `StatelessRequest.require` raises
-32021 `MissingRequiredClientCapability` (400) naming what is missing as a `ClientCapabilities` object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.headers import NAME_FIELDS, RequestHeaders, decode_header_value, header_mismatch
from pymcp.protocol.versions import DRAFT_VERSIONS, KNOWN_VERSIONS

__all__ = [
    "CLIENT_CAPABILITIES_KEY",
    "CLIENT_INFO_KEY",
    "HANDSHAKE_VERSIONS",
    "LOG_LEVELS",
    "LOG_LEVEL_KEY",
    "PROTOCOL_VERSION_KEY",
    "REMOVED_METHODS",
    "STATELESS_HTTP_STATUS",
    "TASKS_EXTENSION",
    "TASK_METHODS",
    "Era",
    "StatelessRequest",
    "carries_stateless_meta",
    "check_method",
    "http_status_for",
    "missing_capabilities",
    "route_http",
    "stateless_error",
    "unsupported_version",
    "validate_notification",
    "validate_request",
]

PROTOCOL_VERSION_KEY = "io.modelcontextprotocol/protocolVersion"
CLIENT_INFO_KEY = "io.modelcontextprotocol/clientInfo"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
LOG_LEVEL_KEY = "io.modelcontextprotocol/logLevel"
TASKS_EXTENSION = "io.modelcontextprotocol/tasks"

# Least to most severe, as in the logging utility.
LOG_LEVELS: tuple[str, ...] = (
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
)
# Revisions reached through `initialize`; anything else in a version header is a stateless request.
HANDSHAKE_VERSIONS: frozenset[str] = KNOWN_VERSIONS - frozenset(DRAFT_VERSIONS)
# Methods of the session revisions that 2026-07-28 dropped: a stateless request for one is -32601 / 404.
REMOVED_METHODS: frozenset[str] = frozenset(
    (
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
        "resources/unsubscribe",
        "tasks/list",
        "tasks/result",
    )
)
# The tasks extension's methods; served only when the server offers the extension.
TASK_METHODS: frozenset[str] = frozenset(("tasks/get", "tasks/update", "tasks/cancel"))
# HTTP status of a JSON-RPC error answering a stateless POST (any other code answers 200).
STATELESS_HTTP_STATUS: Mapping[int, int] = {
    ErrorCode.PARSE_ERROR: 400,
    ErrorCode.INVALID_REQUEST: 400,
    ErrorCode.INVALID_PARAMS: 400,
    ErrorCode.HEADER_MISMATCH: 400,
    ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY: 400,
    ErrorCode.UNSUPPORTED_PROTOCOL_VERSION: 400,
    ErrorCode.METHOD_NOT_FOUND: 404,
}

Era = Literal["stateless", "session"]


def _invalid_meta(message: str) -> MCPError:
    return MCPError(ErrorCode.INVALID_PARAMS, message, http_status=400)


def http_status_for(error: MCPError) -> int:
    """The status of a stateless POST answered by `error`: its own (401/403/…) if set, else the table."""
    if error.http_status != 200:
        return error.http_status
    return STATELESS_HTTP_STATUS.get(error.code, 200)


def _unsupported(message: str, requested: str, supported: Sequence[str]) -> MCPError:
    return MCPError(
        ErrorCode.UNSUPPORTED_PROTOCOL_VERSION,
        message,
        {"supported": list(supported), "requested": requested},
        http_status=400,
    )


def stateless_error(error: MCPError) -> MCPError:
    """`error` as a 2026-07-28 answer: -32002 (resource not found) became -32602, data kept.

    2026-07-28 forbids emitting -32002; handlers keep one code and the stateless path maps it here.
    """
    if error.code != ErrorCode.RESOURCE_NOT_FOUND:
        return error
    return MCPError(
        ErrorCode.INVALID_PARAMS, error.message, error.data, http_status=400, headers=error.headers
    )


def unsupported_version(requested: str, supported: Sequence[str]) -> MCPError:
    """The -32022 error for a version this server does not serve (HTTP 400)."""
    return _unsupported(
        f"protocol version `{requested}` is not supported (supported: {', '.join(supported)})",
        requested,
        supported,
    )


def missing_capabilities(declared: Mapping[str, Any], required: Mapping[str, Any]) -> dict[str, Any]:
    """The part of `required` (a `ClientCapabilities`-shaped object) that `declared` lacks; `{}` if none.

    `{"sampling": {}}` needs the `sampling` key; nested keys (`{"extensions": {TASKS_EXTENSION: {}}}`)
    need every step. An `elicitation` object that names neither `form` nor `url` means form support,
    as it did before the modes existed.
    """
    missing: dict[str, Any] = {}
    for key, sub in required.items():
        have = declared.get(key)
        if not isinstance(have, Mapping):
            missing[key] = dict(sub) if isinstance(sub, Mapping) else sub
            continue
        if not isinstance(sub, Mapping) or not sub:
            continue
        if key == "elicitation" and "form" not in have and "url" not in have:
            have = {**have, "form": {}}
        if deeper := missing_capabilities(have, sub):
            missing[key] = deeper
    return missing


@dataclass(slots=True)  # not frozen: one is made per request, and a frozen `__init__` costs 3 times as much
class StatelessRequest:
    """What one valid 2026-07-28 request says about its client; nothing of it outlives the request
    (read-only by convention)."""

    protocol_version: str
    client_capabilities: Mapping[str, Any]
    client_info: Mapping[str, Any] | None = None
    log_level: str | None = None

    def supports(self, required: Mapping[str, Any]) -> bool:
        """Whether the client declared everything in `required` (e.g. `{"sampling": {}}`)."""
        return not missing_capabilities(self.client_capabilities, required)

    def require(self, required: Mapping[str, Any]) -> None:
        """Raise -32021 (HTTP 400) naming what the client did not declare of `required`."""
        missing = missing_capabilities(self.client_capabilities, required)
        if missing:
            names = ", ".join(f"`{name}`" for name in sorted(missing))
            raise MCPError(
                ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY,
                f"this request needs the client capability {names}, which the request did not declare",
                {"requiredCapabilities": missing},
                http_status=400,
            )

    def logs(self, level: str) -> bool:
        """Whether a `notifications/message` at `level` may go out for this request (never without opt-in)."""
        if self.log_level is None or level not in LOG_LEVELS:
            return False
        return LOG_LEVELS.index(level) >= LOG_LEVELS.index(self.log_level)


def _is_mapping(value: object) -> TypeGuard[Mapping[str, Any]]:
    """`isinstance(value, Mapping)`; JSON's dicts (nearly every value here) skip the ABC machinery."""
    return type(value) is dict or isinstance(value, Mapping)


def _read_meta(params: object) -> StatelessRequest:
    # Runs on every request: the `type(...) is dict` tests spare most values a call to `_is_mapping`.
    if params is None:
        params = {}
    if type(params) is not dict and not _is_mapping(params):
        raise _invalid_meta("`params` must be an object carrying `_meta`")
    meta = params.get("_meta")
    if meta is None:
        raise _invalid_meta(
            f"`params._meta` is required and must carry `{PROTOCOL_VERSION_KEY}` "
            f"and `{CLIENT_CAPABILITIES_KEY}`"
        )
    if type(meta) is not dict and not _is_mapping(meta):
        raise _invalid_meta("`params._meta` must be an object")
    if PROTOCOL_VERSION_KEY not in meta or CLIENT_CAPABILITIES_KEY not in meta:
        missing = [key for key in (PROTOCOL_VERSION_KEY, CLIENT_CAPABILITIES_KEY) if key not in meta]
        names = " and ".join(f"`{key}`" for key in missing)
        raise _invalid_meta(f"`params._meta` is missing {names}")
    version = meta[PROTOCOL_VERSION_KEY]
    if not isinstance(version, str):
        raise _invalid_meta(f"`{PROTOCOL_VERSION_KEY}` must be a string")
    capabilities = meta[CLIENT_CAPABILITIES_KEY]
    if type(capabilities) is not dict and not _is_mapping(capabilities):
        raise _invalid_meta(f"`{CLIENT_CAPABILITIES_KEY}` must be an object")
    client_info = meta.get(CLIENT_INFO_KEY)
    if client_info is not None and not (
        _is_mapping(client_info)
        and isinstance(client_info.get("name"), str)
        and isinstance(client_info.get("version"), str)
    ):
        raise _invalid_meta(f"`{CLIENT_INFO_KEY}` must be an object with string `name` and `version`")
    log_level = meta.get(LOG_LEVEL_KEY)
    if log_level is not None and log_level not in LOG_LEVELS:
        raise _invalid_meta(f"`{LOG_LEVEL_KEY}` must be one of {', '.join(LOG_LEVELS)}")
    return StatelessRequest(version, capabilities, client_info, log_level)


def _check_headers(method: str, params: Mapping[str, Any], version: str, headers: RequestHeaders) -> None:
    if headers.protocol_version is None:
        raise header_mismatch("header `MCP-Protocol-Version` is required")
    if headers.protocol_version != version:
        raise header_mismatch(
            f"header `MCP-Protocol-Version` is `{headers.protocol_version}` but `_meta` says `{version}`"
        )
    if headers.method is None:
        raise header_mismatch("header `Mcp-Method` is required")
    if headers.method != method:
        raise header_mismatch(f"header `Mcp-Method` is `{headers.method}` but the body method is `{method}`")
    field = NAME_FIELDS.get(method)
    body_name = params.get(field) if field is not None else None
    if not isinstance(body_name, str):
        return  # nothing to mirror; the handler reports the missing or bad field itself
    if headers.name is None:
        raise header_mismatch(f"header `Mcp-Name` is required for `{method}`")
    try:
        name = decode_header_value(headers.name)
    except ValueError as exc:
        raise header_mismatch(f"header `Mcp-Name` is malformed: {exc}") from None
    if name != body_name:
        raise header_mismatch(f"header `Mcp-Name` does not match `params.{field}`")


def validate_request(
    method: str,
    params: object,
    headers: RequestHeaders | None,
    *,
    supported_versions: Sequence[str],
) -> StatelessRequest:
    """Check one stateless request; `headers` is `None` off HTTP (stdio has no routing headers).

    Raises `MCPError` (-32602, -32020 or -32022, each with `http_status=400`) on the first failure.
    """
    if method == "initialize" and not carries_stateless_meta(params):
        # A handshake client reached a stateless-only server: name what it could speak instead.
        requested = params.get("protocolVersion") if _is_mapping(params) else None
        raise _unsupported(
            "`initialize` is not served here: send each request with per-request `_meta` at one of "
            + ", ".join(supported_versions),
            requested if isinstance(requested, str) else "",
            supported_versions,
        )
    request = _read_meta(params)
    if headers is not None:
        body = params if type(params) is dict or _is_mapping(params) else {}
        _check_headers(method, body, request.protocol_version, headers)
    if request.protocol_version not in supported_versions:
        raise unsupported_version(request.protocol_version, supported_versions)
    return request


def validate_notification(headers: RequestHeaders, *, supported_versions: Sequence[str]) -> None:
    """Accept a notification POST (answered 202 and dropped) unless its version header is unsupported.

    2026-07-28 defines no client notifications over HTTP, nor header rules for them.
    """
    if headers.protocol_version is not None and headers.protocol_version not in supported_versions:
        raise unsupported_version(headers.protocol_version, supported_versions)


def check_method(method: str, *, tasks_extension: bool) -> None:
    """Raise -32601 (HTTP 404) for a method that does not exist at 2026-07-28 on this server.

    Methods outside `REMOVED_METHODS` and the task methods are left to the dispatcher's own table.
    """
    if method in REMOVED_METHODS:
        raise MCPError(
            ErrorCode.METHOD_NOT_FOUND,
            f"method `{method}` does not exist in protocol revision 2026-07-28",
            http_status=404,
        )
    if method in TASK_METHODS and not tasks_extension:
        raise MCPError(
            ErrorCode.METHOD_NOT_FOUND,
            f"method `{method}` needs the `{TASKS_EXTENSION}` extension, which this server does not offer",
            http_status=404,
        )


def carries_stateless_meta(params: object) -> bool:
    """Whether a request body declares a per-request protocol version in `params._meta`."""
    if not _is_mapping(params):
        return False
    meta = params.get("_meta")
    return _is_mapping(meta) and PROTOCOL_VERSION_KEY in meta


def route_http(mode: str, headers: RequestHeaders, *, has_session_id: bool, stateless_meta: bool) -> Era:
    """Which era serves one POST on the endpoint both eras use.

    "stable" serves sessions only and "draft" stateless only. "dual": a version header that is not a
    handshake revision (2026-07-28, or an unknown one that then gets -32022) picks stateless; without
    a version header, a session id picks the session and a body `_meta` version picks stateless (and
    is then told the header is missing); an unknown version header picks the session when a session
    id comes with it; everything else, `initialize` first of all, is a session.
    """
    if mode == "stable":
        return "session"
    if mode == "draft":
        return "stateless"
    if headers.protocol_version is not None:
        if headers.protocol_version in HANDSHAKE_VERSIONS:
            return "session"
        # An unknown version on a session's request is the session's error to report.
        return "session" if has_session_id and headers.protocol_version not in DRAFT_VERSIONS else "stateless"
    if has_session_id:
        return "session"
    return "stateless" if stateless_meta else "session"
