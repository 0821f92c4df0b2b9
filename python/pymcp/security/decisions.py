"""What a policy answers: `Decision`, `PolicyTrace` and its `RuleStep`s, the lazily explained denial,
and the audit message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from pymcp.errors import AuthorizationError

__all__ = ["NON_RPC", "AuditMessage", "Decision", "Denial", "PolicyTrace", "RuleStep"]


@dataclass(frozen=True, slots=True)
class Decision:
    """Why a request is allowed or denied (`RuleBasedAuthorizer.explain`).

    `rule_index` is 0-based (as in the `rules` list) and `None` when no rule matched: then `default` is
    true and the default effect decided. On denial, `missing_scopes` lists the scopes that would have let
    an earlier allow rule grant the request, and `message` is the text the caller is given.
    """

    allowed: bool
    effect: str
    rule_index: int | None
    rule_id: str | None
    default: bool
    missing_scopes: tuple[str, ...]
    message: str | None


NON_RPC = Decision(True, "allow", None, None, False, (), None)


@dataclass(frozen=True, slots=True)
class RuleStep:
    """One rule tried by `RuleBasedAuthorizer.trace`.

    `index` is 0-based, as in the `rules` list. `outcome` is `"decided"` (the rule matched and applied: its
    effect decided), `"method"` (no `methods` glob matched), `"target"` (the tool / prompt / resource glob
    did not match) or `"conditions"` (the rule matched but does not apply to the principal).
    """

    index: int
    rule_id: str | None
    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class PolicyTrace:
    """A decision (`decision`) and the rules tried to reach it, in order (`steps`)."""

    method: str
    target: str | None
    decision: Decision
    steps: tuple[RuleStep, ...]


# The C-level `args` slot of an exception, which `Denial` uses to hold the decision's inputs.
_EXCEPTION_ARGS: Any = BaseException.__dict__["args"]


class Denial(AuthorizationError):
    """The policy's `AuthorizationError`: its message and scope hint are worked out when first read.

    A deny storm is the cheapest attack on an authorizer, so a denial costs one decision and one raise;
    the explanation (the rule's message, the missing scopes) is asked of the policy only if the caller
    reads it. Constructed with the C-level `Exception.__init__`: the decision's inputs are its only state.
    """

    __init__ = Exception.__init__  # (policy, bound, method, target)

    def __getattr__(self, name: str) -> Any:
        # `message` and `required_scopes` are filled in on first read (this runs only for missing names)
        if name not in ("message", "required_scopes"):
            raise AttributeError(name)
        policy, bound, method, target = _EXCEPTION_ARGS.__get__(self)
        why = policy.explain(bound, method, target)
        self.message = why.message or "Forbidden"
        self.required_scopes = why.missing_scopes
        return self.__dict__[name]

    @property
    def args(self) -> tuple[Any, ...]:
        return (self.message,)

    @args.setter
    def args(self, value: tuple[Any, ...]) -> None:
        _EXCEPTION_ARGS.__set__(self, value)

    def __str__(self) -> str:
        return str(self.message)

    def __repr__(self) -> str:
        return f"AuthorizationError({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (AuthorizationError, (self.message,), {"required_scopes": self.required_scopes})


class AuditMessage:
    """An audit event that becomes its JSON text only when a handler formats the record."""

    __slots__ = ("event",)

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event

    def __str__(self) -> str:
        return orjson.dumps(self.event).decode()
