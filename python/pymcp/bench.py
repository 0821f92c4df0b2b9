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
import asyncio
import importlib
import re
import sys
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

__all__ = ["add_bench_parser", "run_bench"]

# -- timing ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """Per-operation times (seconds) of one case: each sample is the mean of one batch."""

    operations: int
    seconds: float
    samples: tuple[float, ...]

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds if self.seconds > 0 else float("inf")

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def as_json(self) -> dict[str, float]:
        return {
            "operations": self.operations,
            "per_second": round(self.per_second, 1),
            "mean_ns": round(self.seconds / self.operations * 1e9, 1),
            "p50_ns": round(self.percentile(0.50) * 1e9, 1),
            "p99_ns": round(self.percentile(0.99) * 1e9, 1),
        }


def time_calls(
    operation: Callable[[], object], budget: float, *, batch: int, min_batches: int = 20
) -> Timing:
    """Run `operation` in batches of `batch` until `budget` seconds are spent (at least `min_batches`)."""
    operation()  # warm caches (the principal's binding, compiled globs)
    clock = time.perf_counter
    samples: list[float] = []
    spent = 0.0
    while spent < budget or len(samples) < min_batches:
        start = clock()
        for _ in range(batch):
            operation()
        elapsed = clock() - start
        spent += elapsed
        samples.append(elapsed / batch)
    return Timing(len(samples) * batch, spent, tuple(samples))


