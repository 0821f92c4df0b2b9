"""Timing and printing for `pymcp bench`: sampled call timings, progress on stderr, tables."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

__all__ = ["Progress", "Timing", "format_ns", "table", "time_calls"]


@dataclass(frozen=True, slots=True)
class Timing:
    """Per-operation times (seconds) of one case: each sample is the mean of one batch."""

    operations: int
    seconds: float
    samples: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds > 0 else float("inf")

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def as_json(self) -> dict[str, float]:
        return {
            "operations": self.operations,
            "per_second": round(self.per_second, 1),
            "mean_ns": round(self.seconds / self.operations * 1e9, 1),
            "p50_ns": round(self.percentile(0.50) * 1e9, 1),
            "p99_ns": round(self.percentile(0.99) * 1e9, 1),
        }


def time_calls(
    operation: Callable[[], object], budget: float, *, batch: int, min_batches: int = 20
) -> Timing:
    """Run `operation` in batches of `batch` until `budget` seconds are spent (at least `min_batches`)."""
    operation()  # warm caches (the principal's binding, compiled globs)
    clock = time.perf_counter
    samples: list[float] = []
    spent = 0.0
    while spent < budget or len(samples) < min_batches:
        start = clock()
        for _ in range(batch):
            operation()
        elapsed = clock() - start
        spent += elapsed
        samples.append(elapsed / batch)
    return Timing(len(samples) * batch, spent, tuple(samples))


class Progress:
    """`[3/25] rule 1 hit` on stderr: rewritten in place on a terminal, one line each otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        line = f"pymcp bench: [{self.done}/{self.total}] {label}"
        if self.tty:
            sys.stderr.write(f"\r\x1b[K{line}")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def format_ns(seconds: float) -> str:
    nanoseconds = seconds * 1e9
    if nanoseconds < 10_000:
        return f"{nanoseconds:,.0f} ns"
    if nanoseconds < 10_000_000:
        return f"{nanoseconds / 1e3:,.1f} µs"
    return f"{nanoseconds / 1e6:,.1f} ms"


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)
