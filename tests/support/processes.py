"""Ending the processes tests start (servers, workers, redis nodes)."""

from __future__ import annotations

import signal
import subprocess

__all__ = ["kill_process", "stop_process"]


def kill_process(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL: no shutdown code runs, exactly like a crashed or OOM-killed host."""
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Ask the process to stop; kill it if it has not within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_process(process)
