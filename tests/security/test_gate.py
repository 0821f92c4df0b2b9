"""SecurityGate: denials become the right MCPError; lists are filtered, never emptied by accident."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from pymcp.errors import ErrorCode, MCPError
from pymcp.security import (
    AllowAllAuthorizer,
    AuthorizationError,
    AuthzRequest,
    DenyAllAuthorizer,
    MethodAllowListAuthorizer,
    OAuthProtectedResourceConfig,
    Principal,
    RuleBasedAuthorizer,
    SecurityGate,
    TokenMapAuthenticator,
)
from pymcp.security.challenge import bearer_challenge

from .seed import SEED_POLICY

ALICE = Principal(subject="alice", scopes={"tools:read"})
METADATA = "https://mcp.test/.well-known/oauth-protected-resource/mcp"
OAUTH = OAuthProtectedResourceConfig(
    authorization_servers=["https://auth.test"], resource="https://mcp.test/mcp"
)


class ScopeAuthorizer:
    """A custom authorizer: `tools/call` needs the `tools:call` scope, everything else is allowed."""

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        if request.rpc_method == "tools/call" and (principal is None or "tools:call" not in principal.scopes):
            raise AuthorizationError(
                "calling tools needs `tools:call`", required_scopes=["tools:call", "x:y"]
            )


class HintingAuthorizer:
    """Denies `tools/call` without naming scopes in the error; `required_scopes_for` names them."""

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        if request.rpc_method == "tools/call":
            raise AuthorizationError()

    def required_scopes_for(self, principal: Principal | None, request: AuthzRequest) -> tuple[str, ...]:
        return ("tools:call",)


FAST_POLICY = {
    "rules": [
        {"methods": ["ping"]},
        {"methods": ["tools/call"], "tool": "echo"},
        {"methods": ["tools/call"], "tool": "rm", "effect": "deny", "message": "not for you"},
    ]
}


class CountingRules(RuleBasedAuthorizer):
    """The real rule engine, counting how the gate asks it."""

    def __init__(self, config: Mapping[str, Any], *, agree: bool = True) -> None:
        super().__init__(config)
        self.fast_calls: list[tuple[str, str | None]] = []
        self.slow_calls = 0
        self.agree = agree

    def is_allowed(self, principal: Principal | None, method: str, target: str | None = None) -> bool:
        self.fast_calls.append((method, target))
        return super().is_allowed(principal, method, target)

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        self.slow_calls += 1
        if self.agree:
            super().authorize(principal, request)


def gate(authz: Any = None, **options: Any) -> SecurityGate:
    settings: dict[str, Any] = {
        "authn": None,
        "authz": authz,
        "require_authn": False,
        "auth_exempt_paths": None,
        "oauth": None,
        **options,
    }
    built = SecurityGate.from_config(**settings)
    assert built is not None
    return built


def denial(
    gate: SecurityGate, principal: Principal | None, method: str, params: Mapping[str, Any] | None
) -> MCPError:
    with pytest.raises(MCPError) as info:
        gate.authorize(principal, method, params)
    return info.value


def test_no_security_configured_gives_no_gate() -> None:
    assert (
        SecurityGate.from_config(
            authn=None, authz=None, require_authn=False, auth_exempt_paths=None, oauth=None
        )
        is None
    )


@pytest.mark.parametrize(
    "options",
    [
        {"authn": TokenMapAuthenticator({"t": {"subject": "a"}})},
        {"require_authn": True},
        {"oauth": OAUTH},
        {"authz": AllowAllAuthorizer()},
    ],
)
def test_any_security_option_gives_a_gate(options: dict[str, Any]) -> None:
    assert gate(**options) is not None


def test_bad_config_types() -> None:
    with pytest.raises(TypeError, match="`auth_exempt_paths` must be a list"):
        gate(AllowAllAuthorizer(), auth_exempt_paths="/health")
    with pytest.raises(TypeError, match="`auth_exempt_paths` must be a list"):
        gate(AllowAllAuthorizer(), auth_exempt_paths=[None])


@pytest.mark.parametrize(
    ("paths", "message"),
    [
        (["/mcp"], "`/mcp` cannot be exempt from authentication"),
        (["/", "/mcp/"], "`/mcp/` cannot be exempt"),
        (["health"], "exempt path `health` must start with `/`"),
    ],
)
def test_the_mcp_endpoint_cannot_be_exempt(paths: list[str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        gate(AllowAllAuthorizer(), auth_exempt_paths=paths)
    with pytest.raises(TypeError, match="`oauth` must be an `OAuthProtectedResourceConfig`"):
        gate(AllowAllAuthorizer(), oauth={"authorization_servers": ["https://a"]})


def test_without_authorizer_everything_is_allowed() -> None:
    gate(require_authn=True).authorize(None, "tools/call", {"name": "anything"})


def test_denied_principal_gets_403_without_challenge() -> None:
    error = denial(gate(MethodAllowListAuthorizer(["ping"])), ALICE, "tools/list", None)
    assert (error.code, error.http_status, error.message) == (
        ErrorCode.FORBIDDEN,
        403,
        "method not allowed: tools/list",
    )
    assert error.headers == {}


def test_denied_anonymous_caller_gets_401_with_challenge() -> None:
    error = denial(gate(MethodAllowListAuthorizer(["ping"])), None, "tools/list", None)
    assert (error.code, error.http_status) == (ErrorCode.UNAUTHORIZED, 401)
    assert error.headers == {"WWW-Authenticate": "Bearer"}


def test_missing_scopes_give_insufficient_scope_challenge() -> None:
    error = denial(gate(ScopeAuthorizer(), oauth=OAUTH), ALICE, "tools/call", {"name": "deploy"})
    assert (error.code, error.http_status) == (ErrorCode.FORBIDDEN, 403)
    assert error.headers["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{METADATA}", error="insufficient_scope", '
        'scope="tools:call x:y", error_description="calling tools needs `tools:call`"'
    )


def test_anonymous_with_missing_scopes_gets_401_naming_them() -> None:
    error = denial(gate(ScopeAuthorizer(), oauth=OAUTH), None, "tools/call", {"name": "deploy"})
    assert error.http_status == 401
    assert error.headers["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{METADATA}", scope="tools:call x:y"'
    )


def test_required_scopes_for_is_asked_when_the_error_names_none() -> None:
    error = denial(gate(HintingAuthorizer()), ALICE, "tools/call", {"name": "x"})
    assert 'scope="tools:call"' in error.headers["WWW-Authenticate"]
    assert error.message == "Forbidden"


def test_declared_principal_without_http() -> None:
    """stdio: a declared principal, no request, no middleware."""
    scoped = Principal(subject="ci", scopes={"tools:call"})
    gate(ScopeAuthorizer()).authorize(scoped, "tools/call", {"name": "deploy"})


def test_fast_path_allows_with_one_call() -> None:
    authz = CountingRules(FAST_POLICY)
    checked = gate(authz)
    checked.authorize(ALICE, "ping", None)
    checked.authorize(ALICE, "tools/call", {"name": "echo", "arguments": {}})
    assert authz.fast_calls == [("ping", None), ("tools/call", "echo")]
    assert authz.slow_calls == 0


def test_fast_path_denial_builds_the_explanation() -> None:
    authz = CountingRules(FAST_POLICY)
    error = denial(gate(authz), ALICE, "tools/call", {"name": "rm"})
    assert error.message == "not for you"
    assert authz.slow_calls == 1


def test_fast_path_denial_stands_when_authorize_disagrees() -> None:
    error = denial(gate(CountingRules(FAST_POLICY, agree=False)), ALICE, "tools/call", {"name": "rm"})
    assert error.code == ErrorCode.FORBIDDEN


def test_subscriptions_take_the_full_path() -> None:
    authz = CountingRules(FAST_POLICY)
    denial(gate(authz), ALICE, "resources/subscribe", {"uris": ["a://1", "a://2"]})
    assert authz.fast_calls == []
    assert authz.slow_calls == 1


TOOLS = [{"name": "echo"}, {"name": "deploy"}, {"description": "nameless"}]


def test_authorizer_without_filters_filters_per_item() -> None:
    """pymcp-kit 0.3.0 answered `[]` here (its bug #26)."""
    kept = gate(ScopeAuthorizer()).filter_list(
        Principal(subject="a", scopes={"tools:call"}), "tools/list", TOOLS
    )
    assert kept == [{"name": "echo"}, {"name": "deploy"}]
    assert gate(ScopeAuthorizer()).filter_list(ALICE, "tools/list", TOOLS) == []
    assert (
        gate(MethodAllowListAuthorizer(["tools/call"])).filter_list(ALICE, "tools/list", TOOLS) == TOOLS[:2]
    )


def test_per_item_filter_for_prompts_and_resources() -> None:
    prompts = [{"name": "p"}]
    resources = [{"uri": "file:///a"}, {"name": "no uri"}]
    templates = [{"uriTemplate": "file:///{path}"}]
    allow = gate(AllowAllAuthorizer())
    assert allow.filter_list(ALICE, "prompts/list", prompts) == prompts
    assert allow.filter_list(ALICE, "resources/list", resources) == resources[:1]
    assert allow.filter_list(ALICE, "resources/templates/list", templates) == templates


def test_authorizer_filters_are_used_when_present() -> None:
    deny = gate(DenyAllAuthorizer())
    for method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list"):
        assert deny.filter_list(ALICE, method, [{"name": "x", "uri": "u", "uriTemplate": "t"}]) == []
    assert deny.filter_capabilities(ALICE, {"tools": {}}) == {}


def test_capabilities_pass_without_a_filter() -> None:
    caps = {"tools": {"listChanged": False}, "tasks": {}}
    assert gate(ScopeAuthorizer()).filter_capabilities(ALICE, caps) == caps
    assert gate(require_authn=True).filter_list(None, "tools/list", TOOLS) == TOOLS


def test_unknown_list_method() -> None:
    with pytest.raises(ValueError, match="`tools/call` is not a list method"):
        gate(AllowAllAuthorizer()).filter_list(ALICE, "tools/call", [])


def test_challenge_values_cannot_break_the_header() -> None:
    header = bearer_challenge(
        error="invalid_token", error_description='bad "quote" \\ and\r\nSet-Cookie: x=1'
    )
    assert "\r" not in header
    assert "\n" not in header
    assert (
        header == 'Bearer error="invalid_token", error_description="bad \\"quote\\" \\\\ andSet-Cookie: x=1"'
    )


SEED_ALICE = Principal(subject="alice", roles={"ops"}, scopes={"tools:*", "tasks:*"})
SEED_BOB = Principal(subject="bob", roles={"dev"})


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("initialize", {"protocolVersion": "2025-11-25"}),
        ("ping", None),
        ("tools/list", {}),
        ("tasks/list", {}),
        ("tasks/get", {"taskId": "t"}),
        ("tasks/result", {"taskId": "t"}),
        ("tools/call", {"name": "deploy_prod", "arguments": {}}),
    ],
)
def test_seed_policy_allows_alice(method: str, params: dict[str, Any] | None) -> None:
    gate(RuleBasedAuthorizer(SEED_POLICY)).authorize(SEED_ALICE, method, params)


