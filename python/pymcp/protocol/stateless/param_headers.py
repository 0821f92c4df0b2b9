"""`x-mcp-header`: tool arguments mirrored into `Mcp-Param-{Name}` headers (revision 2026-07-28).

A tool's input schema may mark a primitive property with `"x-mcp-header": "Region"`; clients then send
the argument's value in `Mcp-Param-Region` so gateways can route on it. The server must check that
the header and the body agree, or a proxy routing on the header and the tool acting on the body
would act on different values.

- `header_map(schema)` validates the annotations once (at registration) and returns property path →
  header name. An annotation must be a non-empty HTTP token, unique ignoring case, on an `integer`,
  `string` or `boolean` property reached from the root through `properties` only.
- `check_param_headers(map, arguments, headers)` compares each annotated argument with its header:
  both absent (or the argument `null`) is fine; one without the other, a malformed `=?base64?…?=`
  value, or different values is -32020 (HTTP 400). Integers compare by value (`42` equals `42.0`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import orjson

from pymcp.protocol.stateless.headers import RequestHeaders, decode_header_value, header_mismatch

__all__ = ["X_MCP_HEADER", "HeaderMap", "check_param_headers", "header_map"]

X_MCP_HEADER = "x-mcp-header"
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_PRIMITIVES = frozenset(("integer", "string", "boolean"))
_DECIMAL = re.compile(r"-?[0-9]+(\.0+)?")
# Keywords whose value maps names to subschemas (only `properties` keeps the static chain).
_SCHEMA_MAPS = frozenset(("properties", "patternProperties", "dependentSchemas", "$defs", "definitions"))
# Keywords holding instance data, never schemas; the annotation's own value is data too.
_INSTANCE_DATA = frozenset(("const", "default", "enum", "examples", X_MCP_HEADER))

HeaderMap = dict[tuple[str, ...], str]


def _walk(node: Any, path: tuple[str, ...] | None, found: HeaderMap, seen: dict[str, str]) -> None:
    """Visit every object in the schema; `path` is `None` once off the pure `properties` chain."""
    if isinstance(node, list):
        for item in node:
            _walk(item, None, found, seen)
        return
    if not isinstance(node, Mapping):
        return
    if X_MCP_HEADER in node:
        where = ".".join(path) if path else "the schema root"
        name = node[X_MCP_HEADER]
        if not path:
            raise ValueError(f"`{X_MCP_HEADER}` at {where} is not reached through `properties` alone")
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise ValueError(f"`{X_MCP_HEADER}` of `{where}` must be a non-empty HTTP token, got `{name!r}`")
        if node.get("type") not in _PRIMITIVES:
            raise ValueError(f"`{X_MCP_HEADER}` of `{where}` needs type `integer`, `string` or `boolean`")
        if name.lower() in seen:
            raise ValueError(
                f"`{X_MCP_HEADER}` `{name}` of `{where}` repeats the one of `{seen[name.lower()]}`"
            )
        seen[name.lower()] = where
        found[path] = name
    for keyword, value in node.items():
        if keyword in _INSTANCE_DATA:
            continue
        if keyword in _SCHEMA_MAPS and isinstance(value, Mapping):
            for key, sub in value.items():
                child = (*path, key) if keyword == "properties" and path is not None else None
                _walk(sub, child, found, seen)
        else:
            _walk(value, None, found, seen)


def _mentions_header(input_schema: Mapping[str, Any]) -> bool:
    """Whether `x-mcp-header` appears anywhere in the schema: one scan in C spares most tools the walk."""
    try:
        dumped = orjson.dumps(input_schema, default=repr, option=orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:
        return True
    return X_MCP_HEADER.encode() in dumped


def header_map(input_schema: Mapping[str, Any]) -> HeaderMap:
    """Property path → `x-mcp-header` name; raises ValueError naming the first invalid annotation."""
    if not _mentions_header(input_schema):
        return {}
    found: HeaderMap = {}
    _walk(input_schema, (), found, {})
    return found


def _value_at(arguments: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = arguments
    for key in path:
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def _matches(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int):
        return _DECIMAL.fullmatch(text) is not None and int(text.split(".")[0]) == value
    if isinstance(value, float) and value.is_integer():
        return _DECIMAL.fullmatch(text) is not None and int(text.split(".")[0]) == int(value)
    return isinstance(value, str) and text == value


def check_param_headers(
    headers_by_path: HeaderMap, arguments: Mapping[str, Any], headers: RequestHeaders
) -> None:
    """Raise -32020 unless every annotated argument and its `Mcp-Param-*` header agree."""
    for path, name in headers_by_path.items():
        value = _value_at(arguments, path)
        raw = headers.params.get(name.lower())
        argument = ".".join(path)
        if value is None:
            if raw is not None:
                raise header_mismatch(
                    f"header `Mcp-Param-{name}` is present but argument `{argument}` is not"
                )
            continue
        if raw is None:
            raise header_mismatch(
                f"header `Mcp-Param-{name}` is required because argument `{argument}` is set"
            )
        try:
            text = decode_header_value(raw)
        except ValueError as exc:
            raise header_mismatch(f"header `Mcp-Param-{name}` is malformed: {exc}") from None
        if not _matches(value, text):
            raise header_mismatch(f"header `Mcp-Param-{name}` does not match argument `{argument}`")
