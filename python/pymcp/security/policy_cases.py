"""Policy unit tests and lint: what `pymcp policy test` and `pymcp policy check` run, as a Python API.

A cases file (JSON or YAML) holds a list of cases, or an object with a `cases` list. Each case says who
asks, what, and what the policy must answer::

    {"name": "ops may deploy",                 # optional, shown in failures
     "principal": {"subject": "alice", "roles": ["ops"], "scopes": [], "claims": {}},  # omit: anonymous
     "method": "tools/call", "target": "deploy_prod",   # the tool / prompt name or resource uri
     "expect": "allow",                         # or "deny"
     "rule": "ops-deploy"}                      # optional: the deciding rule's id, or its 0-based index

`rule` may also be `null` ("the default effect decides"). Loading is strict: an unknown key or a wrong type
names the case (cases count from 0, like rules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pymcp.security.principal import Principal
from pymcp.security.rules import PolicyTrace, RuleBasedAuthorizer

__all__ = [
    "CaseError",
    "CaseResult",
    "PolicyCase",
    "lint_policy",
    "load_cases",
    "parse_cases",
    "run_cases",
]

_CASE_KEYS = frozenset({"name", "principal", "method", "target", "expect", "rule", "comment"})
_PRINCIPAL_KEYS = frozenset({"subject", "roles", "scopes", "claims"})
# Rule keys that take a list: a plain string there is almost always a mistake (0.3.0 read it letter by
# letter); the loader accepts one for compatibility, `pymcp policy check` refuses it.
_LIST_KEYS = (
    "allow_subjects",
    "allowSubjects",
    "allow_roles",
    "allowRoles",
    "allow_scopes",
    "allowScopes",
)
_UNSET = object()


class CaseError(ValueError):
    """A cases file that cannot be read as cases."""


@dataclass(frozen=True, slots=True)
class PolicyCase:
    """One expectation: `principal` (None: anonymous) asking `method` on `target` gets `expect`."""

    name: str
    principal: Principal | None
    method: str
    target: str | None
    expect: str
    rule: str | int | None = None
    checks_rule: bool = False

    @property
    def who(self) -> str:
        """The principal in a few words."""
        if self.principal is None:
            return "anonymous"
        parts = [f"subject `{self.principal.subject}`"]
        parts += [f"role `{role}`" for role in sorted(self.principal.roles)]
        parts += [f"scope `{scope}`" for scope in sorted(self.principal.scopes)]
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """A case, the trace of its decision, and `failure` (None when the policy answered as expected)."""

    case: PolicyCase
    trace: PolicyTrace
    failure: str | None = field(default=None)

    @property
    def passed(self) -> bool:
        """Whether the policy answered as the case expects."""
        return self.failure is None


def _strings(value: Any, key: str, where: str) -> set[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CaseError(f"`{key}` in {where} must be a list of strings")
    return set(value)


def _principal(value: Any, where: str) -> Principal | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise CaseError(f"`principal` in {where} must be an object (or null for an anonymous caller)")
    unknown = sorted(set(value) - _PRINCIPAL_KEYS)
    if unknown:
        raise CaseError(f"unknown key `{unknown[0]}` in the principal of {where}")
    subject = value.get("subject")
    if not isinstance(subject, str) or not subject:
        raise CaseError(f"the principal of {where} needs a `subject` string")
    claims = value.get("claims", {})
    if not isinstance(claims, Mapping):
        raise CaseError(f"`claims` in {where} must be an object")
    return Principal(
        subject=subject,
        roles=_strings(value.get("roles", []), "roles", where),
        scopes=_strings(value.get("scopes", []), "scopes", where),
        claims=dict(claims),
    )


def _case(index: int, item: Any) -> PolicyCase:
    where = f"case {index}"
    if not isinstance(item, Mapping):
        raise CaseError(f"{where} must be an object")
    unknown = sorted(set(item) - _CASE_KEYS)
    if unknown:
        raise CaseError(f"unknown key `{unknown[0]}` in {where}")
    name = item.get("name", where)
    method = item.get("method")
    if not isinstance(method, str) or not method:
        raise CaseError(f"{where} needs a `method` string")
    target = item.get("target")
    if target is not None and not isinstance(target, str):
        raise CaseError(f"`target` in {where} must be a string")
    expect = item.get("expect")
    if expect not in ("allow", "deny"):
        raise CaseError(f"`expect` in {where} must be `allow` or `deny`")
    rule = item.get("rule", _UNSET)
    if rule is not _UNSET and (isinstance(rule, bool) or not isinstance(rule, str | int | None)):
        raise CaseError(f"`rule` in {where} must be a rule id, a 0-based rule index or null")
    return PolicyCase(
        name=str(name),
        principal=_principal(item.get("principal"), where),
        method=method,
        target=target,
        expect=expect,
        rule=None if rule is _UNSET else rule,  # type: ignore[arg-type]
        checks_rule=rule is not _UNSET,
    )


def parse_cases(data: Any) -> list[PolicyCase]:
    """Cases from parsed JSON/YAML: a list of cases or an object with a `cases` list."""
    if isinstance(data, Mapping):
        unknown = sorted(set(data) - {"cases", "comment", "description"})
        if unknown:
            raise CaseError(f"unknown key `{unknown[0]}` in the cases file (expected `cases`)")
        data = data.get("cases")
    if not isinstance(data, list):
        raise CaseError("the cases file must hold a list of cases (or an object with a `cases` list)")
    return [_case(index, item) for index, item in enumerate(data)]


def load_cases(path: str | Path) -> list[PolicyCase]:
    """Read a cases file: JSON, or YAML when it ends in `.yaml` / `.yml` (needs PyYAML)."""
    path = Path(path)
    text = path.read_bytes()
    if path.suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise CaseError(
                "YAML cases files need PyYAML (`pip install pyyaml`), or write them as JSON"
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise CaseError(f"`{path}` is not valid YAML: {' '.join(str(error).split())}") from None
    else:
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise CaseError(f"`{path}` is not valid JSON: {error}") from None
    return parse_cases(data)


def _rule_name(index: int | None, rule_id: str | None) -> str:
    if index is None:
        return "the default effect"
    return f"rule {index} `{rule_id}`" if rule_id else f"rule {index}"


def _check(case: PolicyCase, trace: PolicyTrace) -> str | None:
    decision = trace.decision
    if decision.effect != case.expect:
        got = _rule_name(decision.rule_index, decision.rule_id)
        return f"expected {case.expect}, got {decision.effect} from {got}"
    if case.checks_rule:
        expected = case.rule
        decided = (
            decision.rule_index is None
            if expected is None
            else decision.rule_index == expected
            if isinstance(expected, int)
            else decision.rule_id == expected
        )
        if not decided:
            wanted = "the default effect" if expected is None else f"rule `{expected}`"
            got = _rule_name(decision.rule_index, decision.rule_id)
            return f"{decision.effect} as expected, but decided by {got}, not {wanted}"
    return None


def run_cases(authorizer: RuleBasedAuthorizer, cases: Sequence[PolicyCase]) -> list[CaseResult]:
    """Decide every case with `authorizer`; each result carries the trace that explains it."""
    results = []
    for case in cases:
        trace = authorizer.trace(case.principal, case.method, case.target)
        results.append(CaseResult(case, trace, _check(case, trace)))
    return results


def lint_policy(config: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """`(errors, warnings)` beyond what loading checks: a string where a list is expected is an error,
    a rule that can never decide (shadowed by an earlier one) a warning. Rules count from 0.

    Raises `PolicyError` when `config` does not even load.
    """
    authorizer = RuleBasedAuthorizer(config)
    errors: list[str] = []
    rules = config.get("rules")
    for index, rule in enumerate(rules if isinstance(rules, list) else []):
        if not isinstance(rule, Mapping):
            continue
        place = _rule_name(index, rule.get("id") if isinstance(rule.get("id"), str) else None)
        for key in _LIST_KEYS:
            value = rule.get(key)
            if isinstance(value, str):
                errors.append(
                    f"`{key}` in {place} must be a list of strings, not the string `{value}`"
                    f" (write `[{orjson.dumps(value).decode()}]`)"
                )
        claims = rule.get("allow_claims", rule.get("allowClaims"))
        if isinstance(claims, Mapping):
            for claim, accepted in claims.items():
                if isinstance(accepted, str):
                    errors.append(
                        f"claim `{claim}` in {place} must list its accepted values,"
                        f" not the string `{accepted}`"
                    )
    ids = authorizer.policy.rule_ids
    warnings = [
        f"{_rule_name(later, ids[later])} can never decide: {_rule_name(earlier, ids[earlier])} "
        "matches every request it matches, for everyone it applies to"
        for later, earlier in authorizer.shadowed_rules()
    ]
    return errors, warnings
