"""`subscriptions/listen`: filter, acknowledgement, tagging and the closing result."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.subscriptions import (
    SUBSCRIPTION_ID_KEY,
    SubscriptionFilter,
    acknowledgement,
    listen_result,
    tag,
)

from .conftest import schema_errors

CAPABILITIES = {
    "tools": {"listChanged": True},
    "prompts": {},
    "resources": {"subscribe": True, "listChanged": True},
}


def test_only_offered_notifications_are_honoured() -> None:
    wanted = {
        "toolsListChanged": True,
        "promptsListChanged": True,
        "resourcesListChanged": False,
        "resourceSubscriptions": ["file:///a"],
    }
    accepted = SubscriptionFilter.read({"notifications": wanted}, CAPABILITIES)
    assert accepted.to_wire() == {"toolsListChanged": True, "resourceSubscriptions": ["file:///a"]}
    assert accepted.wants("notifications/tools/list_changed")
    assert not accepted.wants("notifications/prompts/list_changed")
    assert not accepted.wants("notifications/resources/list_changed")
    assert accepted.wants("notifications/resources/updated", {"uri": "file:///a"})
    assert not accepted.wants("notifications/resources/updated", {"uri": "file:///b"})
    assert not accepted.wants("notifications/progress")
    assert not accepted.wants("notifications/message")


def test_resource_updates_need_the_subscribe_capability() -> None:
    accepted = SubscriptionFilter.read(
        {"notifications": {"resourceSubscriptions": ["file:///a"]}}, {"resources": {}}
    )
    assert accepted.to_wire() == {}


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "`notifications` must be an object"),
        ({"notifications": []}, "`notifications` must be an object"),
        (
            {"notifications": {"toolsListChanged": "yes"}},
            "`notifications.toolsListChanged` must be a boolean",
        ),
        ({"notifications": {"resourceSubscriptions": "file:///a"}}, "list of resource URIs"),
        ({"notifications": {"resourceSubscriptions": [1]}}, "list of resource URIs"),
    ],
)
def test_malformed_filters_are_invalid_params(params: dict[str, Any], message: str) -> None:
    with pytest.raises(MCPError, match=message) as caught:
        SubscriptionFilter.read(params, CAPABILITIES)
    assert caught.value.code == ErrorCode.INVALID_PARAMS


def test_wire_shapes_validate_against_the_2026_schema() -> None:
    accepted = SubscriptionFilter.read({"notifications": {"toolsListChanged": True}}, CAPABILITIES)
    ack = {"jsonrpc": "2.0", **acknowledgement(7, accepted)}
    assert schema_errors("SubscriptionsAcknowledgedNotification", ack) == []
    assert ack["params"]["_meta"] == {SUBSCRIPTION_ID_KEY: 7}
    changed = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed", "params": tag(None, 7)}
    assert schema_errors("ToolListChangedNotification", changed) == []
    updated = tag({"uri": "file:///a", "_meta": {"com.example/x": 1}}, "s1")
    assert updated["_meta"] == {"com.example/x": 1, SUBSCRIPTION_ID_KEY: "s1"}
    assert schema_errors("SubscriptionsListenResult", listen_result(7)) == []
