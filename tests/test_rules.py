"""`RuleBasedAuthorizer`: the facade other layers call (authorize, is_allowed, explain, filters, audit)."""

from __future__ import annotations

import copy
import logging
import pickle
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from oracle.policy_cases import _RULES, GROUPS_TO_ROLES
from pymcp import _core
from pymcp.security.authz import AuthorizationError, AuthzRequest, build_authz_request
from pymcp.security.principal import Principal
from pymcp.security.rules import Decision, RuleBasedAuthorizer, load_json_config
from security.seed import SEED_POLICY as SEED

ALICE = Principal("alice", roles={"ops"}, scopes={"tools:*", "tasks:*"})
BOB = Principal("bob")


def call(method: str, **params: Any) -> AuthzRequest:
    return build_authz_request(rpc_method=method, params=params)


def test_seed_policy() -> None:
    authz = RuleBasedAuthorizer(SEED)
    assert (authz.default_effect, authz.hide_unauthorized_tools, authz.hide_unauthorized_capabilities) == (
        "deny",
        True,
        True,
    )
    authz.authorize(ALICE, call("tools/list"))
    authz.authorize(ALICE, call("tools/call", name="deploy_prod"))
    with pytest.raises(AuthorizationError) as denied:
        authz.authorize(ALICE, call("tools/call", name="rm_rf"))
    assert (denied.value.message, denied.value.required_scopes) == ("Forbidden", ())
    with pytest.raises(AuthorizationError):
        authz.authorize(BOB, call("tools/list"))
    with pytest.raises(AuthorizationError):
        authz.authorize(None, call("ping"))
    assert authz.is_allowed(ALICE, "tools/call", "deploy_x")
    assert not authz.is_allowed(ALICE, "tools/call")
    assert not authz.is_allowed(None, "ping")


def test_non_rpc_requests_are_allowed() -> None:
    authz = RuleBasedAuthorizer({"rules": []})
    authz.authorize(None, AuthzRequest(http_method="GET", path="/mcp"))
    decision = authz.explain(None, AuthzRequest(http_method="GET", path="/mcp"))
    assert decision == Decision(True, "allow", None, None, False, (), None)


def test_deny_rule_for_bob_keeps_the_scope_hint_for_others() -> None:
    """0.3.0 bug #28: a deny rule aimed at bob removed the scope challenge and message for everyone."""
    authz = RuleBasedAuthorizer(
        {
            "rules": [
                {"id": "no-bob", "methods": "tools/call", "effect": "deny", "allow_subjects": ["bob"]},
                {"methods": "tools/call", "allow_scopes": ["tools:call"], "message": "needs tools:call"},
            ]
        }
    )
    dave = Principal("dave", scopes={"files:read"})
    with pytest.raises(AuthorizationError) as denied:
        authz.authorize(dave, call("tools/call", name="x"))
    assert (denied.value.message, denied.value.required_scopes) == ("needs tools:call", ("tools:call",))
    assert authz.required_scopes_for(dave, call("tools/call", name="x")) == ("tools:call",)
    decision = authz.explain(BOB, call("tools/call", name="x"))
    assert (decision.rule_index, decision.rule_id, decision.missing_scopes) == (0, "no-bob", ())
    assert (
        authz.required_scopes_for(Principal("erin", scopes={"tools:call"}), call("tools/call", name="x"))
        == ()
    )


def test_a_denial_behaves_as_a_plain_authorization_error() -> None:
    """The policy's denial works out its message and scope hint lazily; callers cannot tell."""
    authz = RuleBasedAuthorizer(
        {"rules": [{"methods": "tools/call", "allow_scopes": ["tools:call"], "message": "needs tools:call"}]}
    )
    with pytest.raises(AuthorizationError) as denied:
        authz.authorize(BOB, call("tools/call", name="x"))
    error = denied.value
    assert (str(error), error.args, repr(error)) == (
        "needs tools:call",
        ("needs tools:call",),
        "AuthorizationError('needs tools:call')",
    )
    assert (error.message, error.required_scopes) == ("needs tools:call", ("tools:call",))
    copied = pickle.loads(pickle.dumps(error))
    assert type(copied) is AuthorizationError
    assert (copied.message, copied.required_scopes) == ("needs tools:call", ("tools:call",))
    with pytest.raises(AttributeError):
        _ = error.no_such_attribute  # type: ignore[attr-defined]


