"""JSON-RPC parsing (Rust, through the facade) against a table of bad inputs and the pure-Python oracle."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pydantic
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oracle import jsonrpc as oracle
from pymcp import _core
from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol import jsonrpc
from pymcp.protocol.jsonrpc import (
    MAX_DEPTH,
    InvalidMessage,
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

PARSE = ErrorCode.PARSE_ERROR
INVALID = ErrorCode.INVALID_REQUEST
I64_MAX = 2**63 - 1
I64_MIN = -(2**63)


def invalid_of(body: bytes) -> tuple[str | int | None, int, str]:
    message = parse(body)
    assert isinstance(message, InvalidMessage), message
    return message.id, message.error.code, message.error.message


def parse_error_of(body: bytes) -> str:
    with pytest.raises(MCPError) as caught:
        parse(body)
    assert caught.value.code == PARSE
    return caught.value.message


# --- the bad-input table ----------------------------------------------------------------------------

J = "body is not valid JSON: "
NOT_JSON = [
    (b"", "body is empty"),
    (b"  \n", "body is empty"),
    (b"{", J + "unexpected end of data at line 1 column 2"),
    (b'{"jsonrpc":"2.0",}', J + "trailing comma is not allowed at line 1 column 17"),
    (b'{"jsonrpc":"2.0"} x', J + "unexpected content after document at line 1 column 19"),
    (b"{'a': 1}", J + "unexpected character, expected a string key at line 1 column 2"),
    (b"NaN", J + "unexpected character, expected a JSON value at line 1 column 1"),
    (
        b'{"id": Infinity}',
        J + "unexpected character, expected a JSON value at line 1 column 8",
    ),
    (b'{"id": 1e400}', J + "number is infinity when parsed as double at line 1 column 8"),
    (b'{"id": 01}', J + "number with leading zero is not allowed at line 1 column 8"),
    (
        b'{"method": "a\x01"}',
        J + "unexpected control character in string at line 1 column 14",
    ),
    (
        b"\xef\xbb\xbf{}",
        J + "UTF-8 byte order mark (BOM) is not supported at line 1 column 1",
    ),
    (b'{"method": "\xff"}', "body is not valid UTF-8"),
    (b'{"method": "\xc3("}', "body is not valid UTF-8"),
    (b'{"method": "\\ud800"}', J + "no low surrogate in string at line 1 column 13"),
    (b'"\\udc00"', J + "invalid high surrogate in string at line 1 column 2"),
    (b'"\\ud800\\u0041"', J + "invalid low surrogate in string at line 1 column 2"),
    (b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1), "body is nested deeper than 1024 levels"),
    (b'{"a":' * 5000, "body is nested deeper than 1024 levels"),
    (b"[" * 1_000_000, "body is nested deeper than 1024 levels"),
]


@pytest.mark.parametrize(("body", "message"), NOT_JSON)
def test_not_json_raises_parse_error(body: bytes, message: str) -> None:
    assert parse_error_of(body) == message


def test_parse_error_is_the_facade_error_class() -> None:
    with pytest.raises(MCPError) as caught:
        parse(b"{")
    assert type(caught.value) is MCPError
    assert caught.value.to_error() == {"code": -32700, "message": caught.value.message}


def m(**members: Any) -> bytes:
    """A message body; `jsonrpc` is "2.0" unless given (`...` leaves it out)."""
    members.setdefault("jsonrpc", "2.0")
    return orjson.dumps({key: value for key, value in members.items() if value is not ...})


BAD_VERSION = '`jsonrpc` must be "2.0"'
BAD_ID = "`id` must be a string or an integer"
ID_RANGE = "`id` must fit in a signed 64-bit integer"
BAD_ERROR = "`error` must be an object with an integer `code` and a string `message`"
BOTH = "a response must have exactly one of `result` and `error`"

INVALID_TABLE = [
    # not an object
    (b"3", None, "message must be a JSON object"),
    (b'"tools/call"', None, "message must be a JSON object"),
    (b"null", None, "message must be a JSON object"),
    (b"true", None, "message must be a JSON object"),
    (b"[]", None, "a batch must not be empty"),
    # `jsonrpc`: wrong or missing; the id is kept when it is valid
    (m(jsonrpc=..., id=1, method="ping"), 1, BAD_VERSION),
    (m(jsonrpc="1.0", id="a", method="ping"), "a", BAD_VERSION),
    (m(jsonrpc=2.0, id=1, method="ping"), 1, BAD_VERSION),
    (m(jsonrpc=None, id=None, method="ping"), None, BAD_VERSION),
    (m(jsonrpc="2.0 ", method="ping"), None, BAD_VERSION),
    # ids: MCP forbids null; booleans, floats and structures are not ids
    (m(id=None, method="ping"), None, BAD_ID),
    (m(id=True, method="ping"), None, BAD_ID),
    (m(id=False, method="ping"), None, BAD_ID),
    (m(id=1.0, method="ping"), None, BAD_ID),
    (m(id=1.5, method="ping"), None, BAD_ID),
    (b'{"jsonrpc":"2.0","id":1e2,"method":"ping"}', None, BAD_ID),
    (m(id=[1], method="ping"), None, BAD_ID),
    (m(id={"a": 1}, method="ping"), None, BAD_ID),
    (m(id=I64_MAX + 1, method="ping"), None, ID_RANGE),
    (m(id=2**64 - 1, method="ping"), None, ID_RANGE),
    # orjson decodes integers beyond 64 bits as floats
    (b'{"jsonrpc":"2.0","id":-9223372036854775809,"method":"ping"}', None, BAD_ID),
    (b'{"jsonrpc":"2.0","id":123456789012345678901234567890,"method":"ping"}', None, BAD_ID),
    # method
    (m(id=1, method=3), 1, "`method` must be a string"),
    (m(id=1, method=None), 1, "`method` must be a string"),
    (m(method=["ping"]), None, "`method` must be a string"),
    (m(id=1), 1, "`method` is missing"),
    (m(id="x", params={}), "x", "`method` is missing"),
    (m(), None, "`method` is missing"),
    # params
    (m(id=1, method="ping", params=None), 1, "`params` must be an object or an array"),
    (m(id=1, method="ping", params="a"), 1, "`params` must be an object or an array"),
    (m(id=1, method="ping", params=3), 1, "`params` must be an object or an array"),
    (m(method="ping", params=False), None, "`params` must be an object or an array"),
    # responses
    (m(id=1, result={}, error={"code": 1, "message": "m"}), 1, BOTH),
    (m(id=1, result=None, error=None), 1, BOTH),
    (m(result={}), None, "a response must have an `id`"),
    (m(error={"code": 1, "message": "m"}), None, "a response must have an `id`"),
    (m(id=None, result={}), None, BAD_ID),
    (m(id=True, result={}), None, BAD_ID),
    (m(id=I64_MAX + 1, error={"code": 1, "message": "m"}), None, ID_RANGE),
    (m(id=2, error=None), 2, BAD_ERROR),
    (m(id=2, error="boom"), 2, BAD_ERROR),
    (m(id=2, error={"message": "m"}), 2, BAD_ERROR),
    (m(id=2, error={"code": 1}), 2, BAD_ERROR),
    (m(id=2, error={"code": 1.0, "message": "m"}), 2, BAD_ERROR),
    (m(id=2, error={"code": True, "message": "m"}), 2, BAD_ERROR),
    (m(id=2, error={"code": 1, "message": None}), 2, BAD_ERROR),
    (m(id=None, error={"code": "1", "message": "m"}), None, BAD_ERROR),
]


@pytest.mark.parametrize(("body", "id", "message"), INVALID_TABLE)
def test_invalid_messages(body: bytes, id: str | int | None, message: str) -> None:
    assert invalid_of(body) == (id, INVALID, message)
    assert same(oracle.parse(body), parse(body))


VALID_TABLE = [
    (m(id=1, method="tools/call", params={"name": "add"}), Request(1, "tools/call", {"name": "add"})),
    (m(id="abc", method="tools/list"), Request("abc", "tools/list", None)),
    (m(id="", method=""), Request("", "", None)),
    (m(id=0, method="x", params=[1, "a"]), Request(0, "x", [1, "a"])),
    (m(id=I64_MAX, method="x"), Request(I64_MAX, "x", None)),
    (m(id=I64_MIN, method="x"), Request(I64_MIN, "x", None)),
    (b'{"jsonrpc":"2.0","id":-0,"method":"x"}', Request(0, "x", None)),
    (m(method="notifications/initialized"), Notification("notifications/initialized", None)),
    (m(method="n", params={}), Notification("n", {})),
    (m(id=5, result={"ok": True}), Response(5, result={"ok": True})),
    (m(id="s", result=None), Response("s", result=None)),
    (
        m(id=5, error={"code": -32601, "message": "nope"}),
        Response(5, error={"code": -32601, "message": "nope"}),
    ),
    (
        m(id=None, error={"code": 1, "message": "m", "data": [1]}),
        Response(None, error={"code": 1, "message": "m", "data": [1]}),
    ),
    # members JSON-RPC does not define are ignored
    (m(id=1, method="x", extra=1, result=2), Request(1, "x", None)),
    # whitespace around the value
    (b' \n\t{"jsonrpc":"2.0","method":"x"}\r\n ', Notification("x", None)),
    # escapes, including a surrogate pair
    (
        b'{"jsonrpc":"2.0","method":"\\u0074ools\\/\\ud83d\\ude00\\n"}',
        Notification("tools/\U0001f600\n", None),
    ),
]


@pytest.mark.parametrize(("body", "expected"), VALID_TABLE)
def test_valid_messages(body: bytes, expected: object) -> None:
    assert parse(body) == expected
    assert oracle.parse(body) == expected


def test_message_types_are_the_facade_dataclasses() -> None:
    request = parse(m(id=1, method="x"))
    assert type(request) is Request
    with pytest.raises(dataclasses.FrozenInstanceError):
        request.id = 2
    assert not hasattr(request, "__dict__")
    assert dataclasses.replace(request, id=3) == Request(3, "x", None)


class Point3(dict[str, int]):
    """A class the Rust parser must refuse to fill in without `__init__`."""


@pytest.mark.parametrize("unsafe_class", [int, Point3, InvalidMessage.__mro__[-1]])
def test_classifier_refuses_classes_it_cannot_fill_in(unsafe_class: type) -> None:
    with pytest.raises(TypeError, match="must be a Python class deriving directly from `object`"):
        _core.MessageClassifier(unsafe_class, Notification, Response, InvalidMessage, MCPError)


# --- decisions ----------------------------------------------------------------------------------------


def test_duplicate_keys_last_one_wins() -> None:
    body = (
        b'{"jsonrpc":"1.0","id":null,"method":7,"params":1,'
        + b'"jsonrpc":"2.0","id":4,"method":"m","params":{"a":1,"a":2}}'
    )
    assert parse(body) == Request(4, "m", {"a": 2}) == oracle.parse(body)


def test_integers_beyond_64_bits_are_floats_as_orjson_decodes_them() -> None:
    body = (
        b'{"jsonrpc":"2.0","id":1,"method":"m",'
        b'"params":{"u64":18446744073709551615,"big":123456789012345678901234567890,"neg":-9223372036854775809}}'
    )
    assert parse(body) == Request(1, "m", {"u64": 2**64 - 1, "big": 1.2345678901234568e29, "neg": -(2.0**63)})


def nested(levels: int) -> bytes:
    """`1` inside `levels` arrays."""
    return b"[" * levels + b"1" + b"]" * levels


def test_depth_limit_counts_nested_arrays_and_objects() -> None:
    assert same(parse(nested(MAX_DEPTH)), oracle.parse(nested(MAX_DEPTH)))
    assert parse_error_of(nested(MAX_DEPTH + 1)) == "body is nested deeper than 1024 levels"
    # the message object is one of the levels
    fits = b'{"jsonrpc":"2.0","method":"m","params":' + nested(MAX_DEPTH - 1) + b"}"
    assert isinstance(parse(fits), Notification)
    too_deep = b'{"jsonrpc":"2.0","method":"m","params":' + nested(MAX_DEPTH) + b"}"
    assert parse_error_of(too_deep) == "body is nested deeper than 1024 levels"


def test_batches() -> None:
    body = b"".join(
        [
            b"[",
            m(id=1, method="a"),
            b",",
            m(method="n"),
            b",",
            m(id=2, result=3),
            b",3,[],",
            m(id="x", method=1),
            b",",
            m(id=None, method="a"),
            b"]",
        ]
    )
    expected = [
        Request(1, "a", None),
        Notification("n", None),
        Response(2, result=3),
        InvalidMessage(None, MCPError(INVALID, "message must be a JSON object")),
        InvalidMessage(None, MCPError(INVALID, "message must be a JSON object")),
        InvalidMessage("x", MCPError(INVALID, "`method` must be a string")),
        InvalidMessage(None, MCPError(INVALID, BAD_ID)),
    ]
    assert same(parse(body), expected)
    assert same(oracle.parse(body), expected)


def test_a_batch_of_one_is_still_a_list() -> None:
    assert parse(b"[" + m(method="n") + b"]") == [Notification("n", None)]


# --- encoding -------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Model(pydantic.BaseModel):
    name: str
    tags: set[str]


def test_encode_result() -> None:
    assert encode_result(1, {"content": []}) == b'{"jsonrpc":"2.0","id":1,"result":{"content":[]}}'
    assert orjson.loads(encode_result("a", Point(1, 2))) == {
        "jsonrpc": "2.0",
        "id": "a",
        "result": {"x": 1, "y": 2},
    }
    encoded = orjson.loads(encode_result(2, {"model": Model(name="n", tags={"t"})}))
    assert encoded["result"] == {"model": {"name": "n", "tags": ["t"]}}


@pytest.mark.parametrize("result", [object(), {"n": 2**64}, {1: "non-string key"}, {"s": {1, 2}}, b"raw"])
def test_encode_result_of_unencodable_values_is_an_internal_error(result: Any) -> None:
    with pytest.raises(MCPError) as caught:
        encode_result(1, result)
    assert caught.value.code == ErrorCode.INTERNAL_ERROR
    assert caught.value.message == "the result is not JSON-serializable"
    assert isinstance(caught.value.__cause__, TypeError)


def test_encode_error() -> None:
    error = MCPError(ErrorCode.METHOD_NOT_FOUND, "method `x` not found", {"method": "x"})
    assert orjson.loads(encode_error(7, error)) == {
        "jsonrpc": "2.0",
        "id": 7,
        "error": {"code": -32601, "message": "method `x` not found", "data": {"method": "x"}},
    }
    assert (
        encode_error(None, MCPError(PARSE, "p"))
        == b'{"jsonrpc":"2.0","id":null,"error":{"code":-32700,"message":"p"}}'
    )
    unencodable = MCPError(ErrorCode.INTERNAL_ERROR, "boom", object())
    assert orjson.loads(encode_error("a", unencodable))["error"] == {"code": -32603, "message": "boom"}
    surrogate = MCPError(ErrorCode.INVALID_PARAMS, "bad name `\ud800`")
    assert orjson.loads(encode_error(3, surrogate))["error"] == {"code": -32602, "message": "bad name `?`"}


def test_encode_calls() -> None:
    assert encode_request(1, "roots/list", None) == b'{"jsonrpc":"2.0","method":"roots/list","id":1}'
    request = encode_request("r", "sampling/createMessage", {"messages": []})
    assert parse(request) == Request("r", "sampling/createMessage", {"messages": []})
    notification = encode_notification("notifications/progress", {"progress": 1})
    assert parse(notification) == Notification("notifications/progress", {"progress": 1})
    assert encode_notification("n", None) == b'{"jsonrpc":"2.0","method":"n"}'
    from types import MappingProxyType

    assert parse(encode_notification("n", MappingProxyType({"a": 1}))) == Notification("n", {"a": 1})
    with pytest.raises(MCPError) as caught:
        encode_notification("n", {"x": object()})
    assert caught.value.code == ErrorCode.INTERNAL_ERROR


def test_encode_batch() -> None:
    parts = [encode_result(1, 2), encode_error(None, MCPError(INVALID, "bad"))]
    assert orjson.loads(encode_batch(parts)) == [orjson.loads(part) for part in parts]
    assert encode_batch([]) == b"[]"
    assert parse(encode_batch([encode_result(1, 2)])) == [Response(1, result=2)]


# --- differential tests against the oracle ----------------------------------------------------------


def same(actual: Any, expected: Any) -> bool:
    """Equal messages; an `InvalidMessage` compares its error's code and message (MCPError has no __eq__)."""
    if isinstance(actual, list) or isinstance(expected, list):
        return (
            isinstance(actual, list)
            and isinstance(expected, list)
            and len(actual) == len(expected)
            and all(same(a, e) for a, e in zip(actual, expected, strict=True))
        )
    if isinstance(actual, InvalidMessage) and isinstance(expected, InvalidMessage):
        return (actual.id, actual.error.code, actual.error.message) == (
            expected.id,
            expected.error.code,
            expected.error.message,
        )
    return type(actual) is type(expected) and actual == expected


