"""Input schemas from type hints, and the argument checkers compiled from them.

`compile_signature(func)` reads the hints once (as `typing.get_type_hints(include_extras=True)` does, so
it also works under `from __future__ import annotations`) and returns the JSON schema plus a checker that
validates and converts a call's arguments without jsonschema: each parameter compiles to a small
function that raises `InvalidArgument` naming the offending path. Schemas supplied by the user
(`input_schema=`) are checked by `pymcp.protocol.user_schema`.
"""

from __future__ import annotations

import dataclasses
import enum
import inspect
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

from pymcp.errors import InvalidArgument
from pymcp.protocol.user_schema import ArgumentChecker, compile_user_schema
from pymcp.registry.introspect import parameters, type_hints

__all__ = [
    "INJECTED_PARAMETERS",
    "ArgumentChecker",
    "CompiledSignature",
    "InvalidArgument",
    "compile_signature",
    "compile_user_schema",
    "schema_for_type",
]

# Parameters the server supplies at call time; never part of the schema.
INJECTED_PARAMETERS = frozenset(("cancel_token", "task_context", "request_context"))

Converter = Callable[[Any, str], Any]

_JSON_TYPE_NAMES = {
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "string": "a string",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


@dataclass(frozen=True, slots=True)
class CompiledSignature:
    """A function's input schema, its argument checker and the injected parameters it wants."""

    input_schema: dict[str, Any]
    check: ArgumentChecker
    injected: frozenset[str]
    parameter_names: tuple[str, ...]


def _identity(value: Any, path: str) -> Any:
    return value


def _describe(meta: Sequence[Any]) -> str | None:
    for item in meta:
        if isinstance(item, str):
            return item
        description = getattr(item, "description", None)
        if isinstance(description, str):
            return description
    return None


def _expect(kind: str, path: str) -> InvalidArgument:
    return InvalidArgument(f"`{path}` must be {_JSON_TYPE_NAMES[kind]}")


_NUMBERS = (int, float)


def _convert_integer(value: Any, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        raise _expect("integer", path)
    if isinstance(value, float):
        if not value.is_integer():
            raise _expect("integer", path)
        return int(value)
    return value


def _convert_number(value: Any, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, _NUMBERS):
        raise _expect("number", path)
    return value


def _instance_of(kind: str, python_type: type) -> Converter:
    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, python_type):
            raise _expect(kind, path)
        return value

    return convert


_PRIMITIVES: dict[str, Converter] = {
    "integer": _convert_integer,
    "number": _convert_number,
    "boolean": _instance_of("boolean", bool),
    "string": _instance_of("string", str),
    "null": _instance_of("null", type(None)),
}

# The types of parsed JSON (what `orjson.loads` makes), and those each converter returns unchanged.
_JSON_VALUE_TYPES: frozenset[type] = frozenset((str, int, float, bool, type(None), list, dict))
_UNCHANGED: dict[Converter, frozenset[type]] = {
    _identity: _JSON_VALUE_TYPES,
    _PRIMITIVES["integer"]: frozenset((int,)),
    _PRIMITIVES["number"]: frozenset((int, float)),
    _PRIMITIVES["boolean"]: frozenset((bool,)),
    _PRIMITIVES["string"]: frozenset((str,)),
    _PRIMITIVES["null"]: frozenset((type(None),)),
}


def _primitive(kind: str) -> tuple[dict[str, Any], Converter]:
    return {"type": kind}, _PRIMITIVES[kind]


def _array(
    item_type: Any, *, container: Callable[[list[Any]], Any], unique: bool
) -> tuple[dict[str, Any], Converter]:
    item_schema, item_convert = _compile(item_type)
    schema: dict[str, Any] = {"type": "array", "items": item_schema}
    if unique:
        schema["uniqueItems"] = True

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise _expect("array", path)
        return container([item_convert(item, f"{path}[{index}]") for index, item in enumerate(value)])

    return schema, convert


def _fixed_tuple(item_types: tuple[Any, ...]) -> tuple[dict[str, Any], Converter]:
    compiled = [_compile(item) for item in item_types]
    count = len(compiled)
    schema = {
        "type": "array",
        "prefixItems": [item_schema for item_schema, _ in compiled],
        "minItems": count,
        "maxItems": count,
    }

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, list):
            raise _expect("array", path)
        if len(value) != count:
            raise InvalidArgument(f"`{path}` must have exactly {count} items")
        return tuple(
            conv(item, f"{path}[{index}]")
            for index, (item, (_, conv)) in enumerate(zip(value, compiled, strict=True))
        )

    return schema, convert


