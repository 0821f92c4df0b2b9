"""The security page's code blocks, verbatim, and the policy of its second example."""

from __future__ import annotations

import ast
from typing import Any

__all__ = ["SEED_JSON", "SEED_POLICY", "SEED_RULES", "SEED_TOKEN_MAP"]

SEED_TOKEN_MAP = """
from pymcp import create_app
from pymcp.security import TokenMapAuthenticator


app = create_app(
    authn=TokenMapAuthenticator(
        {
            "secret-token": {
                "subject": "alice",
                "display_name": "Alice",
                "roles": ["ops"],
                "scopes": ["tools:*", "tasks:*"],
                "claims": {"tenant": "acme"},
            }
        }
    ),
    require_authn=True,
)
"""

SEED_RULES = """
from pymcp import create_app
from pymcp.demo import build_demo
from pymcp.security import (
    JWTAuthenticator,
    OAuthProtectedResourceConfig,
    RuleBasedAuthorizer,
    TokenMapAuthenticator,
)
from support.authservers import IdentityProvider, identity_provider


authn = TokenMapAuthenticator(
    {
        "secret-token": {
            "subject": "alice",
            "roles": ["ops"],
            "scopes": ["tools:*", "tasks:*"],
        }
    }
)

authz = RuleBasedAuthorizer(
    {
        "default_effect": "deny",
        "hide_unauthorized_capabilities": True,
        "hide_unauthorized_tools": True,
        "rules": [
            {
                "methods": ["initialize", "ping", "tools/list", "tasks/list", "tasks/get", "tasks/result"],
                "allow_subjects": ["alice"],
                "effect": "allow",
            },
            {
                "methods": ["tools/call"],
                "tool": "deploy_*",
                "allow_roles": ["ops"],
                "effect": "allow",
            },
        ],
    }
)

app = create_app(
    authn=authn,
    authz=authz,
    require_authn=True,
)
"""

SEED_JSON = """
from pymcp.security import RuleBasedAuthorizer, load_json_config


authz = RuleBasedAuthorizer(load_json_config("authz_policy.json"))
"""


def _policy_of(block: str) -> dict[str, Any]:
    """The literal given to `RuleBasedAuthorizer(...)` in `block` (so the policy is written once)."""
    for node in ast.walk(ast.parse(block)):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "RuleBasedAuthorizer":
            policy = ast.literal_eval(node.args[0])
            assert isinstance(policy, dict)
            return policy
    raise LookupError("no RuleBasedAuthorizer(...) literal in the block")


SEED_POLICY = _policy_of(SEED_RULES)
