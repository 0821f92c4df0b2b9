"""`pymcp policy check | test | explain`: policy files under review and in CI.

Rules (and cases) are numbered from 0, as in the JSON lists, everywhere these commands print them.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_policy_commands", "run_policy_command"]

_COUNTING = "rules are numbered from 0, in the order of the `rules` list"
_MENTIONS_RULE = re.compile(r"\brule \d+")


def add_policy_commands(commands: Any) -> None:
    """Add the `policy` command and its actions to the `pymcp` subcommands."""
    policy = commands.add_parser("policy", help="work with authorization policy files")
    actions = policy.add_subparsers(dest="policy_command", required=True, metavar="ACTION")
    check = actions.add_parser("check", help="validate a policy file; warn about rules that can never decide")
    check.add_argument("file", type=Path)
    test = actions.add_parser(
        "test", help="check a policy against expected decisions (a JSON or YAML cases file)"
    )
    test.add_argument("file", type=Path, help="the policy JSON file")
    test.add_argument("cases", type=Path, help="the cases file (.json, .yaml or .yml)")
    test.add_argument("-v", "--verbose", action="store_true", help="also print the cases that pass")
    explain = actions.add_parser("explain", help="say how a policy decides one request, rule by rule")
    explain.add_argument("file", type=Path, help="the policy JSON file")
    explain.add_argument("--subject", help="the principal's subject (omit for an anonymous caller)")
    explain.add_argument("--role", action="append", default=[], help="a role (repeatable)")
    explain.add_argument("--scope", action="append", default=[], help="a granted scope (repeatable)")
    explain.add_argument(
        "--claim", action="append", default=[], metavar="NAME=VALUE", help="a claim (repeatable)"
    )
    explain.add_argument("--method", required=True, help="the JSON-RPC method, e.g. `tools/call`")
    explain.add_argument("--target", help="the tool or prompt name, or the resource uri")


def _load(path: Path) -> tuple[dict[str, Any], Any] | str:
    """The policy file's config and authorizer, or the one-line error to print."""
    from pymcp.security.rules import RuleBasedAuthorizer, load_json_config

    try:
        config = load_json_config(path)
        return config, RuleBasedAuthorizer(config)
    except OSError as error:
        return f"{path}: cannot read the file ({error.strerror or error})"
    except ValueError as error:
        message = str(error)
        hint = f" ({_COUNTING})" if _MENTIONS_RULE.search(message) else ""
        return f"{path}: {message}{hint}"


def _check(path: Path) -> int:
    from pymcp.security.policy_cases import lint_policy

    loaded = _load(path)
    if isinstance(loaded, str):
        print(loaded, file=sys.stderr)
        return 1
    config, authorizer = loaded
    errors, warnings = lint_policy(config)
    for error in errors:
        print(f"{path}: {error}", file=sys.stderr)
    for warning in warnings:
        print(f"{path}: warning: {warning}", file=sys.stderr)
    if errors or warnings:
        print(f"{path}: {_COUNTING}", file=sys.stderr)
    if errors:
        return 1
    count = len(authorizer.policy.rule_ids)
    noted = f", {len(warnings)} warning{'s' if len(warnings) != 1 else ''}" if warnings else ""
    print(f"{path}: ok ({count} rule{'s' if count != 1 else ''}{noted})")
    return 0


def _trace_lines(trace: Any, indent: str = "  ") -> list[str]:
    decision = trace.decision
    lines = []
    for step in trace.steps:
        name = f"rule {step.index}" + (f" `{step.rule_id}`" if step.rule_id else "")
        mark = "=>" if step.outcome == "decided" else "--"
        lines.append(f"{indent}{mark} {name}: {step.reason}")
    if decision.default:
        lines.append(f"{indent}=> no rule decided: the default effect `{decision.effect}` applies")
    if decision.missing_scopes:
        scopes = ", ".join(f"`{scope}`" for scope in decision.missing_scopes)
        lines.append(f"{indent}missing scopes: {scopes}")
    if decision.message:
        lines.append(f"{indent}message: {decision.message}")
    return lines


def _describe(decision: Any) -> str:
    if decision.default:
        return f"{decision.effect.upper()} (default effect, no rule matched)"
    name = f"rule {decision.rule_index}" + (f" `{decision.rule_id}`" if decision.rule_id else "")
    return f"{decision.effect.upper()} by {name}"


def _test(path: Path, cases_path: Path, verbose: bool) -> int:
    from pymcp.security.policy_cases import load_cases, run_cases

    loaded = _load(path)
    if isinstance(loaded, str):
        print(loaded, file=sys.stderr)
        return 1
    try:
        cases = load_cases(cases_path)
    except OSError as error:
        print(f"{cases_path}: cannot read the file ({error.strerror or error})", file=sys.stderr)
        return 1
    except ValueError as error:
        print(f"{cases_path}: {error}", file=sys.stderr)
        return 1
    results = run_cases(loaded[1], cases)
    failed = [result for result in results if not result.passed]
    for result in results:
        case = result.case
        target = f" `{case.target}`" if case.target is not None else ""
        title = f"{case.name}: {case.who} → `{case.method}`{target}"
        if result.passed:
            if verbose:
                print(f"PASS {title}: {_describe(result.trace.decision)}")
            continue
        print(f"FAIL {title}: {result.failure}")
        print("\n".join(_trace_lines(result.trace)))
    summary = f"{len(results) - len(failed)} passed, {len(failed)} failed"
    if failed:
        print(f"{summary} ({_COUNTING})")
        return 1
    print(summary)
    return 0


def _explain(args: argparse.Namespace) -> int:
    from pymcp.security.principal import Principal

    loaded = _load(args.file)
    if isinstance(loaded, str):
        print(loaded, file=sys.stderr)
        return 1
    claims: dict[str, Any] = {}
    for item in args.claim:
        name, sep, value = item.partition("=")
        if not sep or not name:
            print(f"pymcp policy explain: `--claim {item}` must be NAME=VALUE", file=sys.stderr)
            return 2
        claims.setdefault(name, []).append(value)
    if args.subject is None and (args.role or args.scope or claims):
        print(
            "pymcp policy explain: roles, scopes and claims need `--subject`"
            " (without it the caller is anonymous)",
            file=sys.stderr,
        )
        return 2
    principal = (
        None
        if args.subject is None
        else Principal(
            subject=args.subject,
            roles=set(args.role),
            scopes=set(args.scope),
            claims={name: values[0] if len(values) == 1 else values for name, values in claims.items()},
        )
    )
    trace = loaded[1].trace(principal, args.method, args.target)
    target = f" `{args.target}`" if args.target is not None else ""
    who = "anonymous" if principal is None else f"`{principal.subject}`"
    print(f"{who} → `{args.method}`{target}: {_describe(trace.decision)}")
    print(f"rules tried ({_COUNTING}):")
    print("\n".join(_trace_lines(trace)))
    return 0


def run_policy_command(args: argparse.Namespace) -> int:
    """Run the parsed `pymcp policy ...` command; the exit status (0 ok, 1 failures, 2 bad usage)."""
    if args.policy_command == "check":
        return _check(args.file)
    if args.policy_command == "test":
        return _test(args.file, args.cases, args.verbose)
    return _explain(args)
