"""Who owns a task, and whether a call may become one: shared by the tool runner and the task handlers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pymcp.protocol.stateless.tasks import TASKS_REQUIRED
from pymcp.security.principal import principal_identity

if TYPE_CHECKING:
    from pymcp.security.principal import Principal
    from pymcp.server.call import Call
    from pymcp.settings import CapabilitySettings

__all__ = ["TASK_VERSIONS", "TaskOwners", "task_owner"]

TASK_VERSIONS = frozenset(("2025-11-25",))
# Without security configured every stateless caller is the same anonymous caller.
_OPEN_OWNER = "anonymous:stateless"


def task_owner(principal: Principal | None, session_id: str | None) -> str:
    """Tasks belong to the caller's stable identity, or to the session for anonymous callers."""
    return principal_identity(principal) or f"session:{session_id}"


class TaskOwners:
    """The owners of tasks when the tasks capability is on; `secured` says whether a gate is configured
    (a stateless caller without an identity gets a task only when none is)."""

    __slots__ = ("capabilities", "secured")

    def __init__(self, capabilities: CapabilitySettings, *, secured: bool) -> None:
        self.capabilities = capabilities
        self.secured = secured

    def of_session_call(self, call: Call) -> str:
        return task_owner(call.principal, call.session.id)

    def of_stateless_call(self, call: Call) -> str | None:
        identity = principal_identity(call.principal)
        if identity is not None:
            return identity
        return None if self.secured else _OPEN_OWNER

    def can_create(self, call: Call) -> bool:
        """Whether a stateless call may become a task: it offers the extension and has an owner."""
        return (
            call.client is not None
            and self.capabilities.tasks_tool_call
            and call.client.supports(TASKS_REQUIRED)
            and self.of_stateless_call(call) is not None
        )
