"""Probes for orchestrators and load balancers: `/health` (liveness) and `/ready` (readiness).

Liveness answers 200 as long as the process serves HTTP. Readiness also asks the store for a record that
does not exist, which needs a round trip to Redis when the store is Redis: 503 when the store does not
answer within `READY_TIMEOUT_SECONDS`, so a worker cut off from Redis is taken out of rotation. Both skip
authentication by default (`create_app` adds them to the exempt paths) and say nothing about the server
beyond "ok".
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

__all__ = ["READY_TIMEOUT_SECONDS", "liveness", "readiness"]

READY_TIMEOUT_SECONDS = 2.0

_NO_STORE_CACHE = {"Cache-Control": "no-store"}


async def liveness(request: Request) -> JSONResponse:
    """200 `{"status": "ok"}`: the process is up and serving."""
    return JSONResponse({"status": "ok"}, headers=_NO_STORE_CACHE)


async def readiness(request: Request) -> JSONResponse:
    """200 `{"status": "ready"}` when the app's store answers; 503 with the reason otherwise."""
    store: Any = request.app.state.state_store
    try:
        async with asyncio.timeout(READY_TIMEOUT_SECONDS):
            await store.get("ready", "", "probe")
    except Exception as error:  # any failure of the store means "not ready", never a 500
        reason = "timed out" if isinstance(error, TimeoutError) else type(error).__name__
        return JSONResponse(
            {"status": "unavailable", "store": f"unreachable ({reason})"},
            status_code=503,
            headers=_NO_STORE_CACHE,
        )
    return JSONResponse({"status": "ready"}, headers=_NO_STORE_CACHE)