def test_deny_message_wins() -> None:
    authz = RuleBasedAuthorizer(
        {
            "rules": [
                {"methods": "*", "tool": "drop_*", "effect": "deny", "message": "never drop"},
                {"methods": "*"},
            ]
        }
    )
    with pytest.raises(AuthorizationError, match="never drop"):
        authz.authorize(ALICE, call("tools/call", name="drop_db"))
    authz.authorize(ALICE, call("tools/call", name="select"))


def test_prompts_resources_and_every_subscribed_uri() -> None:
    authz = RuleBasedAuthorizer(
        {
            "rules": [
                {"methods": "prompts/get", "prompt": "public_*"},
                {"methods": "resources/*", "resource": "file:///pub/*"},
                {"methods": ["prompts/list", "resources/list"]},
            ]
        }
    )
    authz.authorize(None, call("prompts/get", name="public_hello"))
    with pytest.raises(AuthorizationError):
        authz.authorize(None, call("prompts/get", name="secret"))
    authz.authorize(None, call("resources/read", uri="file:///pub/a"))
    authz.authorize(None, call("resources/subscribe", uri="file:///pub/a"))
    with pytest.raises(AuthorizationError):
        authz.authorize(None, call("resources/subscribe", uris=["file:///pub/a", "file:///etc/passwd"]))
    with pytest.raises(AuthorizationError):
        authz.authorize(None, call("resources/read"))


def test_claims_and_groups() -> None:
    authz = RuleBasedAuthorizer(
        {
            "groupsClaim": "grp",
            "groupsToRoles": {"eng-*": "dev"},
            "rules": [
                {"methods": "ping", "allow_claims": {"tenant": ["acme", "42"]}},
                {"methods": "tools/list", "allow_roles": "dev"},
            ],
        }
    )
    assert authz.is_allowed(Principal("a", claims={"tenant": "acme"}), "ping")
    assert authz.is_allowed(Principal("b", claims={"tenant": [1, 42]}), "ping")
    assert not authz.is_allowed(
        Principal("c", claims={"tenant": {"acme"}}), "ping"
    )  # not JSON: matches nothing
    assert not authz.is_allowed(Principal("d", claims={"tenant": 2**70}), "ping")
    assert authz.is_allowed(Principal("e", claims={"grp": ["eng-core"], "tenant": 2**70}), "tools/list")
    assert not authz.is_allowed(Principal("f", claims={"groups": ["eng-core"]}), "tools/list")


def test_capabilities_hide_only_what_cannot_be_used() -> None:
    authz = RuleBasedAuthorizer(SEED)
    capabilities = {
        "tools": {},
        "prompts": {},
        "resources": {},
        "logging": {},
        "tasks": {},
        "experimental": {},
    }
    # `tool: deploy_*` allows tools/call for some tool: `tools` stays (0.3.0 dropped it for ops-only users).
    ops = Principal("olga", roles={"ops"})
    assert authz.filter_capabilities(ops, capabilities) == {"tools": {}, "experimental": {}}
    assert authz.filter_capabilities(BOB, capabilities) == {"experimental": {}}
    assert "tasks" in authz.filter_capabilities(ALICE, capabilities)
    shown = RuleBasedAuthorizer({"rules": []}).filter_capabilities(None, capabilities)
    assert shown == capabilities
    assert shown is not capabilities


def test_capability_hidden_when_only_allow_rule_is_shadowed() -> None:
    authz = RuleBasedAuthorizer(
        {
            "hide_unauthorized_capabilities": True,
            "rules": [
                {"methods": "tools/call", "tool": "*", "effect": "deny"},
                {"methods": "tools/call", "tool": "x"},
                {"methods": "prompts/get", "prompt": "[z-a]"},
            ],
        }
    )
    assert authz.filter_capabilities(None, {"tools": {}, "prompts": {}}) == {}


@dataclass
class Item:
    name: str | None = None
    uri: str | None = None
    uri_template: str | None = None


