"""`create_app`: settings → registries → dispatcher → transport → security → a Starlette app."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from pymcp._allocator import pin_mmap_threshold
from pymcp._hosts import is_loopback
from pymcp.protocol.versions import versions_for_mode
from pymcp.registry.manager import RegistryManager
from pymcp.registry.tools import ToolRegistry
from pymcp.server.dispatch import Dispatcher
from pymcp.server.session import SessionManager
from pymcp.settings import MiddlewareConfig, ServerSettings
from pymcp.state import Store, open_store
from pymcp.transport.health import liveness, readiness
from pymcp.transport.http import StreamableHTTP
from pymcp.transport.http_route import MCPApp
from pymcp.transport.stdio import serve_stdio

__all__ = ["DEFAULT_LOG_FORMAT", "check_bind", "create_app", "run_http_server", "run_stdio_server"]

DEFAULT_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# create_app keyword → ServerSettings field
_SERVER_KWARGS: dict[str, str] = {
    "server_name": "name",
    "server_version": "version",
    "server_title": "title",
    "server_description": "description",
    "server_website_url": "website_url",
    "server_icons": "icons",
    "protocol_mode": "protocol_mode",
    "protocol_versions": "protocol_versions",
    "allowed_origins": "allowed_origins",
    "max_request_bytes": "max_request_bytes",
    "request_state_keys": "request_state_keys",
    "request_state_ttl_seconds": "request_state_ttl_seconds",
    "health_path": "health_path",
    "ready_path": "ready_path",
    "task_lease_seconds": "task_lease_seconds",
    "allowed_hosts": "allowed_hosts",
    "max_sessions_per_principal": "max_sessions_per_principal",
    "max_client_info_bytes": "max_client_info_bytes",
    "max_batch_length": "max_batch_length",
    "max_json_depth": "max_json_depth",
    "max_json_array_length": "max_json_array_length",
    "body_timeout": "body_timeout",
    "body_min_rate": "body_min_rate",
    "max_tasks_per_principal": "max_tasks_per_principal",
    "max_tasks": "max_tasks",
    "max_stored_tasks_per_principal": "max_stored_tasks_per_principal",
    "max_task_argument_bytes": "max_task_argument_bytes",
    "max_task_result_bytes": "max_task_result_bytes",
    "store_pool_size": "store_pool_size",
    "store_pool_timeout": "store_pool_timeout",
    "malloc_mmap_threshold": "malloc_mmap_threshold",
}
_MIDDLEWARE_KWARGS: frozenset[str] = frozenset(f.name for f in dataclasses.fields(MiddlewareConfig))
# What a browser client may send by default; `Mcp-Param-*` headers are added per tool (`_ToolHeaderCORS`).
_MCP_HEADERS = [
    "Accept",
    "Authorization",
    "Content-Type",
    "Last-Event-ID",
    "MCP-Protocol-Version",
    "Mcp-Method",
    "Mcp-Name",
    "Mcp-Session-Id",
]


def _merge(current: Any, updates: Mapping[str, Any], what: str) -> Any:
    """Apply keyword arguments to a settings dataclass: a field keeps its value when both agree, takes the
    keyword when the dataclass left it at its default, and a real disagreement is a `TypeError`."""
    defaults = type(current)()
    changes: dict[str, Any] = {}
    for name, value in updates.items():
        present = getattr(current, name)
        if present == value:
            continue
        if present != getattr(defaults, name):
            raise TypeError(f"`{name}` is set differently by `{what}` and by a keyword argument; set it once")
        changes[name] = value
    return dataclasses.replace(current, **changes) if changes else current


def _server_settings(settings: ServerSettings | None, kwargs: Mapping[str, Any]) -> ServerSettings:
    updates = {_SERVER_KWARGS[key]: value for key, value in kwargs.items()}
    if settings is None:
        return ServerSettings(**updates)
    if "protocol_mode" in updates and tuple(settings.protocol_versions or ()) == versions_for_mode(
        settings.protocol_mode
    ):
        # The versions were derived from the old mode: let the new mode derive them again.
        settings = dataclasses.replace(settings, protocol_versions=None, initializable_protocol_versions=None)
    return _merge(settings, updates, "server_settings")  # type: ignore[no-any-return]


def _middleware_config(config: MiddlewareConfig | None, kwargs: Mapping[str, Any]) -> MiddlewareConfig:
    if config is None:
        return MiddlewareConfig(**kwargs)
    return _merge(config, kwargs, "middleware_config")  # type: ignore[no-any-return]


def _param_headers(tools: ToolRegistry) -> list[str]:
    """The `Mcp-Param-*` headers the registered tools' `x-mcp-header` annotations ask clients to send."""
    return sorted({f"Mcp-Param-{name}" for tool in tools.list() for name in tool.header_map.values()})


