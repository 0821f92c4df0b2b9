"""`/health` (liveness) and `/ready` (the store answers): served by default, outside authentication,
configurable, 503 when Redis is unreachable. Real uvicorn, real redis-server."""

from __future__ import annotations

import httpx
import pytest

from pymcp.app import create_app
from pymcp.security import RuleBasedAuthorizer, TokenMapAuthenticator
from support.redis import redis_server
from support.server import serve

SECURED = {
    "authn": TokenMapAuthenticator({"t": {"subject": "alice"}}),
    "authz": RuleBasedAuthorizer({"rules": []}),
    "require_authn": True,
}


def test_probes_are_served_by_default_without_a_token() -> None:
    with serve(create_app(**SECURED)) as url:
        health = httpx.get(url + "/health")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert health.headers["cache-control"] == "no-store"
        ready = httpx.get(url + "/ready")
        assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        assert httpx.post(url + "/mcp", json={}).status_code == 401


def test_probe_paths_are_configurable_and_can_be_turned_off() -> None:
    with serve(create_app(health_path="/livez", ready_path=None, **SECURED)) as url:
        assert httpx.get(url + "/livez").json() == {"status": "ok"}
        assert httpx.get(url + "/health").status_code == 401  # not a route, not exempt: authentication first
        assert httpx.get(url + "/ready").status_code == 401


def test_explicit_exempt_paths_are_kept_as_given() -> None:
    with serve(create_app(auth_exempt_paths=["/"], **SECURED)) as url:
        assert httpx.get(url + "/health").status_code == 401
        assert httpx.get(url + "/").status_code == 200


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"health_path": "health"}, "`health_path` must be a path starting with `/`"),
        ({"ready_path": "/mcp"}, "`ready_path` must be a path starting with `/` (not `/mcp`)"),
        ({"health_path": "/p", "ready_path": "/p"}, "`health_path` and `ready_path` are both `/p`"),
    ],
)
def test_bad_probe_paths_fail_at_start_up(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        create_app(**kwargs)


@pytest.mark.redis
def test_ready_follows_the_redis_store() -> None:
    redis = redis_server()
    redis_url = redis.__enter__()
    running = True
    try:
        with serve(create_app(store=redis_url)) as url:
            assert httpx.get(url + "/ready").json() == {"status": "ready"}
            redis.__exit__(None, None, None)
            running = False
            assert httpx.get(url + "/health").status_code == 200
            ready = httpx.get(url + "/ready", timeout=10)
            assert ready.status_code == 503
            assert ready.json()["status"] == "unavailable"
            assert ready.json()["store"].startswith("unreachable (")
    finally:
        if running:
            redis.__exit__(None, None, None)