class _Progress:
    """`[3/25] rule 1 hit` on stderr: rewritten in place on a terminal, one line each otherwise."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.tty = sys.stderr.isatty()

    def step(self, label: str) -> None:
        self.done += 1
        line = f"pymcp bench: [{self.done}/{self.total}] {label}"
        if self.tty:
            sys.stderr.write(f"\r\x1b[K{line}")
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _format_ns(seconds: float) -> str:
    nanoseconds = seconds * 1e9
    if nanoseconds < 10_000:
        return f"{nanoseconds:,.0f} ns"
    if nanoseconds < 10_000_000:
        return f"{nanoseconds / 1e3:,.1f} µs"
    return f"{nanoseconds / 1e6:,.1f} ms"


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    rows = [list(header), *(list(row) for row in rows)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(header))]
    lines = []
    for number, row in enumerate(rows):
        cells = [cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
        if number == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(lines)


# -- authz -------------------------------------------------------------------------------------------

_TARGET_METHODS = {"tool": "tools/call", "prompt": "prompts/get", "resource": "resources/read"}


def example_of(glob: str, filler: str = "x") -> str:
    """A name that `glob` (an `fnmatch` pattern) matches: `*` → `filler`, `?` → `x`, a class → a member."""
    out: list[str] = []
    index = 0
    while index < len(glob):
        char = glob[index]
        if char == "*":
            out.append(filler)
        elif char == "?":
            out.append("x")
        elif char == "[":
            end = glob.find("]", index + 2)
            if end < 0:
                out.append("[")
            else:
                members = glob[index + 1 : end]
                if members.startswith("!"):
                    excluded = members[1:]
                    out.append(
                        next(c for c in "xyzabc0123_" if c not in excluded and not _in_range(c, excluded))
                    )
                else:
                    out.append(members[0])
                index = end
        else:
            out.append(char)
        index += 1
    return "".join(out)


def _in_range(char: str, members: str) -> bool:
    return any(
        members[i + 1] == "-" and i + 2 < len(members) and members[i] <= char <= members[i + 2]
        for i in range(len(members) - 1)
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _principal_for(rule: Mapping[str, Any], index: int) -> Any:
    """A principal the rule applies to, built from its first condition (None: anonymous will do)."""
    from pymcp.security.principal import Principal

    subjects = _as_list(rule.get("allow_subjects"))
    roles = _as_list(rule.get("allow_roles"))
    scopes = _as_list(rule.get("allow_scopes"))
    claims = rule.get("allow_claims") or {}
    if not (subjects or roles or scopes or claims):
        return None
    name = f"bench-rule-{index}"
    if subjects:
        return Principal(subjects[0])
    if roles:
        return Principal(name, roles={roles[0]})
    if scopes:
        return Principal(name, scopes={example_of(scopes[0])})
    claim, values = next(iter(claims.items()))
    return Principal(name, claims={claim: _as_list(values)[0]})


@dataclass(slots=True)
class AuthzCase:
    name: str
    principal: Any
    method: str
    target: str | None
    allowed: bool = False
    rule_index: int | None = None
    timing: Timing | None = None
    reference: Timing | None = None
    agrees: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


def _load_principals(path: Path | None) -> list[Any]:
    """`--principals FILE`: a JSON list of `{subject, roles?, scopes?, claims?, display_name?}` or null."""
    from pymcp.security.principal import Principal

    if path is None:
        return []
    try:
        raw = orjson.loads(Path(path).read_bytes())
    except orjson.JSONDecodeError as error:
        raise ValueError(f"principals file `{path}` is not valid UTF-8 JSON: {error}") from None
    if not isinstance(raw, list):
        raise ValueError(f"principals file `{path}` must hold a JSON list")
    principals: list[Any] = []
    for number, item in enumerate(raw):
        if item is None:
            principals.append(None)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("subject"), str) or not item["subject"]:
            raise ValueError(f"principal {number} in `{path}` must be null or an object with a `subject`")
        unknown = set(item) - {"subject", "display_name", "roles", "scopes", "claims"}
        if unknown:
            raise ValueError(f"principal {number} in `{path}` has unknown key `{sorted(unknown)[0]}`")
        for key in ("roles", "scopes"):
            values = item.get(key, [])
            if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
                raise ValueError(f"principal {number} in `{path}`: `{key}` must be a list of strings")
        if not isinstance(item.get("claims", {}), dict):
            raise ValueError(f"principal {number} in `{path}`: `claims` must be an object")
        principals.append(
            Principal(
                item["subject"],
                display_name=item.get("display_name"),
                roles=set(_as_list(item.get("roles"))),
                scopes=set(_as_list(item.get("scopes"))),
                claims=dict(item.get("claims") or {}),
            )
        )
    return principals


def authz_cases(config: Mapping[str, Any], principals: Sequence[Any]) -> list[AuthzCase]:
    """Each rule's hit and miss, and the default effect (when some request reaches it)."""
    from pymcp.security.principal import Principal
    from pymcp.security.reference import ReferencePolicy, fnmatchcase

    reference = ReferencePolicy(config)
    rules = reference.rules  # with the camelCase aliases resolved
    nobody = Principal("bench-nobody")
    cases: list[AuthzCase] = []
    for index, rule in enumerate(rules):
        methods = _as_list(rule.get("methods"))
        kind = next((key for key in _TARGET_METHODS if key in rule), None)
        if kind is not None:
            method = _TARGET_METHODS[kind]
            if not any(fnmatchcase(method, glob) for glob in methods):
                continue  # the rule can never match: nothing to time
            target: str | None = example_of(str(rule[kind]))
        else:
            method, target = example_of(str(methods[0]) if methods else "x"), None
        effect = str(rule.get("effect", "allow")).lower()
        who = next((p for p in principals if reference.applies(index, p)), _principal_for(rule, index))
        cases.append(AuthzCase(f"rule {index} ({effect}) hit", who, method, target))
        strangers = [p for p in [*principals, nobody, None] if not reference.applies(index, p)]
        if strangers:
            cases.append(AuthzCase(f"rule {index} ({effect}) miss", strangers[0], method, target))
        elif target is not None:  # the rule applies to everyone: miss its target instead
            cases.append(AuthzCase(f"rule {index} ({effect}) miss", who, method, target + "\x00miss"))
    caller = principals[0] if principals else nobody
    for method in ("pymcp-bench/unmatched", "tools/call"):
        for target in (None, "\x00unmatched"):
            if reference.decide(caller, method, target).rule_index is None:
                cases.append(AuthzCase(f"default ({reference.default_effect})", caller, method, target))
                return cases
    return cases


