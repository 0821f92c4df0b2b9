"""`pymcp bench authz`: a policy's decisions timed, a case per rule, the default effect, `filter_tools`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from pymcp.bench.output import Progress, Timing, format_ns, table, time_calls

__all__ = ["AuthzCase", "authz_cases", "bench_authz", "example_of", "print_authz"]

_TARGET_METHODS = {"tool": "tools/call", "prompt": "prompts/get", "resource": "resources/read"}


def example_of(glob: str, filler: str = "x") -> str:
    """A name that `glob` (an `fnmatch` pattern) matches: `*` → `filler`, `?` → `x`, a class → a member."""
    out: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if char == "*":
            out.append(filler)
        elif char == "?":
            out.append("x")
        elif char == "[":
            end = glob.find("]", index + 2)
            if end < 0:
                out.append("[")
            else:
                members = glob[index + 1 : end]
                if members.startswith("!"):
                    excluded = members[1:]
                    out.append(
                        next(c for c in "xyzabc0123_" if c not in excluded and not _in_range(c, excluded))
                    )
                else:
                    out.append(members[0])
                index = end
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _in_range(char: str, members: str) -> bool:
    return any(
        members[i + 1] == "-" and i + 2 < len(members) and members[i] <= char <= members[i + 2]
        for i in range(len(members) - 1)
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _principal_for(rule: Mapping[str, Any], index: int) -> Any:
    """A principal the rule applies to, built from its first condition (None: anonymous will do)."""
    from pymcp.security.principal import Principal

    subjects = _as_list(rule.get("allow_subjects"))
    roles = _as_list(rule.get("allow_roles"))
    scopes = _as_list(rule.get("allow_scopes"))
    claims = rule.get("allow_claims") or {}
    if not (subjects or roles or scopes or claims):
        return None
    name = f"bench-rule-{index}"
    if subjects:
        return Principal(subjects[0])
    if roles:
        return Principal(name, roles={roles[0]})
    if scopes:
        return Principal(name, scopes={example_of(scopes[0])})
    claim, values = next(iter(claims.items()))
    return Principal(name, claims={claim: _as_list(values)[0]})


@dataclass(slots=True)
class AuthzCase:
    name: str
    principal: Any
    method: str
    target: str | None
    allowed: bool = False
    rule_index: int | None = None
    timing: Timing | None = None
    reference: Timing | None = None
    agrees: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _load_principals(path: Path | None) -> list[Any]:
    """`--principals FILE`: a JSON list of `{subject, roles?, scopes?, claims?, display_name?}` or null."""
    from pymcp.security.principal import Principal

    if path is None:
        return []
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as error:
        raise ValueError(f"principals file `{path}` is not valid UTF-8 JSON: {error}") from None
    if not isinstance(raw, list):
        raise ValueError(f"principals file `{path}` must hold a JSON list")
    principals: list[Any] = []
    for number, item in enumerate(raw):
        if item is None:
            principals.append(None)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("subject"), str) or not item["subject"]:
            raise ValueError(f"principal {number} in `{path}` must be null or an object with a `subject`")
        unknown = set(item) - {"subject", "display_name", "roles", "scopes", "claims"}
        if unknown:
            raise ValueError(f"principal {number} in `{path}` has unknown key `{sorted(unknown)[0]}`")
        for key in ("roles", "scopes"):
            values = item.get(key, [])
            if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                raise ValueError(f"principal {number} in `{path}`: `{key}` must be a list of strings")
        if not isinstance(item.get("claims", {}), dict):
            raise ValueError(f"principal {number} in `{path}`: `claims` must be an object")
        principals.append(
            Principal(
                item["subject"],
                display_name=item.get("display_name"),
                roles=set(_as_list(item.get("roles"))),
                scopes=set(_as_list(item.get("scopes"))),
                claims=dict(item.get("claims") or {}),
            )
        )
    return principals


def authz_cases(config: Mapping[str, Any], principals: Sequence[Any]) -> list[AuthzCase]:
    """Each rule's hit and miss, and the default effect (when some request reaches it)."""
    from pymcp.security.principal import Principal
    from pymcp.security.reference import ReferencePolicy, fnmatchcase

    reference = ReferencePolicy(config)
    rules = reference.rules  # with the camelCase aliases resolved
    nobody = Principal("bench-nobody")
    cases: list[AuthzCase] = []
    for index, rule in enumerate(rules):
        methods = _as_list(rule.get("methods"))
        kind = next((key for key in _TARGET_METHODS if key in rule), None)
        if kind is not None:
            method = _TARGET_METHODS[kind]
            if not any(fnmatchcase(method, glob) for glob in methods):
                continue  # the rule can never match: nothing to time
            target: str | None = example_of(str(rule[kind]))
        else:
            method, target = example_of(str(methods[0]) if methods else "x"), None
        effect = str(rule.get("effect", "allow")).lower()
        who = next((p for p in principals if reference.applies(index, p)), _principal_for(rule, index))
        cases.append(AuthzCase(f"rule {index} ({effect}) hit", who, method, target))
        strangers = [p for p in [*principals, nobody, None] if not reference.applies(index, p)]
        if strangers:
            cases.append(AuthzCase(f"rule {index} ({effect}) miss", strangers[0], method, target))
        elif target is not None:  # the rule applies to everyone: miss its target instead
            cases.append(AuthzCase(f"rule {index} ({effect}) miss", who, method, target + "\x00miss"))
    caller = principals[0] if principals else nobody
    for method in ("pymcp-bench/unmatched", "tools/call"):
        for target in (None, "\x00unmatched"):
            if reference.decide(caller, method, target).rule_index is None:
                cases.append(AuthzCase(f"default ({reference.default_effect})", caller, method, target))
                return cases
    return cases


