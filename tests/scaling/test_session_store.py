"""`SessionManager` on one store, in one process: two managers stand for two workers (memory and
real Redis), plus `Store.touch`, `open_store` and `create_app(store=...)` errors."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator

import pytest

from pymcp import create_app
from pymcp.server.session import Session, SessionLimitError, SessionManager, SessionState
from pymcp.state import MemoryStore, Store, open_store
from support.redis import StoreFactory
from support.waiting import FakeClock, eventually

ALICE = "https://issuer\x1falice"
BOB = "https://issuer\x1fbob"
OVER_THE_LIMIT = r"^too many open sessions for this caller \(limit 3\)$"


def new_session(session_id: str = "s1", owner: str | None = ALICE) -> Session:
    return Session(
        session_id,
        owner=owner,
        protocol_version="2025-11-25",
        client_info={"name": "tests", "version": "1"},
        client_capabilities={"roots": {}},
        history_limit=10,
        queue_size=10,
    )


def busy(session: Session) -> Session:
    """The session with an open GET stream: not idle, so never evicted to make room."""
    session.standalone.attach(None)
    return session


async def _expired(store: Store, session_id: str) -> bool:
    return await store.get("session", f"p:{ALICE}\x1e{session_id}", session_id) is None


class Heard:
    """A `SessionListener` that keeps what it hears."""

    def __init__(self) -> None:
        self.loaded: list[Session] = []
        self.removed: list[Session] = []

    def session_loaded(self, session: Session) -> None:
        self.loaded.append(session)

    def session_removed(self, session: Session) -> None:
        self.removed.append(session)


@pytest.fixture
async def managers(store_factory: StoreFactory) -> AsyncIterator[tuple[SessionManager, SessionManager]]:
    first = SessionManager(store=store_factory(), idle_seconds=60, handshake_seconds=60)
    second = SessionManager(store=store_factory(), idle_seconds=60, handshake_seconds=60)
    await first.start()
    await second.start()
    yield first, second
    await first.aclose()
    await second.aclose()


async def test_a_session_added_by_one_worker_is_loaded_by_another(
    managers: tuple[SessionManager, SessionManager],
) -> None:
    first, second = managers
    heard = Heard()
    second.add_listener(heard)
    await first.add(new_session())
    copy = await second.get("s1", ALICE)
    assert copy is not None
    assert heard.loaded == [copy]
    assert (copy.owner, copy.protocol_version, copy.state) == (
        ALICE,
        "2025-11-25",
        SessionState.WAIT_INITIALIZED,
    )
    assert copy.client_info == {"name": "tests", "version": "1"}
    assert copy.client_capabilities == {"roots": {}}
    assert await second.get("s1", ALICE) is copy  # held from now on


async def test_another_owner_or_an_anonymous_caller_finds_nothing(
    managers: tuple[SessionManager, SessionManager],
) -> None:
    first, second = managers
    await first.add(new_session())
    await first.add(new_session("anon", owner=None))
    for manager in managers:
        assert await manager.get("s1", "https://issuer\x1fbob") is None
        assert await manager.get("s1", None) is None
        assert await manager.get("anon", ALICE) is None
        assert await manager.get("unknown", ALICE) is None
    assert await second.get("anon", None) is not None


async def test_changes_saved_by_one_worker_reach_the_copies_of_the_others(
    managers: tuple[SessionManager, SessionManager],
) -> None:
    first, second = managers
    session = new_session()
    await first.add(session)
    copy = await second.get("s1", ALICE)
    assert copy is not None
    session.state = SessionState.READY
    await first.save(session)
    # During the handshake a copy is re-read on every request: no waiting for the event.
    assert (await second.get("s1", ALICE)) is copy
    assert copy.state is SessionState.READY
    session.log_level = "debug"
    session.subscriptions.add("file:///a")
    await first.save(session)
    assert await eventually(lambda: copy.log_level == "debug")
    assert copy.subscriptions == {"file:///a"}


async def test_a_copy_with_unsaved_changes_keeps_them(
    managers: tuple[SessionManager, SessionManager],
) -> None:
    first, second = managers
    session, witness = new_session(), new_session("s2")
    session.state = witness.state = SessionState.READY
    await first.add(session)
    await first.add(witness)
    copy, witness_copy = await second.get("s1", ALICE), await second.get("s2", ALICE)
    assert copy is not None
    assert witness_copy is not None
    copy.log_level = "error"  # set by a request still running on the second worker
    session.subscriptions.add("file:///b")
    await first.save(session)
    witness.log_level = "debug"
    await first.save(witness)  # announced after the change above: once it is here, that one came too
    assert await eventually(lambda: witness_copy.log_level == "debug")
    assert copy.log_level == "error"
    await second.save(copy)
    assert await eventually(lambda: session.log_level == "error")


async def test_delete_ends_the_session_on_every_worker(
    managers: tuple[SessionManager, SessionManager],
) -> None:
    first, second = managers
    heard, also_heard = Heard(), Heard()  # listeners subscribe side by side (dispatcher, telemetry)
    first.add_listener(heard)
    first.add_listener(also_heard)
    session = new_session()
    session.state = SessionState.READY
    await first.add(session)
    assert await second.get("s1", ALICE) is not None
    await second.delete("s1")
    assert await second.get("s1", ALICE) is None
    assert await eventually(lambda: "s1" not in first.sessions)
    assert heard.removed == also_heard.removed == [session]
    assert session.closed
    assert await first.get("s1", ALICE) is None


async def test_a_record_lost_from_the_store_is_written_again_by_the_worker_using_it(
    managers: tuple[SessionManager, SessionManager],
) -> None:
    first, second = managers
    session = new_session()
    await first.add(session)
    await first.store.delete("session", f"p:{ALICE}\x1es1", "s1")  # as if it had expired there
    session.state = SessionState.READY
    await first.save(session)
    copy = await second.get("s1", ALICE)
    assert copy is not None
    assert copy.state is SessionState.READY


async def test_an_idle_session_expires_from_the_store(store_factory: StoreFactory) -> None:
    clock = FakeClock()
    stores = store_factory
    if isinstance(store_factory(), MemoryStore):
        shared = MemoryStore(clock=clock)  # the records keep the sessions' time
        stores = lambda: shared  # noqa: E731
    first = SessionManager(store=stores(), idle_seconds=0.2, handshake_seconds=0.1, clock=clock)
    second = SessionManager(store=stores(), idle_seconds=0.2, handshake_seconds=0.1, clock=clock)
    ready, waiting = new_session("ready"), new_session("waiting")
    await first.add(ready)
    await first.add(waiting)
    ready.state = SessionState.READY
    await first.save(ready)
    clock.advance(0.4)  # well past 1.25 x idle_seconds
    # Redis expires its records on its own clock: wait for that (memory ones are gone at once).
    store = stores()
    assert await eventually(lambda: _expired(store, "ready"))
    assert await eventually(lambda: _expired(store, "waiting"))
    assert await second.get("ready", ALICE) is None
    assert await second.get("waiting", ALICE) is None
    assert await first.get("ready", ALICE) is None
    await first.aclose()
    await second.aclose()


async def test_a_callers_session_limit_counts_its_sessions_on_every_worker(
    store_factory: StoreFactory,
) -> None:
    first = SessionManager(store=store_factory(), max_per_principal=3)
    second = SessionManager(store=store_factory(), max_per_principal=3)
    await first.add(busy(new_session("a1")))
    await second.add(busy(new_session("a2")))
    await second.add(busy(new_session("a3")))
    for manager in (first, second):
        with pytest.raises(SessionLimitError, match=OVER_THE_LIMIT):
            await manager.add(new_session("a4"))
        assert "a4" not in manager.sessions
    await first.add(new_session("b1", owner=BOB))  # another caller is unaffected
    for number in range(4):  # anonymous callers are bounded by the server-wide cap only
        await second.add(new_session(f"anonymous{number}", owner=None))
    await second.delete("a2")  # a slot for alice on every worker
    await first.add(new_session("a4"))
    with pytest.raises(SessionLimitError, match=OVER_THE_LIMIT):
        await second.add(new_session("a5"))
    await first.aclose()
    await second.aclose()


async def test_at_the_limit_only_the_callers_idle_session_on_this_worker_makes_room(
    store_factory: StoreFactory,
) -> None:
    first = SessionManager(store=store_factory(), max_per_principal=3)
    second = SessionManager(store=store_factory(), max_per_principal=3)
    await first.add(busy(new_session("a1")))
    await first.add(busy(new_session("a2")))
    await second.add(new_session("idle"))
    await first.add(new_session("bob's idle", owner=BOB))
    # The first worker holds no idle session of alice's (bob's is never ended for her).
    with pytest.raises(SessionLimitError, match=OVER_THE_LIMIT):
        await first.add(new_session("a3"))
    assert await first.get("bob's idle", BOB) is not None
    await second.add(new_session("a3"))  # ends alice's idle session there
    assert "idle" not in second.sessions
    assert await first.get("idle", ALICE) is None
    await first.aclose()
    await second.aclose()


async def test_touch_extends_a_record_and_returns_it(store_factory: StoreFactory) -> None:
    store = store_factory()
    assert await store.touch("session", "o", "missing", ttl_ms=1000) is None
    await store.create("session", "o", "r", {"status": "ready"}, ttl_ms=150)
    assert await store.touch("session", "o", "r", ttl_ms=60_000) == {"status": "ready"}
    await asyncio.sleep(0.3)
    assert await store.get("session", "o", "r") == {"status": "ready"}


def test_open_store_rejects_what_it_cannot_open() -> None:
    with pytest.raises(
        ValueError,
        match=r"unknown store `mysql://x`: expected `memory`, a `redis://` or a `redis\+cluster://` URL",
    ):
        open_store("mysql://x")
    with pytest.raises(TypeError, match=r"`store` must be a URL or a `Store`, not `int`"):
        open_store(42)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown store"):
        create_app(store="sqlite:///tmp/x")
    given = MemoryStore()
    app = create_app(store=given)
    assert app.state.state_store is given
    assert app.state.task_engine.store is given


def test_a_missing_redis_package_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # never `pymcp-kit[redis]`: until 1.0 is on the index that installs 0.3.0
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=r'`pip install "redis>=5"`'):
        open_store("redis://127.0.0.1:1/0")


async def test_the_app_closes_the_store_it_opened_and_not_one_it_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed: list[MemoryStore] = []

    async def record_close(store: MemoryStore) -> None:
        closed.append(store)

    monkeypatch.setattr(MemoryStore, "aclose", record_close)
    given = MemoryStore()
    for app in (create_app(store=given), create_app(store="memory")):
        async with app.router.lifespan_context(app):
            pass
    assert len(closed) == 1
    assert closed[0] is not given