def _principal_for_all(rules: Sequence[Mapping[str, Any]]) -> Any:
    """One principal every rule with conditions applies to (for the filter: it sees the most)."""
    from pymcp.security.principal import Principal

    subject, roles, scopes, claims = "bench-everyone", set(), set(), {}
    for index, rule in enumerate(rules):
        made = _principal_for(rule, index)
        if made is None:
            continue
        if not made.subject.startswith("bench-"):
            subject = made.subject
        roles |= made.roles
        scopes |= made.scopes
        claims.update(made.claims)
    return Principal(subject, roles=roles, scopes=scopes, claims=claims)


def _generated_tools(config: Mapping[str, Any], count: int) -> list[dict[str, Any]]:
    """`count` tools named after the policy's tool globs (distinct names), every tenth matching none."""
    globs = [str(rule["tool"]) for rule in config.get("rules") or () if isinstance(rule.get("tool"), str)]
    tools = []
    for index in range(count):
        if globs and index % 10 != 9:
            name = example_of(globs[index * 7 % len(globs)], filler=f"t{index}")
        else:
            name = f"bench_unlisted_{index}"
        tools.append({"name": name, "inputSchema": {"type": "object"}})
    return tools


def bench_authz(
    policy_path: Path,
    *,
    principals_path: Path | None = None,
    tools: int = 10_000,
    compare: bool = False,
    budget: float = 0.2,
) -> dict[str, Any]:
    from pymcp.security.authz import AuthorizationError, AuthzRequest
    from pymcp.security.reference import ReferencePolicy
    from pymcp.security.rules import RuleBasedAuthorizer, load_json_config

    config = load_json_config(policy_path)
    authz = RuleBasedAuthorizer(config)
    reference = ReferencePolicy(config)
    principals = _load_principals(principals_path)
    cases = authz_cases(config, principals)
    generated = _generated_tools(config, tools)
    progress = _Progress(len(cases) + (1 if tools else 0))
    for case in cases:
        progress.step(case.name)
        request = AuthzRequest(
            rpc_method=case.method,
            tool_name=case.target if case.method == "tools/call" else None,
            prompt_name=case.target if case.method == "prompts/get" else None,
            resource_uri=case.target if case.method == "resources/read" else None,
        )
        decision = authz.explain(case.principal, request)
        case.allowed, case.rule_index = decision.allowed, decision.rule_index

        def authorize(principal: Any = case.principal, request: AuthzRequest = request) -> None:
            try:  # noqa: SIM105 (contextlib.suppress would add its own cost to what is measured)
                authz.authorize(principal, request)
            except AuthorizationError:
                pass

        case.timing = time_calls(authorize, budget, batch=100)
        if compare:
            expected = reference.decide(case.principal, case.method, case.target)
            case.agrees = (expected.allowed, expected.rule_index) == (case.allowed, case.rule_index)

            def decide(c: AuthzCase = case) -> object:
                return reference.decide(c.principal, c.method, c.target)

            case.reference = time_calls(decide, budget, batch=5, min_batches=3)
    filter_case: AuthzCase | None = None
    if tools:
        progress.step(f"filter_tools over {tools:,} tools")
        caller = principals[0] if principals else _principal_for_all(reference.rules)
        filter_case = AuthzCase(f"filter_tools ({tools:,} tools)", caller, "tools/call", None)
        kept = authz.filter_tools(caller, generated)
        filter_case.extra["kept"] = len(kept)
        filter_case.timing = time_calls(
            lambda: authz.filter_tools(caller, generated), budget, batch=1, min_batches=5
        )
        if compare:
            names = [tool["name"] for tool in generated]
            expected_kept = (
                len(reference.filter(caller, "tools/call", names)) if authz.hide_unauthorized_tools else tools
            )
            filter_case.agrees = expected_kept == len(kept)
            filter_case.reference = time_calls(  # seconds per call: once is enough
                lambda: reference.filter(caller, "tools/call", names), budget, batch=1, min_batches=1
            )
    progress.close()
    return _authz_report(policy_path, cases, filter_case, tools)