def outcome(parser: Any, body: bytes) -> Any:
    try:
        return parser(body)
    except MCPError as error:
        return ("raised", error.code)


ints = st.integers(min_value=I64_MIN, max_value=2**64 - 1)  # what orjson reads back as int
scalars = (
    st.none() | st.booleans() | ints | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=6)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=6,
)
ids = st.one_of(
    st.none(), st.booleans(), ints, st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=4)
)
member_values = {
    "jsonrpc": st.sampled_from(["2.0", "1.0", "2", ""]) | scalars,
    "id": ids | json_values,
    "method": st.sampled_from(["tools/call", "ping", ""]) | json_values,
    "params": json_values,
    "result": json_values,
    "error": st.fixed_dictionaries({"code": ids, "message": st.text(max_size=4) | ints}) | json_values,
}


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    """An object with a random subset of the JSON-RPC members, each valid or not (mostly `jsonrpc` "2.0")."""
    keys = draw(st.sets(st.sampled_from(sorted(member_values))))
    message = {key: draw(member_values[key]) for key in sorted(keys)}
    if draw(st.booleans()):
        message["jsonrpc"] = "2.0"
    return message


bodies = st.one_of(messages(), st.lists(messages() | json_values, max_size=3), json_values).map(orjson.dumps)
damage = st.lists(
    st.tuples(st.integers(0, 10_000), st.sampled_from(b'{}[]",:019-.eE\\ \xff\x00tn')), max_size=3
)


