"""Run the README's first command for real: `make demo`, then the `curl` requests its banner prints.

alice's request must get 200 and the request without a token 401; no answer may be a 5xx. Ctrl-C (SIGINT
to the whole process group) must stop the demo cleanly. Exits non-zero with the banner on any failure.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BANNER_END = "Continue a session"


def main() -> int:
    demo = subprocess.Popen(
        ["make", "demo", "DEMO_PORT=0"],  # the README's `make demo`, on a free port
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        start_new_session=True,  # one process group: make, pymcp and uvicorn stop together
    )
    assert demo.stdout is not None
    watchdog = threading.Timer(600, lambda: os.killpg(demo.pid, signal.SIGKILL))  # build + start
    watchdog.start()
    lines: list[str] = []
    try:
        for line in demo.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(BANNER_END):
                break
        banner = "\n".join(lines)
        requests = re.findall(r"^(\w+)'s token: \S+\n  (curl .+)$", banner, re.MULTILINE)
        anonymous = re.search(r"^without a token \(401\):\n  (curl .+)$", banner, re.MULTILINE)
        if not requests or anonymous is None:
            print(f"demo-smoke: the demo printed no curl requests:\n{banner}", file=sys.stderr)
            return 1
        expected = {user: None for user, _ in requests} | {"alice": "200", "(no token)": "401"}
        failures = []
        for user, command in [*requests, ("(no token)", anonymous.group(1))]:
            answer = subprocess.run(
                [*shlex.split(command), "--max-time", "10"], capture_output=True, text=True, check=False
            )
            status = answer.stdout.split(" ", 2)[1] if answer.stdout.startswith("HTTP/") else "no answer"
            print(f"demo-smoke: {user}: HTTP {status}")
            if status == "no answer" or status.startswith("5") or expected[user] not in (None, status):
                failures.append(f"{user} got {status}, expected {expected[user] or 'no 5xx'}")
        os.killpg(demo.pid, signal.SIGINT)
        rest, _ = demo.communicate(timeout=30)
        if "pymcp demo: stopped" not in rest:
            failures.append(f"the demo did not stop cleanly on Ctrl-C:\n{rest}")
        if failures:
            print("demo-smoke: " + "; ".join(failures) + f"\n{banner}", file=sys.stderr)
            return 1
        print("demo-smoke: make demo serves, refuses without a token and stops on Ctrl-C")
        return 0
    finally:
        watchdog.cancel()
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()


if __name__ == "__main__":
    sys.exit(main())
