"""`subscriptions/listen`: the one long-lived stream of revision 2026-07-28.

It replaces the GET stream and `resources/subscribe`. The client names the notifications it wants
(`toolsListChanged`, `promptsListChanged`, `resourcesListChanged`, `resourceSubscriptions`); the
server first sends `notifications/subscriptions/acknowledged` with the subset it will honour, then
only those notifications, each tagged with `_meta["io.modelcontextprotocol/subscriptionId"]` (the
listen request's id). Progress and log messages never travel here: they belong to their request.
When the server ends the stream itself it answers the listen request with an empty result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymcp.errors import ErrorCode, MCPError

__all__ = ["SUBSCRIPTION_ID_KEY", "SubscriptionFilter", "acknowledgement", "listen_result", "tag"]

SUBSCRIPTION_ID_KEY = "io.modelcontextprotocol/subscriptionId"
_FLAGS: Mapping[str, tuple[str, str]] = {
    # filter flag → (server capability, notification method)
    "toolsListChanged": ("tools", "notifications/tools/list_changed"),
    "promptsListChanged": ("prompts", "notifications/prompts/list_changed"),
    "resourcesListChanged": ("resources", "notifications/resources/list_changed"),
}
_RESOURCE_UPDATED = "notifications/resources/updated"


def _invalid(message: str) -> MCPError:
    return MCPError(ErrorCode.INVALID_PARAMS, message)


@dataclass(frozen=True, slots=True)
class SubscriptionFilter:
    """The notifications one listen stream carries."""

    methods: frozenset[str] = frozenset()
    resource_uris: frozenset[str] = frozenset()

    @classmethod
    def read(cls, params: Mapping[str, Any], capabilities: Mapping[str, Any]) -> SubscriptionFilter:
        """What to honour of `params.notifications`, given the server's (2026-07-28) capabilities.

        A list-changed flag is honoured only when the capability advertises `listChanged`, resource
        updates only when `resources.subscribe` is advertised. Raises -32602 for a malformed filter.
        """
        wanted = params.get("notifications")
        if not isinstance(wanted, Mapping):
            raise _invalid("`notifications` must be an object naming the notifications to receive")
        methods: set[str] = set()
        for flag, (capability, method) in _FLAGS.items():
            value = wanted.get(flag, False)
            if not isinstance(value, bool):
                raise _invalid(f"`notifications.{flag}` must be a boolean")
            offered = capabilities.get(capability)
            if value and isinstance(offered, Mapping) and offered.get("listChanged") is True:
                methods.add(method)
        uris = wanted.get("resourceSubscriptions", [])
        if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
            raise _invalid("`notifications.resourceSubscriptions` must be a list of resource URIs")
        resources = capabilities.get("resources")
        if not (isinstance(resources, Mapping) and resources.get("subscribe") is True):
            uris = []
        return cls(methods=frozenset(methods), resource_uris=frozenset(uris))

    def to_wire(self) -> dict[str, Any]:
        """The `SubscriptionFilter` object the acknowledgement reports."""
        wire: dict[str, Any] = dict.fromkeys(
            (flag for flag, (_, method) in _FLAGS.items() if method in self.methods), True
        )
        if self.resource_uris:
            wire["resourceSubscriptions"] = sorted(self.resource_uris)
        return wire

    def wants(self, method: str, params: Mapping[str, Any] | None = None) -> bool:
        """Whether a server notification belongs on this stream."""
        if method == _RESOURCE_UPDATED:
            uri = params.get("uri") if params is not None else None
            return uri in self.resource_uris
        return method in self.methods


def tag(params: Mapping[str, Any] | None, subscription_id: str | int) -> dict[str, Any]:
    """Notification params carrying the subscription id in `_meta` (other `_meta` keys kept)."""
    tagged = dict(params or {})
    meta = tagged.get("_meta")
    kept = meta if isinstance(meta, Mapping) else {}
    tagged["_meta"] = {**kept, SUBSCRIPTION_ID_KEY: subscription_id}
    return tagged


def acknowledgement(subscription_id: str | int, accepted: SubscriptionFilter) -> dict[str, Any]:
    """The first message of a listen stream: `{"method": …acknowledged, "params": …}`."""
    return {
        "method": "notifications/subscriptions/acknowledged",
        "params": tag({"notifications": accepted.to_wire()}, subscription_id),
    }


def listen_result(subscription_id: str | int) -> dict[str, Any]:
    """The result that closes a listen stream the server ends (shutdown)."""
    return {"resultType": "complete", "_meta": {SUBSCRIPTION_ID_KEY: subscription_id}}