def _authz_report(
    policy_path: Path, cases: list[AuthzCase], filter_case: AuthzCase | None, tools: int
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for case in [*cases, *([filter_case] if filter_case else [])]:
        assert case.timing is not None
        row: dict[str, Any] = {
            "case": case.name,
            "method": case.method,
            "target": case.target,
            "subject": getattr(case.principal, "subject", None),
        }
        if case is filter_case:
            row["kept"] = case.extra["kept"]
            row["decisions_per_second"] = round(case.timing.per_second * tools, 1)
        else:
            row["decision"] = "allow" if case.allowed else "deny"
            row["rule_index"] = case.rule_index
            row["decisions_per_second"] = round(case.timing.per_second, 1)
        row["timing"] = case.timing.as_json()
        if case.reference is not None:
            row["reference"] = case.reference.as_json()
            row["speedup"] = round(
                case.reference.seconds / case.reference.operations * case.timing.per_second, 1
            )
            row["agrees"] = case.agrees
        rows.append(row)
    return {"benchmark": "authz", "policy": str(policy_path), "cases": rows}


def _print_authz(report: Mapping[str, Any]) -> None:
    compare = any("reference" in row for row in report["cases"])
    header = ["case", "decision", "decisions/s", "p50", "p99"]
    if compare:
        header += ["reference p50", "speed-up"]
    rows = []
    for row in report["cases"]:
        timing = row["timing"]
        decision = row.get("decision", f"{row.get('kept', 0):,} kept")
        if row.get("rule_index") is not None:
            decision += f" (rule {row['rule_index']})"
        elif "decision" in row:
            decision += " (default)"
        cells = [
            row["case"],
            decision,
            f"{row['decisions_per_second']:,.0f}",
            _format_ns(timing["p50_ns"] / 1e9),
            _format_ns(timing["p99_ns"] / 1e9),
        ]
        if compare:
            if "reference" in row:
                mark = "" if row["agrees"] else " MISMATCH"
                cells += [_format_ns(row["reference"]["p50_ns"] / 1e9), f"{row['speedup']:,.1f}x{mark}"]
            else:
                cells += ["-", "-"]
        rows.append(cells)
    print(f"pymcp bench authz {report['policy']}: authorize(principal, AuthzRequest) per decision\n")
    print(_table(header, rows))


# -- server ------------------------------------------------------------------------------------------

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [MutableMapping[str, Any], Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]],
    Awaitable[None],
]

SESSION_VERSION = "2025-11-25"
STATELESS_VERSION = "2026-07-28"


def load_app(spec: str) -> Any:
    """`module:attribute` (the current directory is importable, as for uvicorn)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"`{spec}` is not `MODULE:APP` (for example `server:app`)")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    module = importlib.import_module(module_name)
    try:
        app = getattr(module, attribute)
    except AttributeError:
        raise ValueError(f"module `{module_name}` has no `{attribute}`") from None
    if not callable(app):
        raise ValueError(f"`{spec}` is not an ASGI app")
    return app


class InProcessClient:
    """Calls an ASGI app directly: one prepared scope per request, the body in one message, no sockets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lifespan: asyncio.Task[None] | None = None
        self._shutdown: asyncio.Queue[Message] = asyncio.Queue()

    async def start(self) -> None:
        started: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue: asyncio.Queue[Message] = self._shutdown
        queue.put_nowait({"type": "lifespan.startup"})

        async def send(message: Message) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.failed" and not started.done():
                lines = str(message.get("message") or "").strip().splitlines() or ["no reason given"]
                started.set_exception(ValueError(f"the app failed to start: {lines[-1]}"))
            elif kind == "lifespan.startup.complete" and not started.done():
                started.set_result(None)

        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._lifespan = asyncio.ensure_future(self.app(scope, queue.get, send))
        done, _ = await asyncio.wait((started, self._lifespan), return_when=asyncio.FIRST_COMPLETED)
        if started in done:
            started.result()
        elif not started.done():
            started.cancel()  # an app without lifespan support returned at once

    async def stop(self) -> None:
        if self._lifespan is not None and not self._lifespan.done():
            self._shutdown.put_nowait({"type": "lifespan.shutdown"})
            await asyncio.wait_for(self._lifespan, 10)

    def prepare(
        self, headers: Mapping[str, str], body: bytes
    ) -> Callable[[], Awaitable[tuple[int, dict[bytes, bytes], bytes]]]:
        """A function that POSTs `body` to `/mcp` with `headers` and returns status, headers and body."""
        raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
        ]
        raw_headers.append((b"content-length", b"%d" % len(body)))
        template = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/mcp",
            "raw_path": b"/mcp",
            "root_path": "",
            "query_string": b"",
            "headers": raw_headers,
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        request_message = {"type": "http.request", "body": body, "more_body": False}
        app = self.app

        async def call() -> tuple[int, dict[bytes, bytes], bytes]:
            sent = False
            status = 0
            response_headers: dict[bytes, bytes] = {}
            chunks: list[bytes] = []

            async def receive() -> Message:
                nonlocal sent
                if not sent:
                    sent = True
                    return request_message
                await asyncio.Event().wait()  # the client never goes away while we wait for the answer
                return {"type": "http.disconnect"}

            async def send(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                    response_headers.update(message.get("headers") or ())
                elif message["type"] == "http.response.body":
                    chunks.append(message.get("body", b""))

            await app(dict(template), receive, send)
            return status, response_headers, b"".join(chunks)

        return call


def _rpc(request_id: int, method: str, params: dict[str, Any]) -> bytes:
    return orjson.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params})


