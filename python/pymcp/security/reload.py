"""Reloading a policy file while the server runs: on SIGHUP and, when asked, when the file changes.

`RuleBasedAuthorizer.from_file(path, reload_on_sighup=True, watch_seconds=2)` makes one of these; the app
starts it in its lifespan (so every worker process runs its own) and stops it at shutdown. A reload that
fails keeps the policy in force (`RuleBasedAuthorizer.reload_file` logs why).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Protocol

__all__ = ["PolicyReloader", "ReloadablePolicy"]


class ReloadablePolicy(Protocol):
    """What the reloader needs of an authorizer (`RuleBasedAuthorizer` is one): its policy file and a
    way to read it again."""

    @property
    def source(self) -> Path | None: ...

    def reload_file(self) -> bool: ...


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """What changes when the file is rewritten or replaced (editors and `mv` replace it)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size, status.st_ino)


class PolicyReloader:
    """Reloads an authorizer's policy file on SIGHUP and/or when the file changes (polled)."""

    def __init__(self, authorizer: ReloadablePolicy, *, sighup: bool, watch_seconds: float | None) -> None:
        self._authorizer = authorizer
        self._sighup = sighup
        self._watch_seconds = watch_seconds
        self._watcher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Install the SIGHUP handler and start watching; needs a running event loop."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        if self._sighup:
            try:
                loop.add_signal_handler(signal.SIGHUP, self._authorizer.reload_file)
            except (RuntimeError, ValueError):  # not the main thread, or no signals on this platform
                raise RuntimeError(
                    "`reload_on_sighup` needs the server's event loop in the main thread of its process;"
                    " use `watch_seconds` or call `reload_file()` instead"
                ) from None
        if self._watch_seconds is not None:
            self._watcher = loop.create_task(self._watch(self._watch_seconds))

    async def aclose(self) -> None:
        """Remove the SIGHUP handler and stop watching."""
        if self._sighup and self._loop is not None:
            self._loop.remove_signal_handler(signal.SIGHUP)
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    async def _watch(self, seconds: float) -> None:
        source = self._authorizer.source
        assert source is not None  # `from_file` makes reloaders
        seen = _stamp(source)
        while True:
            await asyncio.sleep(seconds)
            stamp = _stamp(source)
            if stamp is not None and stamp != seen:
                seen = stamp
                self._authorizer.reload_file()
