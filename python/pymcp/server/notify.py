"""Server-initiated notifications: the open `subscriptions/listen` streams (2026-07-28) and the watches
that announce registry changes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pymcp.protocol.jsonrpc import encode_notification
from pymcp.protocol.stateless.subscriptions import SubscriptionFilter, acknowledgement, listen_result, tag

if TYPE_CHECKING:
    from pymcp.registry.manager import RegistryManager
    from pymcp.server.call import Call
    from pymcp.server.session import Session
    from pymcp.settings import CapabilitySettings

__all__ = ["Broadcast", "ListenQueue", "ListenStreams", "watch_registries"]

# A listen stream that falls this far behind is ended; the client re-listens and re-reads the lists.
_LISTEN_QUEUE = 256
_LISTEN_CLOSED = ("", None)  # the sentinel that ends every listen stream (shutdown)
ListenQueue = asyncio.Queue[tuple[str, Mapping[str, Any] | None]]


class Broadcast(Protocol):
    """`Dispatcher.broadcast`: a notification to every ready session (that `only` accepts)."""

    def __call__(
        self, method: str, params: Mapping[str, Any] | None, *, only: Callable[[Session], bool] | None = None
    ) -> None: ...


class ListenStreams:
    """The open `subscriptions/listen` streams, each a bounded queue of the notifications it wants."""

    __slots__ = ("_queues",)

    def __init__(self) -> None:
        self._queues: dict[ListenQueue, SubscriptionFilter] = {}

    async def serve(self, call: Call, wanted: SubscriptionFilter) -> dict[str, Any]:
        """Acknowledge, then forward the `wanted` notifications until shutdown (or the client leaves)."""
        queue: ListenQueue = asyncio.Queue(_LISTEN_QUEUE)
        self._queues[queue] = wanted
        try:
            ack = acknowledgement(call.request_id, wanted)
            await call.emit(encode_notification(ack["method"], ack["params"]))
            while True:
                method, params = await queue.get()
                if not method:
                    break
                await call.emit(encode_notification(method, tag(params, call.request_id)))
        finally:
            self._queues.pop(queue, None)
        return listen_result(call.request_id)

    def publish(self, method: str, params: Mapping[str, Any] | None) -> None:
        """Queue a notification on every stream that wants it."""
        for queue, wanted in list(self._queues.items()):
            if wanted.wants(method, params):
                try:
                    queue.put_nowait((method, params))
                except asyncio.QueueFull:
                    # Too far behind: end that stream rather than hold unbounded notifications.
                    self._queues.pop(queue, None)
                    queue.get_nowait()
                    queue.put_nowait(_LISTEN_CLOSED)

    def close(self) -> None:
        """End every stream (shutdown): each answers its request."""
        for queue in list(self._queues):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(_LISTEN_CLOSED)


def watch_registries(caps: CapabilitySettings, registries: RegistryManager, broadcast: Broadcast) -> None:
    """Announce registry changes with `broadcast(method, params, only=...)`, as `caps` declares."""
    if caps.tools_list_changed:
        registries.tools.on_change(lambda: broadcast("notifications/tools/list_changed", None))
    if caps.prompts_list_changed:
        registries.prompts.on_change(lambda: broadcast("notifications/prompts/list_changed", None))
    if caps.resources_list_changed:
        changed = lambda: broadcast("notifications/resources/list_changed", None)  # noqa: E731
        registries.resources.on_change(changed)
        registries.resources.templates.on_change(changed)
    if caps.resources_subscribe:
        registries.resources.on_updated(
            lambda uri: broadcast(
                "notifications/resources/updated",
                {"uri": uri},
                only=lambda session: uri in session.subscriptions,
            )
        )
