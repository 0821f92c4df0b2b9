"""`pymcp bench authz` and `pymcp bench server`, run for real on small inputs (no timing is asserted)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from oracle.policy_cases import TARGET_GLOBS
from pymcp.bench import example_of
from pymcp.cli import main
from pymcp.security.reference import fnmatchcase
from security.seed import SEED_POLICY

# Every rule kind: targets of each type, a deny rule with a message, conditions of each kind, anonymous.
POLICY: dict[str, Any] = {
    "default_effect": "deny",
    "hide_unauthorized_tools": True,
    "groups_to_roles": {"eng-*": "staff"},
    "rules": [
        {"methods": ["initialize", "tools/list"]},
        {"methods": "tools/call", "tool": "drop_*", "effect": "deny", "message": "never drop"},
        {"methods": "tools/call", "tool": "deploy_[ab]?", "allow_roles": ["staff"]},
        {"methods": "tools/*", "tool": "read_*", "allow_scopes": ["tools:*"]},
        {"methods": "prompts/get", "prompt": "p_*", "allow_subjects": ["alice"]},
        {
            "methods": "resources/read",
            "resource": "file:///pub/*",
            "allow_anonymous": True,
            "allow_roles": ["x"],
        },
        {"methods": "tasks/*", "allow_claims": {"tenant": ["acme"]}},
    ],
}


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    path = tmp_path / "policy.json"
    path.write_bytes(orjson.dumps(POLICY))
    return path


def _json_report(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, Any]:
    assert main(argv) == 0
    out, err = capsys.readouterr()
    assert "pymcp bench: [1/" in err  # progress goes to stderr, the report alone to stdout
    report: dict[str, Any] = orjson.loads(out)
    return report


@pytest.mark.parametrize("glob", [glob for glob in TARGET_GLOBS if glob != "[z-a]"])
def test_examples_match_their_glob(glob: str) -> None:
    assert fnmatchcase(example_of(glob), glob)
    assert fnmatchcase(example_of(glob, filler="t17"), glob)


def test_authz_table_on_the_seed_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "seed.json"
    path.write_bytes(orjson.dumps(SEED_POLICY))
    assert main(["bench", "authz", str(path), "--tools", "50", "--time", "0.001", "--compare"]) == 0
    out = capsys.readouterr().out
    for line in ("rule 0 (allow) hit", "rule 1 (allow) miss", "default (deny)", "filter_tools (50 tools)"):
        assert line in out
    assert "speed-up" in out
    assert "MISMATCH" not in out


def test_authz_cases_cover_every_rule_and_agree_with_the_reference(
    policy_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = _json_report(
        capsys,
        ["bench", "authz", str(policy_file), "--tools", "40", "--time", "0.001", "--compare", "--json"],
    )
    cases = {row["case"]: row for row in report["cases"]}
    for index, rule in enumerate(POLICY["rules"]):
        effect = rule.get("effect", "allow")
        hit = cases[f"rule {index} ({effect}) hit"]
        assert (hit["decision"], hit["rule_index"]) == (effect, index), hit
        # rule 0 applies to everyone and names no target: nothing can miss it
        assert (f"rule {index} ({effect}) miss" in cases) is (index != 0)
    assert cases["rule 1 (deny) miss"]["decision"] in ("allow", "deny")
    assert "default (deny)" in cases
    assert 0 < cases["filter_tools (40 tools)"]["kept"] < 40
    for row in report["cases"]:
        assert row["agrees"], row
        assert row["timing"]["operations"] > 0
        assert row["timing"]["p50_ns"] <= row["timing"]["p99_ns"]


def test_authz_uses_the_given_principals(
    policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    principals = tmp_path / "principals.json"
    principals.write_bytes(
        orjson.dumps([{"subject": "sam", "claims": {"groups": ["eng-core"], "tenant": "acme"}}, None])
    )
    report = _json_report(
        capsys,
        ["bench", "authz", str(policy_file), "--principals", str(principals), "--tools", "0", "--json"],
    )
    cases = {row["case"]: row for row in report["cases"]}
    assert cases["rule 2 (allow) hit"]["subject"] == "sam"  # staff through its groups
    assert cases["rule 6 (allow) hit"]["subject"] == "sam"  # the tenant claim
    assert cases["rule 4 (allow) hit"]["subject"] == "alice"  # none given applies: made from the rule
    assert not any(row["case"].startswith("filter_tools") for row in report["cases"])


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["bench", "authz", "{missing}"], "cannot read"),
        (["bench", "authz", "{bad}"], "unknown key `allow_role` in rule 0"),
        (["bench", "authz", "{policy}", "--principals", "{bad_principals}"], "principal 0"),
        (["bench", "authz", "{policy}", "--principals", "{policy}"], "must hold a JSON list"),
        (["bench", "authz", "{policy}", "--principals", "{bad_roles}"], "`roles` must be a list of strings"),
        (["bench", "server", "no_colon"], "is not `MODULE:APP`"),
        (["bench", "server", "no_such_module_for_bench:app"], "no_such_module_for_bench"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    policy_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"rules": [{"methods": ["x"], "allow_role": ["a"]}]}')
    bad_principals = tmp_path / "principals.json"
    bad_principals.write_text('[{"name": "x"}]')
    bad_roles = tmp_path / "roles.json"
    bad_roles.write_text('[{"subject": "x", "roles": "ops"}]')
    paths = {
        "missing": tmp_path / "nope.json",
        "bad": bad,
        "policy": policy_file,
        "bad_roles": bad_roles,
        "bad_principals": bad_principals,
    }
    assert main([part.format(**paths) for part in argv]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


APP_SOURCE = """
from pymcp import create_app, get_registry_manager
from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator

