"""The task ledger: the MCP `Task` view of a stored record, cursors, the limits of a task id, a ttl and
the running tasks (`Capacity`), running a task's code to its outcome, and reading that outcome back."""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pymcp.errors import ErrorCode, MCPError, StoreUnavailable, jsonrpc_error
from pymcp.state.base import Store
from pymcp.tasks.handle import CancelledError, TaskHandle

__all__ = [
    "MESSAGE_ACCEPTED",
    "MESSAGE_CANCELLED",
    "MESSAGE_INTERNAL",
    "MESSAGE_SHUTDOWN",
    "MESSAGE_WORKER_LOST",
    "NAMESPACE",
    "Capacity",
    "Records",
    "Running",
    "cancel_was_swallowed",
    "decode_cursor",
    "encode_cursor",
    "error_payload",
    "logger",
    "not_found",
    "plausible_task_id",
    "resolve_ttl",
    "retry_while_unavailable",
    "run_to_outcome",
    "seconds_to_expiry",
    "stored_outcome",
    "timestamp",
    "wire",
]

logger = logging.getLogger("pymcp.tasks")

NAMESPACE: Final = "task"
CURSOR_PREFIX: Final = "t1:"
MESSAGE_ACCEPTED: Final = "Task accepted"
MESSAGE_CANCELLED: Final = "The task was cancelled by request."
MESSAGE_IS_ERROR: Final = "Tool execution returned isError=true"
MESSAGE_WORKER_LOST: Final = "the worker running this task stopped before it finished"
MESSAGE_SHUTDOWN: Final = "the server shut down before the task finished"
MESSAGE_INTERNAL: Final = "the task failed with an internal error"
MAX_TASK_ID_LENGTH: Final = 128  # ours are 36-character UUIDs; longer ids cannot exist


@dataclass
class Running:
    owner: str
    handle: TaskHandle
    job: asyncio.Task[None]
    expiry: asyncio.TimerHandle


Records = list[dict[str, Any]]


def timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def seconds_to_expiry(record: Mapping[str, Any]) -> float:
    created = datetime.fromisoformat(record["createdAt"])
    ttl_seconds = float(record["ttl"]) / 1000
    return created.timestamp() + ttl_seconds - datetime.now(UTC).timestamp()


def wire(record: Mapping[str, Any]) -> dict[str, Any]:
    """The MCP `Task` object of a stored record."""
    task = {
        "taskId": record["taskId"],
        "status": record["status"],
        "createdAt": record["createdAt"],
        "lastUpdatedAt": record["lastUpdatedAt"],
        "ttl": record["ttl"],
        "pollInterval": record["pollInterval"],
    }
    if record.get("statusMessage") is not None:
        task["statusMessage"] = record["statusMessage"]
    return task


def not_found() -> MCPError:
    # Unknown, expired and foreign tasks are indistinguishable on purpose.
    return MCPError(ErrorCode.INVALID_PARAMS, "task not found")


def plausible_task_id(task_id: object) -> bool:
    return isinstance(task_id, str) and 0 < len(task_id) <= MAX_TASK_ID_LENGTH


