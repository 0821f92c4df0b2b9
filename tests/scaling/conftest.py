"""Worker processes for the scaling tests: real uvicorn processes serving `scaling.worker_app`, sharing a
real redis-server (`support.redis`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis

from scaling.worker_app import REPORT_PATH
from server.mcp_client import McpClient
from support.processes import kill_process, stop_process
from support.redis import redis_url, store_factory
from support.server import free_port

__all__ = ["Worker", "redis_url", "start_worker", "store_factory", "worker_factory"]

TESTS_DIR = Path(__file__).resolve().parents[1]


@dataclass
class Worker:
    """One `python -m uvicorn` process."""

    name: str
    url: str
    process: subprocess.Popen[bytes]

    def client(self, token: str = "alice-token") -> McpClient:
        return McpClient(self.url, headers={"authorization": f"Bearer {token}"})

    def join(self, session: McpClient, token: str = "alice-token") -> McpClient:
        """A client for this worker that continues `session` (as a load balancer would route it)."""
        client = self.client(token)
        client.session_id, client.version = session.session_id, session.version
        return client

    def schema_problems(self) -> list[str]:
        """What the worker's schema check found so far (it has checked at least one message)."""
        report = httpx.get(self.url + REPORT_PATH, timeout=10).json()
        assert report["checked"] > 0, report
        return report["problems"]  # type: ignore[no-any-return]

    def kill(self) -> None:
        """No shutdown code runs, exactly like a crashed or OOM-killed worker."""
        kill_process(self.process)

    def stop(self) -> None:
        stop_process(self.process)


def start_worker(
    name: str, store: str, *, max_sessions_per_principal: int | None = None, startup_timeout: float = 30.0
) -> Worker:
    """Start a worker on a free port and wait until it answers its health check."""
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR), "PYMCP_TEST_STORE": store}
    if max_sessions_per_principal is not None:
        env["PYMCP_TEST_MAX_SESSIONS_PER_PRINCIPAL"] = str(max_sessions_per_principal)
    for _attempt in range(3):  # the free port may be taken between probing and binding
        port = free_port()
        args = [sys.executable, "-m", "uvicorn", "scaling.worker_app:app", "--host", "127.0.0.1"]
        args += ["--port", str(port), "--log-level", "warning", "--timeout-graceful-shutdown", "1"]
        process = subprocess.Popen(args, env=env, cwd=TESTS_DIR, stdout=subprocess.DEVNULL)
        worker = Worker(name, f"http://127.0.0.1:{port}", process)
        deadline = time.monotonic() + startup_timeout
        while process.poll() is None and time.monotonic() < deadline:
            try:
                if httpx.get(worker.url + "/", timeout=1).status_code == 200:
                    return worker
            except httpx.TransportError:
                time.sleep(0.05)
        worker.stop()
    pytest.fail(f"worker `{name}` did not start", pytrace=False)


@pytest.fixture(scope="module")
def worker_factory(redis_url: str) -> Iterator[Callable[..., Worker]]:
    """Starts workers on one Redis database of their own (`start(name, max_sessions_per_principal=…)`);
    stops them all at the end of the module."""
    store = redis_url.rsplit("/", 1)[0] + "/1"
    with redis.Redis.from_url(store) as client:
        client.flushdb()  # what an earlier module left there
    started: list[Worker] = []

    def start(name: str, *, max_sessions_per_principal: int | None = None) -> Worker:
        started.append(start_worker(name, store, max_sessions_per_principal=max_sessions_per_principal))
        return started[-1]

    yield start
    for worker in started:
        worker.stop()
