"""The `pymcp` command: `pymcp demo` runs the secure demo; `pymcp policy check|test|explain` (in
`pymcp.cli_policy`) work with policy files."""

from __future__ import annotations

import argparse
import shlex
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import orjson

from pymcp import _core
from pymcp.bench import add_bench_parser, run_bench
from pymcp.cli_policy import add_policy_commands, run_policy_command
from pymcp.cli_run import add_run_command, run_command

__all__ = ["main"]

DEFAULT_DEMO_PORT = 8088


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"`{text}` is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port `{text}` is not between 0 and 65535")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pymcp", description="Build and run secure MCP servers.")
    parser.add_argument("--version", action="version", version=f"pymcp {_core.__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    demo = commands.add_parser("demo", help="run the secure demo server on 127.0.0.1")
    demo.add_argument(
        "--port", type=_port, default=DEFAULT_DEMO_PORT, help="port (default 8088; 0 picks a free one)"
    )
    demo.add_argument(
        "--policy", type=Path, default=None, help="a policy JSON file instead of the demo's own"
    )
    add_policy_commands(commands)
    add_run_command(commands)
    add_bench_parser(commands)
    return parser


def _curl(url: str, token: str | None) -> str:
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "curl", "version": "1"},
        },
    }
    parts = [
        "curl",
        "-si",
        url,
        "-H",
        "Content-Type: application/json",
        "-H",
        "Accept: application/json, text/event-stream",
    ]
    if token is not None:
        parts += ["-H", f"Authorization: Bearer {token}"]
    parts += ["-d", orjson.dumps(initialize).decode()]
    return shlex.join(parts)


def run_demo(port: int, policy: Path | None) -> int:
    import uvicorn

    from pymcp.demo import build_demo

    try:
        demo = build_demo(policy_path=policy)
    except (OSError, ValueError) as exc:
        print(f"pymcp demo: {exc}", file=sys.stderr)
        return 2
    # IPPROTO_TCP, not 0: asyncio only sets TCP_NODELAY on such sockets (without it every answer waits ~40 ms)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(2048)  # before the banner: a curl pasted at once waits in the backlog, never refused
    except OSError:
        sock.close()
        print(f"pymcp demo: port {port} is in use (choose another with --port)", file=sys.stderr)
        return 2
    url = f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    lines = [f"pymcp demo: secure MCP server at {url}", ""]
    for user, token in demo.tokens.items():
        lines += [f"{user}'s token: {token}", f"  {_curl(url, token)}", ""]
    lines += [
        f"without a token (401):\n  {_curl(url, None)}",
        "",
        "Continue a session with the Mcp-Session-Id header the initialize answer carries. Ctrl-C stops.",
    ]
    print("\n".join(lines), flush=True)
    config = uvicorn.Config(demo.app, log_level="warning", lifespan="on", timeout_graceful_shutdown=2)
    try:
        # uvicorn shuts down gracefully on Ctrl-C / SIGTERM, then re-raises the signal it caught
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()
    print("pymcp demo: stopped", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `pymcp` console script and of `python -m pymcp`."""
    args = _parser().parse_args(argv)
    if args.command == "demo":
        return run_demo(args.port, args.policy)
    if args.command == "run":
        return run_command(args)
    if args.command == "bench":
        return run_bench(args)
    return run_policy_command(args)
