"""What OpenTelemetry costs per request: a trivial `tools/call` through the dispatcher, without telemetry
and with `instrument_app` (the real SDK, spans to a batch processor whose exporter drops them, metrics to
an in-memory reader). Compare the two means: the ratio is the overhead. Without `instrument_app` the
dispatcher is untouched (tests/test_telemetry.py checks that nothing is wrapped).

Run: .venv/bin/python -m pytest benches/bench_telemetry.py --benchmark-enable
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.protocol.jsonrpc import Notification, Request
from pymcp.telemetry import instrument_app

CALL = Request(1, "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}})


class _Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def _ignore(data: bytes) -> None:
    return None


@pytest.fixture(params=["off", "on"])
def dispatch(request: pytest.FixtureRequest) -> Iterator[Any]:
    app = create_app(server_settings=ServerSettings(capabilities=CapabilitySettings(tasks_enabled=False)))

    @get_registry_manager(app).tools.register
    def add(a: int, b: int) -> int:
        return a + b

    providers: list[Any] = []
    if request.param == "on":
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(BatchSpanProcessor(_Drop()))
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        providers = [tracer_provider, meter_provider]
        instrument_app(app, tracer_provider=tracer_provider, meter_provider=meter_provider)
    dispatcher = app.state.dispatcher
    loop = asyncio.new_event_loop()
    init = Request(0, "initialize", {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}})
    session, _ = loop.run_until_complete(dispatcher.initialize(init, None, "bench"))
    loop.run_until_complete(
        dispatcher.handle_notification(session, Notification("notifications/initialized", None))
    )

    def call() -> Any:
        return loop.run_until_complete(dispatcher.handle_request(session, CALL, None, _ignore))

    yield call
    loop.close()
    for provider in providers:
        provider.shutdown()


def test_tools_call_with_and_without_telemetry(benchmark: Any, dispatch: Any) -> None:
    body, error = benchmark(dispatch)
    assert error is None
    assert b'"text":"3"' in body
