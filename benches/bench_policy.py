"""Policy decision and list-filter throughput, ours against pymcp-kit 0.3.0 (run in its own virtualenv).

    .venv/bin/python -m pytest benches/bench_policy.py --benchmark-enable

Targets: one decision <= 0.5 us on the seed policy, <= 2 us worst case on the 200-rule policy; through the
public API (`authorize(principal, AuthzRequest(...))`) an allow <= 400 ns and a deny <= 1 us including the
raise and catch; filtering 10,000 tools under the 200-rule policy <= 5 ms. The 0.3.0 timings come from one
subprocess (timeit in its venv); each benchmark records ours, theirs and the ratio in `extra_info`, and the
last test prints a table.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

import pytest

from oracle.compat030 import COMPAT_PYTHON, run_030
from oracle.policy_cases import principal_from_json
from pymcp.security.authz import AuthorizationError, AuthzRequest
from pymcp.security.principal import Principal
from pymcp.security.rules import RuleBasedAuthorizer
from security.seed import SEED_POLICY as SEED


def _tool_glob(index: int) -> str:
    """Prefix, suffix, infix, class and `?` globs in turn."""
    return [f"svc{index}_*", f"*_{index}.op", f"*mid{index}x*", f"[ab]{index}_[xyz]*", f"t{index}_??"][
        index % 5
    ]


def _tool_name(index: int) -> str:
    """A name matching `_tool_glob(index)` and no earlier glob."""
    return [f"svc{index}_run", f"do_{index}.op", f"amid{index}xb", f"a{index}_xy", f"t{index}_ab"][index % 5]


# Every rule applies to the principal below (role `staff` comes from its groups), so a last-rule hit walks
# all 200 rules: the worst case. Only tools/call rules, all targeted, so nothing short-circuits.
BIG: dict[str, Any] = {
    "default_effect": "deny",
    "hide_unauthorized_tools": True,
    "groups_to_roles": {"eng-*": "staff", "ops-*": "ops"},
    "rules": [
        {
            "methods": ["tools/call"],
            "tool": _tool_glob(index),
            "effect": "deny" if index % 7 == 3 else "allow",
            "allow_roles": [f"team{index % 10}", "staff"],
        }
        for index in range(200)
    ],
}
ALICE = {"subject": "alice", "roles": ["ops"], "scopes": ["tools:*"], "claims": {}}
STAFF = {"subject": "sam", "roles": [], "scopes": [], "claims": {"groups": ["eng-core", "sales"]}}

# name, policy, principal, method, target (None: the filter scenarios use `tools` instead)
DECISIONS: dict[str, tuple[dict[str, Any], dict[str, Any], str, str | None]] = {
    "seed: tools/call allowed": (SEED, ALICE, "tools/call", "deploy_prod"),
    "seed: tools/list allowed": (SEED, ALICE, "tools/list", None),
    "seed: default deny": (SEED, ALICE, "tools/call", "rm_rf"),
    "200 rules: first-rule hit": (BIG, STAFF, "tools/call", _tool_name(0)),
    "200 rules: last-rule hit": (BIG, STAFF, "tools/call", _tool_name(199)),
    "200 rules: default deny": (BIG, STAFF, "tools/call", "no_such_tool"),
}
FILTER_SIZES = (100, 1_000, 10_000)


def _tools(count: int) -> list[dict[str, Any]]:
    """Tool list items: most match some rule (allowed or denied), a tenth match none."""
    return [
        {"name": _tool_name(index % 200) if index % 10 else f"other_{index}", "inputSchema": {}}
        for index in range(count)
    ]


def _principal(raw: dict[str, Any]) -> Principal:
    principal = principal_from_json(raw)
    assert principal is not None
    return principal


# Runs in the 0.3.0 venv: per scenario, the best of 5 timeit runs, in seconds per call.
_TIME_030 = """
import json, sys, timeit
from pymcp.security import Principal, RuleBasedAuthorizer, build_authz_request

spec = json.load(sys.stdin)
def principal(raw):
    return Principal(raw["subject"], roles=set(raw["roles"]), scopes=set(raw["scopes"]), claims=raw["claims"])
