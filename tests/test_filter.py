"""Bulk filtering equals one decision per name (and the oracle), for tools, prompts and resources."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.policy import OraclePolicy
from oracle.policy_cases import NAMES, policies, principals
from pymcp.security.principal import Principal
from pymcp.security.rules import RuleBasedAuthorizer

_LISTS = {
    "tools/call": ("filter_tools", "name"),
    "prompts/get": ("filter_prompts", "name"),
    "resources/read": ("filter_resources", "uri"),
}
_names = st.lists(st.sampled_from([*NAMES, "deploy_", "a", "b_prod", "xx", "file:///pub/"]), max_size=25)


@settings(max_examples=10_000, deadline=None)
@given(
    config=policies(max_rules=14),
    principal=principals(),
    method=st.sampled_from(sorted(_LISTS)),
    names=_names,
)
def test_filter_equals_per_name_decisions(
    config: dict[str, Any], principal: Principal | None, method: str, names: list[str]
) -> None:
    authorizer = RuleBasedAuthorizer({**config, "hide_unauthorized_tools": True})
    filter_name, key = _LISTS[method]
    items = [{key: name, "position": position} for position, name in enumerate(names)]
    kept = getattr(authorizer, filter_name)(principal, items)
    expected = OraclePolicy(config).filter(principal, method, names)
    assert [item["position"] for item in kept] == expected
    assert expected == [i for i, name in enumerate(names) if authorizer.is_allowed(principal, method, name)]


def test_filter_of_many_names_under_many_targeted_rules() -> None:
    rules: list[dict[str, Any]] = [
        {"methods": "tools/call", "tool": pattern, "effect": effect}
        for index in range(60)
        for pattern, effect in (
            (f"svc{index}_*", "allow"),
            (f"*_{index}x", "deny"),
            (f"[ab]{index}?", "allow"),
        )
    ]
    config = {"hide_unauthorized_tools": True, "rules": rules}
    authorizer = RuleBasedAuthorizer(config)
    names = [
        f"{prefix}{i}{suffix}"
        for i in range(80)
        for prefix in ("svc", "a", "q")
        for suffix in ("_1x", "z", "_")
    ]
    tools = [{"name": name} for name in names]
    kept = [tool["name"] for tool in authorizer.filter_tools(None, tools)]
    assert kept == [names[i] for i in OraclePolicy(config).filter(None, "tools/call", names)]
    assert kept
    assert len(kept) < len(names)
