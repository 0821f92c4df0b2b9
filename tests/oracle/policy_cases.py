"""Random policies, principals and requests for the differential tests and the pymcp-kit 0.3.0 corpus.

Rules and principals are generated once from a fixed seed into pools; hypothesis then combines pool
entries. One draw per rule keeps 10,000 examples fast, and shrinking still works (to fewer, earlier rules).
"""

from __future__ import annotations

import random
from typing import Any

from hypothesis import strategies as st

from pymcp.security.principal import Principal

__all__ = [
    "METHODS",
    "NAMES",
    "params_for",
    "policies",
    "principal_from_json",
    "principals",
    "random_case",
    "requests",
]

METHODS = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "prompts/get",
    "resources/read",
    "resources/subscribe",
    "tasks/cancel",
    "custom/thing",
]
METHOD_GLOBS = ["*", "tools/*", "tools/call", "t?ols/list", "[pt]*", "prompts/get", "resources/*", "ping"]
TARGET_GLOBS = ["deploy_*", "*", "a?", "[ab]*", "*x*", "x", "[!a]*", "*_prod", "file:///pub/*", "[z-a]"]
NAMES = ["deploy_prod", "deploy_x", "a1", "ab", "bx", "x", "", "file:///pub/a", "zeta_prod", "é"]
SUBJECTS = ["alice", "bob", "carol"]
ROLES = ["ops", "dev", "admin"]
RULE_SCOPES = ["tools:*", "files:read", "f?les:*", "admin"]
GRANTED_SCOPES = ["tools:call", "files:read", "fles:x", "admin", "tools:*"]
_CONDITIONS = (("allow_subjects", SUBJECTS), ("allow_roles", ROLES), ("allow_scopes", RULE_SCOPES))
GROUPS_TO_ROLES = {"eng-*": "dev", "ops": "ops", "[0-9]*": "admin"}


def _some(rng: random.Random, values: list[str], most: int = 2) -> list[str]:
    return rng.sample(values, rng.randint(1, most))


def _rule(rng: random.Random, *, extended: bool) -> dict[str, Any]:
    """One valid rule; `extended` adds what 0.3.0 does not know (prompt/resource targets, claims, aliases)."""
    methods: Any = _some(rng, METHOD_GLOBS)
    rule: dict[str, Any] = {"methods": methods[0] if rng.random() < 0.3 else methods}
    if rng.random() < 0.5:
        kind = rng.choice(["tool", "prompt", "resource"]) if extended else "tool"
        rule[kind] = rng.choice(TARGET_GLOBS)
    if rng.random() < 0.6:
        rule["effect"] = rng.choice(["allow", "deny", "DENY", "Allow"] if extended else ["allow", "deny"])
    for key, values in _CONDITIONS:
        if rng.random() < 0.35:
            rule[key] = _some(rng, values)
    if rng.random() < 0.25:
        rule["allow_anonymous"] = rng.random() < 0.5
    if extended and rng.random() < 0.2:
        rule["allow_claims"] = {"tenant": _some(rng, ["acme", "evil", "3", "true"])}
    if extended and rng.random() < 0.3:
        rule["message"] = rng.choice(["no", "need scope", "ops only"])
    return rule


def _principal(rng: random.Random) -> Principal | None:
    if rng.random() < 0.15:
        return None
    claims: dict[str, Any] = {}
    if rng.random() < 0.5:
        claims["groups"] = rng.choice(
            ["eng-core", "ops", "sales", "", 7, 12, ["eng-x", "ops"], [7, "", True, 2.5], ["sales"], []]
        )
    if rng.random() < 0.5:
        claims["tenant"] = rng.choice(["acme", "evil", 3, True, ["x", "acme"], None, {"a": 1}, 2.5])
    return Principal(
        subject=rng.choice(SUBJECTS),
        roles=set(rng.sample(ROLES, rng.randint(0, 2))),
        scopes=set(rng.sample(GRANTED_SCOPES, rng.randint(0, 2))),
        claims=claims,
    )


_rng = random.Random(20_251_126)
_RULES = [_rule(_rng, extended=True) for _ in range(400)]
_TOOL_RULES = [rule for rule in _RULES if "tool" in rule]
_PRINCIPALS = [_principal(_rng) for _ in range(200)]


@st.composite
def policies(draw: st.DrawFn, *, max_rules: int = 8) -> dict[str, Any]:
    """Valid policies; more than 6 rules targeting tools exercises the many-targeted-rules path."""
    # Indexes, not the dicts themselves: hypothesis hashes sampled elements, and dicts make that slow.
    pool = _TOOL_RULES if draw(st.booleans()) else _RULES
    picks = draw(st.lists(st.integers(0, len(pool) - 1), max_size=max_rules))
    config: dict[str, Any] = {"rules": [pool[index] for index in picks]}
    default = draw(st.integers(0, 2))
    if default:
        config["default_effect"] = ["allow", "deny"][default - 1]
    if draw(st.booleans()):
        config["groups_to_roles"] = GROUPS_TO_ROLES
    return config


def principals() -> st.SearchStrategy[Principal | None]:
    return st.integers(0, len(_PRINCIPALS) - 1).map(_PRINCIPALS.__getitem__)


def requests() -> st.SearchStrategy[tuple[str, str | None]]:
    return st.tuples(st.sampled_from(METHODS), st.sampled_from([None, *NAMES]))


def principal_from_json(raw: dict[str, Any] | None) -> Principal | None:
    """A `Principal` from its JSON form (as sent to the 0.3.0 subprocess); `None` stays anonymous."""
    if raw is None:
        return None
    return Principal(raw["subject"], roles=set(raw["roles"]), scopes=set(raw["scopes"]), claims=raw["claims"])


def params_for(method: str, target: str | None) -> dict[str, Any]:
    """JSON-RPC params carrying `target` the way `method` does."""
    if target is None:
        return {}
    if method in ("tools/call", "prompts/get"):
        return {"name": target}
    return {"uri": target}


def random_case(rng: random.Random) -> dict[str, Any]:
    """One policy + principal + request valid for both pymcp-kit 0.3.0 and us (only what 0.3.0 knows)."""
    config: dict[str, Any] = {
        "default_effect": rng.choice(["allow", "deny"]),
        "rules": [_rule(rng, extended=False) for _ in range(rng.randint(0, 6))],
    }
    if rng.random() < 0.4:
        config["groups_to_roles"] = {"eng-*": "dev", "ops": "ops"}
    principal = None
    if rng.random() < 0.8:
        principal = {
            "subject": rng.choice(SUBJECTS),
            "roles": rng.sample(ROLES, rng.randint(0, 2)),
            "scopes": rng.sample(GRANTED_SCOPES, rng.randint(0, 2)),
            "claims": {"groups": rng.sample(["eng-core", "ops", "sales"], rng.randint(0, 2))},
        }
    method = rng.choice(METHODS)
    target = rng.choice(NAMES) if method == "tools/call" and rng.random() < 0.9 else None
    return {"config": config, "principal": principal, "method": method, "tool": target}
