"""Every code block of the user docs runs, and the site builds with `mkdocs build --strict`.

Per page, in a fresh temporary directory: blocks preceded by `<!-- file: NAME -->` (any language) are
written to NAME first; then the `python` blocks run in order in one namespace (a page reads like a
script), and each `bash` block runs with `bash -euo pipefail`, in page order. A python or bash block that
cannot run here (it serves forever, needs the network or another machine) is preceded by
`<!-- not-run: why -->`; a marker without a reason is an error.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
RUNNABLE = {"python", "bash"}
_BLOCK = re.compile(
    r"(?:<!-- (?P<marker>file|not-run):(?P<argument>[^>]*)-->\n)?"
    r"^```(?P<language>[\w-]*)[^\n]*\n(?P<code>.*?)^```$",
    re.S | re.M,
)


@dataclass(frozen=True)
class Block:
    language: str
    code: str
    line: int
    marker: str | None
    argument: str


def blocks(page: Path) -> list[Block]:
    text = page.read_text()
    return [
        Block(
            match["language"],
            match["code"],
            text.count("\n", 0, match.start("code")),
            match["marker"],
            (match["argument"] or "").strip(),
        )
        for match in _BLOCK.finditer(text)
    ]


PAGES = sorted(page.relative_to(DOCS).as_posix() for page in DOCS.rglob("*.md"))


@pytest.mark.parametrize("name", PAGES)
def test_every_code_block_runs(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    page_blocks = blocks(DOCS / name)
    for block in page_blocks:
        if block.marker == "not-run":
            assert block.argument, f"{name}:{block.line}: `not-run` needs a reason"
        if block.marker == "file":
            assert block.argument, f"{name}:{block.line}: `file` needs a name"
            path = tmp_path / block.argument
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(block.code)
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    namespace: dict[str, object] = {"__name__": "__docs__"}
    for block in page_blocks:
        if block.language not in RUNNABLE or block.marker is not None:
            continue
        where = f"{name}:{block.line}"
        if block.language == "python":
            exec(compile(block.code, where, "exec"), namespace)
        else:
            done = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", block.code],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, f"{where}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def test_the_site_builds_strictly(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