class _ToolHeaderCORS:
    """CORS with the default allowed headers: the MCP ones plus each tool's `Mcp-Param-*` headers,
    recomputed when the tools change (a preflight for a tool registered after `create_app` passes)."""

    def __init__(self, app: ASGIApp, tools: ToolRegistry, options: Mapping[str, Any]) -> None:
        self.app = app
        self.tools = tools
        self.options = dict(options)
        self.generation, self.cors = self._build()

    def _build(self) -> tuple[int, CORSMiddleware]:
        headers = [*_MCP_HEADERS, *_param_headers(self.tools)]
        return self.tools.generation, CORSMiddleware(self.app, allow_headers=headers, **self.options)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.generation != self.tools.generation:
            self.generation, self.cors = self._build()
        await self.cors(scope, receive, send)


def _cors(config: Mapping[str, Any], tools: ToolRegistry) -> Middleware:
    """CORS from the `cors` config; an `allow_headers` given there replaces the computed list."""
    options = dict(config)
    origins = list(options.get("allow_origins", []))
    credentials = bool(options.get("allow_credentials", False))
    if credentials and ("*" in origins or options.get("allow_origin_regex")):
        raise ValueError(
            "cors: `allow_credentials` cannot be combined with `*` or a regex in `allow_origins`"
        )
    options["allow_origins"] = origins
    options.setdefault("allow_methods", ["GET", "POST", "DELETE", "OPTIONS"])
    options["expose_headers"] = sorted(
        {*options.get("expose_headers", []), "Mcp-Session-Id", "WWW-Authenticate"}
    )
    if "allow_headers" in options:
        return Middleware(CORSMiddleware, **options)
    return Middleware(_ToolHeaderCORS, tools=tools, options=options)


def _custom(entries: Sequence[Any]) -> list[Middleware]:
    middleware: list[Middleware] = []
    for entry in entries:
        if isinstance(entry, Middleware):
            middleware.append(entry)
        elif isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], Mapping):
            middleware.append(Middleware(entry[0], **entry[1]))
        elif callable(entry):
            middleware.append(Middleware(entry))
        else:
            raise TypeError(
                f"custom middleware must be a class, a `(class, options)` pair or a `Middleware`: `{entry!r}`"
            )
    return middleware


def _configure_logging(config: Mapping[str, Any] | None) -> None:
    """Configure the `pymcp` logger only when asked; nothing is logged per request either way."""
    if config is None:
        return
    package_logger = logging.getLogger("pymcp")
    package_logger.setLevel(str(config.get("level", "INFO")).upper())
    if not any(getattr(handler, "_pymcp", False) for handler in package_logger.handlers):
        handler = logging.StreamHandler()
        handler._pymcp = True  # type: ignore[attr-defined]
        handler.setFormatter(logging.Formatter(str(config.get("format", DEFAULT_LOG_FORMAT))))
        package_logger.addHandler(handler)


def _security_gate(config: MiddlewareConfig, settings: ServerSettings) -> Any:
    from pymcp.security.gate import SecurityGate

    return SecurityGate.from_config(
        authn=config.authn,
        authz=config.authz,
        require_authn=config.require_authn,
        auth_exempt_paths=config.auth_exempt_paths
        if config.auth_exempt_paths is not None
        else _default_exempt_paths(settings),
        oauth=config.oauth,
        allowed_hosts=settings.allowed_hosts,
    )


def _default_exempt_paths(settings: ServerSettings) -> list[str]:
    """The health document and the probes: load balancers and orchestrators call them without tokens."""
    return ["/", *(path for path in (settings.health_path, settings.ready_path) if path is not None)]


