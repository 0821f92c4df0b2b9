"""What the installed distribution says about itself: one version everywhere, the license, the CLI."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata

import pymcp
from pymcp import _core


def test_python_rust_and_metadata_report_one_version() -> None:
    assert pymcp.__version__ == _core.__version__ == metadata.version("pymcp-kit")


def test_pymcp_version_prints_the_version() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pymcp", "--version"], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout.strip() == f"pymcp {pymcp.__version__}"


def test_the_distribution_carries_its_license_and_urls() -> None:
    distribution = metadata.distribution("pymcp-kit")
    assert distribution.metadata["License-Expression"] == "MIT"
    files = [str(path) for path in distribution.files or ()]
    assert any(path.endswith("licenses/LICENSE") for path in files), files
    urls = dict(url.split(", ", 1) for url in distribution.metadata.get_all("Project-URL") or ())
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(urls)
