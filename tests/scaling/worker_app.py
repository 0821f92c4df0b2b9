"""The app every worker of the scaling tests serves, built with the public API only.

Run as `python -m uvicorn scaling.worker_app:app` (with `tests/` on `PYTHONPATH`); the store is named by
`PYMCP_TEST_STORE` (`memory` when unset), `max_sessions_per_principal` by
`PYMCP_TEST_MAX_SESSIONS_PER_PRINCIPAL` (the default when unset). Two principals: alice and bob
(`TokenMapAuthenticator`).
Every message the worker sends on `/mcp` is validated against the official schema; `GET /schema-report`
tells the test what was checked and what failed (a test process cannot see into the worker).
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from starlette.responses import JSONResponse

from pymcp import CapabilitySettings, ServerSettings, create_app, get_registry_manager
from pymcp.security import TokenMapAuthenticator
from pymcp.server import RequestContext
from pymcp.state import Store
from support.mcp_schema import SchemaCheckedApp

__all__ = ["REPORT_PATH", "TOKENS", "SchemaReporting", "app", "build"]

REPORT_PATH = "/schema-report"

TOKENS: dict[str, dict[str, Any]] = {
    "alice-token": {"subject": "alice", "scopes": ["tools:*", "tasks:*"]},
    "bob-token": {"subject": "bob", "scopes": ["tools:*", "tasks:*"]},
}


def build(store: str | Store | None, **more_settings: Any) -> Any:
    """An app with a tool that may run as a task, and one that logs (`more_settings`: `ServerSettings`
    fields)."""
    # A 3 s lease (renewed every second) notices a killed worker within seconds, not the default 15.
    settings = ServerSettings(
        capabilities=CapabilitySettings(logging_enabled=True), task_lease_seconds=3, **more_settings
    )
    built = create_app(
        server_settings=settings, store=store, authn=TokenMapAuthenticator(TOKENS), require_authn=True
    )
    tools = get_registry_manager(built).tools

    @tools.register(execution={"taskSupport": "optional"})
    async def work(seconds: float = 0, text: str = "done") -> str:
        """Wait `seconds`, then answer `text`."""
        await asyncio.sleep(seconds)
        return text

    @tools.register
    async def note(request_context: RequestContext, level: str) -> str:
        """Log one message at `level` (sent only if the session's log level lets it through)."""
        await request_context.log(level, "a note")
        return "noted"

    return built


class SchemaReporting:
    """`SchemaCheckedApp` around an app, with its findings served at `REPORT_PATH`."""

    def __init__(self, app: Any) -> None:
        self.checked = SchemaCheckedApp(app)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] == REPORT_PATH:
            report = {"checked": self.checked.checked, "problems": self.checked.problems}
            await JSONResponse(report)(scope, receive, send)
        else:
            await self.checked(scope, receive, send)


_sessions_per_principal = os.environ.get("PYMCP_TEST_MAX_SESSIONS_PER_PRINCIPAL")
_limits = (
    {} if _sessions_per_principal is None else {"max_sessions_per_principal": int(_sessions_per_principal)}
)
app = SchemaReporting(build(os.environ.get("PYMCP_TEST_STORE", "memory"), **_limits))
