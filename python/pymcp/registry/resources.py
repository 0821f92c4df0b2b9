"""The resource registry: static resources by URI and RFC 6570 level-1 templates (`{var}`)."""

from __future__ import annotations

import base64
import inspect
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import unquote

from pymcp.errors import ErrorCode, MCPError
from pymcp.registry.base import Registry, WireItem, dump_value

__all__ = [
    "ResourceDefinition",
    "ResourceHandler",
    "ResourceRegistry",
    "ResourceTemplateDefinition",
    "ResourceUpdatedListener",
    "check_resource_uri",
    "normalize_resource_result",
]

# How many times a URI is percent-decoded when looking for dot segments (`%252e` is `%2e` once decoded).
_DECODE_ROUNDS = 3


def check_resource_uri(uri: str) -> None:
    """Refuse a URI with a `.` or `..` path segment, however it is percent-encoded or slashed.

    Resources are matched and authorized as written, so `res://public/../admin/x` would pass a
    `res://public/*` rule and reach a template handler as `../admin/x`: such URIs never get that far.
    """
    decoded = uri
    for _ in range(_DECODE_ROUNDS):
        segments = decoded.replace("\\", "/").split("/")
        if any(segment in (".", "..") for segment in segments):
            raise MCPError(
                ErrorCode.INVALID_PARAMS,
                f"resource uri `{uri[:200]}` has a `.` or `..` segment",
                {"uri": uri[:200]},
            )
        if "%" not in decoded:
            return
        decoded = unquote(decoded)


ResourceHandler = Callable[..., Any]
ResourceUpdatedListener = Callable[[str], None]
F = TypeVar("F", bound=Callable[..., Any])
_VARIABLE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def _base_wire(key: str, value: str, item: ResourceDefinition | ResourceTemplateDefinition) -> dict[str, Any]:
    """The fields resources and templates share on the wire."""
    wire: dict[str, Any] = {key: value, "name": item.name}
    for wire_key, field_value in (
        ("title", item.title),
        ("description", item.description),
        ("mimeType", item.mime_type),
        ("icons", item.icons),
        ("annotations", item.annotations),
    ):
        if field_value:
            wire[wire_key] = field_value
    return wire


# Parameters a handler may take besides the template variables; they are passed when it does.
_OPTIONAL_PARAMETERS = frozenset(("request_context", "uri"))


async def _produce(
    func: ResourceHandler,
    kwargs: dict[str, Any],
    extras: frozenset[str],
    uri: str,
    mime_type: str | None,
    request_context: Any,
) -> dict[str, Any]:
    """Run a resource handler (sync or async) and shape its `ReadResourceResult`."""
    if "uri" in extras:
        kwargs["uri"] = uri
    if "request_context" in extras:
        kwargs["request_context"] = request_context
    value = func(**kwargs)
    if inspect.isawaitable(value):
        value = await value
    return normalize_resource_result(value, uri, mime_type)


@dataclass(slots=True)
class ResourceDefinition(WireItem):
    """A static resource."""

    uri: str
    func: ResourceHandler
    name: str
    description: str | None = None
    mime_type: str | None = "text/plain"
    title: str | None = None
    icons: list[dict[str, Any]] | None = None
    annotations: dict[str, Any] | None = None
    size: int | None = None
    extras: frozenset[str] = frozenset()
    """Which of `uri` and `request_context` the handler takes."""
    wire: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        if not self.wire:
            self.wire = _base_wire("uri", self.uri, self)
            if self.size is not None:
                self.wire["size"] = self.size
        return self.wire

    async def read(self, uri: str, request_context: Any = None) -> dict[str, Any]:
        return await _produce(self.func, {}, self.extras, uri, self.mime_type, request_context)


