"""The demo's tools: one that deploys, one that only reads, one that can run as a task."""

from __future__ import annotations

import asyncio
from typing import Any

from pymcp.registry.tools import ToolRegistry

__all__ = ["SERVICES", "register_demo_tools"]

SERVICES: dict[str, str] = {"billing": "1.4.2", "search": "2.0.1", "web": "3.7.0"}


def register_demo_tools(tools: ToolRegistry) -> None:
    """Register the demo tools on `tools` (an app's own registry, so the global one stays untouched)."""

    @tools.register(annotations={"destructiveHint": True})
    def deploy_service(service: str, version: str) -> str:
        """Deploy `version` of a service (pretend: nothing leaves this process)."""
        if service not in SERVICES:
            raise ValueError(f"unknown service `{service}`")
        SERVICES[service] = version
        return f"{service} is now at {version}"

    @tools.register(annotations={"readOnlyHint": True})
    def list_services() -> dict[str, Any]:
        """The services and the version each one runs."""
        return {"structuredContent": dict(SERVICES), "content": [{"type": "text", "text": str(SERVICES)}]}

    @tools.register(execution={"taskSupport": "optional"})
    async def build_report(seconds: float = 2.0, task_context: Any = None) -> str:
        """A slow report; call it as a task to poll it with tasks/get and tasks/result."""
        steps = 4
        for step in range(steps):
            await asyncio.sleep(seconds / steps)
            if task_context is not None:
                await task_context.send_progress(step + 1, steps, f"step {step + 1} of {steps}")
        return f"report ready: {len(SERVICES)} services, all healthy"
