"""A small synchronous MCP client over Streamable HTTP for e2e tests: every message the server sends is
validated against the official schema of the negotiated revision."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import orjson

from support.mcp_schema import validate_message

__all__ = ["ACCEPT", "McpClient", "initialize_message", "read_sse"]

ACCEPT = "application/json, text/event-stream"


def read_sse(lines: Any) -> Any:
    """Yield (event id, data) for each SSE event of an iterator of lines."""
    event_id, data = None, []
    for line in lines:
        if line == "":
            if data or event_id is not None:
                yield event_id, "\n".join(data)
            event_id, data = None, []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip(" "))


def initialize_message(
    version: str = "2025-11-25", capabilities: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An `initialize` request (id 0)."""
    params = {
        "protocolVersion": version,
        "capabilities": capabilities or {},
        "clientInfo": {"name": "pymcp-tests", "version": "1.0"},
    }
    return {"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": params}


class McpClient:
    """One session against `<base_url>/mcp`."""

    def __init__(self, base_url: str, *, headers: dict[str, str] | None = None) -> None:
        self.url = base_url + "/mcp"
        self.http = httpx.Client(timeout=10)
        self.extra_headers = headers or {}
        self.session_id: str | None = None
        self.version = "2025-11-25"
        self.next_id = 1
        self.received: list[dict[str, Any]] = []

    def __enter__(self) -> McpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def headers(self, **extra: str) -> dict[str, str]:
        headers = {"accept": ACCEPT, "content-type": "application/json", **self.extra_headers}
        if self.session_id is not None:
            headers["mcp-session-id"] = self.session_id
            headers["mcp-protocol-version"] = self.version
        headers.update(extra)
        return headers

    def validate(self, message: Any, method: str | None = None) -> dict[str, Any]:
        validate_message(message, self.version, request_method=method)
        self.received.append(message)
        return message  # type: ignore[no-any-return]

    def post(self, body: Any, **headers: str) -> httpx.Response:
        content = body if isinstance(body, bytes) else orjson.dumps(body)
        return self.http.post(self.url, content=content, headers=self.headers(**headers))

    def start(
        self, version: str = "2025-11-25", capabilities: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Send `initialize` (only): returns the result and keeps the session id."""
        response = self.post(initialize_message(version, capabilities))
        assert response.status_code == 200, response.text
        message = orjson.loads(response.content)
        self.version = message["result"]["protocolVersion"]
        self.validate(message, "initialize")
        self.session_id = response.headers["mcp-session-id"]
        return message["result"]  # type: ignore[no-any-return]

    def initialize(
        self, version: str = "2025-11-25", capabilities: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """The whole handshake: `initialize`, then `notifications/initialized`."""
        result = self.start(version, capabilities)
        assert self.notify("notifications/initialized").status_code == 202
        return result

    def notify(self, method: str, params: dict[str, Any] | None = None) -> httpx.Response:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        return self.post(message)

    def call(
        self,
        method: str,
        params: dict[str, Any] | None = None,
        *,
        answer: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Send a request; returns its response and the messages that came before it on the same stream.

        Server→client requests are answered with `answer(request)` (a result) posted back."""
        request_id = self.next_id
        self.next_id += 1
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        with self.http.stream(
            "POST", self.url, content=orjson.dumps(message), headers=self.headers()
        ) as response:
            if response.headers.get("content-type", "").startswith("application/json"):
                response.read()
                return self.validate(orjson.loads(response.content), method), []
            assert response.headers["content-type"].startswith("text/event-stream"), response.headers
            before: list[dict[str, Any]] = []
            for _, data in read_sse(response.iter_lines()):
                if not data:
                    continue  # priming event
                event = orjson.loads(data)
                if event.get("id") == request_id and "method" not in event:
                    return self.validate(event, method), before
                self.validate(event)
                before.append(event)
                if "method" in event and "id" in event and answer is not None:
                    reply = {"jsonrpc": "2.0", "id": event["id"], "result": answer(event)}
                    assert self.post(reply).status_code == 202
        raise AssertionError(f"no response to `{method}`")

    def result(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response, _ = self.call(method, params)
        assert "result" in response, response
        return response["result"]  # type: ignore[no-any-return]

    def error(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        response, _ = self.call(method, params)
        assert "error" in response, response
        return response["error"]  # type: ignore[no-any-return]
