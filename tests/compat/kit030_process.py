"""Serving a `tests/compat/apps` app with pymcp-kit 0.3.0 (its own virtualenv, in a subprocess)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

from oracle.compat030 import COMPAT_PYTHON
from support.server import free_port
from support.waiting import serving, wait_until

from .conftest import APPS

__all__ = ["serve_030"]


@contextmanager
def serve_030(target: str) -> Iterator[str]:
    """Run `uvicorn <target>` under 0.3.0 on 127.0.0.1; yields the base URL."""
    port = free_port()
    process = subprocess.Popen(
        [str(COMPAT_PYTHON), "-I", "-m", "uvicorn", target, "--app-dir", str(APPS), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_until(lambda: serving(url + "/", process), within=20):
            raise RuntimeError("pymcp-kit 0.3.0 did not start")
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