@pytest.mark.parametrize(
    ("principal", "method", "params", "status"),
    [
        (SEED_ALICE, "tools/call", {"name": "read_file"}, 403),
        (SEED_ALICE, "tools/call", {}, 403),
        (SEED_ALICE, "tasks/cancel", {"taskId": "t"}, 403),
        (SEED_ALICE, "prompts/list", {}, 403),
        (SEED_BOB, "initialize", {}, 403),
        (SEED_BOB, "tools/call", {"name": "deploy_prod"}, 403),
        (None, "initialize", {}, 401),
        (None, "tools/call", {"name": "deploy_prod"}, 401),
    ],
)
def test_seed_policy_refuses_the_rest(
    principal: Principal | None, method: str, params: dict[str, Any], status: int
) -> None:
    error = denial(gate(RuleBasedAuthorizer(SEED_POLICY)), principal, method, params)
    assert error.http_status == status
    assert error.code == (ErrorCode.FORBIDDEN if status == 403 else ErrorCode.UNAUTHORIZED)


def test_seed_policy_filters_tools_and_capabilities() -> None:
    seed = gate(RuleBasedAuthorizer(SEED_POLICY))
    tools = [{"name": "deploy_prod"}, {"name": "read_file"}, {"name": "deploy_staging"}]
    assert seed.filter_list(SEED_ALICE, "tools/list", tools) == [tools[0], tools[2]]
    assert seed.filter_list(SEED_BOB, "tools/list", tools) == []
    caps = {"tools": {"listChanged": False}, "prompts": {}, "tasks": {"list": {}}}
    assert set(seed.filter_capabilities(SEED_ALICE, caps)) == {"tools", "tasks"}


def test_rule_message_and_missing_scopes_reach_the_challenge() -> None:
    policy = {
        "rules": [
            {
                "methods": ["tools/call"],
                "tool": "deploy_*",
                "allow_scopes": ["deploy:write"],
                "message": "need deploy",
            }
        ]
    }
    error = denial(gate(RuleBasedAuthorizer(policy)), SEED_BOB, "tools/call", {"name": "deploy_prod"})
    assert error.message == "need deploy"
    assert error.headers["WWW-Authenticate"] == (
        'Bearer error="insufficient_scope", scope="deploy:write", error_description="need deploy"'
    )