def test_lists_show_exactly_what_calls_allow() -> None:
    authz = RuleBasedAuthorizer(SEED)
    tools = [{"name": "deploy_a"}, {"name": "rm"}, {"title": "nameless"}, Item(name="deploy_b"), Item()]
    assert authz.filter_tools(ALICE, tools) == [{"name": "deploy_a"}, Item(name="deploy_b")]
    assert authz.filter_tools(BOB, tools) == []
    open_policy = RuleBasedAuthorizer({"default_effect": "deny", "rules": []})
    assert open_policy.filter_tools(None, tuple(tools)) == tools


def test_prompt_and_resource_lists_follow_either_switch() -> None:
    rules = [
        {"methods": "prompts/get", "prompt": "p*"},
        {"methods": "resources/read", "resource": "file:///pub/*"},
    ]
    prompts = [{"name": "pa"}, {"name": "qa"}]
    resources = [{"uri": "file:///pub/a"}, Item(uri="file:///etc/x")]
    templates = [{"uriTemplate": "file:///pub/{name}"}, Item(uri_template="db://{table}")]
    for switch in ("hide_unauthorized_tools", "hide_unauthorized_capabilities"):
        authz = RuleBasedAuthorizer({switch: True, "rules": rules})
        assert authz.filter_prompts(None, prompts) == [{"name": "pa"}]
        assert authz.filter_resources(None, resources) == [{"uri": "file:///pub/a"}]
        assert authz.filter_resource_templates(None, templates) == [{"uriTemplate": "file:///pub/{name}"}]
    unfiltered = RuleBasedAuthorizer({"rules": rules})
    assert unfiltered.filter_prompts(None, prompts) == prompts
    assert unfiltered.filter_resources(None, resources) == resources


def test_audit_logs_one_structured_event_per_decision(caplog: pytest.LogCaptureFixture) -> None:
    authz = RuleBasedAuthorizer(SEED, audit=True)
    caplog.set_level(logging.INFO, logger="pymcp.audit")
    authz.authorize(ALICE, call("tools/call", name="deploy_x", arguments={"password": "hunter2"}))
    with pytest.raises(AuthorizationError):
        authz.authorize(BOB, call("tools/list"))
    assert not authz.is_allowed(None, "ping")
    events = [record.audit for record in caplog.records if record.name == "pymcp.audit"]
    assert events == [
        {
            "event": "authz",
            "decision": "allow",
            "subject": "alice",
            "method": "tools/call",
            "tool": "deploy_x",
            "rule_index": 1,
            "rule_id": None,
            "default": False,
        },
        {
            "event": "authz",
            "decision": "deny",
            "subject": "bob",
            "method": "tools/list",
            "rule_index": None,
            "rule_id": None,
            "default": True,
        },
        {
            "event": "authz",
            "decision": "deny",
            "subject": None,
            "method": "ping",
            "rule_index": None,
            "rule_id": None,
            "default": True,
        },
    ]
    assert "hunter2" not in caplog.text


def test_dry_run_logs_denials_and_allows(caplog: pytest.LogCaptureFixture) -> None:
    authz = RuleBasedAuthorizer(SEED, dry_run=True)
    caplog.set_level(logging.INFO, logger="pymcp.audit")
    authz.authorize(BOB, call("tools/call", name="rm"))
    assert authz.is_allowed(BOB, "tools/list")
    authz.authorize(ALICE, call("ping"))
    assert authz.filter_tools(BOB, [{"name": "rm"}]) == [{"name": "rm"}]
    events = [record.audit for record in caplog.records if record.name == "pymcp.audit"]
    assert [(e["decision"], e["method"], e["dry_run"]) for e in events] == [
        ("deny", "tools/call", True),
        ("deny", "tools/list", True),
    ]


def test_bindings_are_cached_and_do_not_travel() -> None:
    authz = RuleBasedAuthorizer(SEED)
    principal = Principal("alice", roles={"ops"})
    assert authz.is_allowed(principal, "ping")
    cache = principal.__dict__["_pymcp_policy_bindings"]
    assert list(cache) == [authz.policy]
    for clone in (pickle.loads(pickle.dumps(principal)), copy.deepcopy(principal), copy.copy(principal)):
        assert clone == principal
        assert authz.is_allowed(clone, "tools/call", "deploy_x")
    assert pickle.loads(pickle.dumps(principal)).__dict__["_pymcp_policy_bindings"] == {}
    other = RuleBasedAuthorizer({"rules": [{"methods": "ping", "allow_subjects": "nobody"}]})
    assert not other.is_allowed(principal, "ping")
    assert authz.is_allowed(principal, "ping")