out = {}
for name, (config, raw, method, target) in spec["decisions"].items():
    authz, who = RuleBasedAuthorizer(config), principal(raw)
    request = build_authz_request(rpc_method=method, params={} if target is None else {"name": target})
    number = 2000
    out[name] = min(timeit.repeat(lambda: authz._is_allowed(who, request), number=number, repeat=5)) / number
for size, tools in spec["filters"].items():
    authz, who = RuleBasedAuthorizer(spec["big"]), principal(spec["staff"])
    number = max(1, 2000 // int(size))
    runs = timeit.repeat(lambda: authz.filter_tools(who, tools), number=number, repeat=3)
    out["filter " + size] = min(runs) / number
json.dump(out, sys.stdout)
"""

_RESULTS: dict[str, tuple[float, float | None]] = {}


@functools.cache
def _theirs() -> dict[str, float]:
    """Seconds per call for each scenario under pymcp-kit 0.3.0 (empty when its venv is missing).

    Measured once, and only when benchmarks run: it takes a while (0.3.0 filters 10,000 tools in seconds).
    """
    if not COMPAT_PYTHON.exists():
        return {}
    spec = {
        "decisions": DECISIONS,
        "filters": {str(size): _tools(size) for size in FILTER_SIZES},
        "big": BIG,
        "staff": STAFF,
    }
    timings: dict[str, float] = run_030(_TIME_030, spec, timeout=600)
    return timings


def _record(benchmark: Any, name: str) -> None:
    if benchmark.disabled:
        return
    ours = benchmark.stats.stats.min
    reference = _theirs().get(name)
    benchmark.extra_info["ours_s"] = ours
    if reference is not None:
        benchmark.extra_info["pymcp_kit_030_s"] = reference
        benchmark.extra_info["speedup"] = reference / ours
    _RESULTS[name] = (ours, reference)


@pytest.mark.parametrize("name", list(DECISIONS))
def test_is_allowed(benchmark: Any, name: str) -> None:
    config, raw, method, target = DECISIONS[name]
    authz, principal = RuleBasedAuthorizer(config), _principal(raw)
    expected = {"seed: default deny": False, "200 rules: default deny": False}.get(name, True)
    if name == "200 rules: first-rule hit":
        expected = BIG["rules"][0]["effect"] == "allow"
    elif name == "200 rules: last-rule hit":
        expected = BIG["rules"][199]["effect"] == "allow"
    assert authz.is_allowed(principal, method, target) is expected  # also warms the binding cache
    benchmark(authz.is_allowed, principal, method, target)
    _record(benchmark, name)


@pytest.mark.parametrize("name", list(DECISIONS))
def test_authorize(benchmark: Any, name: str) -> None:
    """The 0.3.0-compatible public API, the way user code calls it: a denial raises and is caught."""
    config, raw, method, target = DECISIONS[name]
    authz, principal = RuleBasedAuthorizer(config), _principal(raw)
    request = AuthzRequest(rpc_method=method, tool_name=target)

    def authorize() -> bool:
        try:
            authz.authorize(principal, request)
        except AuthorizationError:
            return False
        return True

    assert authorize() is authz.is_allowed(principal, method, target)
    benchmark(authorize)
    if not benchmark.disabled:
        _RESULTS["authorize " + name] = (benchmark.stats.stats.min, None)


@pytest.mark.parametrize("size", FILTER_SIZES)
def test_filter_tools(benchmark: Any, size: int) -> None:
    authz, principal, tools = RuleBasedAuthorizer(BIG), _principal(STAFF), _tools(size)
    kept = benchmark(authz.filter_tools, principal, tools)
    assert 0 < len(kept) < size
    _record(benchmark, f"filter {size}")


@pytest.fixture(scope="module", autouse=True)
def _report() -> Iterator[None]:
    yield
    if not _RESULTS:
        return
    lines = [f"{'scenario':32} {'pymcp':>12} {'0.3.0':>12} {'speedup':>9}"]
    for name, (ours, reference) in _RESULTS.items():
        ref = f"{reference * 1e6:10.2f}us" if reference is not None else f"{'-':>12}"
        ratio = f"{reference / ours:8.1f}x" if reference is not None else f"{'-':>9}"
        lines.append(f"{name:32} {ours * 1e6:10.3f}us {ref} {ratio}")
    print("\n" + "\n".join(lines))
