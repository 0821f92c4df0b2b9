"""`pymcp policy check` and `pymcp demo` (the demo as a real process, stopped with Ctrl-C)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pymcp.cli import main
from pymcp.demo import default_policy_path
from server.mcp_client import initialize_message

ACCEPT = {"Accept": "application/json, text/event-stream"}


def test_policy_check_accepts_the_demo_policy(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", str(default_policy_path())]) == 0
    assert capsys.readouterr().out.endswith(": ok (6 rules)\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"rules": [{"methods": ["x"], "allow_role": ["a"]}]}', "unknown key `allow_role` in rule 0"),
        ('{"rules": [', "not valid UTF-8 JSON"),
        ("[]", "must hold a JSON object"),
        ('{"rules": [{"methods": []}]}', "rule 0"),
    ],
)
def test_policy_check_prints_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    policy = tmp_path / "policy.json"
    policy.write_text(text)
    assert main(["policy", "check", str(policy)]) == 1
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1


def test_policy_check_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "check", "/nonexistent/policy.json"]) == 1
    assert "cannot read the file" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_demo_rejects_bad_ports(capsys: pytest.CaptureFixture[str], port: str) -> None:
    with pytest.raises(SystemExit) as info:
        main(["demo", "--port", port])
    assert info.value.code == 2
    assert "--port" in capsys.readouterr().err


@pytest.fixture
def demo() -> Iterator[tuple[subprocess.Popen[str], list[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pymcp", "demo", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    # A demo that never prints its banner is killed, which ends the read below.
    watchdog = threading.Timer(60, process.kill)
    watchdog.start()
    try:
        lines: list[str] = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Continue a session"):
                break
        watchdog.cancel()
        assert process.poll() is None, "the demo stopped before printing its banner:\n" + "\n".join(lines)
        yield process, lines
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=10)


def test_demo_starts_answers_and_stops_on_ctrl_c(demo: tuple[subprocess.Popen[str], list[str]]) -> None:
    process, lines = demo
    banner = "\n".join(lines)
    url = re.search(r"http://127\.0\.0\.1:\d+/mcp", banner)
    assert url is not None, banner
    tokens = dict(re.findall(r"^(\w+)'s token: (\S+)$", banner, re.MULTILINE))
    assert set(tokens) == {"alice", "bob"}
    assert banner.count("curl -si") == 3

    refused = httpx.post(url.group(0), json=initialize_message(), headers=ACCEPT)
    assert refused.status_code == 401
    headers = {**ACCEPT, "Authorization": f"Bearer {tokens['alice']}"}
    answer = httpx.post(url.group(0), json=initialize_message(), headers=headers)
    assert answer.status_code == 200
    assert answer.json()["result"]["serverInfo"]["name"] == "pymcp-demo"

    process.send_signal(signal.SIGINT)
    out, _ = process.communicate(timeout=15)
    assert process.returncode == 0
    assert "pymcp demo: stopped" in out
