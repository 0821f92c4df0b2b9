"""The prompt registry: `@prompt_registry.register` turns functions into MCP prompts."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack, overload

from pymcp.errors import ErrorCode, MCPError
from pymcp.registry.base import Registry, WireItem, dump_value
from pymcp.registry.introspect import type_hints
from pymcp.registry.signature import INJECTED_PARAMETERS, schema_for_type

__all__ = ["PromptDefinition", "PromptOptions", "PromptRegistry", "build_prompt", "normalize_prompt_result"]

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(slots=True)
class PromptDefinition(WireItem):
    """A registered prompt. `arguments` items: `{name, description?, required, schema?, completion?}`."""

    name: str
    func: Callable[..., Any]
    description: str
    arguments: list[dict[str, Any]]
    title: str | None = None
    icons: list[dict[str, Any]] | None = None
    accepts_extra: bool = False
    wants_context: bool = False
    """Whether the function takes `request_context`."""
    wire: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        """The `Prompt` object of `prompts/list`."""
        if not self.wire:
            wire: dict[str, Any] = {"name": self.name, "description": self.description}
            if self.arguments:
                wire["arguments"] = [
                    {key: arg[key] for key in ("name", "title", "description", "required") if key in arg}
                    for arg in self.arguments
                ]
            if self.title is not None:
                wire["title"] = self.title
            if self.icons:
                wire["icons"] = self.icons
            self.wire = wire
        return self.wire

    async def render(self, arguments: Mapping[str, Any], request_context: Any = None) -> dict[str, Any]:
        """Check the arguments and run the prompt function: a `GetPromptResult`."""
        missing = [
            arg["name"] for arg in self.arguments if arg.get("required") and arg["name"] not in arguments
        ]
        if missing:
            names = ", ".join(f"`{name}`" for name in missing)
            raise MCPError(ErrorCode.INVALID_PARAMS, f"missing required argument(s): {names}")
        known = {arg["name"] for arg in self.arguments}
        unexpected = [key for key in arguments if key not in known]
        if unexpected and not self.accepts_extra:
            raise MCPError(ErrorCode.INVALID_PARAMS, f"unexpected argument `{unexpected[0]}`")
        if self.wants_context:
            # Set last: a client argument of the same name (taken by `**kwargs`) cannot replace it.
            arguments = {**arguments, "request_context": request_context}
        result = self.func(**arguments)
        if inspect.isawaitable(result):
            result = await result
        return normalize_prompt_result(result, self.description)


def _message(item: Any) -> dict[str, Any]:
    item = dump_value(item)
    if isinstance(item, str):
        return {"role": "user", "content": {"type": "text", "text": item}}
    if isinstance(item, dict):
        return item
    raise TypeError(f"a prompt message must be a string or a mapping, not `{type(item).__name__}`")


def normalize_prompt_result(value: Any, description: str) -> dict[str, Any]:
    """A str is one user message, a list is the messages, a dict with `messages` passes through."""
    value = dump_value(value)
    if isinstance(value, dict) and "messages" in value:
        result = dict(value)
        result["messages"] = [_message(item) for item in result["messages"]]
        result.setdefault("description", description)
        return result
    messages = value if isinstance(value, list) else [value]
    return {"description": description, "messages": [_message(item) for item in messages]}


def _describe(annotation: Any) -> str | None:
    for meta in getattr(annotation, "__metadata__", ()):
        if isinstance(meta, str):
            return meta
        text = getattr(meta, "description", None)
        if isinstance(text, str):
            return text
    return None


def _arguments_from_signature(func: Callable[..., Any]) -> tuple[list[dict[str, Any]], bool]:
    hints = type_hints(func)
    arguments: list[dict[str, Any]] = []
    accepts_extra = False
    for name, parameter in inspect.signature(func).parameters.items():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            accepts_extra = True
            continue
        if name in INJECTED_PARAMETERS or parameter.kind is inspect.Parameter.VAR_POSITIONAL:
            continue
        argument: dict[str, Any] = {"name": name, "required": parameter.default is inspect.Parameter.empty}
        hint = hints.get(name)
        description = _describe(hint)
        if description:
            argument["description"] = description
        if hint is not None:
            schema = schema_for_type(hint)
            if "enum" in schema:
                argument["schema"] = schema
        arguments.append(argument)
    return arguments, accepts_extra


class PromptOptions(TypedDict, total=False):
    """The keyword options of `PromptRegistry.register`."""

    name: str | None
    description: str | None
    arguments: Sequence[Mapping[str, Any]] | None
    title: str | None
    icons: Sequence[Mapping[str, Any]] | None


def build_prompt(
    function: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    arguments: Sequence[Mapping[str, Any]] | None = None,
    title: str | None = None,
    icons: Sequence[Mapping[str, Any]] | None = None,
) -> PromptDefinition:
    """A `PromptDefinition` for `function` with the options of `PromptRegistry.register`."""
    prompt_name = name or function.__name__
    derived, accepts_extra = _arguments_from_signature(function)
    declared = derived
    if arguments is not None:
        declared = [dict(arg) for arg in arguments]
        for arg in declared:
            if not isinstance(arg.get("name"), str):
                raise ValueError(f"prompt `{prompt_name}`: every argument needs a `name`")
            arg.setdefault("required", False)
    return PromptDefinition(
        name=prompt_name,
        func=function,
        description=description if description is not None else inspect.cleandoc(function.__doc__ or ""),
        arguments=declared,
        title=title,
        icons=[dict(icon) for icon in icons] if icons else None,
        accepts_extra=accepts_extra,
        wants_context="request_context" in inspect.signature(function).parameters,
    )


class PromptRegistry(Registry[PromptDefinition]):
    """Prompts by name."""

    kind = "prompt"

    def key_of(self, item: PromptDefinition) -> str:
        return item.name

    @overload
    def register(self, func: F, /, **options: Unpack[PromptOptions]) -> F: ...

    @overload
    def register(self, func: None = None, /, **options: Unpack[PromptOptions]) -> Callable[[F], F]: ...

    def register(self, func: Callable[..., Any] | None = None, /, **options: Unpack[PromptOptions]) -> Any:
        """Register a prompt: `@register`, `@register(...)` or `register(func, ...)`; returns `func`.

        Options: `name`, `description` (default: the docstring), `arguments` (a list of
        `{name, description?, required?, completion?}`; default: from the signature), `title`, `icons`.
        A `request_context` parameter receives the `pymcp.server.RequestContext` of the call.
        """

        def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
            self.add(build_prompt(function, **options))
            return function

        return decorate(func) if func is not None else decorate
