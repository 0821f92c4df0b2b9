"""Running code under pymcp-kit 0.3.0, installed alone in its own virtualenv (it also imports as `pymcp`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

__all__ = ["COMPAT_PYTHON", "require_030", "run_030"]

COMPAT_PYTHON = Path(
    os.environ.get(
        "PYMCP_COMPAT_PYTHON", str(Path(__file__).parents[2] / ".venvs/pymcp-kit-0.3.0/bin/python")
    )
)


def require_030() -> None:
    """Fail (never skip) when the 0.3.0 virtualenv is missing: `make check` always installs it."""
    if not COMPAT_PYTHON.exists():
        pytest.fail(f"no pymcp-kit 0.3.0 virtualenv at {COMPAT_PYTHON} (run `make compat-venv`)")


def run_030(script: str, payload: Any, *, timeout: float) -> Any:
    """Run `script` in the 0.3.0 interpreter with `payload` as JSON on stdin; return its stdout as JSON.

    `-I` keeps our own `pymcp` (the working directory, PYTHONPATH) out of its import path.
    """
    completed = subprocess.run(
        [str(COMPAT_PYTHON), "-I", "-c", script],
        input=orjson.dumps(payload),
        capture_output=True,
        timeout=timeout,
        check=True,
    )
    return orjson.loads(completed.stdout)