def _stateless_params(params: dict[str, Any]) -> dict[str, Any]:
    from pymcp.protocol.stateless.envelope import (
        CLIENT_CAPABILITIES_KEY,
        CLIENT_INFO_KEY,
        PROTOCOL_VERSION_KEY,
    )

    meta = {
        PROTOCOL_VERSION_KEY: STATELESS_VERSION,
        CLIENT_INFO_KEY: {"name": "pymcp-bench", "version": "1"},
        CLIENT_CAPABILITIES_KEY: {},
    }
    return {**params, "_meta": meta}


def _reply_error(status: int, body: bytes) -> str | None:
    """Why a reply is not a success (None when it is one)."""
    text = body
    if body.startswith(b"event:") or b"\ndata: " in body:
        found = re.findall(rb"^data: (.*)$", body, re.MULTILINE)
        text = found[-1] if found else b"{}"
    try:
        parsed = orjson.loads(text) if text else {}
    except orjson.JSONDecodeError:
        return f"HTTP {status}: the reply is not JSON"
    error = parsed.get("error") if isinstance(parsed, dict) else None
    if isinstance(error, dict):
        return f"HTTP {status}: {error.get('message')}"
    if status >= 300:
        return f"HTTP {status}"
    result = parsed.get("result") if isinstance(parsed, dict) else None
    if isinstance(result, dict) and result.get("isError"):
        return f"HTTP {status}: the tool reported an error"
    return None


async def _session_headers(client: InProcessClient, base: dict[str, str]) -> dict[str, str] | str:
    """Headers of an initialized 2025-11-25 session (or why it could not be opened)."""
    init = _rpc(
        0,
        "initialize",
        {
            "protocolVersion": SESSION_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "pymcp-bench", "version": "1"},
        },
    )
    status, headers, body = await client.prepare(base, init)()
    problem = _reply_error(status, body)
    if problem is not None:
        return problem
    session = {
        **base,
        "mcp-session-id": headers[b"mcp-session-id"].decode(),
        "mcp-protocol-version": SESSION_VERSION,
    }
    notification = orjson.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    await client.prepare(session, notification)()
    return session


async def _pick_tool(client: InProcessClient, headers: dict[str, str]) -> str | None:
    """The first listed tool that needs no arguments."""
    status, _, body = await client.prepare(headers, _rpc(1, "tools/list", {}))()
    if status != 200:
        return None
    for tool in orjson.loads(body).get("result", {}).get("tools", []):
        if not tool.get("inputSchema", {}).get("required"):
            return str(tool["name"])
    return None


