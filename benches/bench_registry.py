"""Registering 10,000 tools (target <= 0.2 s; pymcp-kit 0.3.0 took 0.20 s). Ours is timed by
pytest-benchmark; the same function runs in 0.3.0's virtualenv (`make compat-venv`) in the same test, and
its best time and the ratio go to `extra_info` (printed with `--benchmark-columns` or in the JSON).

Run: .venv/bin/python -m pytest benches/bench_registry.py -o python_files='bench_*.py' --benchmark-enable
"""

from __future__ import annotations

import inspect
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

from pymcp.registry import ToolRegistry

TOOL_COUNT = 10_000
ROUNDS = 5
COMPAT_PYTHON = Path(
    os.environ.get(
        "PYMCP_COMPAT_PYTHON",
        Path(__file__).resolve().parents[1] / ".venvs" / "pymcp-kit-0.3.0" / "bin" / "python",
    )
)


def register_all(count: int) -> ToolRegistry:
    """A fresh registry with `count` tools, one function object each (0.3.0 runs this same source)."""
    registry = ToolRegistry()
    for index in range(count):

        def tool(a: int, b: int = 1) -> int:
            return a + b

        registry.register(tool, name=f"tool_{index}", description=f"tool number {index}")
    return registry


def seconds_030(rounds: int) -> float:
    """0.3.0's best time for `register_all(TOOL_COUNT)` over `rounds`, in its own interpreter."""
    script = "\n".join(
        [
            "import time",
            "from pymcp.registry import ToolRegistry",
            textwrap.dedent(inspect.getsource(register_all)),
            "times = []",
            f"for _ in range({rounds}):",
            "    started = time.perf_counter()",
            f"    register_all({TOOL_COUNT})",
            "    times.append(time.perf_counter() - started)",
            "print(min(times))",
        ]
    )
    run = subprocess.run(
        [str(COMPAT_PYTHON), "-c", script], capture_output=True, text=True, check=True, timeout=300
    )
    return float(run.stdout)


def test_register_ten_thousand_tools(benchmark: Any) -> None:
    registry = benchmark.pedantic(register_all, args=(TOOL_COUNT,), rounds=ROUNDS, iterations=1)
    assert len(registry) == TOOL_COUNT
    if benchmark.disabled:  # `make bench-smoke`: one run, nothing timed
        return
    theirs = seconds_030(ROUNDS)
    benchmark.extra_info["pymcp_kit_030_best_seconds"] = round(theirs, 4)
    benchmark.extra_info["x_030"] = round(benchmark.stats.stats.min / theirs, 3)
