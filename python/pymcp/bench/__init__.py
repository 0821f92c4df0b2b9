"""`pymcp bench`: how fast authorization and a whole app are, measured on the user's own policy and app.

    pymcp bench authz POLICY.json [--principals FILE] [--tools N] [--compare] [--json]
    pymcp bench server MODULE:APP [--token TOKEN] [--tool NAME] [--arguments JSON] [--calls N] [--json]

`authz` times `RuleBasedAuthorizer.authorize` (the public API, a denial raised and caught) for each rule
(a request the rule decides, by a principal it applies to: "hit"; the same request by one it does not
apply to: "miss"), for the default effect, and `filter_tools` over N generated tools. `--compare` times the
same cases on the pure-Python reference evaluator (`pymcp.security.reference`). `server` drives an ASGI app
in this process, without sockets: `tools/list` and `tools/call` on a 2025-11-25 session and on the
2026-07-28 stateless path, anonymous and (with `--token`) authenticated.
Progress goes to stderr; the table (or, with `--json`, one JSON object) to stdout.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import orjson

from pymcp.bench.authz import bench_authz, example_of, print_authz
from pymcp.bench.server import bench_server, print_server

__all__ = ["add_bench_parser", "example_of", "run_bench"]


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"`{text}` must not be negative")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"`{text}` must be more than 0 seconds")
    return value


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise argparse.ArgumentTypeError(f"`{text}` is not JSON") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"`{text}` is not a JSON object")
    return value


def add_bench_parser(commands: Any) -> None:
    """Register `pymcp bench` on the `pymcp` command's subparsers."""
    bench = commands.add_parser("bench", help="measure authorization and server speed")
    actions = bench.add_subparsers(dest="bench_command", required=True, metavar="WHAT")
    authz = actions.add_parser("authz", help="time a policy's decisions (each rule, the default, filters)")
    authz.add_argument("policy", type=Path, metavar="POLICY.json")
    authz.add_argument("--principals", type=Path, default=None, help="a JSON list of principals to use")
    authz.add_argument(
        "--tools", type=_positive, default=10_000, help="tools for filter_tools (default 10000)"
    )
    authz.add_argument("--compare", action="store_true", help="also time the pure-Python reference evaluator")
    authz.add_argument("--time", type=_seconds, default=0.2, help="seconds per case (default 0.2)")
    authz.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    server = actions.add_parser("server", help="drive an app in process: tools/list and tools/call")
    server.add_argument("app", metavar="MODULE:APP")
    server.add_argument("--token", default=None, help="a Bearer token: also measure authenticated calls")
    server.add_argument(
        "--tool", default=None, help="the tool to call (default: the first without arguments)"
    )
    server.add_argument("--arguments", type=_json_object, default=None, help="the tool's arguments (JSON)")
    server.add_argument("--calls", type=_positive, default=2000, help="calls per case (default 2000)")
    server.add_argument("--json", action="store_true", help="print one JSON object instead of a table")


def run_bench(args: argparse.Namespace) -> int:
    """Run `pymcp bench authz|server` from parsed arguments; 2 for bad input (the message on stderr)."""
    try:
        if args.bench_command == "authz":
            report = bench_authz(
                args.policy,
                principals_path=args.principals,
                tools=args.tools,
                compare=args.compare,
                budget=args.time,
            )
        else:
            report = bench_server(
                args.app, token=args.token, tool=args.tool, arguments=args.arguments, calls=args.calls
            )
    except OSError as exc:
        print(f"pymcp bench: cannot read `{exc.filename}` ({exc.strerror or exc})", file=sys.stderr)
        return 2
    except (ValueError, ImportError) as exc:
        print(f"pymcp bench: {exc}", file=sys.stderr)
        return 2
    if args.json:
        sys.stdout.write(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode() + "\n")
    elif report["benchmark"] == "authz":
        print_authz(report)
    else:
        print_server(report)
    return 0