async def _bench_server(
    app: ASGIApp, *, token: str | None, tool: str | None, arguments: dict[str, Any], calls: int
) -> list[dict[str, Any]]:
    from pymcp.protocol.stateless.headers import encode_header_value

    client = InProcessClient(app)
    await client.start()
    rows: list[dict[str, Any]] = []
    try:
        base = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
        modes = [("anonymous", base)]
        if token is not None:
            modes.append(("token", {**base, "authorization": f"Bearer {token}"}))
        plans: list[
            tuple[str, str, str, Callable[[], Awaitable[tuple[int, dict[bytes, bytes], bytes]]] | str]
        ] = []
        for auth, headers in modes:
            session = await _session_headers(client, headers)
            chosen = tool
            if chosen is None and not isinstance(session, str):
                chosen = await _pick_tool(client, session)
            call_params = {"name": chosen, "arguments": arguments} if chosen is not None else None
            for method, params in (("tools/list", {}), ("tools/call", call_params)):
                label = f"{method} {chosen}" if method == "tools/call" and chosen else method
                if params is None:
                    why = session if isinstance(session, str) else "no tool without arguments (use --tool)"
                    plans += [
                        (version, auth, method, why) for version in (SESSION_VERSION, STATELESS_VERSION)
                    ]
                    continue
                if isinstance(session, str):
                    plans.append((SESSION_VERSION, auth, label, session))
                else:
                    plans.append(
                        (SESSION_VERSION, auth, label, client.prepare(session, _rpc(2, method, params)))
                    )
                stateless = {**headers, "mcp-protocol-version": STATELESS_VERSION, "mcp-method": method}
                if method == "tools/call":
                    stateless["mcp-name"] = encode_header_value(str(chosen))
                plans.append(
                    (
                        STATELESS_VERSION,
                        auth,
                        label,
                        client.prepare(stateless, _rpc(2, method, _stateless_params(params))),
                    )
                )
        progress = _Progress(len(plans))
        for version, auth, label, plan in plans:
            progress.step(f"{label} ({version}, {auth})")
            row: dict[str, Any] = {"method": label, "revision": version, "auth": auth}
            rows.append(row)
            if isinstance(plan, str):
                row["skipped"] = plan
                continue
            status, _, body = await plan()
            problem = _reply_error(status, body)
            if problem is not None:
                row["skipped"] = problem
                continue
            clock = time.perf_counter
            samples = []
            started = clock()
            for _ in range(calls):
                begin = clock()
                await plan()
                samples.append(clock() - begin)
            timing = Timing(calls, clock() - started, tuple(samples))
            row["timing"] = timing.as_json()
        progress.close()
    finally:
        await client.stop()
    return rows


def bench_server(
    spec: str,
    *,
    token: str | None = None,
    tool: str | None = None,
    arguments: dict[str, Any] | None = None,
    calls: int = 2000,
) -> dict[str, Any]:
    app = load_app(spec)
    rows = asyncio.run(_bench_server(app, token=token, tool=tool, arguments=arguments or {}, calls=calls))
    return {"benchmark": "server", "app": spec, "calls": calls, "cases": rows}


def _print_server(report: Mapping[str, Any]) -> None:
    rows = []
    for row in report["cases"]:
        name = f"{row['method']} ({row['revision']}, {row['auth']})"
        if "skipped" in row:
            rows.append([name, "-", "-", "-", f"skipped: {row['skipped']}"])
            continue
        timing = row["timing"]
        rows.append(
            [
                name,
                f"{timing['per_second']:,.0f}",
                f"{timing['mean_ns'] / 1e3:,.1f}",
                _format_ns(timing["p50_ns"] / 1e9),
                _format_ns(timing["p99_ns"] / 1e9),
            ]
        )
    print(f"pymcp bench server {report['app']}: in process, no sockets, {report['calls']:,} calls per case\n")
    print(_table(["case", "calls/s", "µs/call", "p50", "p99"], rows))


# -- the command -------------------------------------------------------------------------------------


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
        _print_authz(report)
    else:
        _print_server(report)
    return 0
