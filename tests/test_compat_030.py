"""Our allow/deny decisions equal pymcp-kit 0.3.0's `RuleBasedAuthorizer` on thousands of valid policies.

0.3.0 runs in its own virtualenv (it also imports as `pymcp`), in one subprocess fed the whole corpus as JSON.
The corpus holds only what 0.3.0 understands (methods, tool globs, subjects, roles, scopes, groups_to_roles,
anonymous access): claims, prompt and resource targets are ours alone.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from oracle.compat030 import require_030, run_030
from oracle.policy_cases import principal_from_json, random_case
from pymcp.security.authz import AuthorizationError, build_authz_request
from pymcp.security.rules import RuleBasedAuthorizer

pytestmark = pytest.mark.compat

CASES = 3000

# Runs inside the 0.3.0 virtualenv: stdin is the corpus, stdout one verdict per case.
_DECIDE_WITH_030 = """
import sys, json
from pymcp.security import AuthorizationError, Principal, RuleBasedAuthorizer, build_authz_request

verdicts = []
for case in json.load(sys.stdin):
    try:
        authz = RuleBasedAuthorizer(case["config"])
    except ValueError:
        verdicts.append("invalid")
        continue
    raw = case["principal"]
    principal = None if raw is None else Principal(
        subject=raw["subject"], roles=set(raw["roles"]), scopes=set(raw["scopes"]), claims=raw["claims"]
    )
    params = {} if case["tool"] is None else {"name": case["tool"]}
    try:
        authz.authorize(principal, build_authz_request(rpc_method=case["method"], params=params))
        verdicts.append("allow")
    except AuthorizationError:
        verdicts.append("deny")
json.dump(verdicts, sys.stdout)
"""


def _decide_with_ours(case: dict[str, Any]) -> str:
    request = build_authz_request(
        rpc_method=case["method"], params={} if case["tool"] is None else {"name": case["tool"]}
    )
    try:
        RuleBasedAuthorizer(case["config"]).authorize(principal_from_json(case["principal"]), request)
    except AuthorizationError:
        return "deny"
    return "allow"


def test_decisions_equal_pymcp_kit_030() -> None:
    require_030()
    rng = random.Random(30)
    corpus = [random_case(rng) for _ in range(CASES)]
    theirs = run_030(_DECIDE_WITH_030, corpus, timeout=120)
    assert len(theirs) == len(corpus)
    assert "invalid" not in theirs, "the corpus must only hold policies 0.3.0 accepts"
    mismatches = [
        (case, verdict)
        for case, verdict in zip(corpus, theirs, strict=True)
        if _decide_with_ours(case) != verdict
    ]
    assert not mismatches, mismatches[:3]
    assert {"allow", "deny"} <= set(theirs)
