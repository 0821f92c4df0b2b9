"""The one JSON encoder: every JSON pymcp writes for a client goes through `dumps`.

orjson does the work: dataclasses, enums, datetimes and UUIDs are native. Pydantic-style models (any
object with `model_dump`) are dumped once, the same way wherever they sit (the whole value or nested in
dicts, lists and dataclasses): JSON mode, fields by alias, `None` fields left out — the shape the
model's author declared for the wire. Anything else raises `TypeError` (as do integers beyond 64 bits).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

__all__ = ["dump_value", "dumps", "dumps_text"]

_TEXT_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
# Values that are JSON as they are (exact types: a subclass may be a model).
_JSON_TYPES = frozenset((dict, list, str, int, float, bool, type(None)))


def _dump_model(value: Any) -> Any:
    """The model's wire form, or `NotImplemented` when `value` is not a pydantic-style model."""
    model_dump = getattr(value, "model_dump", None)
    if callable(model_dump) and not isinstance(value, type):
        return model_dump(mode="json", by_alias=True, exclude_none=True)
    return NotImplemented


def dump_value(value: Any) -> Any:
    """A value ready for JSON at the top level: a model or dataclass becomes a dict, the rest stays
    (nested models are dumped by `dumps`, the same way)."""
    if type(value) in _JSON_TYPES:
        return value
    dumped = _dump_model(value)
    if dumped is not NotImplemented:
        return dumped
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    return value


def _default(value: Any) -> Any:
    """orjson's fallback: pydantic-style models; everything else is not JSON."""
    dumped = _dump_model(value)
    if dumped is NotImplemented:
        raise TypeError(f"type `{type(value).__name__}` is not JSON-serializable")
    return dumped


def dumps(value: Any) -> bytes:
    """Wire JSON (raises `TypeError`, which `orjson.JSONEncodeError` subclasses, for non-JSON values)."""
    # Not a functools.partial: with a keyword bound, CPython 3.11 calls it through a slower path.
    return orjson.dumps(value, default=_default)


def dumps_text(value: Any) -> str:
    """JSON for people to read in a text block: keys sorted, non-string keys spelled as strings."""
    return orjson.dumps(value, default=_default, option=_TEXT_OPTIONS).decode()
