"""The tool registry: `@tool_registry.register` turns functions into MCP tools."""

from __future__ import annotations

import asyncio
import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypedDict, TypeVar, Unpack, cast, overload

from pymcp._json import dumps, dumps_text
from pymcp.protocol.stateless.param_headers import HeaderMap, header_map
from pymcp.registry.base import Registry, WireItem, dump_value
from pymcp.registry.signature import ArgumentChecker, compile_signature, compile_user_schema

__all__ = [
    "AsyncToolFunction",
    "SyncToolFunction",
    "ToolDefinition",
    "ToolExecutionConfig",
    "ToolFunction",
    "ToolOptions",
    "ToolRegistry",
    "normalize_tool_result",
    "pending",
]

SyncToolFunction = Callable[..., Any]
AsyncToolFunction = Callable[..., Any]
ToolFunction = SyncToolFunction | AsyncToolFunction
F = TypeVar("F", bound=Callable[..., Any])

_RUNNERS = ("async", "thread")
_TASK_SUPPORT = ("required", "optional", "forbidden")
_CANCELLATION = ("cooperative", "terminate")
_EXECUTION_KEYS = frozenset(("taskSupport", "runner", "cancellation", "streaming", "maxOutputBytes"))


class ToolOptions(TypedDict, total=False):
    """The keyword options of `ToolRegistry.register`."""

    name: str | None
    description: str | None
    execution: ToolExecutionConfig | Mapping[str, Any] | None
    title: str | None
    output_schema: Mapping[str, Any] | None
    annotations: Any
    icons: Sequence[Mapping[str, Any]] | None
    input_schema: Mapping[str, Any] | None


class ToolExecutionConfig(TypedDict, total=False):
    """How a tool runs: `taskSupport` is advertised; `runner="thread"` runs a blocking tool in a thread;
    a result over `maxOutputBytes` (encoded) becomes a tool error. Cancellation is always cooperative
    and results are never streamed: `cancellation="terminate"` and `streaming=True` (accepted by 0.3.0,
    which ignored them too) warn."""

    taskSupport: Literal["required", "optional", "forbidden"]
    runner: Literal["async", "thread", "process", "subprocess"]
    cancellation: Literal["cooperative", "terminate"]
    streaming: bool
    maxOutputBytes: int


@dataclass(slots=True)
class ToolDefinition(WireItem):
    """A registered tool: its wire description and how to call it."""

    name: str
    func: Callable[..., Any]
    description: str
    input_schema: dict[str, Any]
    check_arguments: ArgumentChecker
    injected: frozenset[str] = frozenset()
    title: str | None = None
    output_schema: dict[str, Any] | None = None
    annotations: dict[str, Any] | None = None
    icons: list[dict[str, Any]] | None = None
    execution: ToolExecutionConfig | None = None
    in_thread: bool = False
    max_output_bytes: int | None = None
    wire: dict[str, Any] = field(default_factory=dict)
    header_map: HeaderMap = field(default_factory=dict)
    """Argument path → `Mcp-Param-*` header name, from the `x-mcp-header` annotations (2026-07-28)."""

    @property
    def task_support(self) -> str:
        """`required`, `optional` or `forbidden` (the default)."""
        execution = self.execution
        return execution.get("taskSupport", "forbidden") if execution else "forbidden"

    def to_wire(self) -> dict[str, Any]:
        """The `Tool` object of `tools/list` (built once)."""
        if not self.wire:
            wire: dict[str, Any] = {
                "name": self.name,
                "description": self.description,
                "inputSchema": self.input_schema,
            }
            if self.title is not None:
                wire["title"] = self.title
            if self.output_schema is not None:
                wire["outputSchema"] = self.output_schema
            if self.annotations:
                wire["annotations"] = self.annotations
            if self.icons:
                wire["icons"] = self.icons
            if self.execution and "taskSupport" in self.execution:
                wire["execution"] = {"taskSupport": self.execution["taskSupport"]}
            self.wire = wire
        return self.wire

    def result_of(self, value: Any) -> dict[str, Any]:
        """The `CallToolResult` for what the function returned (a tool error when over `maxOutputBytes`)."""
        result = normalize_tool_result(value, structured=self.output_schema is not None)
        if self.max_output_bytes is not None:
            size = len(dumps(result))
            if size > self.max_output_bytes:
                limit = self.max_output_bytes
                text = f"tool `{self.name}` returned {size} bytes, more than its `maxOutputBytes` ({limit})"
                return {"isError": True, "content": [{"type": "text", "text": text}]}
        return result

    def start(self, arguments: dict[str, Any]) -> Any:
        """Call the function with already checked arguments (injected values included): the value a sync
        tool returned, or an awaitable of the result (`pending` tells which).

        Sync tools run inline unless their runner is `thread`: for the trivial ones that most are, a
        thread hop (or even a coroutine of their own) costs more than they do.
        """
        if self.in_thread:
            return asyncio.to_thread(self.func, **arguments)
        return self.func(**arguments)