def mutate(body: bytes, edits: list[tuple[int, int]]) -> bytes:
    data = bytearray(body)
    for position, byte in edits:
        data[position % len(data)] = byte
    return bytes(data)


@settings(max_examples=10_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, damage)
def test_rust_matches_oracle(body: bytes, edits: list[tuple[int, int]]) -> None:
    # generated JSON: same classification, id, code and message
    assert same(outcome(parse, body), outcome(oracle.parse, body))
    # the same bytes damaged: both refuse them, or both classify them the same way
    damaged = mutate(body, edits)
    assert same(outcome(parse, damaged), outcome(oracle.parse, damaged)), damaged


escaped_text = st.text().map(
    lambda text: "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in text)
)
surrogate_escape = st.integers(0xD800, 0xDFFF).map(lambda code: f"\\u{code:04x}")


@settings(max_examples=1_000, deadline=None)
@given(st.lists(escaped_text | surrogate_escape | st.text(max_size=3), max_size=6))
def test_string_escapes_match_the_oracle(parts: list[str]) -> None:
    body = (
        b'{"jsonrpc":"2.0","method":"'
        + "".join(parts).replace('"', "").encode("utf-8", "surrogatepass")
        + b'"}'
    )
    assert same(outcome(parse, body), outcome(oracle.parse, body))


