"""`pymcp run MODULE:APP`: serve an app over Streamable HTTP or stdio with one command.

`MODULE` is imported from the current directory first (as uvicorn does; `--app-dir` names another), so an
MCP client configuration can be one line, e.g.
`pymcp run server:app --app-dir /srv/notes --stdio --principal-subject me`. stdio carries no tokens:
a secured app needs the caller declared with `--principal-subject` (and roles, scopes), or it refuses to
start, since it would otherwise refuse every request.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any

__all__ = ["add_run_command", "load_app", "run_command"]

DEFAULT_HTTP = "127.0.0.1:8088"


class RunError(Exception):
    """A `pymcp run` that cannot start; the message says why and what to do."""


def _host_port(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"`{text}` is not HOST:PORT (for example `127.0.0.1:8088`)")
    return host.strip("[]"), int(port)


def add_run_command(commands: Any) -> None:
    """Add `run` to the `pymcp` subcommands."""
    run = commands.add_parser(
        "run",
        help="serve MODULE:APP over Streamable HTTP (default) or stdio",
        description="Serve an app made by `pymcp.create_app`. MODULE is imported from the current directory.",
    )
    run.add_argument("app", metavar="MODULE:APP", help="e.g. `server:app` for `app` in ./server.py")
    run.add_argument(
        "--app-dir",
        metavar="DIR",
        default=".",
        help="import MODULE from DIR, not the current directory (for clients that start commands elsewhere)",
    )
    transport = run.add_mutually_exclusive_group()
    transport.add_argument(
        "--http",
        metavar="HOST:PORT",
        type=_host_port,
        default=None,
        help=f"serve Streamable HTTP at /mcp (the default, on {DEFAULT_HTTP})",
    )
    transport.add_argument("--stdio", action="store_true", help="serve one client on stdin/stdout")
    run.add_argument("--principal-subject", metavar="S", help="stdio: who the client is")
    run.add_argument(
        "--principal-role", metavar="R", action="append", default=[], help="stdio: a role (repeatable)"
    )
    run.add_argument(
        "--principal-scope", metavar="X", action="append", default=[], help="stdio: a scope (repeatable)"
    )


def load_app(target: str, app_dir: str = ".") -> Any:
    """The object `MODULE:ATTRIBUTE` names, importing MODULE from `app_dir` (the current directory) first."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not module_name or not attribute:
        raise RunError(f"`{target}` is not MODULE:APP (for example `server:app` for `app` in ./server.py)")
    directory = os.path.abspath(app_dir)
    if not os.path.isdir(directory):
        raise RunError(f"`--app-dir {app_dir}` is not a directory")
    if directory not in sys.path:
        sys.path.insert(0, directory)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name != module_name.split(".")[0] and error.name != module_name:
            raise  # the module exists but one of its imports is missing: show the real error
        raise RunError(
            f"cannot import `{module_name}` from `{directory}`"
            " (run `pymcp run` from the folder that holds it,"
            " or pass `--app-dir`)"
        ) from None
    app: Any = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise RunError(f"`{module_name}` has no `{attribute}`") from None
    from pymcp.server.dispatch import Dispatcher

    if not isinstance(getattr(getattr(app, "state", None), "dispatcher", None), Dispatcher):
        raise RunError(f"`{target}` is not an app made by `pymcp.create_app`")
    return app


def _secured(app: Any) -> bool:
    gate = app.state.security_gate
    return gate is not None and (gate.require_authentication or gate.authorizer is not None)


def _principal(args: argparse.Namespace, app: Any) -> Any:
    """The principal declared for stdio (None: anonymous), or a `RunError` saying what is missing."""
    from pymcp.security.principal import Principal

    declared = args.principal_subject is not None or args.principal_role or args.principal_scope
    if not args.stdio:
        if declared:
            raise RunError(
                "`--principal-*` options are for `--stdio`: over HTTP the principal comes from the token"
            )
        return None
    if args.principal_subject is None:
        if args.principal_role or args.principal_scope:
            raise RunError("`--principal-role` and `--principal-scope` need `--principal-subject`")
        if _secured(app):
            raise RunError(
                f"`{args.app}` is secured and stdio carries no tokens: declare who the client is with"
                " `--principal-subject NAME` (and `--principal-role` / `--principal-scope` as the policy"
                " needs), or call `run_stdio_server(app, principal=Principal(...))` in your own script"
            )
        return None
    return Principal(
        subject=args.principal_subject, roles=set(args.principal_role), scopes=set(args.principal_scope)
    )


def run_command(args: argparse.Namespace) -> int:
    """Run `pymcp run`; 2 (with one line on stderr) when it cannot start."""
    from pymcp.app import check_bind, run_http_server, run_stdio_server

    host, port = args.http or _host_port(DEFAULT_HTTP)
    try:
        app = load_app(args.app, args.app_dir)
        principal = _principal(args, app)
        if not args.stdio:
            try:
                check_bind(app, host)
            except ValueError as refused:
                raise RunError(str(refused)) from None
    except RunError as error:
        print(f"pymcp run: {error}", file=sys.stderr)
        return 2
    if args.stdio:
        run_stdio_server(app, principal=principal)
        return 0
    print(f"pymcp run: serving `{args.app}` at http://{host}:{port}/mcp (Ctrl-C stops)", file=sys.stderr)
    run_http_server(app, host=host, port=port)
    return 0
