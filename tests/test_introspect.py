"""`pymcp.registry.introspect` equals the standard library: `type_hints` gives what
`typing.get_type_hints(include_extras=True)` gives (same hints, same errors, for string annotations, as
this module's are, and evaluated ones), `parameters` what `inspect.signature` gives."""

from __future__ import annotations

import dataclasses
import enum
import functools
import inspect
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any, Literal, Optional, TypedDict

import pytest

from pymcp.registry.introspect import parameters, type_hints

# The names the annotations below use (they are strings here, so nothing else refers to them).
TYPING_NAMES = (Annotated, Literal, Mapping, Optional, Sequence)


class Color(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int


class Movie(TypedDict):
    title: str


ANNOTATIONS = [
    "int",
    "str | None",
    "Optional[int]",
    "list[int]",
    "dict[str, list[Point]]",
    "Annotated[int, 'the count']",
    "Annotated[list['Point'], 'nested forward reference']",
    "list['Point']",
    "Literal['a', 'b']",
    "Color",
    "Movie",
    "Sequence[float]",
    "Mapping[str, Any]",
    "tuple[int, ...]",
    "Any",
    "None",
    "typing.Union[int, str]",
    "Callable[[int], str]",
    "3",
]


def _function(annotation: str, *, future: bool) -> Callable[..., Any]:
    """`def f(value: <annotation>) -> <annotation>` in this module's globals, its hints strings or not."""
    source = f"def f(value: {annotation}, other=None) -> {annotation}:\n    return value\n"
    if future:
        source = "from __future__ import annotations\n" + source
    namespace: dict[str, Any] = {}
    exec(compile(source, "<test>", "exec"), globals(), namespace)
    return typing.cast(Callable[..., Any], namespace["f"])


@pytest.mark.parametrize("future", [True, False])
@pytest.mark.parametrize("annotation", ANNOTATIONS)
def test_the_same_hints_as_get_type_hints(annotation: str, future: bool) -> None:
    func = _function(annotation, future=future)
    assert type_hints(func) == typing.get_type_hints(func, include_extras=True)


@pytest.mark.parametrize("annotation", ["Missing", "list[Missing]", "'Missing'"])
def test_the_same_errors_as_get_type_hints(annotation: str) -> None:
    func = _function(annotation, future=True)
    with pytest.raises(NameError) as expected:
        typing.get_type_hints(func, include_extras=True)
    with pytest.raises(NameError, match=re.escape(str(expected.value))):
        type_hints(func)


def test_wrapped_functions_and_callables_go_to_get_type_hints() -> None:
    def inner(value: int) -> int:
        return value

    @functools.wraps(inner)
    def outer(*args: Any) -> Any:
        return inner(*args)

    assert type_hints(outer) == typing.get_type_hints(outer, include_extras=True)
    with pytest.raises(TypeError, match="is not a module, class, method, or function"):
        type_hints(functools.partial(inner))  # as get_type_hints says of a partial


def _standard(func: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]


def _a(x, y=2, /, z=3, *args, k, m=4, **rest): ...  # type: ignore[no-untyped-def]
def _b(*, only): ...  # type: ignore[no-untyped-def]
def _c(a, b=None, *rest): ...  # type: ignore[no-untyped-def]
def _d(): ...  # type: ignore[no-untyped-def]
def _e(x, /, **kw): ...  # type: ignore[no-untyped-def]


def _with_locals(a: int, b: str = "x") -> None:
    first, second = a, b  # locals come after the parameters in `co_varnames`
    del first, second


def _overridden(a: int) -> None: ...


_overridden.__signature__ = inspect.Signature([inspect.Parameter("z", inspect.Parameter.KEYWORD_ONLY)])  # type: ignore[attr-defined]


class _Method:
    def call(self, a: int, *, b: int = 1) -> None: ...


@pytest.mark.parametrize(
    "func",
    [_a, _b, _c, _d, _e, _with_locals, _overridden, _Method().call, functools.partial(_c, 1), Point, len],
)
def test_the_same_parameters_as_inspect_signature(func: Callable[..., Any]) -> None:
    assert parameters(func) == _standard(func)