_TEXT_VALUES = frozenset((str, int, float, bool))

# Values never awaitable, known without `isawaitable`'s ABC check (most tools return one of these).
_PLAIN_VALUES = frozenset((str, int, float, bool, dict, list, type(None)))


def pending(value: Any) -> bool:
    """Whether what `ToolDefinition.start` gave is to be awaited (an async tool's coroutine, a thread's
    result, or an awaitable a sync tool returned)."""
    return type(value) not in _PLAIN_VALUES and inspect.isawaitable(value)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if type(value) is int:  # JSON spells an integer as Python does
        return str(value)
    return dumps_text(value)


def normalize_tool_result(value: Any, *, structured: bool = False) -> dict[str, Any]:
    """A tool's return value as a `CallToolResult`.

    A dict with `content`, `structuredContent` or `isError` passes through (`content` added when missing);
    a list is the content; anything else becomes one text item. With an output schema (`structured`),
    a plain value is also sent as `structuredContent`. `_meta` stays inside the result.
    """
    if type(value) in _TEXT_VALUES and not structured:  # the commonest answers, the shortest path
        return {"content": [{"type": "text", "text": _text(value)}]}
    value = dump_value(value)
    if isinstance(value, dict) and ("content" in value or "structuredContent" in value or "isError" in value):
        if "content" not in value:
            value = {**value, "content": []}
            if "structuredContent" in value:
                value["content"] = [{"type": "text", "text": _text(value["structuredContent"])}]
        return cast(dict[str, Any], value)
    if isinstance(value, list) and not structured:
        return {"content": [dump_value(item) for item in value]}
    if value is None and not structured:
        return {"content": []}
    result: dict[str, Any] = {"content": [{"type": "text", "text": _text(value)}]}
    if structured:
        result["structuredContent"] = value if isinstance(value, dict) else {"result": value}
    return result


class ToolRegistry(Registry[ToolDefinition]):
    """Tools by name. Re-registering a name replaces the tool (as in 0.3.0)."""

    kind = "tool"

    @overload
    def register(self, func: F, /, **options: Unpack[ToolOptions]) -> F: ...

    @overload
    def register(self, func: None = None, /, **options: Unpack[ToolOptions]) -> Callable[[F], F]: ...

    def register(self, func: Callable[..., Any] | None = None, /, **options: Unpack[ToolOptions]) -> Any:
        """Register a tool: `@register`, `@register(name=...)` or `register(func, name=...)`.

        Options (all keyword-only): `name`, `description` (default: the docstring), `execution`
        (`taskSupport`, `runner`), `title`, `output_schema`, `annotations`, `icons`, and `input_schema`,
        which replaces the schema derived from the type hints (sent verbatim, checked with jsonschema).
        Returns the function unchanged.
        """

        def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
            self.add(build_tool(function, **options))
            return function

        return decorate(func) if func is not None else decorate

    def key_of(self, item: ToolDefinition) -> str:
        return item.name