def _task_engine(settings: ServerSettings, store: Store) -> Any:
    """The engine behind `tasks/*`, when tasks are enabled."""
    if not settings.capabilities.tasks_enabled:
        return None
    from pymcp.tasks.engine import TaskEngine

    return TaskEngine(
        store,
        page_size=settings.capabilities.list_page_size,
        lease_ms=round(settings.task_lease_seconds * 1000),
        max_running_per_owner=settings.max_tasks_per_principal,
        max_running=settings.max_tasks,
        max_result_bytes=settings.max_task_result_bytes,
        max_kept_per_owner=settings.max_stored_tasks_per_principal,
    )


def create_app(
    middleware_config: MiddlewareConfig | None = None,
    server_settings: ServerSettings | None = None,
    *,
    store: str | Store | None = None,
    **kwargs: Any,
) -> Starlette:
    """An ASGI app serving MCP at `/mcp` (Streamable HTTP) and a health document at `/`: a Starlette app
    (`pymcp.transport.http_route.MCPApp`, which serves `/mcp` past Starlette's own layers while nothing
    added to the app needs them).

    Keyword arguments are those of pymcp-kit 0.3.0 (server: `server_name`, `server_version`, `server_title`,
    `server_description`, `server_website_url`, `server_icons`, `protocol_mode`, `protocol_versions`, plus
    `allowed_origins`, `max_request_bytes`, `request_state_keys`, `request_state_ttl_seconds` and
    `task_lease_seconds`; middleware: the fields of `MiddlewareConfig`). They merge
    with `server_settings` / `middleware_config`; an unknown or conflicting keyword is a `TypeError`.
    The global registries are copied now: register later through `get_registry_manager(app)`.

    `store` holds tasks and sessions: `None`/`"memory"` (this process only), a `redis://` URL, or a
    `redis+cluster://` URL of a Redis Cluster (every worker pointed at it serves every session and task;
    needs `pymcp-kit[redis]`; see `pymcp.state.open_store`), or a `Store` object, which the caller
    closes (a URL's connection is closed with the app).
    """
    unknown = sorted(key for key in kwargs if key not in _SERVER_KWARGS and key not in _MIDDLEWARE_KWARGS)
    if unknown:
        names = ", ".join(f"`{key}`" for key in unknown)
        raise TypeError(f"create_app() got unexpected keyword argument(s): {names}")
    settings = _server_settings(server_settings, {k: v for k, v in kwargs.items() if k in _SERVER_KWARGS})
    config = _middleware_config(
        middleware_config, {k: v for k, v in kwargs.items() if k in _MIDDLEWARE_KWARGS}
    )
    _configure_logging(config.logging)
    gate = _security_gate(config, settings)
    registries = RegistryManager.snapshot_globals()
    state_store = open_store(
        store, pool_size=settings.store_pool_size, pool_timeout=settings.store_pool_timeout
    )
    task_engine = _task_engine(settings, state_store)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pin_mmap_threshold(settings.malloc_mmap_threshold)
        await sessions.start()
        if task_engine is not None:
            await task_engine.start()
        policy_reloader = getattr(config.authz, "reloader", None)  # RuleBasedAuthorizer.from_file(...)
        if policy_reloader is not None:
            policy_reloader.start()
        yield
        if policy_reloader is not None:
            await policy_reloader.aclose()
        # Ends open SSE streams (and 2026-07-28 listen streams) so the server can stop.
        dispatcher.close_listeners()
        await sessions.aclose()
        await _close_state(app)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "status": "ok",
                "server": settings.server_info(),
                "transport": {"streamableHttp": "/mcp", "stdio": True},
            }
        )

    middleware: list[Middleware] = _custom(config.custom or [])
    if (config.compression or {}).get("enabled"):
        middleware.append(
            Middleware(GZipMiddleware, minimum_size=int((config.compression or {}).get("minimum_size", 500)))
        )
    if config.cors is not None:
        middleware.append(_cors(config.cors, registries.tools))
    if gate is not None:
        from pymcp.security.middleware import SecurityMiddleware

        middleware.append(Middleware(SecurityMiddleware, gate))
    routes = [Route("/", health, methods=["GET"])]
    if settings.health_path is not None:
        routes.append(Route(settings.health_path, liveness, methods=["GET"]))
    if settings.ready_path is not None:
        routes.append(Route(settings.ready_path, readiness, methods=["GET"]))
    app = MCPApp(routes=routes, middleware=middleware, lifespan=lifespan)
    dispatcher = Dispatcher(
        app=app, settings=settings, registries=registries, gate=gate, task_engine=task_engine
    )

    sessions = SessionManager(
        store=state_store,
        max_per_principal=settings.max_sessions_per_principal,
        idle_seconds=settings.session_idle_timeout,
        handshake_seconds=settings.session_handshake_timeout,
        history_limit=settings.sse_history_limit,
        queue_size=settings.session_queue_size,
    )
    sessions.add_listener(dispatcher)
    endpoint = StreamableHTTP(dispatcher, sessions, settings)
    app.router.routes.insert(0, Route("/mcp", endpoint))
    app.route_mcp(endpoint, own_middleware=not config.custom)  # innermost: /mcp skips the router
    app.state.server_settings = settings
    app.state.middleware_config = config
    app.state.registry_manager = registries
    app.state.session_manager = sessions
    app.state.dispatcher = dispatcher
    app.state.task_engine = task_engine
    app.state.state_store = state_store
    app.state.owns_state_store = state_store is not store
    app.state.security_gate = gate
    return app


