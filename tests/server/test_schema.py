"""Input schemas from type hints (under `from __future__ import annotations`) and the compiled checkers."""

from __future__ import annotations

import enum
import typing
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Optional, TypedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pymcp.registry import PromptRegistry, ResourceRegistry, ToolRegistry
from pymcp.registry.signature import InvalidArgument, _compile, _convert_fields, compile_signature
from pymcp.server import CancellationToken, RequestContext


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(TypedDict):
    x: float
    y: float


@dataclass
class Box:
    width: int
    label: str = "box"


def everything(
    count: int,
    ratio: float,
    flag: bool,
    name: Annotated[str, "who"],
    tags: list[str],
    pair: tuple[int, str],
    unique: set[int],
    scores: dict[str, float],
    maybe: Optional[int],  # noqa: UP045 - Optional on purpose
    either: int | str,
    mode: Literal["fast", "slow"],
    color: Color,
    point: Point,
    box: Box,
    anything: Any,
    cancel_token: CancellationToken,
    request_context: RequestContext,
    limit: int = 10,
) -> None:
    """Uses every supported kind of hint."""


def test_schema_covers_every_supported_hint() -> None:
    schema = compile_signature(everything).input_schema
    props = schema["properties"]
    assert props["count"] == {"type": "integer"}
    assert props["ratio"] == {"type": "number"}
    assert props["flag"] == {"type": "boolean"}
    assert props["name"] == {"type": "string", "description": "who"}
    assert props["tags"] == {"type": "array", "items": {"type": "string"}}
    assert props["pair"]["prefixItems"] == [{"type": "integer"}, {"type": "string"}]
    assert props["unique"] == {"type": "array", "items": {"type": "integer"}, "uniqueItems": True}
    assert props["scores"] == {"type": "object", "additionalProperties": {"type": "number"}}
    assert props["maybe"] == {"type": ["integer", "null"]}
    assert props["either"] == {"type": ["integer", "string"]}
    assert props["mode"] == {"type": "string", "enum": ["fast", "slow"]}
    assert props["color"] == {"type": "string", "enum": ["red", "blue"]}
    assert props["point"]["required"] == ["x", "y"]
    assert props["box"]["required"] == ["width"]
    assert props["anything"] == {}
    assert props["limit"] == {"type": "integer", "default": 10}
    assert "cancel_token" not in props
    assert "request_context" not in props
    assert "limit" not in schema["required"]
    assert "count" in schema["required"]
    assert schema["additionalProperties"] is False


def test_checker_converts_and_names_the_bad_field() -> None:
    check = compile_signature(everything).check
    good = {
        "count": 1.0,
        "ratio": 2,
        "flag": True,
        "name": "n",
        "tags": ["a"],
        "pair": [1, "b"],
        "unique": [1, 1],
        "scores": {"a": 1.5},
        "maybe": None,
        "either": "x",
        "mode": "fast",
        "color": "blue",
        "point": {"x": 1, "y": 2},
        "box": {"width": 3},
        "anything": [None],
    }
    converted = check(good)
    assert converted["count"] == 1
    assert isinstance(converted["count"], int)
    assert converted["pair"] == (1, "b")
    assert converted["unique"] == {1}
    assert converted["color"] is Color.BLUE
    assert converted["box"] == Box(3)
    cases = {
        "count": (True, "`count` must be an integer"),
        "flag": (1, "`flag` must be a boolean"),
        "tags": (["a", 2], "`tags[1]` must be a string"),
        "mode": ("medium", "`mode` must be one of `fast`, `slow`"),
        "point": ({"x": 1}, "`point.y` is required"),
        "box": ({"width": 1, "depth": 2}, "`box` has an unexpected property `depth`"),
        "maybe": ("x", "`maybe` must be an integer"),
    }
    for field, (value, message) in cases.items():
        with pytest.raises(InvalidArgument) as raised:
            check({**good, field: value})
        assert str(raised.value) == message, field
    with pytest.raises(InvalidArgument, match="`count` is required"):
        check({k: v for k, v in good.items() if k != "count"})
    with pytest.raises(InvalidArgument, match="unexpected argument `extra`"):
        check({**good, "extra": 1})