def test_load_json_config(tmp_path: Path) -> None:
    path = tmp_path / "authz.json"
    path.write_text('{"rules": [{"methods": "ping", "allow_anonymous": true}]}', encoding="utf-8")
    assert RuleBasedAuthorizer(load_json_config(path)).is_allowed(None, "ping")
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(ValueError, match=r"policy file `.*authz\.json` must hold a JSON object"):
        load_json_config(path)
    path.write_bytes(b'{"rules": ')
    with pytest.raises(ValueError, match=r"policy file `.*authz\.json` is not valid UTF-8 JSON"):
        load_json_config(str(path))
    path.write_bytes(b'{"x": "\xff"}')
    with pytest.raises(ValueError, match="not valid UTF-8 JSON"):
        load_json_config(path)


# --- the JSON Schema shipped for policy files -------------------------------------------------------------

# Loaded as package data: the file ships in the wheel next to rules.py.
SCHEMA = orjson.loads(resources.files("pymcp.security").joinpath("policy.schema.json").read_bytes())


def test_schema_is_valid_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "config",
    [
        SEED,
        {"$schema": "./policy.schema.json", "description": "demo", "defaultEffect": "Allow", "rules": []},
        {"groups_to_roles": GROUPS_TO_ROLES, "rules": _RULES},
        {
            "rules": [
                {
                    "id": "r",
                    "rpc_method": "tools/call",
                    "tool": "x",
                    "allowClaims": {"t": ["a"]},
                    "comment": "c",
                }
            ]
        },
    ],
)
def test_valid_policies_match_the_schema(config: dict[str, Any]) -> None:
    jsonschema.validate(config, SCHEMA, cls=jsonschema.Draft202012Validator)
    RuleBasedAuthorizer(config)


@pytest.mark.parametrize(
    "config",
    [
        {"rules": [{"methods": "a", "allow_role": ["ops"]}]},
        {"rules": [{"methods": "a", "effect": "permit"}]},
        {"rules": {"methods": "a"}},
        {"rules": [{"methods": ["ping", 3]}]},
        {"rules": [{"methods": []}]},
        {"rules": [{"effect": "deny"}]},
        {"rules": [{"methods": "x", "tool": "a", "prompt": "b"}]},
        {"rules": [{"methods": "x", "allow_roles": [], "allowRoles": ["ops"]}]},
        {"default_effect": "deny", "defaultEffect": "deny"},
        {"hide_unauthorized_tools": 1},
        {"groups_to_roles": {"eng-*": ""}},
        {"unknown": 1},
    ],
)
def test_invalid_policies_fail_the_schema_and_the_loader(config: dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(config, SCHEMA, cls=jsonschema.Draft202012Validator)
    with pytest.raises(_core.PolicyError):
        RuleBasedAuthorizer(config)


def test_shipped_demo_policy_matches_the_schema() -> None:
    demo = orjson.loads(resources.files("pymcp.demo").joinpath("policy.json").read_bytes())
    jsonschema.validate(demo, SCHEMA, cls=jsonschema.Draft202012Validator)
    RuleBasedAuthorizer(demo)


def test_names_with_lone_surrogates_are_decided_not_raised() -> None:
    authz = RuleBasedAuthorizer(
        {"hide_unauthorized_tools": True, "rules": [{"methods": "tools/call", "tool": "a?b"}]}
    )
    assert authz.is_allowed(None, "tools/call", "a\ud800b")
    assert not authz.is_allowed(None, "tools/call", "\ud800")
    assert authz.filter_tools(None, [{"name": "a\udc00b"}, {"name": "\ud800"}]) == [{"name": "a\udc00b"}]


def test_capability_kept_when_a_deny_rule_catches_only_some_names() -> None:
    authz = RuleBasedAuthorizer(
        {
            "hide_unauthorized_capabilities": True,
            "rules": [
                {"methods": "tools/call", "tool": "deploy_", "effect": "deny"},
                {"methods": "tools/call", "tool": "deploy_*"},
            ],
        }
    )
    assert authz.filter_capabilities(None, {"tools": {}}) == {"tools": {}}
