"""Tasks (MCP 2025-11-25): task-augmented calls run in the background and are polled, listed, cancelled
and collected through `tasks/*`.

One engine per worker process; any number of engines may share one store (Redis). The record of a task
lives in the store under its owner; the coroutine running it lives in the engine that created it, which
holds a lease on it and renews it while it runs. Status changes travel as store events: they wake
`tasks/result` waiters everywhere, carry `tasks/cancel` to the engine running the task, and feed
`on_status` callbacks (for `notifications/tasks/status`). A task whose lease lapsed (its worker died) is
marked `failed` by whichever engine next looks at it.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import orjson

import pymcp.tasks.ledger as ledger
from pymcp.errors import ErrorCode, MCPError, StoreUnavailable
from pymcp.state.base import Store, StoreEvent, Subscription, TaskStore, Transition, log_store_failure
from pymcp.state.memory import MemoryStore
from pymcp.tasks.handle import (
    ACTIVE_STATUSES,
    RELATED_TASK_META_KEY,
    TERMINAL_STATUSES,
    CancellationToken,
    CancelledError,
    ProgressSink,
    StatusCallback,
    TaskContext,
    TaskHandle,
    TaskStatus,
)

__all__ = [
    "ACTIVE_STATUSES",
    "RELATED_TASK_META_KEY",
    "TERMINAL_STATUSES",
    "CancellationToken",
    "CancelledError",
    "ProgressSink",
    "StatusCallback",
    "TaskContext",
    "TaskEngine",
    "TaskHandle",
    "TaskStatus",
]


class TaskEngine:
    """Creates, tracks and collects tasks; every method takes the owner (the caller's stable identity)."""

    def __init__(
        self,
        store: TaskStore | None = None,
        *,
        default_ttl_ms: int = 3_600_000,
        max_ttl_ms: int = 86_400_000,
        poll_interval_ms: int = 1000,
        page_size: int = 50,
        lease_ms: int = 15_000,
        max_running_per_owner: int = 16,
        max_running: int = 256,
        max_result_bytes: int = 4 * 1024 * 1024,
        max_kept_per_owner: int = 256,
    ) -> None:
        if min(page_size, max_result_bytes) < 1 or lease_ms < 3 or not 0 <= default_ttl_ms <= max_ttl_ms:
            raise ValueError(
                "`page_size` and result bytes must be positive, `lease_ms` at least 3 and `default_ttl_ms` "
                "within `max_ttl_ms`"
            )
        self._owns_store = store is None
        self._store: Store = store if store is not None else MemoryStore()
        self._default_ttl_ms = default_ttl_ms
        self._max_ttl_ms = max_ttl_ms
        self._poll_interval_ms = poll_interval_ms
        self._page_size = page_size
        self._lease_ms = lease_ms
        self.worker_id = uuid.uuid4().hex
        self._capacity = ledger.Capacity(
            self._store, max_running, max_running_per_owner, lease_ms, max_kept_per_owner
        )
        self._max_result_bytes = max_result_bytes
        self._running: dict[str, ledger.Running] = {}
        self._jobs: set[asyncio.Task[None]] = set()  # every task coroutine, including those saving an outcome
        self._waiters: dict[tuple[str, str], set[asyncio.Event]] = {}
        self._callbacks: list[StatusCallback] = []
        self._start_lock = asyncio.Lock()
        self._subscription: Subscription | None = None
        self._background: list[asyncio.Task[None]] = []
        self._closed = False

    @property
    def store(self) -> Store:
        return self._store

    def on_status(self, callback: StatusCallback) -> None:
        """Call `callback(task, session_id)` on every status change of any task in the store.

        With one store for every worker, each engine sees every change: deliver only to sessions this
        worker holds.
        Callbacks run one at a time, in order; keep them short (queue the notification).
        """
        self._callbacks.append(callback)

    async def create(
        self,
        *,
        owner: str,
        session_id: str | None,
        ttl_ms: int | None,
        run: Callable[[TaskHandle], Awaitable[dict[str, Any]]],
        progress: ProgressSink | None = None,
    ) -> dict[str, Any]:
        """Start `run` in the background and return the new task (status `working`) at once.

        `run` returns the CallToolResult (`isError: true` → `failed`, result kept) or raises `MCPError`
        (→ `failed`; `result` re-raises it). `progress` is the sink for `TaskHandle.send_progress`.
        """
        if not isinstance(owner, str) or not owner:
            # An empty owner would pool every caller's tasks together: a server bug, never user input.
            raise ValueError("`owner` must be a non-empty identity")
        ttl = ledger.resolve_ttl(ttl_ms, self._default_ttl_ms, self._max_ttl_ms)
        task_id = str(uuid.uuid4())
        await self._capacity.admit(owner, task_id, max(ttl, 1))
        await self.start()
        now = ledger.timestamp()
        record = {
            "taskId": task_id,
            "status": "working",
            "statusMessage": ledger.MESSAGE_ACCEPTED,
            "createdAt": now,
            "lastUpdatedAt": now,
            "ttl": ttl,
            "pollInterval": self._poll_interval_ms,
            "sessionId": session_id,
            "worker": self.worker_id,
        }
        # Lease first: no other engine may ever see this task without a live lease.
        await self._store.claim(ledger.NAMESPACE, owner, [task_id], self.worker_id, lease_ms=self._lease_ms)
        await self._store.create(ledger.NAMESPACE, owner, task_id, record, ttl_ms=max(ttl, 1))
        if self._closed:  # closed while the store was written: its lease lapses and another worker fails it
            raise MCPError(ErrorCode.INTERNAL_ERROR, "the task engine is closed")
        handle = TaskHandle(self, owner, task_id, session_id, progress)
        job = asyncio.create_task(self._execute(owner, handle, run), name=f"pymcp-task-{task_id}")
        self._jobs.add(job)
        job.add_done_callback(self._jobs.discard)
        expiry = asyncio.get_running_loop().call_later(ttl / 1000, self._stop_local, task_id)
        self._running[task_id] = ledger.Running(owner, handle, job, expiry)
        return ledger.wire(record)

    async def get(self, owner: str, task_id: str) -> dict[str, Any]:
        return ledger.wire(await self._lookup(owner, task_id))

    async def list(self, owner: str, cursor: str | None) -> dict[str, Any]:
        before = ledger.decode_cursor(cursor)
        await self.start()
        page = await self._store.page(ledger.NAMESPACE, owner, before=before, limit=self._page_size)
        records = await self._settle_orphans(owner, page.records)
        result: dict[str, Any] = {"tasks": [ledger.wire(record) for record in records]}
        if page.next_before is not None:
            result["nextCursor"] = ledger.encode_cursor(page.next_before)
        return result

    async def cancel(self, owner: str, task_id: str) -> dict[str, Any]:
        await self.start()
        if not ledger.plausible_task_id(task_id):
            raise ledger.not_found()
        change = await self._transition(
            owner, task_id, "cancelled", ledger.MESSAGE_CANCELLED, ACTIVE_STATUSES
        )
        if change.record is None:
            raise ledger.not_found()
        if not change.applied:
            status = change.record["status"]
            raise MCPError(ErrorCode.INVALID_PARAMS, f"cannot cancel a task in terminal status `{status}`")
        self._stop_local(task_id)
        with contextlib.suppress(StoreUnavailable):  # else it stops counting when its lease lapses
            await self._capacity.dismiss(owner, task_id)
        return ledger.wire(change.record)

    async def peek(
        self, owner: str, task_id: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None, MCPError | None]:
        """The task and, once it ended, its stored result or error, without waiting (tasks extension).

        A `failed` task whose tool reported `isError` comes with its result, not an error.
        """
        record = await self._lookup(owner, task_id)
        if record["status"] not in TERMINAL_STATUSES or record["status"] == "cancelled":
            return ledger.wire(record), None, None
        payload = await self._store.get_payload(ledger.NAMESPACE, owner, task_id)
        outcome = ledger.stored_outcome(record, payload)
        if isinstance(outcome, MCPError):
            return ledger.wire(record), None, outcome
        return ledger.wire(record), outcome, None

    async def result(self, owner: str, task_id: str) -> dict[str, Any]:
        """Wait until the task is terminal; return what the plain call would have returned (or raise it)."""
        await self.start()
        key = (owner, task_id)
        while True:
            wake = asyncio.Event()
            self._waiters.setdefault(key, set()).add(wake)
            try:
                record = await self._lookup(owner, task_id)
                if record["status"] in TERMINAL_STATUSES:
                    return await self._outcome(owner, task_id, record)
                # Woken by the task's next event; the timeout re-checks the worker's lease and expiry
                # (neither announces itself).
                timeout = min(self._lease_ms / 1000, ledger.seconds_to_expiry(record) + 0.01)
                # `asyncio.timeout`, not `wait_for`: on Python 3.11 `wait_for` drops a cancellation that
                # arrives as the event is set, and this loop would then wait on for a gone client.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(timeout, 0.01)):
                        await wake.wait()
            finally:
                waiters = self._waiters.get(key)
                if waiters is not None:
                    waiters.discard(wake)
                    if not waiters:
                        del self._waiters[key]

    async def aclose(self) -> None:
        """Fail the tasks still running here (the server is going away), wait until every task
        coroutine has finished with the store, then stop listening."""
        if self._closed:
            return
        self._closed = True
        for task_id, running in list(self._running.items()):
            with contextlib.suppress(Exception):
                await self._transition(
                    running.owner,
                    task_id,
                    "failed",
                    ledger.MESSAGE_SHUTDOWN,
                    ACTIVE_STATUSES,
                    payload=ledger.error_payload(ErrorCode.INTERNAL_ERROR, ledger.MESSAGE_SHUTDOWN),
                )
            self._stop_local(task_id)
        # Including the coroutines past their tool code that are still saving its outcome: none may use
        # the store (or open a connection) once its owner closed it.
        await asyncio.gather(*self._jobs, return_exceptions=True)
        for job in self._background:
            job.cancel()
        if self._subscription is not None:
            # Closed before the listener is awaited, so it cannot stay blocked on a read.
            await self._subscription.aclose()
            self._subscription = None
        await asyncio.gather(*self._background, return_exceptions=True)
        self._background.clear()
        if self._owns_store:
            await self._store.aclose()

    async def start(self) -> None:
        """Subscribe to store events and start the heartbeat (once; every method does it when needed).

        Call it at server startup so `on_status` hears other workers' changes before the first request.
        """
        if self._background:
            return
        if self._closed:
            raise MCPError(ErrorCode.INTERNAL_ERROR, "the task engine is closed")
        async with self._start_lock:
            if self._background:
                return
            self._subscription = await self._store.subscribe()
            self._background = [
                asyncio.create_task(self._listen(), name="pymcp-tasks-listen"),
                asyncio.create_task(self._heartbeat(), name="pymcp-tasks-heartbeat"),
            ]

    # -- internals --------------------------------------------------------------------------------

    async def _execute(
        self, owner: str, handle: TaskHandle, run: Callable[[TaskHandle], Awaitable[dict[str, Any]]]
    ) -> None:
        task_id = handle.task_id
        try:
            status, message, payload = await ledger.run_to_outcome(handle, run)
            if payload is not None and "result" in payload:
                size = len(orjson.dumps(payload["result"], default=str))
                if size > self._max_result_bytes:
                    message = f"the task result takes {size} bytes, more than {self._max_result_bytes}"
                    status, payload = "failed", ledger.error_payload(ErrorCode.INTERNAL_ERROR, message)
        finally:
            # When cancelled (tasks/cancel, expiry, terminal elsewhere, shutdown), whoever cancelled
            # has already settled the record.
            self._forget(task_id)
        with contextlib.suppress(Exception):  # an outcome outlives a store failover of up to a lease
            await ledger.retry_while_unavailable(
                lambda: self._transition(owner, task_id, status, message, ACTIVE_STATUSES, payload=payload),
                seconds=self._lease_ms / 1000,
            )
        with contextlib.suppress(Exception):
            await self._store.release(ledger.NAMESPACE, owner, task_id)
            await self._capacity.dismiss(owner, task_id)

    def _forget(self, task_id: str) -> None:
        running = self._running.pop(task_id, None)
        if running is not None:
            running.expiry.cancel()

    def _stop_local(self, task_id: str) -> None:
        """Cancel the coroutine running `task_id` here, if any (cancel, expiry, terminal elsewhere)."""
        running = self._running.pop(task_id, None)
        if running is not None:
            running.expiry.cancel()
            running.handle.cancel_token.cancel()
            running.job.cancel()

    async def _transition(
        self,
        owner: str,
        task_id: str,
        status: str,
        message: str | None,
        from_statuses: Iterable[str],
        *,
        payload: dict[str, Any] | None = None,
    ) -> Transition:
        changes = {"status": status, "statusMessage": message or None, "lastUpdatedAt": ledger.timestamp()}
        return await self._store.transition(
            ledger.NAMESPACE,
            owner,
            task_id,
            changes,
            from_statuses=frozenset(from_statuses),
            payload=payload,
        )

    async def _lookup(self, owner: str, task_id: str) -> dict[str, Any]:
        await self.start()
        if not ledger.plausible_task_id(task_id):
            raise ledger.not_found()
        record = await self._store.get(ledger.NAMESPACE, owner, task_id)
        settled = await self._settle_orphans(owner, [record] if record is not None else [])
        if not settled:
            raise ledger.not_found()
        return settled[0]

    async def _settle_orphans(self, owner: str, records: ledger.Records) -> ledger.Records:
        """Mark `failed` the active tasks whose worker's lease lapsed; drop records that vanished."""
        suspects = [
            r["taskId"]
            for r in records
            if r["status"] in ACTIVE_STATUSES and r["taskId"] not in self._running
        ]
        if not suspects:
            return records
        alive = await self._store.leased(ledger.NAMESPACE, owner, suspects)
        settled: ledger.Records = []
        for record in records:
            task_id = record["taskId"]
            if task_id in suspects and task_id not in alive:
                change = await self._transition(
                    owner,
                    task_id,
                    "failed",
                    ledger.MESSAGE_WORKER_LOST,
                    ACTIVE_STATUSES,
                    payload=ledger.error_payload(ErrorCode.INTERNAL_ERROR, ledger.MESSAGE_WORKER_LOST),
                )
                if change.record is None:
                    continue
                record = change.record
            settled.append(record)
        return settled

    async def _outcome(self, owner: str, task_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        payload = await self._store.get_payload(ledger.NAMESPACE, owner, task_id)
        if record["status"] == "cancelled":
            raise MCPError(ErrorCode.INVALID_REQUEST, "the task was cancelled")
        result = ledger.stored_outcome(record, payload)
        if isinstance(result, MCPError):
            raise result
        meta = result.get("_meta")
        result["_meta"] = {
            **(meta if isinstance(meta, dict) else {}),
            RELATED_TASK_META_KEY: {"taskId": task_id},
        }
        return result

    async def _listen(self) -> None:
        while not ledger.cancel_was_swallowed():
            subscription = self._subscription
            if subscription is None:
                return
            try:
                event = await subscription.get()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                if ledger.cancel_was_swallowed():
                    return
                # The store's connection dropped: waiters fall back to their lease-period re-checks.
                log_store_failure(ledger.logger, "task events (resubscribing)", error)
                await asyncio.sleep(1)
                with contextlib.suppress(Exception):
                    await subscription.aclose()
                    self._subscription = await self._store.subscribe()
                continue
            if event.namespace == ledger.NAMESPACE:
                await self._dispatch(event)

    async def _dispatch(self, event: StoreEvent) -> None:
        for wake in self._waiters.get((event.owner, event.record_id), ()):
            wake.set()
        running = self._running.get(event.record_id)
        if (
            running is not None
            and running.owner == event.owner
            and event.record["status"] in TERMINAL_STATUSES
        ):
            self._stop_local(event.record_id)
        task = ledger.wire(event.record)
        session_id = event.record.get("sessionId")
        for callback in self._callbacks:
            try:
                await callback(dict(task), session_id)
            except Exception:
                ledger.logger.exception("task status callback failed")

    async def _heartbeat(self) -> None:
        """Renew the leases of the tasks running here, and stop those that ended elsewhere (a status
        event can be lost while the store's connection is down)."""
        while not ledger.cancel_was_swallowed():
            await asyncio.sleep(self._lease_ms / 3000)
            by_owner: dict[str, list[str]] = {}
            for task_id, running in self._running.items():
                by_owner.setdefault(running.owner, []).append(task_id)
            for owner, task_ids in by_owner.items():
                try:
                    await self._capacity.hold(owner, task_ids, self.worker_id)
                    for task_id in task_ids:
                        record = await self._store.get(ledger.NAMESPACE, owner, task_id)
                        if record is None or record["status"] in TERMINAL_STATUSES:
                            self._stop_local(task_id)
                except StoreUnavailable as error:
                    log_store_failure(ledger.logger, "renewing task leases", error)
                except Exception:
                    if ledger.cancel_was_swallowed():
                        return
                    ledger.logger.exception("renewing task leases failed")
