"""`malloc_mmap_threshold`: while an app serves, glibc keeps mapping large buffers (and so returns them to
the system) instead of raising its threshold after each large body and growing a heap that cannot shrink.

Each case runs in its own interpreter, since the setting is process-wide."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import pytest

from pymcp import ServerSettings, _allocator, create_app

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"

# Serves a real uvicorn and posts a 1 MiB body; then frees a 16 MiB buffer (which raises glibc's dynamic
# threshold to 16 MiB) and prints how many mapped blocks a new 8 MiB buffer adds: 1 when it is mapped.
# (Large sizes: a smaller buffer could be carved from free heap space whatever the threshold.)
SCRIPT = """
import ctypes, sys
import httpx
from pymcp import create_app
from support.server import serve

class MallInfo(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
        "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo
threshold = None if sys.argv[1] == "None" else int(sys.argv[1])
app = create_app(malloc_mmap_threshold=threshold)
with serve(app) as url:
    body = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"%s"}}' % (b"x" * (1 << 20))
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    httpx.post(url, content=body, headers=headers, timeout=30)
# Measured once the server thread has stopped, so that no other thread maps or frees meanwhile.
freed = bytearray(16 << 20)
del freed
before = libc.mallinfo2().hblks
kept = bytearray(8 << 20)
print(libc.mallinfo2().hblks - before)
"""


def mapped_blocks_added(threshold: str, env: dict[str, str] | None = None) -> int:
    tests = Path(__file__).resolve().parents[1]
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, threshold],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(tests), "PATH": "/usr/bin:/bin", **(env or {})},
    )
    assert run.returncode == 0, run.stderr
    return int(run.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="tunes glibc's malloc")
def test_large_buffers_stay_mapped_while_the_app_serves() -> None:
    assert mapped_blocks_added(str(_allocator.DEFAULT_MMAP_THRESHOLD)) == 1


@pytest.mark.skipif(not GLIBC, reason="tunes glibc's malloc")
def test_none_leaves_glibc_dynamic_threshold_alone() -> None:
    assert mapped_blocks_added("None") == 0


@pytest.mark.skipif(not GLIBC, reason="tunes glibc's malloc")
def test_the_environment_variable_wins() -> None:
    assert mapped_blocks_added("131072", {"MALLOC_MMAP_THRESHOLD_": str(16 << 20)}) == 0


@pytest.mark.parametrize("value", [0, -1, 64 * 1024 * 1024, True, "128k"])
def test_a_threshold_glibc_cannot_take_fails_at_start_up(value: object) -> None:
    with pytest.raises(ValueError, match="malloc_mmap_threshold must be a number of bytes"):
        create_app(malloc_mmap_threshold=value)


def test_other_c_libraries_take_only_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_allocator, "_is_glibc", lambda: False)
    ServerSettings(malloc_mmap_threshold=None)
    ServerSettings()
    with pytest.raises(ValueError, match="tunes glibc's malloc, which this platform does not use"):
        ServerSettings(malloc_mmap_threshold=1 << 20)
