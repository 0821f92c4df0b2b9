"""glibc's malloc tuning for a long-running server (`ServerSettings.malloc_mmap_threshold`).

glibc raises its mmap threshold each time it frees a mapped block (up to 32 MiB), so after a few large
request bodies the next ones come from the heap, whose top stays pinned by small live objects: RSS then
creeps up without a leak (a soak grew ~0.8 MiB a minute). A fixed threshold keeps large buffers mapped,
and so returned to the system when freed, and keeps the heap trimmed.
"""

from __future__ import annotations

import ctypes
import os
import platform

__all__ = ["DEFAULT_MMAP_THRESHOLD", "check_mmap_threshold", "pin_mmap_threshold"]

DEFAULT_MMAP_THRESHOLD = 128 * 1024  # glibc's own starting value
_MAX_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's ceiling on 64-bit
_M_MMAP_THRESHOLD = -3  # from <malloc.h>
_ENVIRONMENT = "MALLOC_MMAP_THRESHOLD_"  # glibc's own tunable; an operator's choice wins over ours


def _is_glibc() -> bool:
    return platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def check_mmap_threshold(size: int | None) -> None:
    """Raise `ValueError` for a threshold glibc cannot take, or for any other than the default elsewhere."""
    if size is None:
        return
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= _MAX_MMAP_THRESHOLD:
        raise ValueError(
            f"malloc_mmap_threshold must be a number of bytes from 1 to {_MAX_MMAP_THRESHOLD}, or None; "
            f"got `{size!r}`"
        )
    if size != DEFAULT_MMAP_THRESHOLD and not _is_glibc():
        raise ValueError(
            f"malloc_mmap_threshold `{size}` tunes glibc's malloc, which this platform does not use: "
            "leave it at the default or set it to None"
        )


def pin_mmap_threshold(size: int | None) -> bool:
    """Fix glibc's mmap threshold at `size` for this process; whether it was set (not on other C
    libraries, nor when `MALLOC_MMAP_THRESHOLD_` is in the environment, nor for `None`)."""
    if size is None or _ENVIRONMENT in os.environ or not _is_glibc():
        return False
    return bool(ctypes.CDLL(None).mallopt(_M_MMAP_THRESHOLD, size))
