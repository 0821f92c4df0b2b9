"""create_app: keyword arguments, merging with settings objects, CORS, health, session ownership."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.responses import JSONResponse

from pymcp import CapabilitySettings, MiddlewareConfig, ServerSettings, create_app
from pymcp.security.principal import Principal
from pymcp.state import MemoryStore
from server.conftest import build_app
from server.mcp_client import McpClient, initialize_message
from support.server import serve
from support.waiting import FakeClock


def test_unknown_keyword_is_a_type_error_naming_it() -> None:
    with pytest.raises(TypeError, match="`server_nmae`"):
        create_app(server_nmae="x")


def test_keywords_merge_with_settings_objects_or_conflict() -> None:
    app = create_app(server_settings=ServerSettings(title="T"), server_name="merged")
    assert app.state.server_settings.name == "merged"
    assert app.state.server_settings.title == "T"
    with pytest.raises(TypeError, match="`name` is set differently"):
        create_app(server_settings=ServerSettings(name="a"), server_name="b")
    config = MiddlewareConfig(compression={"enabled": True})
    app = create_app(middleware_config=config, require_authn=False, logging=None)
    assert app.state.middleware_config.compression == {"enabled": True}
    with pytest.raises(TypeError, match="`cors` is set differently"):
        create_app(
            middleware_config=MiddlewareConfig(cors={"allow_origins": ["https://a"]}),
            cors={"allow_origins": []},
        )


def test_settings_validation() -> None:
    assert ServerSettings().version == "1.0.0.dev0"
    assert ServerSettings().served_versions == ("2025-11-25", "2025-06-18", "2025-03-26")
    with pytest.raises(ValueError, match="unsupported protocol version"):
        ServerSettings(protocol_versions=["2030-01-01"])
    with pytest.raises(ValueError, match="cannot be empty"):
        ServerSettings(protocol_versions=[])
    with pytest.raises(ValueError, match="list_page_size"):
        CapabilitySettings(list_page_size=0)


def test_cors_never_combines_wildcard_and_credentials() -> None:
    with pytest.raises(ValueError, match="allow_credentials"):
        create_app(cors={"allow_origins": ["*"], "allow_credentials": True})


def test_cors_exposes_the_session_header_and_health_is_served() -> None:
    app = create_app(cors={"allow_origins": ["https://app.example"]}, allowed_origins=["https://app.example"])
    with serve(app) as url:
        health = httpx.get(url + "/").json()
        assert health["status"] == "ok"
        assert health["transport"]["streamableHttp"] == "/mcp"
        with McpClient(url, headers={"origin": "https://app.example"}) as mcp:
            response = mcp.post(initialize_message())
            assert response.status_code == 200
            assert "mcp-session-id" in response.headers["access-control-expose-headers"].lower()


class _PrincipalFromHeader:
    """Test middleware standing in for authentication: `x-user` becomes the principal."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            user = dict(scope["headers"]).get(b"x-user")
            scope["pymcp.principal"] = Principal(subject=user.decode()) if user else None
        await self.app(scope, receive, send)


def test_sessions_belong_to_their_principal() -> None:
    with (
        serve(build_app(custom=[_PrincipalFromHeader])) as url,
        McpClient(url, headers={"x-user": "alice"}) as alice,
    ):
        alice.initialize()
        assert alice.result("ping") == {}
        for intruder in ({"x-user": "bob"}, {}):
            headers = {k: v for k, v in alice.headers().items() if k != "x-user"} | intruder
            ping = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
            assert httpx.post(alice.url, content=ping, headers=headers).status_code == 404
            assert httpx.delete(alice.url, headers=headers).status_code == 404
            get_headers = headers | {"accept": "text/event-stream"}
            assert httpx.get(alice.url, headers=get_headers).status_code == 404
        assert alice.result("ping") == {}


def test_sessions_expire_when_idle_or_never_initialized() -> None:
    settings = ServerSettings(session_idle_timeout=60, session_handshake_timeout=10)
    clock = FakeClock()  # the sessions and their store records keep the same time
    app = create_app(server_settings=settings, store=MemoryStore(clock=clock))
    app.state.session_manager.clock = clock
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    with serve(app) as url, McpClient(url) as idle, McpClient(url) as slow:
        idle.initialize()
        assert idle.post(ping).status_code == 200
        slow.start()
        clock.advance(9)
        assert idle.post(ping).status_code == 200
        clock.advance(61 + 15)  # past the idle limit and the store's quarter of slack
        assert idle.post(ping).status_code == 404
        assert slow.notify("notifications/initialized").status_code == 404


class _RecordPaths:
    """Middleware noting the path of every HTTP request it sees."""

    def __init__(self, app: Any, seen: list[str]) -> None:
        self.app = app
        self.seen = seen

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            self.seen.append(scope["path"])
        await self.app(scope, receive, send)


def test_middleware_and_handlers_added_after_create_app_see_mcp_requests(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # `/mcp` skips Starlette's error middleware only while the app is as create_app made it.
    seen: list[str] = []
    app = create_app()
    app.add_middleware(_RecordPaths, seen=seen)
    with serve(app) as url, McpClient(url) as client:
        client.initialize()
        assert client.result("ping") == {}
    assert seen.count("/mcp") >= 3  # initialize, initialized, ping

    async def broken(*args: Any) -> Any:
        raise RuntimeError("a bug in the server")

    async def answer(request: Any, exc: Exception) -> JSONResponse:
        return JSONResponse({"handled": str(exc)}, status_code=503)

    for handled in (False, True):
        app = create_app()
        if handled:
            app.add_exception_handler(Exception, answer)
        with serve(app) as url, McpClient(url) as client:
            client.initialize()
            app.state.dispatcher.handle_request = broken
            with caplog.at_level("CRITICAL"):  # the server logs the bug: expected here
                response = client.post({"jsonrpc": "2.0", "id": 2, "method": "ping"})
        assert response.status_code == (503 if handled else 500)
        if handled:
            assert response.json() == {"handled": "a bug in the server"}
