"""Tasks-extension shapes from the engine's 2025-11-25 task objects (rules from the conformance suite)."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.protocol.stateless.input_required import elicitation
from pymcp.protocol.stateless.tasks import (
    TASKS_REQUIRED,
    create_task_result,
    detailed_task,
    task_ack,
    task_id,
)

from .conftest import schema_errors

TASK: dict[str, Any] = {
    "taskId": "t-1",
    "status": "working",
    "statusMessage": None,
    "createdAt": "2026-11-26T05:00:00+00:00",
    "lastUpdatedAt": "2026-11-26T05:00:01+00:00",
    "ttl": 3_600_000,
    "pollInterval": 1000,
}
TOOL_ERROR = {"content": [{"type": "text", "text": "boom"}], "isError": True}
FORBIDDEN_ON_CREATE = ("task", "result", "error", "inputRequests", "requestState", "ttl", "pollInterval")


def test_create_task_result_is_flat_and_renamed() -> None:
    created = create_task_result(TASK)
    assert created == {
        "resultType": "task",
        "taskId": "t-1",
        "status": "working",
        "createdAt": TASK["createdAt"],
        "lastUpdatedAt": TASK["lastUpdatedAt"],
        "ttlMs": 3_600_000,
        "pollIntervalMs": 1000,
    }
    assert not set(FORBIDDEN_ON_CREATE) & set(created)
    assert schema_errors("Result", created) == []


def test_unlimited_ttl_stays_null() -> None:
    assert create_task_result({**TASK, "ttl": None})["ttlMs"] is None


def test_completed_task_inlines_its_result() -> None:
    result = {"content": [{"type": "text", "text": "done"}]}
    detailed = detailed_task({**TASK, "status": "completed"}, result=result)
    assert (detailed["resultType"], detailed["status"], detailed["result"]) == (
        "complete",
        "completed",
        result,
    )
    assert "error" not in detailed


def test_tool_error_is_completed_not_failed() -> None:
    detailed = detailed_task({**TASK, "status": "failed"}, result=TOOL_ERROR)
    assert (detailed["status"], detailed["result"]["isError"]) == ("completed", True)


def test_protocol_error_is_failed_with_inlined_error() -> None:
    error = MCPError(ErrorCode.INTERNAL_ERROR, "internal error")
    detailed = detailed_task({**TASK, "status": "failed"}, error=error)
    assert detailed["error"] == {"code": -32603, "message": "internal error"}
    assert "result" not in detailed


def test_input_required_task_surfaces_its_requests() -> None:
    asked = {"confirm": elicitation("Delete?", {"type": "object", "properties": {"ok": {"type": "boolean"}}})}
    detailed = detailed_task({**TASK, "status": "input_required"}, input_requests=asked)
    assert detailed["inputRequests"] == asked
    assert "requestState" not in detailed


def test_working_task_has_no_outcome() -> None:
    detailed = detailed_task(TASK)
    assert not {"result", "error", "inputRequests"} & set(detailed)


def test_ack_and_required_capability() -> None:
    assert task_ack() == {"resultType": "complete"}
    assert TASKS_REQUIRED == {"extensions": {"io.modelcontextprotocol/tasks": {}}}


@pytest.mark.parametrize("params", [{}, {"taskId": 7}, {"taskId": ""}, {"taskId": None}])
def test_task_id_must_be_a_string(params: dict[str, Any]) -> None:
    with pytest.raises(MCPError, match="`taskId` must be a non-empty string"):
        task_id(params)
    assert task_id({"taskId": "t-1"}) == "t-1"