def _principal_for_all(rules: Sequence[Mapping[str, Any]]) -> Any:
    """One principal every rule with conditions applies to (for the filter: it sees the most)."""
    from pymcp.security.principal import Principal

    subject, roles, scopes, claims = "bench-everyone", set(), set(), {}
    for index, rule in enumerate(rules):
        made = _principal_for(rule, index)
        if made is None:
            continue
        if not made.subject.startswith("bench-"):
            subject = made.subject
        roles |= made.roles
        scopes |= made.scopes
        claims.update(made.claims)
    return Principal(subject, roles=roles, scopes=scopes, claims=claims)


def _generated_tools(config: Mapping[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` tools named after the policy's tool globs (distinct names), every tenth matching none."""
    globs = [str(rule["tool"]) for rule in config.get("rules") or () if isinstance(rule.get("tool"), str)]
    tools = []
    for index in range(count):
        if globs and index % 10 != 9:
            name = example_of(globs[index * 7 % len(globs)], filler=f"t{index}")
        else:
            name = f"bench_unlisted_{index}"
        tools.append({"name": name, "inputSchema": {"type": "object"}})
    return tools


def bench_authz(
    policy_path: Path,
    *,
    principals_path: Path | None = None,
    tools: int = 10_000,
    compare: bool = False,
    budget: float = 0.2,
) -> dict[str, Any]:
    from pymcp.security.authz import AuthorizationError, AuthzRequest
    from pymcp.security.reference import ReferencePolicy
    from pymcp.security.rules import RuleBasedAuthorizer, load_json_config

    config = load_json_config(policy_path)
    authz = RuleBasedAuthorizer(config)
    reference = ReferencePolicy(config)
    principals = _load_principals(principals_path)
    cases = authz_cases(config, principals)
    generated = _generated_tools(config, tools)
    progress = Progress(len(cases) + (1 if tools else 0))
    for case in cases:
        progress.step(case.name)
        request = AuthzRequest(
            rpc_method=case.method,
            tool_name=case.target if case.method == "tools/call" else None,
            prompt_name=case.target if case.method == "prompts/get" else None,
            resource_uri=case.target if case.method == "resources/read" else None,
        )
        decision = authz.explain(case.principal, request)
        case.allowed, case.rule_index = decision.allowed, decision.rule_index

        def authorize(principal: Any = case.principal, request: AuthzRequest = request) -> None:
            try:  # noqa: SIM105 (contextlib.suppress would add its own cost to what is measured)
                authz.authorize(principal, request)
            except AuthorizationError:
                pass

        case.timing = time_calls(authorize, budget, batch=100)
        if compare:
            expected = reference.decide(case.principal, case.method, case.target)
            case.agrees = (expected.allowed, expected.rule_index) == (case.allowed, case.rule_index)

            def decide(c: AuthzCase = case) -> object:
                return reference.decide(c.principal, c.method, c.target)

            case.reference = time_calls(decide, budget, batch=5, min_batches=3)
    filter_case: AuthzCase | None = None
    if tools:
        progress.step(f"filter_tools over {tools:,} tools")
        caller = principals[0] if principals else _principal_for_all(reference.rules)
        filter_case = AuthzCase(f"filter_tools ({tools:,} tools)", caller, "tools/call", None)
        kept = authz.filter_tools(caller, generated)
        filter_case.extra["kept"] = len(kept)
        filter_case.timing = time_calls(
            lambda: authz.filter_tools(caller, generated), budget, batch=1, min_batches=5
        )
        if compare:
            names = [tool["name"] for tool in generated]
            expected_kept = (
                len(reference.filter(caller, "tools/call", names)) if authz.hide_unauthorized_tools else tools
            )
            filter_case.agrees = expected_kept == len(kept)
            filter_case.reference = time_calls(  # seconds per call: once is enough
                lambda: reference.filter(caller, "tools/call", names), budget, batch=1, min_batches=1
            )
    progress.close()
    return _authz_report(policy_path, cases, filter_case, tools)


def _authz_report(
    policy_path: Path, cases: list[AuthzCase], filter_case: AuthzCase | None, tools: int
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for case in [*cases, *([filter_case] if filter_case else [])]:
        assert case.timing is not None
        row: dict[str, Any] = {
            "case": case.name,
            "method": case.method,
            "target": case.target,
            "subject": getattr(case.principal, "subject", None),
        }
        if case is filter_case:
            row["kept"] = case.extra["kept"]
            row["decisions_per_second"] = round(case.timing.per_second * tools, 1)
        else:
            row["decision"] = "allow" if case.allowed else "deny"
            row["rule_index"] = case.rule_index
            row["decisions_per_second"] = round(case.timing.per_second, 1)
        row["timing"] = case.timing.as_json()
        if case.reference is not None:
            row["reference"] = case.reference.as_json()
            row["speedup"] = round(
                case.reference.seconds / case.reference.operations * case.timing.per_second, 1
            )
            row["agrees"] = case.agrees
        rows.append(row)
    return {"benchmark": "authz", "policy": str(policy_path), "cases": rows}


def print_authz(report: Mapping[str, Any]) -> None:
    compare = any("reference" in row for row in report["cases"])
    header = ["case", "decision", "decisions/s", "p50", "p99"]
    if compare:
        header += ["reference p50", "speed-up"]
    rows = []
    for row in report["cases"]:
        timing = row["timing"]
        decision = row.get("decision", f"{row.get('kept', 0):,} kept")
        if row.get("rule_index") is not None:
            decision += f" (rule {row['rule_index']})"
        elif "decision" in row:
            decision += " (default)"
        cells = [
            row["case"],
            decision,
            f"{row['decisions_per_second']:,.0f}",
            format_ns(timing["p50_ns"] / 1e9),
            format_ns(timing["p99_ns"] / 1e9),
        ]
        if compare:
            if "reference" in row:
                mark = "" if row["agrees"] else " MISMATCH"
                cells += [format_ns(row["reference"]["p50_ns"] / 1e9), f"{row['speedup']:,.1f}x{mark}"]
            else:
                cells += ["-", "-"]
        rows.append(cells)
    print(f"pymcp bench authz {report['policy']}: authorize(principal, AuthzRequest) per decision\n")
    print(table(header, rows))
