"""`rediss://` with an ACL user, on one real redis-server and on a real Redis Cluster that speak TLS only
(certificates made by the test): the store works, and wrong credentials or an unknown certificate
authority fail at start-up with a clear error (issue 12)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pymcp import create_app
from pymcp.errors import StoreUnavailable
from pymcp.state import open_store
from pymcp.state.redis import RedisStore
from support.redis_cluster import (
    APP_PASSWORD,
    APP_USER,
    TlsFiles,
    make_tls_files,
    redis_cluster,
    tls_redis_server,
)

pytestmark = pytest.mark.redis

REFUSED = "redis refused the credentials in the `store` URL: invalid username-password pair"


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def single_url(tls: TlsFiles) -> Iterator[str]:
    with tls_redis_server(tls) as port:
        yield f"rediss://{APP_USER}:{APP_PASSWORD}@127.0.0.1:{port}/0?ssl_ca_certs={tls.ca}"


@pytest.fixture(scope="module")
def cluster_url(tls: TlsFiles) -> Iterator[str]:
    with redis_cluster(tls=tls) as cluster:
        yield cluster.url()


async def round_trip(url: str) -> None:
    """Write, announce and read back a record through a store on `url`."""
    store = open_store(url)
    try:
        events = await store.subscribe()
        await store.create("task", "alice", "t1", {"status": "working"}, ttl_ms=60_000)
        moved = await store.transition(
            "task", "alice", "t1", {"status": "completed"}, from_statuses={"working"}, payload={"r": 1}
        )
        assert moved.applied
        assert (await events.get()).record == {"status": "completed"}
        assert await store.get_payload("task", "alice", "t1") == {"r": 1}
        await events.aclose()
    finally:
        await store.aclose()


@pytest.mark.parametrize("which", ["single_url", "cluster_url"])
async def test_tls_and_an_acl_user_work(which: str, request: pytest.FixtureRequest) -> None:
    await round_trip(request.getfixturevalue(which))


@pytest.mark.parametrize("which", ["single_url", "cluster_url"])
async def test_wrong_credentials_stop_the_server_at_start_up(
    which: str, request: pytest.FixtureRequest
) -> None:
    url = request.getfixturevalue(which)
    for wrong in (url.replace(APP_PASSWORD, "wrong"), url.replace(f"{APP_USER}:", "nobody:")):
        app = create_app(store=wrong)
        with pytest.raises(StoreUnavailable, match=REFUSED):
            async with app.router.lifespan_context(app):
                pass


@pytest.mark.parametrize("which", ["single_url", "cluster_url"])
async def test_a_certificate_from_an_unknown_authority_is_refused(
    which: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    url = request.getfixturevalue(which)
    other = make_tls_files(tmp_path)  # a CA that did not sign the server's certificate
    store = RedisStore(url.replace(str(url.rsplit("ssl_ca_certs=", 1)[1]), str(other.ca)))
    with pytest.raises(StoreUnavailable) as raised:
        await store.subscribe()
    assert "certificate verify failed" in str(raised.value.__cause__)
    await store.aclose()