methods = ["initialize", "server/discover", "tools/list", "tools/call", "notifications/initialized"]
app = create_app(
    authn=TokenMapAuthenticator({"bench-token": {"subject": "alice"}}),
    authz=RuleBasedAuthorizer({"rules": [{"methods": methods, "allow_subjects": ["alice"]}]}),
    require_authn=True,
)


def hello() -> str:
    return "hello"


def add(a: int, b: int) -> int:
    return a + b


get_registry_manager(app).tools.register(hello, name="hello")
get_registry_manager(app).tools.register(add, name="add")
"""


@pytest.fixture
def app_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    (tmp_path / "bench_cli_app.py").write_text(APP_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "bench_cli_app:app"
    sys.modules.pop("bench_cli_app", None)


def test_server_bench_drives_both_revisions(app_module: str, capsys: pytest.CaptureFixture[str]) -> None:
    report = _json_report(
        capsys, ["bench", "server", app_module, "--token", "bench-token", "--calls", "5", "--json"]
    )
    rows = {(row["method"], row["revision"], row["auth"]): row for row in report["cases"]}
    for revision in ("2025-11-25", "2026-07-28"):
        assert "Authentication required" in rows[("tools/list", revision, "anonymous")]["skipped"]
        for method in ("tools/list", "tools/call hello"):
            timing = rows[(method, revision, "token")]["timing"]
            assert timing["operations"] == 5


def test_server_bench_calls_the_named_tool(app_module: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["bench", "server", app_module, "--token", "bench-token", "--calls", "3"]
    assert main([*argv, "--tool", "add", "--arguments", '{"a": 1, "b": 2}']) == 0
    out = capsys.readouterr().out
    assert "tools/call add (2026-07-28, token)" in out
    assert "tools/call add (2025-11-25, token)" in out
    sys.modules.pop("bench_cli_app")  # an app starts once: import a fresh one
    assert main([*argv, "--tool", "add"]) == 0  # missing arguments: the case is skipped, with the reason
    assert "skipped: " in capsys.readouterr().out
