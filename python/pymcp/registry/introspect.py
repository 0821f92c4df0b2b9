"""A function's parameters and type hints, as `inspect.signature` and `typing.get_type_hints(func,
include_extras=True)` give them, but cheaper: registering 10,000 tools spent most of its time in those two.

`get_type_hints` compiles every string annotation anew (each `from __future__ import annotations` hint is
one); here each distinct string compiles once. `inspect.signature` builds objects we read three fields
of; here a plain function's code object gives them. Anything else (a wrapped or partial function, a set
`__signature__`, a hint still holding a forward reference) goes to the standard functions, so results
and errors stay the same.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable
from typing import Any

__all__ = ["Parameter", "parameters", "type_hints"]

_NONE_TYPE = type(None)
_EMPTY = inspect.Parameter.empty

Parameter = tuple[str, inspect._ParameterKind, Any]
"""A parameter's name, kind (an `inspect.Parameter` kind) and default (`inspect.Parameter.empty` if none)."""


def _plain(func: Any) -> bool:
    """A function whose code object tells its signature and hints (nothing wraps or overrides them)."""
    return (
        isinstance(func, types.FunctionType)
        and not hasattr(func, "__wrapped__")
        and getattr(func, "__signature__", None) is None
    )


def parameters(func: Any) -> list[Parameter]:
    """`[(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]`."""
    if not _plain(func):
        return [(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]
    code = func.__code__
    names = code.co_varnames
    positional, keyword_only = code.co_argcount, code.co_kwonlyargcount
    defaults = func.__defaults__ or ()
    first_default = positional - len(defaults)
    result: list[Parameter] = [
        (
            names[index],
            inspect.Parameter.POSITIONAL_ONLY
            if index < code.co_posonlyargcount
            else inspect.Parameter.POSITIONAL_OR_KEYWORD,
            defaults[index - first_default] if index >= first_default else _EMPTY,
        )
        for index in range(positional)
    ]
    after = positional + keyword_only
    if code.co_flags & inspect.CO_VARARGS:
        result.append((names[after], inspect.Parameter.VAR_POSITIONAL, _EMPTY))
        after += 1
    keyword_defaults = func.__kwdefaults__ or {}
    result.extend(
        (name, inspect.Parameter.KEYWORD_ONLY, keyword_defaults.get(name, _EMPTY))
        for name in names[positional : positional + keyword_only]
    )
    if code.co_flags & inspect.CO_VARKEYWORDS:
        result.append((names[after], inspect.Parameter.VAR_KEYWORD, _EMPTY))
    return result


@functools.lru_cache(maxsize=4096)
def _compiled(annotation: str) -> types.CodeType:
    return compile(annotation, "<annotation>", "eval")


def _resolved(hint: Any) -> bool:
    """Whether `hint` holds no forward reference that `get_type_hints` would still evaluate."""
    if isinstance(hint, type):  # `list[int]` is not one (3.11+): its arguments are checked below
        return True
    if isinstance(hint, str | typing.ForwardRef):
        return False
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return True
    arguments = typing.get_args(hint)
    if origin is typing.Annotated:  # the metadata is data, not hints
        return _resolved(arguments[0])
    return all(_resolved(argument) for argument in arguments if argument is not Ellipsis)


def _is_hint(value: Any) -> bool:
    """What a string annotation may evaluate to without `get_type_hints` refusing it."""
    return isinstance(value, type) or value is Any or typing.get_origin(value) is not None


def type_hints(func: Callable[..., Any]) -> dict[str, Any]:
    """`typing.get_type_hints(func, include_extras=True)` for a plain function, with cached compiles."""
    annotations = getattr(func, "__annotations__", None)
    if not _plain(func) or not annotations:
        return typing.get_type_hints(func, include_extras=True)
    if getattr(func, "__type_params__", ()):  # PEP 695 names live outside the globals
        return typing.get_type_hints(func, include_extras=True)
    hints: dict[str, Any] = {}
    for name, annotation in annotations.items():
        hint = annotation
        if annotation is None:
            hint = _NONE_TYPE
        elif isinstance(annotation, str):
            try:
                hint = eval(_compiled(annotation), func.__globals__)
            except Exception:
                return typing.get_type_hints(func, include_extras=True)  # raises its own error
            if hint is None:
                hint = _NONE_TYPE
            elif not _is_hint(hint):
                return typing.get_type_hints(func, include_extras=True)
        if not _resolved(hint):
            return typing.get_type_hints(func, include_extras=True)
        hints[name] = hint
    return hints
