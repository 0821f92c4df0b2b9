"""The official conformance suite 0.1.16 (`--suite all`) passes on an app written for pymcp-kit 0.3.0,
which reaches the client only through 0.3.0's helpers (elicitation, sampling, logging, progress)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conformance.test_official_suite import CONFORMANCE, _run
from conformance_server import build_app
from pymcp import get_registry_manager

pytestmark = pytest.mark.slow


def test_suite_all_passes_on_the_030_app(tmp_path: Path, kit030_app: Any) -> None:
    # The one fixture 0.3.0's API cannot declare: a tool with a hand-written JSON Schema 2020-12
    # `inputSchema` (0.3.0 derives every schema from the signature). Taken from our fixture as is.
    schema_tool = get_registry_manager(build_app()).tools.get("json_schema_2020_12_tool")
    assert schema_tool is not None
    get_registry_manager(kit030_app).tools.add(schema_tool)
    run, problems, _ = _run(CONFORMANCE, ("--suite", "all"), tmp_path, build=lambda: kit030_app)
    assert not problems, "\n".join(problems)
    assert run.returncode == 0, run.stdout[-3000:]