def _mapping(value_type: Any) -> tuple[dict[str, Any], Converter]:
    value_schema, value_convert = _compile(value_type)
    schema: dict[str, Any] = {"type": "object"}
    if value_schema:
        schema["additionalProperties"] = value_schema

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _expect("object", path)
        return {key: value_convert(item, f"{path}.{key}") for key, item in value.items()}

    return schema, convert


def _enum_values(
    values: Sequence[Any], factory: Callable[[Any], Any] | None
) -> tuple[dict[str, Any], Converter]:
    schema: dict[str, Any] = {"enum": list(values)}
    kinds = {_json_kind(value) for value in values}
    if len(kinds) == 1:
        schema = {"type": kinds.pop(), "enum": list(values)}
    allowed = list(values)

    def convert(value: Any, path: str) -> Any:
        # `True == 1` in Python: compare kinds too, so a boolean never matches an integer member.
        for member in allowed:
            if member == value and type(member) is type(value):
                return factory(value) if factory is not None else value
        choices = ", ".join(f"`{member}`" for member in allowed)
        raise InvalidArgument(f"`{path}` must be one of {choices}")

    return schema, convert


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if value is None:
        return "null"
    return "string"


def _union(members: tuple[Any, ...]) -> tuple[dict[str, Any], Converter]:
    compiled = [_compile(member) for member in members]
    schemas = [schema for schema, _ in compiled]
    simple = all(set(schema) == {"type"} and isinstance(schema["type"], str) for schema in schemas)
    schema: dict[str, Any] = {"type": [s["type"] for s in schemas]} if simple else {"anyOf": schemas}
    converters = [conv for _, conv in compiled]

    def convert(value: Any, path: str) -> Any:
        first_error: InvalidArgument | None = None
        for conv in converters:
            try:
                return conv(value, path)
            except InvalidArgument as error:
                first_error = first_error or error
        if value is None:
            raise InvalidArgument(f"`{path}` must not be null")
        kinds = " or ".join(
            _JSON_TYPE_NAMES.get(s.get("type", ""), "a matching value")
            if isinstance(s.get("type"), str)
            else "a matching value"
            for s in schemas
            if s.get("type") != "null"
        )
        raise InvalidArgument(f"`{path}` must be {kinds}") from first_error

    return schema, convert