def _execution(execution: Mapping[str, Any] | None, name: str) -> ToolExecutionConfig | None:
    if execution is None:
        return None
    config: dict[str, Any] = dict(execution)
    support = config.get("taskSupport")
    if support is not None and support not in _TASK_SUPPORT:
        raise ValueError(
            f"tool `{name}`: taskSupport must be `required`, `optional` or `forbidden`, not `{support}`"
        )
    runner = config.get("runner")
    if runner is not None and runner not in _RUNNERS:
        raise ValueError(f"tool `{name}`: runner `{runner}` is not supported (use `async` or `thread`)")
    limit = config.get("maxOutputBytes")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0):
        raise ValueError(f"tool `{name}`: `maxOutputBytes` must be a positive integer, not `{limit!r}`")
    cancellation = config.get("cancellation")
    if cancellation is not None and cancellation not in _CANCELLATION:
        raise ValueError(
            f"tool `{name}`: cancellation must be `cooperative` or `terminate`, not `{cancellation}`"
        )
    if cancellation == "terminate":
        _ignored(f'tool `{name}`: `cancellation="terminate"` is not supported; cancellation is cooperative')
    streaming = config.get("streaming")
    if streaming is not None and not isinstance(streaming, bool):
        raise ValueError(f"tool `{name}`: `streaming` must be true or false, not `{streaming!r}`")
    if streaming:
        _ignored(f"tool `{name}`: `streaming=True` is not supported; send progress notifications instead")
    for key in sorted(config.keys() - _EXECUTION_KEYS):
        _ignored(f"tool `{name}`: unknown execution option `{key}` is ignored")
    return cast(ToolExecutionConfig, config)


def _ignored(message: str) -> None:
    """A 0.3.0 option we accept but cannot honour: warn where the tool is registered."""
    warnings.warn(message, UserWarning, stacklevel=5)


def build_tool(
    func: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    execution: Mapping[str, Any] | None = None,
    title: str | None = None,
    output_schema: Mapping[str, Any] | None = None,
    annotations: Any = None,
    icons: Sequence[Mapping[str, Any]] | None = None,
    input_schema: Mapping[str, Any] | None = None,
) -> ToolDefinition:
    """A `ToolDefinition` for `func` with the options of `ToolRegistry.register`."""
    tool_name = name or getattr(func, "__name__", None)
    if not tool_name:
        raise ValueError("a tool needs a name: pass `name=`")
    compiled = compile_signature(func)
    config = _execution(execution, tool_name)
    dumped_annotations = dump_value(annotations) if annotations is not None else None
    if dumped_annotations is not None and not isinstance(dumped_annotations, dict):
        raise TypeError(f"tool `{tool_name}`: annotations must be a mapping or a model")
    if icons is not None and not all(isinstance(icon, Mapping) and "src" in icon for icon in icons):
        raise ValueError(f"tool `{tool_name}`: every icon needs a `src`")
    schema = dict(input_schema) if input_schema is not None else compiled.input_schema
    try:
        headers = header_map(schema)
    except ValueError as error:
        raise ValueError(f"tool `{tool_name}`: {error}") from None
    return ToolDefinition(
        name=tool_name,
        func=func,
        description=description if description is not None else inspect.cleandoc(func.__doc__ or ""),
        input_schema=schema,
        check_arguments=compile_user_schema(input_schema) if input_schema is not None else compiled.check,
        injected=compiled.injected,
        title=title,
        output_schema=dict(output_schema) if output_schema is not None else None,
        annotations={k: v for k, v in dumped_annotations.items() if v is not None}
        if dumped_annotations
        else None,
        icons=[dict(icon) for icon in icons] if icons else None,
        execution=config,
        in_thread=(config or {}).get("runner") == "thread",
        max_output_bytes=(config or {}).get("maxOutputBytes"),
        header_map=headers,
    )