async def _close_state(app: Any) -> None:
    """Stop the task engine (failing the tasks still running here), then close the store if we opened it."""
    if app.state.task_engine is not None:
        await app.state.task_engine.aclose()
    if app.state.owns_state_store:
        await app.state.state_store.aclose()


def check_bind(app: Any, host: str) -> None:
    """Raise `ValueError` when `host` reaches beyond this machine and `app` names no `allowed_hosts`."""
    settings = getattr(getattr(app, "state", None), "server_settings", None)
    if not is_loopback(host) and not getattr(settings, "allowed_hosts", None):
        raise ValueError(
            f"binding `{host}` reaches beyond this machine: set `allowed_hosts` (the host names clients "
            "use, in `ServerSettings(allowed_hosts=[...])`; DNS rebinding protection)"
        )


def run_http_server(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8088,
    timeout_graceful_shutdown: int = 2,
    **kwargs: Any,
) -> None:
    """Serve `app` with uvicorn. Binds 127.0.0.1 by default (0.3.0 bound every interface): pass
    `host="0.0.0.0"` to accept remote clients, and then configure authentication and `allowed_hosts` (required
    there: a `ValueError` otherwise)."""
    check_bind(app, host)
    kwargs.setdefault("log_level", "warning")
    uvicorn.run(app, host=host, port=port, timeout_graceful_shutdown=timeout_graceful_shutdown, **kwargs)


def run_stdio_server(
    app: Any, *, principal: Any = None, input_stream: Any = None, output_stream: Any = None
) -> None:
    """Serve `app` to one client over stdin/stdout (newline-delimited JSON-RPC) until end of input.

    stdio has no authentication: `principal` declares who the caller is, and requests are authorized as it.
    """
    dispatcher = getattr(getattr(app, "state", None), "dispatcher", None)
    if not isinstance(dispatcher, Dispatcher):
        raise TypeError("run_stdio_server() needs an app made by `pymcp.create_app`")

    reloader = getattr(app.state.middleware_config.authz, "reloader", None)  # RuleBasedAuthorizer.from_file
    telemetry = getattr(app.state, "telemetry", None)  # pymcp.telemetry.instrument_app
    if telemetry is not None:
        telemetry.network_transport = "pipe"

    async def serve() -> None:
        pin_mmap_threshold(dispatcher.settings.malloc_mmap_threshold)
        if reloader is not None:
            reloader.start()
        try:
            await serve_stdio(
                dispatcher,
                principal=principal,
                input_stream=input_stream,
                output_stream=output_stream,
                max_line_bytes=dispatcher.settings.max_request_bytes,
            )
        finally:
            if reloader is not None:
                await reloader.aclose()
            await _close_state(app)

    asyncio.run(serve())