def error_payload(code: int, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def encode_cursor(position: int) -> str:
    return base64.urlsafe_b64encode(f"{CURSOR_PREFIX}{position}".encode()).decode().rstrip("=")


def decode_cursor(cursor: object) -> int | None:
    if cursor is None:
        return None
    invalid = MCPError(ErrorCode.INVALID_PARAMS, "invalid cursor")
    if not isinstance(cursor, str) or not 0 < len(cursor) <= 64:
        raise invalid
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except ValueError as exc:
        raise invalid from exc
    digits = text.removeprefix(CURSOR_PREFIX)
    if digits == text or not digits.isdigit() or not digits.isascii() or int(digits) < 1:
        raise invalid
    return int(digits)


def cancel_was_swallowed() -> bool:
    """True when this task was cancelled but the cancellation never reached it: a store's client library
    returned normally or raised another error instead (redis-py on Python 3.11 can do both)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def shorten(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def resolve_ttl(ttl_ms: object, default_ms: int, max_ms: int) -> int:
    """A task's `ttl` as asked (`default_ms` when absent), capped at `max_ms`; -32602 when not a duration."""
    if ttl_ms is None:
        return default_ms
    if isinstance(ttl_ms, float) and ttl_ms.is_integer():
        ttl_ms = int(ttl_ms)
    if isinstance(ttl_ms, bool) or not isinstance(ttl_ms, int) or ttl_ms < 0:
        raise MCPError(
            ErrorCode.INVALID_PARAMS,
            f"task `ttl` must be a non-negative integer of milliseconds, got `{shorten(ttl_ms)}`",
        )
    return min(ttl_ms, max_ms)


async def run_to_outcome(
    handle: TaskHandle, run: Callable[[TaskHandle], Awaitable[dict[str, Any]]]
) -> tuple[str, str, dict[str, Any] | None]:
    """Run a task's code: its status, status message and the payload to store (result or error)."""
    try:
        result: object = await run(handle)
    except CancelledError:
        return "cancelled", "the task was cancelled", None
    except Exception as exc:
        error = jsonrpc_error(exc, internal=MESSAGE_INTERNAL)
        if error is not exc:
            logger.exception("task %s failed", handle.task_id)
        return "failed", error.message, {"error": error.to_error()}
    if not isinstance(result, dict):
        message = f"the task returned `{type(result).__name__}` instead of a result object"
        return "failed", message, error_payload(ErrorCode.INTERNAL_ERROR, message)
    if result.get("isError") is True:
        return "failed", MESSAGE_IS_ERROR, {"result": result}
    return "completed", "", {"result": result}


async def retry_while_unavailable(write: Callable[[], Awaitable[object]], *, seconds: float) -> None:
    """Run `write`, and again every half second while the store is unavailable (a Redis failover or
    restart), for up to `seconds` (the lease: after it another worker may have settled the task)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            await write()
            return
        except StoreUnavailable:
            if time.monotonic() + 0.5 > deadline:
                raise
            await asyncio.sleep(0.5)


def stored_outcome(record: Mapping[str, Any], payload: object) -> dict[str, Any] | MCPError:
    """The result a terminal task kept, or the error it ended with (from its stored `payload`)."""
    stored = payload.get("result") if isinstance(payload, dict) else None
    if isinstance(stored, dict):
        return dict(stored)
    error = payload.get("error") if isinstance(payload, dict) else None
    if (
        isinstance(error, dict)
        and isinstance(error.get("code"), int)
        and isinstance(error.get("message"), str)
    ):
        return MCPError(error["code"], error["message"], error.get("data"))
    return MCPError(ErrorCode.INTERNAL_ERROR, record.get("statusMessage") or MESSAGE_INTERNAL)


_RUNNING = "task:running"  # the store's counter of running tasks; with ":" and the owner, the owner's
_KEPT = "task:kept"  # with ":" and the owner: the tasks the owner keeps until their ttl ends


@dataclass(frozen=True)
class Capacity:
    """The running-task limits, counted in the store so that they hold across every worker on it. A task
    counts until it ends or is cancelled, or (its worker gone, or stopped it otherwise) its lease lapses."""

    store: Store
    max_running: int
    max_per_owner: int
    lease_ms: int
    max_kept_per_owner: int

    def __post_init__(self) -> None:
        if min(self.max_running, self.max_per_owner, self.max_kept_per_owner) < 1:
            raise ValueError(
                "task limits (`max_tasks`, `max_tasks_per_principal`, `max_stored_tasks_per_principal`) "
                "must be positive"
            )

    async def admit(self, owner: str, task_id: str, ttl_ms: int) -> None:
        """Count a new task, or refuse it beyond a limit. Besides running, a task counts among those its
        caller keeps until its ttl ends, finished or not (each keeps its arguments and result)."""
        mine = f"{_RUNNING}:{owner}"
        if not await self.store.admit(mine, task_id, limit=self.max_per_owner, ttl_ms=self.lease_ms):
            message = f"too many running tasks for this caller (limit {self.max_per_owner})"
            raise MCPError(ErrorCode.RATE_LIMITED, message)
        if not await self.store.admit(_RUNNING, task_id, limit=self.max_running, ttl_ms=self.lease_ms):
            await self.store.dismiss(mine, task_id)
            raise MCPError(ErrorCode.RATE_LIMITED, f"the server runs its limit of {self.max_running} tasks")
        kept = f"{_KEPT}:{owner}"
        if not await self.store.admit(kept, task_id, limit=self.max_kept_per_owner, ttl_ms=ttl_ms):
            await self.dismiss(owner, task_id)
            raise MCPError(
                ErrorCode.RATE_LIMITED,
                f"this caller keeps {self.max_kept_per_owner} tasks, its limit "
                "(`max_stored_tasks_per_principal`): each is kept until its ttl ends",
            )

    async def hold(self, owner: str, task_ids: Sequence[str], worker: str) -> None:
        """Renew the leases and the counts of tasks running on `worker`."""
        await self.store.claim(NAMESPACE, owner, task_ids, worker, lease_ms=self.lease_ms)
        for task_id in task_ids:
            await self.store.admit(
                f"{_RUNNING}:{owner}", task_id, limit=self.max_per_owner, ttl_ms=self.lease_ms
            )
            await self.store.admit(_RUNNING, task_id, limit=self.max_running, ttl_ms=self.lease_ms)

    async def dismiss(self, owner: str, task_id: str) -> None:
        await self.store.dismiss(f"{_RUNNING}:{owner}", task_id)
        await self.store.dismiss(_RUNNING, task_id)