@dataclass(slots=True)
class ResourceTemplateDefinition(WireItem):
    """A resource template: `{var}` matches one path segment, or the rest of the URI when it is last."""

    uri_template: str
    func: ResourceHandler
    name: str
    pattern: re.Pattern[str]
    variable_names: tuple[str, ...]
    description: str | None = None
    mime_type: str | None = "text/plain"
    variables: dict[str, Any] | None = None
    title: str | None = None
    icons: list[dict[str, Any]] | None = None
    annotations: dict[str, Any] | None = None
    extras: frozenset[str] = frozenset()
    """Which of `uri` and `request_context` the handler takes."""
    wire: dict[str, Any] = field(default_factory=dict)

    def to_wire(self) -> dict[str, Any]:
        if not self.wire:
            self.wire = _base_wire("uriTemplate", self.uri_template, self)
        return self.wire

    def match(self, uri: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(uri)
        return found.groupdict() if found else None

    async def read(self, uri: str, values: Mapping[str, str], request_context: Any = None) -> dict[str, Any]:
        return await _produce(self.func, dict(values), self.extras, uri, self.mime_type, request_context)


def normalize_resource_result(value: Any, uri: str, mime_type: str | None) -> dict[str, Any]:
    """bytes become a `blob`, a dict with `contents` passes through, anything else is `text`."""
    value = dump_value(value)
    if isinstance(value, dict) and "contents" in value:
        return value
    item: dict[str, Any] = {"uri": uri}
    if mime_type:
        item["mimeType"] = mime_type
    if isinstance(value, bytes | bytearray | memoryview):
        item["blob"] = base64.b64encode(bytes(value)).decode("ascii")
    elif isinstance(value, dict) and ("text" in value or "blob" in value):
        item.update(value)
    else:
        item["text"] = value if isinstance(value, str) else str(value)
    return {"contents": [item]}


def _compile_template(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    parts: list[str] = []
    names: list[str] = []
    position = 0
    for found in _VARIABLE.finditer(template):
        parts.append(re.escape(template[position : found.start()]))
        name = found.group(1)
        if name in names:
            raise ValueError(f"uri template `{template}` repeats the variable `{name}`")
        names.append(name)
        last = found.end() == len(template)
        parts.append(f"(?P<{name}>{'.+' if last else '[^/]+'})")
        position = found.end()
    parts.append(re.escape(template[position:]))
    if "{" in template[position:] or not names:
        raise ValueError(f"uri template `{template}` needs `{{name}}` variables and nothing else in braces")
    return re.compile("".join(parts)), tuple(names)


def _extras(func: Callable[..., Any], expected: Sequence[str], what: str) -> frozenset[str]:
    """Check that the handler takes the `expected` variables; the optional parameters it takes too."""
    parameters = inspect.signature(func).parameters
    # A variable may be named like an optional parameter (`note://{uri}`): then it is the variable.
    optional = _OPTIONAL_PARAMETERS.difference(expected)
    names = [name for name in parameters if name not in optional]
    if sorted(names) != sorted(expected):
        wanted = ", ".join(f"`{name}`" for name in expected) or "no parameters"
        also = " and ".join(f"`{name}`" for name in sorted(optional))
        raise ValueError(f"{what}: the handler must take {wanted} (and optionally {also})")
    return optional.intersection(parameters)


def _icons(icons: Sequence[Mapping[str, Any]] | None) -> list[dict[str, Any]] | None:
    return [dict(icon) for icon in icons] if icons else None


def _annotations(annotations: Any) -> dict[str, Any] | None:
    dumped = dump_value(annotations) if annotations is not None else None
    return {k: v for k, v in dumped.items() if v is not None} if isinstance(dumped, dict) else None


class ResourceRegistry(Registry[ResourceDefinition]):
    """Static resources by URI, plus templates (kept in `templates`)."""

    kind = "resource"

    def __init__(self) -> None:
        super().__init__()
        self.templates: Registry[ResourceTemplateDefinition] = _TemplateRegistry()
        self._updated_listeners: list[Callable[[str], None]] = []

    def key_of(self, item: ResourceDefinition) -> str:
        return item.uri

    def copy(self) -> Any:
        other: ResourceRegistry = super().copy()
        other.templates._items = dict(self.templates._items)
        return other

    def register(
        self,
        func: Callable[..., Any] | None = None,
        /,
        *,
        uri: str,
        name: str | None = None,
        description: str | None = None,
        mime_type: str | None = "text/plain",
        title: str | None = None,
        icons: Sequence[Mapping[str, Any]] | None = None,
        annotations: Any = None,
        size: int | None = None,
    ) -> Any:
        """Register a static resource at `uri`; the handler takes no arguments, or `uri` and/or
        `request_context` (a `pymcp.server.RequestContext`)."""

        def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
            self.add(
                ResourceDefinition(
                    uri=uri,
                    func=function,
                    name=name or function.__name__,
                    description=description
                    if description is not None
                    else inspect.cleandoc(function.__doc__ or ""),
                    mime_type=mime_type,
                    title=title,
                    icons=_icons(icons),
                    annotations=_annotations(annotations),
                    size=size,
                    extras=_extras(function, (), f"resource `{uri}`"),
                )
            )
            return function

        return decorate(func) if func is not None else decorate

    def register_template(
        self,
        func: Callable[..., Any] | None = None,
        /,
        *,
        uri_template: str,
        name: str | None = None,
        description: str | None = None,
        mime_type: str | None = "text/plain",
        variables: Mapping[str, Any] | None = None,
        title: str | None = None,
        icons: Sequence[Mapping[str, Any]] | None = None,
        annotations: Any = None,
    ) -> Any:
        """Register a template such as `file:///{path}`; the handler takes the variables by name (and
        optionally `uri` and `request_context`)."""
        pattern, names = _compile_template(uri_template)

        def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
            self.templates.add(
                ResourceTemplateDefinition(
                    uri_template=uri_template,
                    func=function,
                    name=name or function.__name__,
                    pattern=pattern,
                    variable_names=names,
                    description=description
                    if description is not None
                    else inspect.cleandoc(function.__doc__ or ""),
                    mime_type=mime_type,
                    variables=dict(variables) if variables else None,
                    title=title,
                    icons=_icons(icons),
                    annotations=_annotations(annotations),
                    extras=_extras(function, names, f"resource template `{uri_template}`"),
                )
            )
            return function

        return decorate(func) if func is not None else decorate

    def resolve(
        self, uri: str
    ) -> tuple[ResourceDefinition | ResourceTemplateDefinition, dict[str, str]] | None:
        """The resource or template that serves `uri`, with the template's variable values."""
        check_resource_uri(uri)
        resource = self._items.get(uri)
        if resource is not None:
            return resource, {}
        for template in self.templates._items.values():
            values = template.match(uri)
            if values is not None:
                return template, values
        return None

    def on_updated(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call `listener(uri)` on `notify_updated`; returns a function that removes it."""
        self._updated_listeners.append(listener)
        return lambda: self._updated_listeners.remove(listener)

    def list_template_payload(self) -> list[dict[str, Any]]:
        """0.3.0: the templates' wire objects."""
        return self.templates.list_payload()

    def add_update_listener(self, listener: ResourceUpdatedListener) -> None:
        """0.3.0 name of `on_updated`."""
        self.on_updated(listener)

    def notify_updated(self, uri: str) -> None:
        """Tell subscribed sessions that `uri` changed (`notifications/resources/updated`)."""
        for listener in list(self._updated_listeners):
            listener(uri)


class _TemplateRegistry(Registry[ResourceTemplateDefinition]):
    kind = "resource template"

    def key_of(self, item: ResourceTemplateDefinition) -> str:
        return item.uri_template