def _object(
    fields: Sequence[tuple[str, Any, bool, str | None]], factory: Callable[..., Any] | None
) -> tuple[dict[str, Any], Converter]:
    """`fields` holds (name, type, required, description); `factory` builds the Python value from a dict."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    converters: dict[str, Converter] = {}
    for name, hint, is_required, description in fields:
        field_schema, field_convert = _compile(hint)
        if description:
            field_schema = {**field_schema, "description": description}
        properties[name] = field_schema
        converters[name] = field_convert
        if is_required:
            required.append(name)
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required

    def convert(value: Any, path: str) -> Any:
        if not isinstance(value, dict):
            raise _expect("object", path)
        converted = _convert_fields(value, required, converters, path=path)
        return factory(**converted) if factory is not None else converted

    return schema, convert


def _convert_fields(
    value: Mapping[str, Any],
    required: Sequence[str],
    converters: Mapping[str, Converter],
    *,
    path: str | None,
    accepts_extra: bool = False,
) -> dict[str, Any]:
    """Check the required names and convert each field of an object.

    `path` is None for a tool's own arguments (named bare in messages), else the object's path.
    Unknown fields are kept as they are when `accepts_extra` (a `**kwargs` tool), else refused.
    """
    for name in required:
        if name not in value:
            raise InvalidArgument(f"`{name if path is None else f'{path}.{name}'}` is required")
    converted: dict[str, Any] = {}
    for key, item in value.items():
        field_convert = converters.get(key)
        if field_convert is not None:
            converted[key] = field_convert(item, key if path is None else f"{path}.{key}")
        elif accepts_extra:
            converted[key] = item
        elif path is None:
            raise InvalidArgument(f"unexpected argument `{key}`")
        else:
            raise InvalidArgument(f"`{path}` has an unexpected property `{key}`")
    return converted


def _pydantic(model: Any) -> tuple[dict[str, Any], Converter]:
    from pydantic import ValidationError  # optional dependency

    schema: dict[str, Any] = model.model_json_schema()

    def convert(value: Any, path: str) -> Any:
        try:
            return model.model_validate(value)
        except ValidationError as error:
            detail = error.errors()[0]
            where = ".".join(str(part) for part in (path, *detail["loc"]))
            raise InvalidArgument(f"`{where}`: {detail['msg'].lower()}") from None

    return schema, convert


def _is_pydantic_model(hint: Any) -> bool:
    return isinstance(hint, type) and hasattr(hint, "model_json_schema") and hasattr(hint, "model_validate")


def _compile(hint: Any) -> tuple[dict[str, Any], Converter]:
    """JSON schema and converter for one type hint."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin is typing.Annotated:
        schema, convert = _compile(args[0])
        description = _describe(hint.__metadata__)
        return ({**schema, "description": description} if description else schema), convert
    if hint is Any or hint is inspect.Parameter.empty or hint is object:
        return {}, _identity
    if hint is None or hint is type(None):
        return _primitive("null")
    if hint is bool:
        return _primitive("boolean")
    if hint is int:
        return _primitive("integer")
    if hint is float:
        return _primitive("number")
    if hint is str:
        return _primitive("string")
    if origin is Literal:
        return _enum_values(args, None)
    if origin is Union or origin is types.UnionType:
        return _union(args)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return _enum_values([member.value for member in hint], hint)
    if hint in (list, tuple, set, frozenset) or origin in (list, tuple, set, frozenset):
        container: Any = origin or hint
        if container is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
            return _fixed_tuple(args)
        item = args[0] if args else Any
        return _array(item, container=container, unique=container in (set, frozenset))
    if origin in (Sequence, typing.Sequence) or hint is Sequence:
        return _array(args[0] if args else Any, container=list, unique=False)
    if hint is dict or origin in (dict, Mapping) or hint is Mapping:
        return _mapping(args[1] if len(args) == 2 else Any)
    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint, include_extras=True)
        required_keys = getattr(hint, "__required_keys__", frozenset(hints))
        return _object([(name, tp, name in required_keys, None) for name, tp in hints.items()], None)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        hints = typing.get_type_hints(hint, include_extras=True)
        fields = [
            (
                f.name,
                hints.get(f.name, Any),
                f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
                None,
            )
            for f in dataclasses.fields(hint)
            if f.init
        ]
        return _object(fields, hint)
    if _is_pydantic_model(hint):
        return _pydantic(hint)
    raise TypeError(f"cannot build a JSON schema for type `{hint!r}`")


def schema_for_type(hint: Any) -> dict[str, Any]:
    """The JSON schema of one Python type hint."""
    return _compile(hint)[0]


def compile_signature(func: Callable[..., Any]) -> CompiledSignature:
    """Input schema and argument checker of `func` (injected parameters left out)."""
    signature = parameters(func)
    try:
        hints = type_hints(func)
    except Exception as error:  # an unresolvable forward reference names the problem, not a NameError
        raise TypeError(
            f"cannot resolve the type hints of `{getattr(func, '__name__', func)}`: {error}"
        ) from None
    properties: dict[str, Any] = {}
    required: list[str] = []
    converters: dict[str, Converter] = {}
    injected: set[str] = set()
    accepts_extra = False
    for name, kind, default in signature:
        if name in INJECTED_PARAMETERS:
            injected.add(name)
            continue
        if kind is inspect.Parameter.VAR_KEYWORD:
            accepts_extra = True
            continue
        if kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        schema, convert = _compile(hints.get(name, Any))
        if default is not inspect.Parameter.empty:
            if isinstance(default, enum.Enum):
                default = default.value
            if default is None or isinstance(default, str | int | float | bool | list | dict):
                schema = {**schema, "default": default}
        else:
            required.append(name)
        properties[name] = schema
        converters[name] = convert
    input_schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        input_schema["required"] = required
    if not accepts_extra:
        input_schema["additionalProperties"] = False
    required_names = tuple(required)
    required_set = frozenset(required)
    unchanged = {name: _UNCHANGED[convert] for name, convert in converters.items() if convert in _UNCHANGED}

    def check(arguments: dict[str, Any]) -> dict[str, Any]:
        # Most calls pass primitives of exactly the declared types: those are taken as they are.
        for key, value in arguments.items():
            accepted = unchanged.get(key)
            if accepted is None or type(value) not in accepted:
                break
        else:
            if required_set <= arguments.keys():
                # Nothing adds to the arguments of a tool without injected parameters: no copy needed.
                return dict(arguments) if injected else arguments
        return _convert_fields(arguments, required_names, converters, path=None, accepts_extra=accepts_extra)

    return CompiledSignature(
        input_schema=input_schema,
        check=check,
        injected=frozenset(injected),
        parameter_names=tuple(converters),
    )
