"""Any JSON a client can send gets a clear `MCPError` (or passes), never another exception."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from conformance_server import NAME_FORM
from pymcp.errors import MCPError
from pymcp.protocol.stateless.envelope import validate_request
from pymcp.protocol.stateless.headers import RequestHeaders, decode_header_value
from pymcp.protocol.stateless.input_required import list_roots, read_input_responses, sampling
from pymcp.protocol.stateless.param_headers import check_param_headers, header_map
from pymcp.protocol.stateless.request_state import RequestStateCodec
from pymcp.protocol.stateless.subscriptions import SubscriptionFilter

from .conftest import SUPPORTED, meta

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
header_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x2FF), max_size=30)
CODEC = RequestStateCodec([b"k" * 32])
# the questions of the fixture server's `test_input_required_result_multiple_inputs`, asked in one round
ASKED = {
    "user_name": NAME_FORM,
    "greeting": sampling("Generate a greeting", 50),
    "client_roots": list_roots(),
}
REGION_SCHEMA = {
    "type": "object",
    "properties": {"region": {"type": "string", "x-mcp-header": "Region"}, "query": {"type": "string"}},
    "required": ["region"],
}


def passes_or_mcp_error(call: Any) -> None:
    refusal: MCPError | None = None
    try:
        call()
    except MCPError as error:
        refusal = error
    if refusal is not None:
        assert refusal.message
        assert refusal.message == refusal.message.strip()


@given(
    st.text(max_size=20),
    json_values,
    st.none() | st.builds(RequestHeaders, header_text, header_text, header_text),
)
def test_validate_request(method: str, params: Any, headers: RequestHeaders | None) -> None:
    passes_or_mcp_error(lambda: validate_request(method, params, headers, supported_versions=SUPPORTED))


@given(json_values, st.dictionaries(st.sampled_from(sorted(meta())), json_values))
def test_validate_request_meta_values(extra: Any, meta_values: dict[str, Any]) -> None:
    params = {"name": extra, "_meta": {**meta(), **meta_values}}
    passes_or_mcp_error(lambda: validate_request("tools/call", params, None, supported_versions=SUPPORTED))


@given(st.lists(st.tuples(header_text, header_text), max_size=6))
def test_header_pairs(pairs: list[tuple[str, str]]) -> None:
    passes_or_mcp_error(lambda: RequestHeaders.from_pairs(pairs))


@given(header_text)
def test_header_values(value: str) -> None:
    reason = ""
    try:
        decode_header_value(value)
    except ValueError as error:
        reason = str(error) or "empty"
    assert reason != "empty"


@given(json_values, st.dictionaries(st.sampled_from(sorted(ASKED)), json_values))
def test_input_responses(raw: Any, keyed: dict[str, Any]) -> None:
    passes_or_mcp_error(lambda: read_input_responses({"inputResponses": raw}, ASKED))
    passes_or_mcp_error(lambda: read_input_responses({"inputResponses": keyed}, ASKED))


@given(json_values | st.text(alphabet="v1.-_abcXYZ0123=", max_size=80))
def test_request_state_tokens(token: Any) -> None:
    passes_or_mcp_error(lambda: CODEC.open(token, caller=None, method="tools/call", params={}))


@given(json_values, json_values)
def test_subscription_filters(notifications: Any, capabilities: Any) -> None:
    caps = capabilities if isinstance(capabilities, dict) else {}
    passes_or_mcp_error(lambda: SubscriptionFilter.read({"notifications": notifications}, caps))


@given(
    st.dictionaries(st.sampled_from(["region", "query"]), json_values),
    st.dictionaries(header_text, header_text),
)
def test_param_headers(arguments: dict[str, Any], raw: dict[str, str]) -> None:
    headers = RequestHeaders(params={name.lower(): value for name, value in raw.items()})
    passes_or_mcp_error(lambda: check_param_headers(header_map(REGION_SCHEMA), arguments, headers))
