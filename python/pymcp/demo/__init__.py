"""The secure demo server of `pymcp demo`: the security page's second example, runnable.

Two users with random tokens: alice (role `ops`: may deploy, run the report as a task, cancel her tasks)
and bob (scope `services:read`: may only list services). The policy is `policy.json` next to this file.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from pymcp.demo.tools import register_demo_tools
from pymcp.security import TokenMapAuthenticator, hash_token
from pymcp.security.rules import RuleBasedAuthorizer, load_json_config

__all__ = ["DemoServer", "build_demo", "default_policy_path"]


def default_policy_path() -> Path:
    """The policy shipped with the package."""
    return Path(str(files("pymcp.demo").joinpath("policy.json")))


@dataclass(frozen=True)
class DemoServer:
    """The ASGI app and the tokens that open it (user name → token)."""

    app: Any
    tokens: dict[str, str]


def build_demo(*, policy_path: Path | None = None, tokens: dict[str, str] | None = None) -> DemoServer:
    """The demo app; tokens are random unless given. Only their SHA-256 digests are kept in the token map."""
    from pymcp.app import create_app  # imported here so `pymcp policy check` works without the server
    from pymcp.registry.manager import get_registry_manager

    tokens = tokens or {name: secrets.token_urlsafe(24) for name in ("alice", "bob")}
    authn = TokenMapAuthenticator(
        {
            hash_token(tokens["alice"]): {
                "subject": "alice",
                "display_name": "Alice",
                "roles": ["ops"],
                "scopes": ["tools:*", "tasks:*"],
            },
            hash_token(tokens["bob"]): {"subject": "bob", "display_name": "Bob", "scopes": "services:read"},
        }
    )
    authz = RuleBasedAuthorizer(load_json_config(str(policy_path or default_policy_path())))
    app = create_app(authn=authn, authz=authz, require_authn=True, server_name="pymcp-demo")
    register_demo_tools(get_registry_manager(app).tools)
    return DemoServer(app=app, tokens=tokens)
