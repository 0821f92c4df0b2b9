"""OpenTelemetry (`pymcp.telemetry`) with the real SDK and its in-memory exporters, on a real uvicorn.

Names and attributes are those of the OpenTelemetry semantic conventions for MCP.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from mcp import ClientSession
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from pymcp.app import create_app, run_stdio_server
from pymcp.registry.manager import get_registry_manager
from pymcp.security import Principal, RuleBasedAuthorizer, TokenMapAuthenticator
from pymcp.server.dispatch import Dispatcher
from pymcp.server.session import Session
from pymcp.telemetry import OPERATION_BUCKETS, instrument_app
from server.mcp_client import initialize_message
from support.server import serve

TOKEN = "otel-token"
ACCEPT = "application/json, text/event-stream"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
POLICY = {
    "rules": [
        {"id": "no-wipe", "methods": ["tools/call"], "tool": "wipe", "effect": "deny"},
        {"id": "ops", "methods": ["*"], "allow_roles": ["ops"]},
    ]
}


class Recorded:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.metrics = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.metrics])

    def span(self, name: str) -> ReadableSpan:
        matching = [span for span in self.spans.get_finished_spans() if span.name == name]
        assert len(matching) == 1, [span.name for span in self.spans.get_finished_spans()]
        return matching[0]

    def points(self, metric: str) -> list[Any]:
        data = self.metrics.get_metrics_data()
        assert data is not None
        return [
            point
            for resource in data.resource_metrics
            for scope in resource.scope_metrics
            for found in scope.metrics
            if found.name == metric
            for point in found.data.data_points
        ]

    def close(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def _app(record_subject: bool = False) -> tuple[Any, Recorded]:
    app = create_app(
        authn=TokenMapAuthenticator({TOKEN: {"subject": "alice", "roles": ["ops"]}}),
        authz=RuleBasedAuthorizer(POLICY),
        require_authn=True,
    )
    registries = get_registry_manager(app)

    @registries.tools.register
    def deploy(version: str = "1") -> str:
        """Deploy."""
        return f"deployed {version}"

    @registries.tools.register
    def broken() -> str:
        """Always fails."""
        raise RuntimeError("boom")

    @registries.tools.register
    def wipe() -> str:
        """Never allowed."""
        return "wiped"

    @registries.prompts.register
    def review(code: str) -> str:
        """Review code."""
        return f"review {code}"

    @registries.resources.register(uri="file:///motd")
    def motd() -> str:
        return "hello"

    recorded = Recorded()
    instrument_app(
        app,
        tracer_provider=recorded.tracer_provider,
        meter_provider=recorded.meter_provider,
        record_subject=record_subject,
    )
    return app, recorded


@pytest.fixture
def instrumented() -> Iterator[tuple[str, Recorded]]:
    app, recorded = _app()
    with serve(app) as url:
        yield url, recorded
    recorded.close()


class Raw:
    """A session over httpx, to put trace context into `params._meta` exactly."""

    def __init__(self, url: str) -> None:
        self.url = url + "/mcp"
        self.headers = {
            "Accept": ACCEPT,
            "Content-Type": "application/json",
            "Authorization": f"Bearer {TOKEN}",
        }
        init = initialize_message()
        response = httpx.post(self.url, content=orjson.dumps(init), headers=self.headers)
        self.session_id = response.headers["mcp-session-id"]
        self.headers |= {"Mcp-Session-Id": self.session_id, "MCP-Protocol-Version": "2025-11-25"}
        self.notify("notifications/initialized")

    def call(self, request_id: int, method: str, params: dict[str, Any]) -> httpx.Response:
        message = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        return httpx.post(self.url, content=orjson.dumps(message), headers=self.headers)

    def notify(self, method: str) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        assert httpx.post(self.url, content=orjson.dumps(message), headers=self.headers).status_code == 202

    def close(self) -> None:
        httpx.delete(self.url, headers=self.headers)


def test_tools_call_span_follows_the_conventions(instrumented: tuple[str, Recorded]) -> None:
    url, recorded = instrumented
    client = Raw(url)
    meta = {"traceparent": TRACEPARENT, "tracestate": "rojo=00f067aa0ba902b7"}
    assert (
        client.call(
            7, "tools/call", {"name": "deploy", "arguments": {"version": "2"}, "_meta": meta}
        ).status_code
        == 200
    )
    span = recorded.span("tools/call deploy")
    assert span.kind is SpanKind.SERVER
    assert dict(span.attributes or {}) == {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "deploy",
        "gen_ai.operation.name": "execute_tool",
        "jsonrpc.request.id": "7",
        "mcp.session.id": client.session_id,
        "mcp.protocol.version": "2025-11-25",
        "network.transport": "tcp",
    }
    assert span.status.status_code is StatusCode.UNSET
    # The client's trace context is the parent.
    assert span.context is not None
    assert span.parent is not None
    assert format(span.context.trace_id, "032x") == TRACE_ID
    assert format(span.parent.span_id, "016x") == "00f067aa0ba902b7"
    assert span.parent.is_remote
    initialize = recorded.span("initialize")
    assert initialize.attributes is not None
    assert initialize.attributes["mcp.session.id"] == client.session_id
    assert initialize.attributes["jsonrpc.request.id"] == "0"
    assert recorded.span("notifications/initialized").attributes == {
        "mcp.method.name": "notifications/initialized",
        "mcp.session.id": client.session_id,
        "mcp.protocol.version": "2025-11-25",
        "network.transport": "tcp",
    }
    assert "enduser.id" not in (span.attributes or {})


@pytest.mark.parametrize(
    "meta",
    [
        {"traceparent": 5, "baggage": {"a": 1}},
        {"traceparent": "00-zz-yy-01", "tracestate": "=,="},
    ],
)
def test_bad_trace_context_starts_a_new_trace(instrumented: tuple[str, Recorded], meta: Any) -> None:
    url, recorded = instrumented
    client = Raw(url)
    assert client.call(3, "tools/call", {"name": "deploy", "_meta": meta}).status_code == 200
    span = recorded.span("tools/call deploy")
    assert span.parent is None
    assert span.status.status_code is StatusCode.UNSET


def test_a_non_object_meta_is_a_traced_invalid_params_error(instrumented: tuple[str, Recorded]) -> None:
    url, recorded = instrumented
    answer = Raw(url).call(3, "tools/call", {"name": "deploy", "_meta": "not an object"})
    assert answer.json()["error"]["code"] == -32602  # as in 0.3.0 and the spec
    span = recorded.span("tools/call deploy")
    assert span.parent is None
    assert span.attributes is not None
    assert span.attributes["error.type"] == "-32602"


def test_errors_denials_prompts_and_resources(instrumented: tuple[str, Recorded]) -> None:
    url, recorded = instrumented
    client = Raw(url)
    assert client.call(1, "tools/call", {"name": "broken"}).status_code == 200
    assert client.call(2, "tools/call", {"name": "wipe"}).status_code == 403
    assert client.call(3, "prompts/get", {"name": "review", "arguments": {"code": "x"}}).status_code == 200
    assert client.call(4, "resources/read", {"uri": "file:///motd"}).status_code == 200
    assert client.call(5, "nope/nope", {}).status_code == 200
    broken = recorded.span("tools/call broken")
    assert broken.attributes is not None
    assert broken.attributes["error.type"] == "tool_error"
    assert broken.status.status_code is StatusCode.ERROR
    denied = recorded.span("tools/call wipe")
    assert denied.attributes is not None
    assert denied.attributes["error.type"] == denied.attributes["rpc.response.status_code"] == "-32007"
    assert denied.status.status_code is StatusCode.ERROR
    assert recorded.span("prompts/get review").attributes["gen_ai.prompt.name"] == "review"  # type: ignore[index]
    read = recorded.span("resources/read")
    assert read.attributes is not None
    assert read.attributes["mcp.resource.uri"] == "file:///motd"
    assert recorded.span("nope/nope").attributes["error.type"] == "-32601"  # type: ignore[index]

    durations = recorded.points("mcp.server.operation.duration")
    by_tool = {point.attributes.get("gen_ai.tool.name"): point for point in durations}
    assert by_tool["broken"].attributes["error.type"] == "tool_error"
    assert by_tool["wipe"].attributes["rpc.response.status_code"] == "-32007"
    assert tuple(by_tool["deploy" if "deploy" in by_tool else "broken"].explicit_bounds) == OPERATION_BUCKETS
    decisions = {
        (
            p.attributes["pymcp.authz.effect"],
            p.attributes["pymcp.authz.rule"],
            p.attributes["mcp.method.name"],
        ): p.value
        for p in recorded.points("pymcp.authz.decisions")
    }
    assert decisions[("deny", "no-wipe", "tools/call")] == 1
    assert decisions[("allow", "ops", "tools/call")] == 1
    assert decisions[("allow", "ops", "initialize")] == 1


def test_session_duration_is_recorded_when_the_session_ends(instrumented: tuple[str, Recorded]) -> None:
    url, recorded = instrumented
    client = Raw(url)
    assert recorded.points("mcp.server.session.duration") == []
    client.close()
    [point] = recorded.points("mcp.server.session.duration")
    assert point.count == 1
    assert point.attributes == {"mcp.protocol.version": "2025-11-25"}


async def test_instrumenting_leaves_the_dispatcher_listening_to_the_sessions() -> None:
    """Telemetry subscribes beside the dispatcher: a session the manager drops is still forgotten."""
    app, recorded = _app()
    dispatcher, manager = app.state.dispatcher, app.state.session_manager
    session = Session(
        "s1",
        owner=None,
        protocol_version="2025-11-25",
        client_info={},
        client_capabilities={},
        history_limit=1,
        queue_size=1,
    )
    dispatcher.adopt(session)
    await manager.add(session)
    await manager.delete("s1")
    assert dispatcher.sessions == set()
    assert dispatcher.session_by_id("s1") is None
    [point] = recorded.points("mcp.server.session.duration")
    assert point.count == 1


async def test_official_client_and_task_statuses() -> None:
    app, recorded = _app(record_subject=True)

    @get_registry_manager(app).tools.register(execution={"taskSupport": "optional"})
    async def slow() -> str:
        """A task."""
        return "done"

    with serve(app) as url:
        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {TOKEN}"}) as http,
            streamable_http_client(url + "/mcp", http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("deploy", {})
            assert result.content[0].text == "deployed 1"  # type: ignore[union-attr]
        raw = await asyncio.to_thread(Raw, url)
        created = await asyncio.to_thread(
            raw.call, 1, "tools/call", {"name": "slow", "task": {"ttl": 60_000}}
        )
        task_id = created.json()["result"]["task"]["taskId"]
        done = await asyncio.to_thread(raw.call, 2, "tasks/result", {"taskId": task_id})
        assert done.json()["result"]["content"][0]["text"] == "done"
    span = recorded.span("tools/call deploy")
    assert span.attributes is not None
    assert span.attributes["enduser.id"] == "alice"
    statuses = {
        p.attributes["pymcp.task.status"]: p.value for p in recorded.points("pymcp.tasks.status_changes")
    }
    assert statuses == {"working": 1, "completed": 1}
    recorded.close()


def test_stdio_spans_say_pipe() -> None:
    app, recorded = _app()
    lines = [
        initialize_message(),
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "deploy"}},
    ]
    source = io.BytesIO(b"".join(orjson.dumps(line) + b"\n" for line in lines))
    sink = io.BytesIO()
    run_stdio_server(
        app, principal=Principal("alice", roles={"ops"}), input_stream=source, output_stream=sink
    )
    span = recorded.span("tools/call deploy")
    assert span.attributes is not None
    assert span.attributes["network.transport"] == "pipe"
    [session] = recorded.points("mcp.server.session.duration")
    assert session.attributes == {"mcp.protocol.version": "2025-11-25"}
    recorded.close()


def test_off_by_default_nothing_is_wrapped() -> None:
    app = create_app()
    dispatcher = app.state.dispatcher
    for name in ("handle_request", "handle_stateless", "initialize", "handle_notification", "forget"):
        assert getattr(dispatcher, name).__func__ is getattr(Dispatcher, name)
    assert "telemetry" not in vars(app.state)["_state"]


def test_instrumenting_twice_or_a_foreign_app_fails() -> None:
    app, recorded = _app()
    with pytest.raises(ValueError, match="already instrumented"):
        instrument_app(app)
    with pytest.raises(TypeError, match=r"needs an app made by `pymcp\.create_app`"):
        instrument_app(object())
    recorded.close()
