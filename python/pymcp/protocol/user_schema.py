"""Schemas the user wrote (a tool's `input_schema=`, an elicitation's `requestedSchema`), checked with
`jsonschema` when it is installed (imported lazily)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pymcp.errors import InvalidArgument

__all__ = ["ArgumentChecker", "compile_user_schema"]

ArgumentChecker = Callable[[dict[str, Any]], dict[str, Any]]


def compile_user_schema(schema: Mapping[str, Any]) -> ArgumentChecker:
    """A checker for a schema the user wrote: jsonschema when installed, else objects pass as they are."""
    try:
        import jsonschema  # type: ignore[import-untyped]  # optional: only hand-written schemas need it
    except ImportError:  # pragma: no cover - jsonschema is present in the dev environment

        def check_object_only(arguments: Mapping[str, Any]) -> dict[str, Any]:
            return dict(arguments)

        return check_object_only
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    validator = validator_class(schema)

    def check(arguments: Mapping[str, Any]) -> dict[str, Any]:
        error = jsonschema.exceptions.best_match(validator.iter_errors(arguments))
        if error is not None:
            where = ".".join(str(part) for part in error.absolute_path) or "arguments"
            raise InvalidArgument(f"`{where}`: {error.message}")
        return dict(arguments)

    return check
