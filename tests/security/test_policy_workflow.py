"""`pymcp policy check | test | explain` and their Python API, on the seed's policy and a 200-rule one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pymcp.cli import main
from pymcp.security import Principal, RuleBasedAuthorizer
from pymcp.security.policy_cases import CaseError, lint_policy, load_cases, parse_cases, run_cases
from security.seed import SEED_POLICY

POLICIES = Path(__file__).parent / "policies"
COUNTING = "rules are numbered from 0"


def _write(tmp_path: Path, name: str, data: Any) -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


def _team_policy(teams: int = 100) -> dict[str, Any]:
    """Two rules per team: interns may not call `<team>_delete_*`; the team may call `<team>_*`."""
    rules: list[dict[str, Any]] = []
    for team in range(teams):
        rules.append(
            {
                "id": f"t{team}-no-interns-delete",
                "methods": ["tools/call"],
                "tool": f"t{team}_delete_*",
                "allow_roles": ["intern"],
                "effect": "deny",
            }
        )
        rules.append(
            {
                "id": f"t{team}-tools",
                "methods": ["tools/call"],
                "tool": f"t{team}_*",
                "allow_roles": [f"t{team}"],
            }
        )
    return {"rules": rules}


@pytest.fixture
def seed_policy(tmp_path: Path) -> Path:
    return _write(tmp_path, "seed_policy.json", SEED_POLICY)


def test_policy_test_passes_the_seed_cases(seed_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "test", str(seed_policy), str(POLICIES / "seed_cases.yaml"), "-v"]) == 0
    out = capsys.readouterr().out
    assert "PASS ops deploy: subject `carol`, role `ops` → `tools/call` `deploy_prod`: ALLOW by rule 1" in out
    assert out.endswith("4 passed, 0 failed\n")


def test_policy_test_fails_with_the_explanation(
    seed_policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        {
            "name": "dev deploys",
            "principal": {"subject": "bob", "roles": ["dev"]},
            "method": "tools/call",
            "target": "deploy_prod",
            "expect": "allow",
        },
        {
            "name": "wrong rule",
            "principal": {"subject": "alice"},
            "method": "ping",
            "expect": "allow",
            "rule": 1,
        },
    ]
    assert main(["policy", "test", str(seed_policy), str(_write(tmp_path, "cases.json", cases))]) == 1
    out = capsys.readouterr().out
    assert (
        "FAIL dev deploys: subject `bob`, role `dev` → `tools/call` `deploy_prod`: expected allow, got deny"
        in out
    )
    assert "-- rule 1: the principal has none of its conditions (role `ops`)" in out
    assert "=> no rule decided: the default effect `deny` applies" in out
    assert "FAIL wrong rule" in out
    assert "allow as expected, but decided by rule 0, not rule `1`" in out
    assert f"0 passed, 2 failed ({COUNTING}" in out


def test_policy_test_on_200_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = _write(tmp_path, "teams.json", _team_policy())
    cases = []
    for team in (0, 57, 99):
        member = {"subject": f"m{team}", "roles": [f"t{team}"]}
        intern = {"subject": f"i{team}", "roles": [f"t{team}", "intern"]}
        cases += [
            {
                "principal": member,
                "method": "tools/call",
                "target": f"t{team}_build",
                "expect": "allow",
                "rule": f"t{team}-tools",
            },
            {
                "principal": intern,
                "method": "tools/call",
                "target": f"t{team}_delete_db",
                "expect": "deny",
                "rule": f"t{team}-no-interns-delete",
            },
            {
                "principal": member,
                "method": "tools/call",
                "target": f"t{(team + 1) % 100}_build",
                "expect": "deny",
                "rule": None,
            },
        ]
    assert main(["policy", "test", str(policy), str(_write(tmp_path, "cases.json", {"cases": cases}))]) == 0
    assert capsys.readouterr().out == "9 passed, 0 failed\n"
    assert main(["policy", "check", str(policy)]) == 0
    assert capsys.readouterr().out.endswith(": ok (200 rules)\n")


def test_explain_names_the_deciding_rule_and_the_rules_tried(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = _write(tmp_path, "teams.json", _team_policy(3))
    argv = [
        "policy",
        "explain",
        str(policy),
        "--subject",
        "ann",
        "--role",
        "t2",
        "--role",
        "intern",
        "--method",
        "tools/call",
        "--target",
        "t2_delete_x",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "`ann` → `tools/call` `t2_delete_x`: DENY by rule 4 `t2-no-interns-delete`"
    assert COUNTING in out[1]
    assert out[2] == "  -- rule 0 `t0-no-interns-delete`: tool `t2_delete_x` does not match `t0_delete_*`"
    assert out[-1] == (
        "  => rule 4 `t2-no-interns-delete`: it matches the request"
        " and the principal meets one of its conditions: deny"
    )


def test_explain_lists_missing_scopes() -> None:
    authz = RuleBasedAuthorizer(
        {
            "rules": [
                {
                    "id": "read",
                    "methods": ["tools/call"],
                    "tool": "list_*",
                    "allow_scopes": ["services:read"],
                    "message": "needs `services:read`",
                },
            ]
        }
    )
    trace = authz.trace(Principal("bob", scopes={"other"}), "tools/call", "list_services")
    assert trace.decision.default
    assert trace.decision.missing_scopes == ("services:read",)
    assert trace.decision.message == "needs `services:read`"
    assert [(s.index, s.rule_id, s.outcome) for s in trace.steps] == [(0, "read", "conditions")]
    assert authz.decide(Principal("bob", scopes={"services:read"}), "tools/call", "list_x").rule_id == "read"


def test_explain_anonymous_and_usage_errors(seed_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "explain", str(seed_policy), "--method", "tools/list"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("anonymous → `tools/list`: DENY (default effect, no rule matched)")
    assert "skips anonymous callers" in out
    assert main(["policy", "explain", str(seed_policy), "--role", "ops", "--method", "ping"]) == 2
    assert "need `--subject`" in capsys.readouterr().err


def test_check_refuses_a_string_where_a_list_is_expected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy = _write(
        tmp_path,
        "p.json",
        {
            "rules": [
                {"methods": ["ping"]},
                {"id": "ops", "methods": "tools/call", "allow_roles": "ops"},
            ]
        },
    )
    assert main(["policy", "check", str(policy)]) == 1
    err = capsys.readouterr().err
    assert (
        '`allow_roles` in rule 1 `ops` must be a list of strings, not the string `ops` (write `["ops"]`)'
        in err
    )
    assert COUNTING in err


def test_check_warns_about_shadowed_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = _write(
        tmp_path,
        "p.json",
        {
            "rules": [
                {"id": "all-tools", "methods": ["tools/*"], "allow_roles": ["ops", "dev"]},
                {
                    "id": "no-deploy",
                    "methods": ["tools/call"],
                    "tool": "deploy",
                    "allow_roles": ["dev"],
                    "effect": "deny",
                },
            ]
        },
    )
    assert main(["policy", "check", str(policy)]) == 0
    captured = capsys.readouterr()
    assert captured.out.endswith(": ok (2 rules, 1 warning)\n")
    assert (
        "warning: rule 1 `no-deploy` can never decide: rule 0 `all-tools` matches every request"
        in captured.err
    )


def test_load_errors_say_how_rules_are_counted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = _write(tmp_path, "p.json", {"rules": [{"methods": ["x"], "allow_role": ["a"]}]})
    assert main(["policy", "check", str(policy)]) == 1
    err = capsys.readouterr().err
    assert "unknown key `allow_role` in rule 0 (did you mean `allow_roles`?)" in err
    assert err.rstrip().endswith(f"({COUNTING}, in the order of the `rules` list)")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"tests": []}, "unknown key `tests` in the cases file"),
        ([{"method": "ping", "expect": "yes"}], "`expect` in case 0 must be `allow` or `deny`"),
        (
            [{"method": "ping", "expect": "allow", "principal": {"roles": ["x"]}}],
            "the principal of case 0 needs a `subject`",
        ),
        (
            [{"method": "ping", "expect": "allow", "principal": {"subject": "a", "roles": "x"}}],
            "`roles` in case 0 must be a list",
        ),
        ([{"method": "ping", "expect": "allow", "rule": True}], "`rule` in case 0 must be"),
        ([{"expect": "allow"}], "case 0 needs a `method`"),
    ],
)
def test_bad_cases_are_named(data: Any, message: str) -> None:
    with pytest.raises(CaseError, match="^" + message.replace("(", r"\(").replace("`", "`")):
        parse_cases(data)


def test_bad_cases_file_exits_1(
    seed_policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _write(tmp_path, "cases.yaml", "cases: [\n")
    assert main(["policy", "test", str(seed_policy), str(cases)]) == 1
    assert "is not valid YAML" in capsys.readouterr().err


def test_python_api_runs_cases_and_lints() -> None:
    authz = RuleBasedAuthorizer(SEED_POLICY)
    results = run_cases(authz, load_cases(POLICIES / "seed_cases.yaml"))
    assert all(result.passed for result in results)
    assert lint_policy(SEED_POLICY) == ([], [])


def test_explain_on_the_demo_policy_prints_missing_scopes(capsys: pytest.CaptureFixture[str]) -> None:
    from pymcp.demo import default_policy_path

    argv = ["policy", "explain", str(default_policy_path()), "--subject", "bob"]
    assert main([*argv, "--method", "tools/call", "--target", "list_services"]) == 0
    out = capsys.readouterr().out
    assert "  -- rule 4: the principal has none of its conditions (role `ops`; scope `services:read`)" in out
    assert "  missing scopes: `services:read`" in out
    assert out.endswith("  message: listing services needs the `services:read` scope\n")
