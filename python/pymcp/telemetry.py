"""OpenTelemetry for an app made by `create_app`, following the OpenTelemetry semantic conventions for MCP.

Off by default and free when off: nothing here is imported or wrapped until `instrument_app(app)` is
called (install the extra: `pip install 'pymcp-kit[otel]'`). Once on, it records:

- one SERVER span per request and per notification, named `{mcp.method.name} {tool or prompt name}`,
  with `mcp.method.name`, `jsonrpc.request.id`, `mcp.session.id`, `mcp.protocol.version`,
  `network.transport` (`tcp` for HTTP, `pipe` for stdio),
  `gen_ai.tool.name` (+ `gen_ai.operation.name=execute_tool`), `gen_ai.prompt.name`, `mcp.resource.uri`,
  and on failure `error.type` (the JSON-RPC code, or `tool_error` for a tool result with `isError`),
  `rpc.response.status_code` and an ERROR status. The parent is the trace context the client put in
  `params._meta` (`traceparent`, `tracestate`, `baggage`, read with the configured propagators); an
  ambient span (e.g. from HTTP instrumentation) becomes a link;
- the histograms `mcp.server.operation.duration` and `mcp.server.session.duration` (seconds);
- `pymcp.authz.decisions`: authorization decisions by `pymcp.authz.effect` and `pymcp.authz.rule`
  (the rule's id, else `#<index>` counted from 0, else `default`);
- `pymcp.tasks.status_changes`: task status changes made by this worker, by `pymcp.task.status`.

The principal's subject is recorded (`enduser.id`) only with `record_subject=True`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from pymcp.protocol.jsonrpc import Notification, Request
    from pymcp.server.session import Session

__all__ = ["OPERATION_BUCKETS", "Telemetry", "instrument_app"]

OPERATION_BUCKETS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
"""The bucket boundaries the conventions advise for the MCP duration histograms (seconds)."""

_SCOPE = "pymcp"
_T = TypeVar("_T")
_PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
_RESOURCE_METHODS = frozenset({"resources/read", "resources/subscribe", "resources/unsubscribe"})
# Span attributes also put on the duration histogram (low cardinality only: no ids, no uris).
_METRIC_ATTRIBUTES = (
    "mcp.method.name",
    "network.transport",
    "gen_ai.tool.name",
    "gen_ai.prompt.name",
    "gen_ai.operation.name",
    "mcp.protocol.version",
)


def _import_otel() -> Any:
    try:
        from opentelemetry import trace
    except ImportError:
        raise ImportError(
            "telemetry needs OpenTelemetry: install the extra with `pip install 'pymcp-kit[otel]'`"
        ) from None
    return trace


@dataclass(frozen=True, slots=True)
class _Target:
    """What the conventions record about a request's target."""

    span_name: str
    attributes: dict[str, str]


def _target(method: str, params: Any) -> _Target:
    attributes: dict[str, str] = {"mcp.method.name": method}
    name = method
    if isinstance(params, Mapping):
        if method == "tools/call" and isinstance(params.get("name"), str):
            attributes["gen_ai.tool.name"] = params["name"]
            attributes["gen_ai.operation.name"] = "execute_tool"
            name = f"{method} {params['name']}"
        elif method == "prompts/get" and isinstance(params.get("name"), str):
            attributes["gen_ai.prompt.name"] = params["name"]
            name = f"{method} {params['name']}"
        elif method in _RESOURCE_METHODS and isinstance(params.get("uri"), str):
            attributes["mcp.resource.uri"] = params["uri"]  # not in the span name: high cardinality
    return _Target(name, attributes)


def _meta(params: Any) -> dict[str, str]:
    """The string entries of `params._meta` (propagators read text; anything else is the client's error)."""
    meta = params.get("_meta") if isinstance(params, Mapping) else None
    if not isinstance(meta, Mapping):
        return {}
    return {key: value for key, value in meta.items() if isinstance(key, str) and isinstance(value, str)}


