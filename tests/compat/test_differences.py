"""Deliberate differences from pymcp-kit 0.3.0 not covered elsewhere (see docs/migration.md)."""

from __future__ import annotations

from typing import Any

import pytest

import pymcp.app
from pymcp import ServerSettings, create_app, run_http_server
from pymcp.server.roots import on_roots_changed


def test_run_http_server_binds_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(pymcp.app.uvicorn, "run", lambda app, **options: calls.append(options))
    run_http_server(create_app())
    with pytest.raises(ValueError, match="set `allowed_hosts`"):  # DNS rebinding protection
        run_http_server(create_app(), host="0.0.0.0", port=9000)
    app = create_app(server_settings=ServerSettings(allowed_hosts=["mcp.example.com"]))
    run_http_server(app, host="0.0.0.0", port=9000)
    assert (calls[0]["host"], calls[0]["port"]) == ("127.0.0.1", 8088)
    assert (calls[1]["host"], calls[1]["port"]) == ("0.0.0.0", 9000)
    assert len(calls) == 2


def test_defaults_serve_both_revisions() -> None:
    settings = ServerSettings()
    assert settings.protocol_mode == "dual"
    assert settings.served_versions == ("2025-11-25", "2025-06-18", "2025-03-26")
    assert ServerSettings(protocol_mode="stable").stateless_versions == ()


def test_on_roots_changed_returns_a_remover() -> None:
    forget = on_roots_changed(lambda app, session_id: None)
    forget()
