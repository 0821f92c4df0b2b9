"""The compiled policy behind `RuleBasedAuthorizer` against the pure-Python oracle; strict loading."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oracle.policy import OraclePolicy
from oracle.policy_cases import params_for, policies, principals, requests
from pymcp import _core
from pymcp.security.authz import build_authz_request
from pymcp.security.principal import Principal
from pymcp.security.rules import RuleBasedAuthorizer
from security.seed import SEED_POLICY as SEED


@settings(max_examples=10_000, deadline=None)
@given(config=policies(), principal=principals(), request=requests())
def test_decisions_equal_the_oracle(
    config: dict[str, Any], principal: Principal | None, request: tuple[str, str | None]
) -> None:
    method, target = request
    authorizer = RuleBasedAuthorizer(config)
    expected = OraclePolicy(config).explain(principal, method, target)
    decision = authorizer.explain(
        principal, build_authz_request(rpc_method=method, params=params_for(method, target))
    )
    assert (decision.allowed, decision.rule_index) == (expected.allowed, expected.rule_index)
    assert decision.default == (expected.rule_index is None)
    assert decision.missing_scopes == expected.missing_scopes
    assert decision.message == expected.message
    assert authorizer.is_allowed(principal, method, target) == expected.allowed


def test_policy_properties() -> None:
    config = {
        "defaultEffect": "ALLOW",
        "hideUnauthorizedTools": True,
        "groups_claim": "grp",
        "groups_to_roles": {"eng-*": "dev"},
        "rules": [
            {"id": "first", "methods": "ping"},
            {"methods": "x", "effect": "deny", "allow_claims": {"tenant": "acme"}},
        ],
    }
    policy = _core.Policy(orjson.dumps(config))
    assert policy.default_effect == "allow"
    assert policy.hide_unauthorized_tools
    assert not policy.hide_unauthorized_capabilities
    assert policy.groups_claim == "grp"
    assert policy.claim_names == ["grp", "tenant"]
    assert policy.rule_ids == ["first", None]
    assert policy.rule_effects == ["allow", "deny"]
    assert _core.Policy(orjson.dumps(config).decode()).rule_ids == ["first", None]


def test_bound_principal_belongs_to_its_policy() -> None:
    one, two = _core.Policy(orjson.dumps(SEED)), _core.Policy(orjson.dumps(SEED))
    bound = one.bind("alice", ["ops"], [])
    assert one.is_allowed(bound, "ping")
    assert one.decide(bound, "tools/call", "deploy_x") == 1
    assert one.decide(bound, "tools/call", "other") == -1
    with pytest.raises(ValueError, match="bound by another policy"):
        two.is_allowed(bound, "ping")
    assert one.bind(None) is one.anonymous
    with pytest.raises(_core.PolicyError, match="claims must be a JSON object"):
        one.bind("x", [], [], "[1]")
    with pytest.raises(_core.PolicyError, match="claims are not valid JSON"):
        one.bind("x", [], [], "{")


def test_explanation_surface() -> None:
    policy = _core.Policy(orjson.dumps(SEED))
    why = policy.explain(policy.bind("bob", [], ["x"]), "tools/call", "deploy_x")
    assert (why.allowed, why.effect, why.rule_index, why.rule_id, why.default) == (
        False,
        "deny",
        None,
        None,
        True,
    )
    assert why.missing_scopes == ()
    assert why.message is None


# --- strict loading: every mistake is one line naming the rule (0-based, with its id) and the key --------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"rules": [{"methods": "a"}, {"methods": "a"}, {"methods": "a", "allow_role": ["ops"]}]},
            "unknown key `allow_role` in rule 2 (did you mean `allow_roles`?)",
        ),
        (
            {"rules": [{"id": "ops-deploy", "methods": "a", "allowSubject": "x"}]},
            "unknown key `allowSubject` in rule 0 `ops-deploy` (did you mean `allowSubjects`?)",
        ),
        ({"rules": [{"methods": "a", "frobnicate": 1}]}, "unknown key `frobnicate` in rule 0"),
        (
            {"default_efect": "deny"},
            "unknown key `default_efect` in the policy (did you mean `default_effect`?)",
        ),
        (
            {"rules": [{"methods": "a", "effect": "permit"}]},
            "`effect` in rule 0 must be `allow` or `deny`, not `permit`",
        ),
        ({"rules": [{"methods": "a", "effect": True}]}, "`effect` in rule 0 must be a string"),
        (
            {"default_effect": "maybe"},
            "`default_effect` in the policy must be `allow` or `deny`, not `maybe`",
        ),
        ({"rules": {"methods": "a"}}, "`rules` must be a list of rule objects"),
        ({"rules": None}, "`rules` must be a list of rule objects"),
        ({"rules": ["ping"]}, "rule 0 must be an object"),
        ({"rules": [{"methods": ["ping", 3]}]}, "`methods[1]` in rule 0 must be a string"),
        ({"rules": [{"methods": "a", "tool": ["x"]}]}, "`tool` in rule 0 must be a string"),
        (
            {"rules": [{"methods": "a", "allow_scopes": [None]}]},
            "`allow_scopes[0]` in rule 0 must be a string",
        ),
        ({"rules": [{"methods": []}]}, "`methods` in rule 0 must not be empty"),
        ({"rules": [{"rpc_method": ""}]}, "`rpc_method` in rule 0 must not be empty"),
        ({"rules": [{"effect": "deny"}]}, "missing `methods` in rule 0"),
        (
            {
                "rules": [
                    {"id": "a", "methods": "x"},
                    {"id": "b", "methods": "x"},
                    {"id": "a", "methods": "y"},
                ]
            },
            "duplicate id `a` in rule 2 (already used by rule 0)",
        ),
        ({"rules": [{"id": 7, "methods": "x"}]}, "`id` in rule 0 must be a string"),
        (
            {"rules": [{"methods": "x", "allow_anonymous": "yes"}]},
            "`allow_anonymous` in rule 0 must be true or false",
        ),
        ({"hide_unauthorized_tools": 1}, "`hide_unauthorized_tools` in the policy must be true or false"),
        (
            {"rules": [{"methods": "x", "allow_roles": {"ops": 1}}]},
            "`allow_roles` in rule 0 must be a string or a list of strings",
        ),
        (
            {"rules": [{"methods": "x", "allow_claims": ["tenant"]}]},
            "`allow_claims` in rule 0 must be an object mapping claim names to accepted values",
        ),
        (
            {"rules": [{"methods": "x", "allow_claims": {"tenant": []}}]},
            "`allow_claims.tenant` in rule 0 must not be empty",
        ),
        (
            {"rules": [{"methods": "x", "tool": "a", "prompt": "b"}]},
            "both `tool` and `prompt` in rule 0; a rule targets one kind",
        ),
        (
            {"rules": [{"methods": "x", "rpc_method": "y"}]},
            "both `methods` and `rpc_method` in rule 0; keep one",
        ),
        (
            {"rules": [{"methods": "x", "allow_roles": [], "allowRoles": ["ops"]}]},
            "both `allow_roles` and `allowRoles` in rule 0; keep one",
        ),
        (
            {"groups_to_roles": ["eng"]},
            "`groups_to_roles` in the policy must be an object mapping group globs to role names",
        ),
        ({"groups_to_roles": {"eng-*": ""}}, "`groups_to_roles.eng-*` in the policy must not be empty"),
        ({"groups_claim": 3}, "`groups_claim` in the policy must be a string"),
        ({"rules": [{"methods": "x", "message": 3}]}, "`message` in rule 0 must be a string"),
    ],
)
def test_strict_loading_errors_are_one_line(config: dict[str, Any], message: str) -> None:
    with pytest.raises(_core.PolicyError) as raised:
        RuleBasedAuthorizer(config)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)


@pytest.mark.parametrize(
    ("config", "where"),
    [
        ({"rules": [{"methods": "a"}, {"id": "ops", "methods": ["a", 3]}]}, (1, "ops", "methods")),
        ({"rules": [{"methods": "a", "allow_role": "x"}]}, (0, None, "allow_role")),
        ({"rules": [{"methods": "a", "allowClaims": {"team": []}}]}, (0, None, "allowClaims")),
        ({"rules": ["x"]}, (0, None, None)),
        ({"groups_to_roles": {"eng-*": ""}}, (None, None, "groups_to_roles")),
        ({"default_effect": "permit"}, (None, None, "default_effect")),
    ],
)
def test_loading_errors_say_where(
    config: dict[str, Any], where: tuple[int | None, str | None, str | None]
) -> None:
    with pytest.raises(_core.PolicyError) as raised:
        _core.Policy(orjson.dumps(config))
    assert (raised.value.rule_index, raised.value.rule_id, raised.value.key) == where


def test_policy_errors_raised_in_python_have_no_place() -> None:
    error = _core.PolicyError("policy must be a JSON object")
    assert (error.rule_index, error.rule_id, error.key) == (None, None, None)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (b"{", "policy is not valid JSON"),
        (b"[]", "policy must be a JSON object"),
        (b"\xff", "policy is not valid UTF-8"),
    ],
)
def test_bad_policy_text(text: bytes, message: str) -> None:
    with pytest.raises(_core.PolicyError, match=message):
        _core.Policy(text)


def test_non_json_config_is_a_clear_error() -> None:
    with pytest.raises(_core.PolicyError, match="policy is not JSON"):
        RuleBasedAuthorizer({"rules": [{"methods": {"ping"}}]})
    with pytest.raises(_core.PolicyError, match="policy must be a JSON object"):
        RuleBasedAuthorizer(["rules"])  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(
    config=st.recursive(
        st.none() | st.booleans() | st.integers(-(2**63), 2**64 - 1) | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
        max_leaves=12,
    )
)
def test_arbitrary_json_loads_or_fails_cleanly(config: Any) -> None:
    try:
        _core.Policy(orjson.dumps(config))
    except _core.PolicyError as error:
        message = str(error)
    else:
        return
    assert message
    assert "\n" not in message


def test_policy_errors_are_in_the_error_tree() -> None:
    from pymcp.errors import PolicyError, PymcpError

    with pytest.raises(PolicyError) as raised:
        RuleBasedAuthorizer({"rules": [{"id": "ops", "methods": "x", "allow_role": "a"}]})
    assert isinstance(raised.value, PymcpError)
    assert isinstance(raised.value, _core.PolicyError)
    assert (raised.value.rule_index, raised.value.rule_id, raised.value.key) == (0, "ops", "allow_role")