class Telemetry:
    """The instruments of one app (made by `instrument_app`)."""

    def __init__(
        self,
        *,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        record_subject: bool = False,
    ) -> None:
        trace = _import_otel()
        from opentelemetry import metrics, propagate

        from pymcp.settings import PACKAGE_VERSION

        self._trace = trace
        self._propagate = propagate
        self.record_subject = record_subject
        self.network_transport = "tcp"
        """`tcp` (Streamable HTTP); `run_stdio_server` sets `pipe`."""
        self.tracer = trace.get_tracer(_SCOPE, PACKAGE_VERSION, tracer_provider=tracer_provider)
        meter = metrics.get_meter(_SCOPE, PACKAGE_VERSION, meter_provider=meter_provider)
        self.operation_duration = meter.create_histogram(
            "mcp.server.operation.duration",
            unit="s",
            description="MCP request or notification duration as observed on the receiver.",
            explicit_bucket_boundaries_advisory=list(OPERATION_BUCKETS),
        )
        self.session_duration = meter.create_histogram(
            "mcp.server.session.duration",
            unit="s",
            description="The duration of the MCP session as observed on the MCP server.",
            explicit_bucket_boundaries_advisory=list(OPERATION_BUCKETS),
        )
        self.authz_decisions = meter.create_counter(
            "pymcp.authz.decisions", unit="{decision}", description="Authorization decisions."
        )
        self.task_statuses = meter.create_counter(
            "pymcp.tasks.status_changes", unit="{change}", description="Task status changes made here."
        )

    # -- spans ------------------------------------------------------------------------------------------

    def _start(
        self,
        method: str,
        params: Any,
        *,
        request_id: str | int | None,
        session: Session | None,
        principal: Any,
    ) -> tuple[Any, dict[str, str], float]:
        trace = self._trace
        target = _target(method, params)
        attributes: dict[str, Any] = dict(target.attributes)
        attributes["network.transport"] = self.network_transport
        meta = _meta(params)
        if request_id is not None:
            attributes["jsonrpc.request.id"] = str(request_id)
        if session is not None and session.id is not None:
            attributes["mcp.session.id"] = session.id
        version = session.protocol_version if session is not None else meta.get(_PROTOCOL_VERSION_META)
        if isinstance(version, str):
            attributes["mcp.protocol.version"] = version
        if self.record_subject and principal is not None:
            attributes["enduser.id"] = principal.subject
        ambient = trace.get_current_span().get_span_context()
        links = [trace.Link(ambient)] if ambient.is_valid else None
        span = self.tracer.start_span(
            target.span_name,
            context=self._propagate.extract(meta),
            kind=trace.SpanKind.SERVER,
            attributes=attributes,
            links=links,
        )
        metric_attributes: dict[str, str] = {
            key: attributes[key] for key in _METRIC_ATTRIBUTES if key in attributes
        }
        return span, metric_attributes, time.perf_counter()

    def _end(
        self,
        span: Any,
        metric_attributes: dict[str, str],
        started: float,
        *,
        error: Any = None,
        body: bytes | None = None,
        failure: BaseException | None = None,
    ) -> None:
        error_type: str | None = None
        if error is not None:
            error_type = str(error.code)
            span.set_attribute("rpc.response.status_code", error_type)
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, error.message))
        elif failure is not None:
            error_type = type(failure).__qualname__
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
        elif body is not None and "gen_ai.tool.name" in metric_attributes and b'"isError":true' in body:
            error_type = "tool_error"
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR))
        if error_type is not None:
            span.set_attribute("error.type", error_type)
            metric_attributes = {**metric_attributes, "error.type": error_type}
            if error is not None:
                metric_attributes["rpc.response.status_code"] = error_type
        span.end()
        self.operation_duration.record(time.perf_counter() - started, metric_attributes)

    # -- wrappers around the dispatcher's entries ---------------------------------------------------------

    async def _traced(
        self,
        method: str,
        params: Any,
        request_id: Any,
        session: Session | None,
        principal: Any,
        call: Awaitable[_T],
    ) -> tuple[Any, dict[str, Any], float, _T]:
        """Run `call` inside a server span; the caller ends the span with what the call returned."""
        span, labels, started = self._start(
            method, params, request_id=request_id, session=session, principal=principal
        )
        try:
            with self._trace.use_span(span, end_on_exit=False):
                result = await call
        except BaseException as failure:
            self._end(span, labels, started, failure=failure)
            raise
        return span, labels, started, result

    def wrap_request(self, handle: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def traced(
            session: Session, request: Request, principal: Any, *args: Any, **kwargs: Any
        ) -> Any:
            call = handle(session, request, principal, *args, **kwargs)
            span, labels, started, reply = await self._traced(
                request.method, request.params, request.id, session, principal, call
            )
            self._end(span, labels, started, error=reply[1], body=reply[0])
            return reply

        return traced

    def wrap_stateless(self, handle: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def traced(request: Request, principal: Any, *args: Any, **kwargs: Any) -> Any:
            call = handle(request, principal, *args, **kwargs)
            span, labels, started, reply = await self._traced(
                request.method, request.params, request.id, None, principal, call
            )
            self._end(span, labels, started, error=reply[1], body=reply[0])
            return reply

        return traced

    def wrap_initialize(self, handle: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def traced(request: Request, principal: Any, *args: Any, **kwargs: Any) -> Any:
            call = handle(request, principal, *args, **kwargs)
            span, labels, started, (session, reply) = await self._traced(
                request.method, request.params, request.id, None, principal, call
            )
            if session is not None:
                if session.id is not None:
                    span.set_attribute("mcp.session.id", session.id)
                span.set_attribute("mcp.protocol.version", session.protocol_version)
                labels["mcp.protocol.version"] = session.protocol_version
            self._end(span, labels, started, error=reply[1], body=reply[0])
            return session, reply

        return traced

    def wrap_notification(self, handle: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def traced(session: Session, notification: Notification) -> None:
            call = handle(session, notification)
            span, labels, started, _ = await self._traced(
                notification.method, notification.params, None, session, None, call
            )
            self._end(span, labels, started)

        return traced

    # A `SessionListener` of the dispatcher: told once per session this worker held.
    def session_loaded(self, session: Session) -> None:
        pass

    def session_removed(self, session: Session) -> None:
        """The session ended here (DELETE, expiry, end of stdio, shutdown)."""
        attributes = {"mcp.protocol.version": session.protocol_version}
        self.session_duration.record(time.monotonic() - session.created_at, attributes)

    # -- authorization and tasks --------------------------------------------------------------------------

    def wrap_authorize(self, authorize: Callable[..., None], authorizer: Any) -> Callable[..., None]:
        from pymcp.security.rules import RuleBasedAuthorizer

        decide = authorizer.decide if isinstance(authorizer, RuleBasedAuthorizer) else None

        def counted(principal: Any, method: str, params: Any) -> None:
            try:
                authorize(principal, method, params)
            except BaseException:
                self._count_decision("deny", decide, principal, method, params)
                raise
            self._count_decision("allow", decide, principal, method, params)

        return counted

    def _count_decision(
        self, effect: str, decide: Callable[..., Any] | None, principal: Any, method: str, params: Any
    ) -> None:
        rule = "unknown"
        if decide is not None:
            target = None
            if isinstance(params, Mapping):
                key = "uri" if method in _RESOURCE_METHODS else "name"
                target = params.get(key) if isinstance(params.get(key), str) else None
            decision = decide(principal, method, target)
            if decision.rule_id is not None:
                rule = decision.rule_id
            elif decision.rule_index is not None:
                rule = f"#{decision.rule_index}"
            else:
                rule = "default"
        self.authz_decisions.add(
            1, {"pymcp.authz.effect": effect, "pymcp.authz.rule": rule, "mcp.method.name": method}
        )

    def wrap_transition(self, transition: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(owner: str, task_id: str, status: str, *args: Any, **kwargs: Any) -> Any:
            change = await transition(owner, task_id, status, *args, **kwargs)
            if change.applied:
                self.task_statuses.add(1, {"pymcp.task.status": str(status)})
            return change

        return counted

    def wrap_create(self, create: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def counted(*args: Any, **kwargs: Any) -> Any:
            task = await create(*args, **kwargs)
            self.task_statuses.add(1, {"pymcp.task.status": "working"})
            return task

        return counted


def instrument_app(
    app: Any,
    *,
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
    record_subject: bool = False,
) -> Telemetry:
    """Record spans and metrics for `app` (made by `create_app`); the global providers unless given.

    Call it once, before serving. Apps that are not instrumented pay nothing: this wraps the app's
    dispatcher, gate and task engine and listens to the dispatcher's sessions; nothing else in pymcp
    knows telemetry exists.
    """
    state: Any = getattr(app, "state", None)
    dispatcher = getattr(state, "dispatcher", None)
    if dispatcher is None:
        raise TypeError("instrument_app() needs an app made by `pymcp.create_app`")
    if getattr(state, "telemetry", None) is not None:
        raise ValueError("this app is already instrumented")
    telemetry = Telemetry(
        tracer_provider=tracer_provider, meter_provider=meter_provider, record_subject=record_subject
    )
    # The transports look these up on the dispatcher for every message, so wrapping the instance is enough.
    dispatcher.handle_request = telemetry.wrap_request(dispatcher.handle_request)
    dispatcher.handle_stateless = telemetry.wrap_stateless(dispatcher.handle_stateless)
    dispatcher.initialize = telemetry.wrap_initialize(dispatcher.initialize)
    dispatcher.handle_notification = telemetry.wrap_notification(dispatcher.handle_notification)
    dispatcher.add_listener(telemetry)
    gate = state.security_gate
    if gate is not None and gate.authorizer is not None:
        gate.authorize = telemetry.wrap_authorize(gate.authorize, gate.authorizer)
    engine = state.task_engine
    if engine is not None:
        engine.create = telemetry.wrap_create(engine.create)
        # Changes made by this worker only (`on_status` also hears other workers' changes).
        engine._transition = telemetry.wrap_transition(engine._transition)
    state.telemetry = telemetry
    return telemetry
