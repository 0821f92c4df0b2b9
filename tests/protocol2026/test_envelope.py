"""Per-request `_meta`, header/body agreement, versions, removed methods and client capabilities."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.envelope import (
    CLIENT_CAPABILITIES_KEY,
    CLIENT_INFO_KEY,
    LOG_LEVEL_KEY,
    PROTOCOL_VERSION_KEY,
    TASKS_EXTENSION,
    StatelessRequest,
    carries_stateless_meta,
    check_method,
    http_status_for,
    missing_capabilities,
    route_http,
    stateless_error,
    validate_notification,
    validate_request,
)
from pymcp.protocol.stateless.headers import RequestHeaders, encode_header_value

from .conftest import SUPPORTED, VERSION, meta, schema_errors


def headers_for(method: str, name: str | None = None, version: str = VERSION) -> RequestHeaders:
    return RequestHeaders(protocol_version=version, method=method, name=name)


def rejected(method: str, params: Any, headers: RequestHeaders | None) -> MCPError:
    with pytest.raises(MCPError) as caught:
        validate_request(method, params, headers, supported_versions=SUPPORTED)
    return caught.value


def test_a_complete_request_yields_what_the_client_declared() -> None:
    params = {
        "name": "get_weather",
        "arguments": {},
        "_meta": meta({"sampling": {}}, **{LOG_LEVEL_KEY: "info"}),
    }
    request = validate_request(
        "tools/call", params, headers_for("tools/call", "get_weather"), supported_versions=SUPPORTED
    )
    assert request == StatelessRequest(
        protocol_version=VERSION,
        client_capabilities={"sampling": {}},
        client_info={"name": "tests", "version": "1.0"},
        log_level="info",
    )


def test_client_info_is_optional() -> None:
    params = {"_meta": {PROTOCOL_VERSION_KEY: VERSION, CLIENT_CAPABILITIES_KEY: {}}}
    request = validate_request(
        "server/discover", params, headers_for("server/discover"), supported_versions=SUPPORTED
    )
    assert request.client_info is None


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (None, "`params._meta` is required"),
        ({}, "`params._meta` is required"),
        ([1, 2], "`params` must be an object"),
        ({"_meta": []}, "`params._meta` must be an object"),
        ({"_meta": {CLIENT_CAPABILITIES_KEY: {}}}, f"missing `{PROTOCOL_VERSION_KEY}`"),
        ({"_meta": {PROTOCOL_VERSION_KEY: VERSION}}, f"missing `{CLIENT_CAPABILITIES_KEY}`"),
        ({"_meta": {}}, f"missing `{PROTOCOL_VERSION_KEY}` and `{CLIENT_CAPABILITIES_KEY}`"),
        ({"_meta": {PROTOCOL_VERSION_KEY: 2026, CLIENT_CAPABILITIES_KEY: {}}}, "must be a string"),
        ({"_meta": {PROTOCOL_VERSION_KEY: VERSION, CLIENT_CAPABILITIES_KEY: []}}, "must be an object"),
        ({"_meta": meta(**{CLIENT_INFO_KEY: {"name": "x"}})}, "string `name` and `version`"),
        ({"_meta": meta(**{LOG_LEVEL_KEY: "verbose"})}, "must be one of debug"),
    ],
)
def test_malformed_meta_is_invalid_params_with_400(params: Any, message: str) -> None:
    error = rejected("tools/list", params, headers_for("tools/list"))
    assert (error.code, error.http_status) == (ErrorCode.INVALID_PARAMS, 400)
    assert message in error.message


def test_meta_is_checked_before_headers() -> None:
    # The official suite sends a 2026 version header with a `_meta` lacking the version: -32602, not -32020.
    error = rejected(
        "server/discover", {"_meta": {CLIENT_CAPABILITIES_KEY: {}}}, headers_for("server/discover")
    )
    assert error.code == ErrorCode.INVALID_PARAMS


@pytest.mark.parametrize(
    ("method", "params", "headers", "message"),
    [
        ("tools/list", {}, RequestHeaders(method="tools/list"), "`MCP-Protocol-Version` is required"),
        ("tools/list", {}, headers_for("tools/list", version="2025-11-25"), "but `_meta` says `2026-07-28`"),
        ("tools/list", {}, RequestHeaders(protocol_version=VERSION), "`Mcp-Method` is required"),
        ("tools/list", {}, headers_for("prompts/list"), "body method is `tools/list`"),
        ("tools/list", {}, headers_for("TOOLS/LIST"), "body method is `tools/list`"),
        ("tools/call", {"name": "a"}, headers_for("tools/call"), "`Mcp-Name` is required for `tools/call`"),
        ("tools/call", {"name": "a"}, headers_for("tools/call", "b"), "does not match `params.name`"),
        ("resources/read", {"uri": "file:///a"}, headers_for("resources/read", "file:///b"), "`params.uri`"),
        ("tasks/get", {"taskId": "t1"}, headers_for("tasks/get", "t2"), "`params.taskId`"),
        ("prompts/get", {"name": "p"}, headers_for("prompts/get", "=?base64?cA?="), "malformed"),
    ],
)
def test_headers_must_match_the_body(
    method: str, params: dict[str, Any], headers: RequestHeaders, message: str
) -> None:
    error = rejected(method, {**params, "_meta": meta()}, headers)
    assert (error.code, error.http_status) == (ErrorCode.HEADER_MISMATCH, 400)
    assert message in error.message


@pytest.mark.parametrize("name", ["wëather", " spaced ", "=?base64?x?=", "plain"])
def test_mcp_name_may_be_base64_encoded(name: str) -> None:
    params = {"name": name, "_meta": meta()}
    headers = headers_for("prompts/get", encode_header_value(name))
    assert (
        validate_request("prompts/get", params, headers, supported_versions=SUPPORTED).protocol_version
        == VERSION
    )


def test_mcp_name_is_not_required_when_the_body_has_no_name() -> None:
    # The handler answers the missing `name` itself (-32602); the header check has nothing to compare.
    validate_request("tools/call", {"_meta": meta()}, headers_for("tools/call"), supported_versions=SUPPORTED)


def test_off_http_there_are_no_headers_to_check() -> None:
    validate_request("tools/call", {"name": "a", "_meta": meta()}, None, supported_versions=SUPPORTED)


def test_an_unsupported_version_lists_the_supported_ones() -> None:
    params = {"_meta": {**meta(), PROTOCOL_VERSION_KEY: "v999.0.0"}}
    error = rejected("server/discover", params, headers_for("server/discover", version="v999.0.0"))
    assert (error.code, error.http_status) == (ErrorCode.UNSUPPORTED_PROTOCOL_VERSION, 400)
    assert error.data == {"supported": ["2026-07-28"], "requested": "v999.0.0"}
    assert not schema_errors(
        "UnsupportedProtocolVersionError", {"jsonrpc": "2.0", "id": 1, "error": error.to_error()}
    )


def test_a_version_mismatch_wins_over_an_unsupported_version() -> None:
    params = {"_meta": {**meta(), PROTOCOL_VERSION_KEY: "v999.0.0"}}
    assert (
        rejected("server/discover", params, headers_for("server/discover")).code == ErrorCode.HEADER_MISMATCH
    )


def test_a_handshake_initialize_on_a_stateless_server_names_the_supported_versions() -> None:
    params = {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"},
    }
    error = rejected("initialize", params, None)
    assert error.code == ErrorCode.UNSUPPORTED_PROTOCOL_VERSION
    assert error.data == {"supported": ["2026-07-28"], "requested": "2025-11-25"}
    assert "2026-07-28" in error.message


def test_a_stateless_initialize_is_method_not_found() -> None:
    request = validate_request(
        "initialize", {"_meta": meta()}, headers_for("initialize"), supported_versions=SUPPORTED
    )
    with pytest.raises(MCPError) as caught:
        check_method("initialize", tasks_extension=False)
    assert request.protocol_version == VERSION
    assert (caught.value.code, caught.value.http_status) == (ErrorCode.METHOD_NOT_FOUND, 404)


@pytest.mark.parametrize(
    "method",
    ["initialize", "ping", "logging/setLevel", "resources/subscribe", "resources/unsubscribe", "tasks/list"],
)
def test_removed_methods_are_404(method: str) -> None:
    with pytest.raises(MCPError, match="does not exist in protocol revision 2026-07-28") as caught:
        check_method(method, tasks_extension=True)
    assert http_status_for(caught.value) == 404


def test_task_methods_need_the_extension() -> None:
    check_method("tasks/get", tasks_extension=True)
    check_method("tools/call", tasks_extension=False)
    with pytest.raises(MCPError, match=TASKS_EXTENSION):
        check_method("tasks/cancel", tasks_extension=False)


def test_notifications_are_accepted_unless_their_version_is_unsupported() -> None:
    validate_notification(RequestHeaders(protocol_version=VERSION), supported_versions=SUPPORTED)
    validate_notification(RequestHeaders(), supported_versions=SUPPORTED)
    with pytest.raises(MCPError) as caught:
        validate_notification(RequestHeaders(protocol_version="1999-01-01"), supported_versions=SUPPORTED)
    assert caught.value.code == ErrorCode.UNSUPPORTED_PROTOCOL_VERSION


@pytest.mark.parametrize(
    ("declared", "required", "missing"),
    [
        ({}, {"sampling": {}}, {"sampling": {}}),
        ({"sampling": {}}, {"sampling": {}}, {}),
        ({"sampling": {}}, {"sampling": {"tools": {}}}, {"sampling": {"tools": {}}}),
        ({"elicitation": {}}, {"elicitation": {"form": {}}}, {}),
        ({"elicitation": {}}, {"elicitation": {"url": {}}}, {"elicitation": {"url": {}}}),
        ({"elicitation": {"url": {}}}, {"elicitation": {"form": {}}}, {"elicitation": {"form": {}}}),
        ({"extensions": {}}, {"extensions": {TASKS_EXTENSION: {}}}, {"extensions": {TASKS_EXTENSION: {}}}),
        ({"extensions": {TASKS_EXTENSION: {}}}, {"extensions": {TASKS_EXTENSION: {}}}, {}),
        ({"roots": True}, {"roots": {}}, {"roots": {}}),
    ],
)
def test_missing_capabilities(
    declared: dict[str, Any], required: dict[str, Any], missing: dict[str, Any]
) -> None:
    assert missing_capabilities(declared, required) == missing


def test_require_raises_missing_required_client_capability() -> None:
    request = StatelessRequest(protocol_version=VERSION, client_capabilities={"roots": {}})
    request.require({"roots": {}})
    with pytest.raises(MCPError, match="`sampling`") as caught:
        request.require({"sampling": {}, "roots": {}})
    error = caught.value
    assert (error.code, error.http_status) == (ErrorCode.MISSING_REQUIRED_CLIENT_CAPABILITY, 400)
    assert error.data == {"requiredCapabilities": {"sampling": {}}}
    body = {"jsonrpc": "2.0", "id": 7, "error": error.to_error()}
    assert not schema_errors("MissingRequiredClientCapabilityError", body)


def test_log_messages_need_an_opt_in_at_or_below_their_level() -> None:
    silent = StatelessRequest(protocol_version=VERSION, client_capabilities={})
    warned = StatelessRequest(protocol_version=VERSION, client_capabilities={}, log_level="warning")
    assert not silent.logs("emergency")
    assert warned.logs("error")
    assert warned.logs("warning")
    assert not warned.logs("info")
    assert not warned.logs("bogus")


def test_http_status_table() -> None:
    assert http_status_for(MCPError(ErrorCode.INVALID_PARAMS, "x")) == 400
    assert http_status_for(MCPError(ErrorCode.METHOD_NOT_FOUND, "x")) == 404
    assert http_status_for(MCPError(ErrorCode.INTERNAL_ERROR, "x")) == 200
    assert http_status_for(MCPError(ErrorCode.FORBIDDEN, "x", http_status=403)) == 403


@pytest.mark.parametrize(
    ("mode", "version", "session", "stateless_meta", "era"),
    [
        ("stable", VERSION, False, True, "session"),
        ("draft", None, True, False, "stateless"),
        ("dual", VERSION, True, False, "stateless"),
        ("dual", "v999.0.0", False, True, "stateless"),
        ("dual", "2025-11-25", True, False, "session"),
        ("dual", "2025-06-18", False, True, "session"),
        ("dual", None, True, True, "session"),
        ("dual", None, False, True, "stateless"),
        ("dual", None, False, False, "session"),
    ],
)
def test_dual_routing(mode: str, version: str | None, session: bool, stateless_meta: bool, era: str) -> None:
    headers = RequestHeaders(protocol_version=version)
    assert route_http(mode, headers, has_session_id=session, stateless_meta=stateless_meta) == era


def test_carries_stateless_meta() -> None:
    assert carries_stateless_meta({"_meta": meta()})
    assert not carries_stateless_meta({"_meta": {"progressToken": 1}})
    assert not carries_stateless_meta({"protocolVersion": VERSION})
    assert not carries_stateless_meta(None)


def test_resource_not_found_becomes_invalid_params() -> None:
    error = stateless_error(
        MCPError(ErrorCode.RESOURCE_NOT_FOUND, "resource not found: `test://x`", {"uri": "test://x"})
    )
    assert (error.code, error.data, error.http_status) == (ErrorCode.INVALID_PARAMS, {"uri": "test://x"}, 400)
    other = MCPError(ErrorCode.INTERNAL_ERROR, "internal error")
    assert stateless_error(other) is other
