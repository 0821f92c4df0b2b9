"""`trace` and `shadowed_rules` agree with the decisions (Hypothesis over the oracle's policies)."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from oracle.policy_cases import policies, principals, requests
from pymcp.security.principal import Principal
from pymcp.security.rules import RuleBasedAuthorizer


@settings(max_examples=2_000, deadline=None)
@given(config=policies(), principal=principals(), request=requests())
def test_trace_ends_at_the_deciding_rule(
    config: dict[str, Any], principal: Principal | None, request: tuple[str, str | None]
) -> None:
    method, target = request
    authorizer = RuleBasedAuthorizer(config)
    trace = authorizer.trace(principal, method, target)
    decision = authorizer.decide(principal, method, target)
    assert trace.decision == decision
    decided = [step for step in trace.steps if step.outcome == "decided"]
    if decision.default:
        assert decided == []
        assert [step.index for step in trace.steps] == list(range(len(config["rules"])))
    else:
        assert [step.index for step in decided] == [decision.rule_index]
        assert trace.steps[-1] == decided[0]
        assert [step.index for step in trace.steps] == list(range(decided[0].index + 1))
    for step in trace.steps:
        assert step.reason
        assert step.rule_id == authorizer.policy.rule_ids[step.index]


@settings(max_examples=2_000, deadline=None)
@given(config=policies(), principal=principals(), request=requests())
def test_a_shadowed_rule_never_decides(
    config: dict[str, Any], principal: Principal | None, request: tuple[str, str | None]
) -> None:
    authorizer = RuleBasedAuthorizer(config)
    shadowed = {later for later, _ in authorizer.shadowed_rules()}
    assert authorizer.decide(principal, *request).rule_index not in shadowed
