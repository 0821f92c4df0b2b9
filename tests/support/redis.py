"""A real `redis-server` on a free loopback port in a temporary directory, for tests marked `redis`.

Use the `redis_url` fixture (session-wide server; give each test its own key prefix), or `store_factory`,
which runs a test on `MemoryStore`, on `RedisStore` over one server and on `RedisStore` over a 6-node Redis
Cluster (`support.redis_cluster`). Without the binary the test fails and
says how to install it: a silent skip would hide a whole backend.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import pytest

from pymcp.state.store import MemoryStore, Store
from support.processes import stop_process
from support.server import free_port

__all__ = ["StoreFactory", "redis_server", "redis_url", "store_factory"]

StoreFactory = Callable[[], Store]
"""Each call gives a new connection to the same state (for memory: the same store)."""


def _answers_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
            conn.sendall(b"PING\r\n")
            return conn.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@contextmanager
def redis_server(*, startup_timeout: float = 10.0) -> Iterator[str]:
    """Start a throwaway redis-server (no persistence); yields its `redis://127.0.0.1:PORT/0` URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("`redis-server` is not on PATH: run `make system-deps` to install it", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="pymcp-redis-") as workdir:
        for _attempt in range(5):  # the free port may be taken between probing and binding
            port = free_port()
            args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", workdir]
            args += ["--save", "", "--appendonly", "no", "--protected-mode", "yes", "--loglevel", "warning"]
            process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + startup_timeout
            while process.poll() is None and not _answers_ping(port) and time.monotonic() < deadline:
                time.sleep(0.02)
            if process.poll() is None and _answers_ping(port):
                break
            process.kill()
            process.wait()
        else:
            pytest.fail("`redis-server` did not start on a free loopback port", pytrace=False)
        try:
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            stop_process(process)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    with redis_server() as url:
        yield url


@pytest.fixture(
    params=[
        "memory",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("redis-cluster", marks=pytest.mark.redis),
    ]
)
async def store_factory(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    if request.param == "memory":
        common = MemoryStore()
        yield lambda: common
        return
    from pymcp.state.redis import RedisStore

    url = request.getfixturevalue("redis_url" if request.param == "redis" else "redis_cluster_url")
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    opened: list[RedisStore] = []

    def connect() -> Store:
        opened.append(RedisStore(url, prefix=prefix))
        return opened[-1]

    yield connect
    for store in opened:
        await store.aclose()
