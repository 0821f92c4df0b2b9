"""The reference policy evaluator: the semantics of `rust/core/src/policy.rs`, in Python, written to be read.

It takes an already valid config (strict loading is `RuleBasedAuthorizer`'s job) and a `Principal` (or None
for an anonymous caller), and answers like `RuleBasedAuthorizer`: the deciding rule, missing scopes and
message. The tests check the Rust engine against it (tests/oracle), and `pymcp bench authz --compare` times
it beside the engine on the user's own policy. Globs are Python's `fnmatch.fnmatchcase`, which the Rust glob
must equal exactly.
"""

from __future__ import annotations

import fnmatch
import functools
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from pymcp.security.principal import Principal

__all__ = ["Outcome", "ReferencePolicy", "fnmatchcase", "target_kind"]


@functools.lru_cache(maxsize=4096)
def _glob_matcher(pattern: str) -> Any:
    # `re` warns about "possible nested sets" in some patterns (`[[]`): harmless, and said once per pattern
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(fnmatch.translate(pattern)).match


def fnmatchcase(name: str, pattern: str) -> bool:
    """`fnmatch.fnmatchcase` (the same translation and match), without its FutureWarnings."""
    return _glob_matcher(pattern)(name) is not None


_ALIASES = {
    "defaultEffect": "default_effect",
    "hideUnauthorizedCapabilities": "hide_unauthorized_capabilities",
    "hideUnauthorizedTools": "hide_unauthorized_tools",
    "groupsClaim": "groups_claim",
    "groupsToRoles": "groups_to_roles",
    "allowAnonymous": "allow_anonymous",
    "allowSubjects": "allow_subjects",
    "allowRoles": "allow_roles",
    "allowScopes": "allow_scopes",
    "allowClaims": "allow_claims",
    "rpc_method": "methods",
}


def _canonical(mapping: Mapping[str, Any]) -> dict[str, Any]:
    return {_ALIASES.get(key, key): value for key, value in mapping.items()}


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def target_kind(method: str) -> str | None:
    """Which rule key a method's target is matched by."""
    if method == "tools/call":
        return "tool"
    if method == "prompts/get":
        return "prompt"
    if method in ("resources/read", "resources/subscribe", "resources/unsubscribe"):
        return "resource"
    return None


def _claim_texts(value: Any) -> list[str]:
    """A claim's comparable texts: strings as they are, numbers and booleans as their JSON text."""
    values = value if isinstance(value, list | tuple) else [value]
    texts = []
    for item in values:
        if isinstance(item, str):
            texts.append(item)
        elif isinstance(item, bool | int | float):
            texts.append(orjson.dumps(item).decode())
    return texts


def _groups(value: Any) -> list[str]:
    values = value if isinstance(value, list | tuple) else [value]
    groups = []
    for item in values:
        if isinstance(item, str) and item:
            groups.append(item)
        elif isinstance(item, int) and not isinstance(item, bool):
            groups.append(str(item))
    return groups


@dataclass(frozen=True)
class Outcome:
    allowed: bool
    rule_index: int | None
    missing_scopes: tuple[str, ...] = ()
    message: str | None = None


class ReferencePolicy:
    """A policy config evaluated rule by rule in Python (slow and obvious, on purpose)."""

    def __init__(self, config: Mapping[str, Any]) -> None:
        top = _canonical(config)
        self.default_allow = str(top.get("default_effect", "deny")).lower() == "allow"
        self.groups_claim = top.get("groups_claim", "groups")
        self.groups_to_roles: dict[str, str] = dict(top.get("groups_to_roles", {}))
        self.rules = [_canonical(rule) for rule in top.get("rules", [])]

    # --- the principal's side ---

    def _roles(self, principal: Principal) -> set[str]:
        roles = set(principal.roles)
        groups = _groups(principal.claims.get(self.groups_claim)) if self.groups_to_roles else []
        for group in groups:
            for pattern, role in self.groups_to_roles.items():
                if fnmatchcase(group, pattern):
                    roles.add(role)
        return roles

    def _applies(self, rule: dict[str, Any], principal: Principal | None) -> bool:
        subjects = _as_list(rule.get("allow_subjects"))
        roles = _as_list(rule.get("allow_roles"))
        scopes = _as_list(rule.get("allow_scopes"))
        claims = {name: _as_list(values) for name, values in rule.get("allow_claims", {}).items()}
        has_conditions = bool(subjects or roles or scopes or claims)
        if principal is None:
            return bool(rule.get("allow_anonymous", False)) or not has_conditions
        if not has_conditions:
            return True
        if principal.subject in subjects:
            return True
        if set(roles) & self._roles(principal):
            return True
        if any(fnmatchcase(granted, pattern) for pattern in scopes for granted in principal.scopes):
            return True
        for name, accepted in claims.items():
            if name in principal.claims and set(_claim_texts(principal.claims[name])) & set(accepted):
                return True
        return False

    # --- the request's side ---

    def _matches_request(self, rule: dict[str, Any], method: str, target: str | None) -> bool:
        if not any(fnmatchcase(method, pattern) for pattern in _as_list(rule["methods"])):
            return False
        for kind in ("tool", "prompt", "resource"):
            if kind in rule:
                return target_kind(method) == kind and target is not None and fnmatchcase(target, rule[kind])
        return True

    @property
    def default_effect(self) -> str:
        return "allow" if self.default_allow else "deny"

    def applies(self, index: int, principal: Principal | None) -> bool:
        """Whether rule `index` applies to `principal` (its conditions hold), whatever the request."""
        return self._applies(self.rules[index], principal)

    def _effect_allows(self, index: int | None) -> bool:
        if index is None:
            return self.default_allow
        return str(self.rules[index].get("effect", "allow")).lower() == "allow"

    def decide(self, principal: Principal | None, method: str, target: str | None = None) -> Outcome:
        for index, rule in enumerate(self.rules):
            if self._matches_request(rule, method, target) and self._applies(rule, principal):
                return Outcome(self._effect_allows(index), index)
        return Outcome(self.default_allow, None)

    def explain(self, principal: Principal | None, method: str, target: str | None = None) -> Outcome:
        """`decide`, plus on denial: scopes of earlier allow rules the principal lacks, and the message."""
        outcome = self.decide(principal, method, target)
        if outcome.allowed:
            return outcome
        end = len(self.rules) if outcome.rule_index is None else outcome.rule_index
        granted = principal.scopes if principal is not None else set()
        missing: list[str] = []
        scope_message = None
        for rule in self.rules[:end]:
            scopes = _as_list(rule.get("allow_scopes"))
            allow = str(rule.get("effect", "allow")).lower() == "allow"
            if not allow or not scopes or not self._matches_request(rule, method, target):
                continue
            lacking = [s for s in scopes if not any(fnmatchcase(g, s) for g in granted)]
            missing.extend(s for s in lacking if s not in missing)
            if len(lacking) == len(scopes) and scope_message is None and rule.get("message"):
                scope_message = rule["message"]
        rule_message = None
        if outcome.rule_index is not None:
            rule_message = self.rules[outcome.rule_index].get("message") or None
        return Outcome(False, outcome.rule_index, tuple(missing), rule_message or scope_message)

    def filter(self, principal: Principal | None, method: str, names: Sequence[str]) -> list[int]:
        return [index for index, name in enumerate(names) if self.decide(principal, method, name).allowed]