def test_pydantic_models_are_supported_when_installed() -> None:
    import pydantic  # a dependency of the `mcp` test client, so always installed here

    class Order(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        item: str
        quantity: int = 1

    def place(order: Order) -> None: ...

    place.__annotations__["order"] = Order
    compiled = compile_signature(place)
    assert compiled.input_schema["properties"]["order"]["properties"]["item"]["type"] == "string"
    assert compiled.check({"order": {"item": "tea"}})["order"].quantity == 1
    with pytest.raises(InvalidArgument, match=r"order\.quantity"):
        compiled.check({"order": {"item": "tea", "quantity": "many"}})


def test_register_forms_and_options() -> None:
    registry = ToolRegistry()

    @registry.register
    def bare(x: int) -> int:
        """Bare."""
        return x

    @registry.register(
        name="named", title="Named", annotations={"readOnlyHint": True, "destructiveHint": None}
    )
    def with_options() -> None:
        """With options."""

    def called() -> None: ...

    registry.register(
        called, description="by call", execution={"taskSupport": "optional", "runner": "thread"}
    )
    wire = {tool["name"]: tool for tool in registry.wire_items()}
    assert wire["bare"]["description"] == "Bare."
    assert wire["named"]["title"] == "Named"
    assert wire["named"]["annotations"] == {"readOnlyHint": True}
    assert wire["called"]["execution"] == {"taskSupport": "optional"}
    assert registry.get("called").in_thread  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="runner `process` is not supported"):
        registry.register(called, execution={"runner": "process"})


def test_every_definition_answers_to_mcp_payload_like_030() -> None:
    """0.3.0 code reads a definition's MCP object with `to_mcp_payload()`: the same as `to_wire()`."""
    tools, prompts, resources = ToolRegistry(), PromptRegistry(), ResourceRegistry()
    tools.register(lambda: "x", name="t", description="a tool")
    prompts.register(lambda: "x", name="p", description="a prompt")
    resources.register(lambda: "x", uri="test://r", name="r")
    resources.register_template(lambda item: item, uri_template="test://items/{item}", name="i")
    definitions = [tools.get("t"), prompts.get("p"), resources.get("test://r")]
    definitions.append(resources.templates.get("test://items/{item}"))
    for definition in definitions:
        assert definition is not None
        assert definition.to_mcp_payload() == definition.to_wire()
        assert definition.to_wire()["name"] in {"t", "p", "r", "i"}


def _primitives(
    count: int, ratio: float, flag: bool, name: str, anything: Any, maybe: int | None = None, limit: int = 3
) -> None:
    """Parameters the checker's shortcut takes (exact primitive types, `Any`) beside one it does not."""


_PARAMETERS = ("count", "ratio", "flag", "name", "anything", "maybe", "limit")
_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
    max_leaves=4,
)


def _outcome(check: Any, arguments: dict[str, Any]) -> Any:
    try:
        return ("ok", check(arguments))
    except InvalidArgument as error:
        return ("refused", str(error))


def _declared_or_any(declared: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(declared, declared, _JSON_VALUES)  # mostly the declared type


# The required names nearly always, each optional one (and an unknown `extra`) half the time.
_ARGUMENTS = st.tuples(
    st.fixed_dictionaries(
        {
            "count": _declared_or_any(st.integers()),
            "ratio": _declared_or_any(st.integers() | st.floats(allow_nan=False)),
            "flag": _declared_or_any(st.booleans()),
            "name": _declared_or_any(st.text(max_size=3)),
            "anything": _JSON_VALUES,
        },
        optional={
            "maybe": _declared_or_any(st.none() | st.integers()),
            "limit": _declared_or_any(st.integers()),
            "extra": _JSON_VALUES,
        },
    ),
    st.sets(st.sampled_from(("count", "ratio", "flag", "name", "anything")), max_size=1),
).map(lambda drawn: {name: value for name, value in drawn[0].items() if name not in drawn[1]})


@settings(max_examples=300, deadline=None)
@given(_ARGUMENTS)
def test_checker_shortcut_equals_converting_every_field(arguments: dict[str, Any]) -> None:
    # The oracle: the same fields converted one by one, as the checker does when its shortcut does not apply.
    hints = typing.get_type_hints(_primitives)
    converters = {name: _compile(hints[name])[1] for name in _PARAMETERS}
    required = ("count", "ratio", "flag", "name", "anything")

    def convert_every_field(given: dict[str, Any]) -> dict[str, Any]:
        return _convert_fields(given, required, converters, path=None)

    check = compile_signature(_primitives).check
    assert _outcome(check, arguments) == _outcome(convert_every_field, arguments)


def test_checked_arguments_are_a_copy_when_values_are_injected() -> None:
    def plain(count: int) -> None: ...

    def injected(count: int, cancel_token: CancellationToken) -> None: ...

    arguments = {"count": 1}
    assert compile_signature(plain).check(arguments) is arguments  # nothing is added: no copy needed
    checked = compile_signature(injected).check(arguments)
    assert checked == arguments
    assert checked is not arguments  # the runner adds `cancel_token` to it