# --- round trips ----------------------------------------------------------------------------------------

request_ids = st.integers(I64_MIN, I64_MAX) | st.text(max_size=10)
objects = st.dictionaries(st.text(max_size=8), json_values, max_size=5)


@settings(max_examples=2_000, deadline=None)
@given(request_ids, st.text(max_size=20), objects | st.none(), json_values)
def test_encode_then_parse_round_trips(
    id: str | int, method: str, params: dict[str, Any] | None, result: Any
) -> None:
    assert parse(encode_request(id, method, params)) == Request(id, method, params)
    assert parse(encode_notification(method, params)) == Notification(method, params)
    assert parse(encode_result(id, result)) == Response(id, result=result)
    error = MCPError(-1, method, params)
    expected_error = error.to_error()
    assert parse(encode_error(id, error)) == Response(id, error=expected_error)
    assert parse(encode_error(None, error)) == Response(None, error=expected_error)
    batch = encode_batch([encode_request(id, method, params), encode_result(id, result)])
    assert parse(batch) == [Request(id, method, params), Response(id, result=result)]


# --- arbitrary bytes never crash ------------------------------------------------------------------------


@settings(max_examples=1_000, deadline=None)
@given(st.binary(max_size=100) | bodies.map(lambda body: body[: len(body) // 2]))
def test_arbitrary_bytes_are_always_classified(body: bytes) -> None:
    parsed = outcome(parse, body)
    if parsed == ("raised", PARSE):
        return
    for message in parsed if isinstance(parsed, list) else [parsed]:
        assert isinstance(message, Request | Notification | Response | InvalidMessage)
        if isinstance(message, InvalidMessage):
            assert message.error.code == INVALID


def test_module_exports() -> None:
    assert all(hasattr(jsonrpc, name) for name in jsonrpc.__all__)
