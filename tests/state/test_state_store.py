"""The `Store` contract, run on `MemoryStore`, on a real Redis and on a real Redis Cluster: records,
payloads, pages, compare-and-set, leases, counters, events, expiry and owner isolation."""

from __future__ import annotations

from typing import Any

import pytest

from pymcp.state import MemoryStore, Store, Transition, open_store
from support.redis import StoreFactory
from support.waiting import eventually

NS = "task"
ACTIVE = ("working", "input_required")


def record(record_id: str, status: str = "working", **extra: Any) -> dict[str, Any]:
    return {"taskId": record_id, "status": status, "note": None, "nested": {"list": [], "map": {}}, **extra}


async def move(store: Store, owner: str, record_id: str, status: str, payload: Any = None) -> Transition:
    return await store.transition(
        NS, owner, record_id, {"status": status}, from_statuses=ACTIVE, payload=payload
    )


@pytest.fixture
def store(store_factory: StoreFactory) -> Store:
    return store_factory()


async def test_records_round_trip_with_their_json_types(store: Store) -> None:
    await store.create(NS, "alice", "t1", record("t1", count=3, ratio=0.5, ok=True), ttl_ms=60_000)
    assert await store.get(NS, "alice", "t1") == record("t1", count=3, ratio=0.5, ok=True)
    assert await store.get(NS, "alice", "missing") is None
    assert await store.get_payload(NS, "alice", "t1") is None


async def test_owners_never_see_each_others_records(store: Store) -> None:
    await store.create(NS, "alice", "t1", record("t1"), ttl_ms=60_000)
    await store.claim(NS, "alice", ["t1"], "worker", lease_ms=60_000)
    assert await store.get(NS, "bob", "t1") is None
    assert (await store.page(NS, "bob", before=None, limit=10)).records == []
    assert await store.leased(NS, "bob", ["t1"]) == set()
    change = await move(store, "bob", "t1", "cancelled")
    assert change.record is None
    assert (await store.get(NS, "alice", "t1") or {})["status"] == "working"
    assert await store.get("session", "alice", "t1") is None


async def test_transition_is_compare_and_set_and_keeps_the_payload_apart(store: Store) -> None:
    await store.create(NS, "alice", "t1", record("t1"), ttl_ms=60_000)
    moved = await move(store, "alice", "t1", "input_required")
    assert moved.applied
    assert moved.record is not None
    assert moved.record["status"] == "input_required"
    payload = {"result": {"content": [], "structuredContent": {"a": []}}}
    done = await store.transition(
        NS, "alice", "t1", {"status": "completed"}, from_statuses=ACTIVE, payload=payload
    )
    assert done.applied
    assert "result" not in (done.record or {})
    again = await store.transition(
        NS, "alice", "t1", {"status": "failed"}, from_statuses=ACTIVE, payload={"x": 1}
    )
    assert not again.applied
    assert again.record is not None
    assert again.record["status"] == "completed"
    assert await store.get_payload(NS, "alice", "t1") == payload
    missing = await move(store, "alice", "nope", "failed")
    assert (missing.applied, missing.record) == (False, None)


async def test_pages_are_newest_first_and_continue_where_they_stopped(store: Store) -> None:
    for index in range(5):
        await store.create(NS, "alice", f"t{index}", record(f"t{index}"), ttl_ms=60_000)
    first = await store.page(NS, "alice", before=None, limit=2)
    assert [r["taskId"] for r in first.records] == ["t4", "t3"]
    await store.delete(NS, "alice", "t2")
    second = await store.page(NS, "alice", before=first.next_before, limit=2)
    assert [r["taskId"] for r in second.records] == ["t1", "t0"]
    assert second.next_before is None
    everything = await store.page(NS, "alice", before=None, limit=10)
    assert [r["taskId"] for r in everything.records] == ["t4", "t3", "t1", "t0"]
    assert everything.next_before is None


async def _absent(store: Store, record_id: str) -> bool:
    return await store.get(NS, "alice", record_id) is None


async def _lapsed(store: Store, record_id: str) -> bool:
    return record_id not in await store.leased(NS, "alice", [record_id])


async def test_records_expire_after_their_ttl(store: Store) -> None:
    await store.create(NS, "alice", "short", record("short"), ttl_ms=20)
    await store.create(NS, "alice", "long", record("long"), ttl_ms=60_000)
    await store.transition(
        NS, "alice", "short", {"status": "completed"}, from_statuses=ACTIVE, payload={"r": 1}
    )
    assert await eventually(lambda: _absent(store, "short"))
    assert await store.get_payload(NS, "alice", "short") is None
    assert [r["taskId"] for r in (await store.page(NS, "alice", before=None, limit=10)).records] == ["long"]


async def test_leases_are_held_until_released_or_lapsed(store: Store) -> None:
    await store.claim(NS, "alice", ["a", "b"], "worker-1", lease_ms=60_000)
    await store.claim(NS, "alice", ["c"], "worker-1", lease_ms=10)
    await store.release(NS, "alice", "b")
    assert await eventually(lambda: _lapsed(store, "c"))
    assert await store.leased(NS, "alice", ["a", "b", "c", "d"]) == {"a"}
    assert await store.leased(NS, "alice", []) == set()


async def test_applied_transitions_reach_every_subscriber(store_factory: StoreFactory) -> None:
    writer, reader = store_factory(), store_factory()
    first, second = await reader.subscribe(), await writer.subscribe()
    await writer.create(NS, "o\x1fwner", "t1", record("t1"), ttl_ms=60_000)
    await writer.transition(
        NS, "o\x1fwner", "t1", {"status": "cancelled"}, from_statuses=ACTIVE, payload={"p": 1}
    )
    await move(writer, "o\x1fwner", "t1", "failed")  # not applied
    for subscription in (first, second):
        event = await subscription.get()
        assert (event.namespace, event.owner, event.record_id) == (NS, "o\x1fwner", "t1")
        assert event.record == record("t1", status="cancelled")
    await writer.create(NS, "o\x1fwner", "t2", record("t2"), ttl_ms=60_000)
    await move(writer, "o\x1fwner", "t2", "completed")
    assert (await first.get()).record_id == "t2"  # the refused change above published nothing
    await first.aclose()
    await second.aclose()


async def test_counters_admit_up_to_their_limit_for_every_worker(store_factory: StoreFactory) -> None:
    here, there = store_factory(), store_factory()
    assert await here.admit("running", "a", limit=2, ttl_ms=60_000)
    assert await there.admit("running", "b", limit=2, ttl_ms=60_000)
    assert not await here.admit("running", "c", limit=2, ttl_ms=60_000)
    assert await there.admit("running", "a", limit=2, ttl_ms=60_000)  # a member is always renewed
    await here.dismiss("running", "b")
    await here.dismiss("running", "never-admitted")
    assert await there.admit("running", "c", limit=2, ttl_ms=60_000)
    assert not await here.admit("running", "d", limit=2, ttl_ms=60_000)
    assert await here.admit("running:alice", "d", limit=1, ttl_ms=60_000)  # another counter


async def test_a_member_not_renewed_stops_counting(store: Store) -> None:
    assert await store.admit("running", "lapses", limit=1, ttl_ms=20)
    assert await eventually(lambda: store.admit("running", "next", limit=1, ttl_ms=60_000))
    assert not await store.admit("running", "third", limit=1, ttl_ms=60_000)
    await store.dismiss("running", "next")
    assert await store.admit("running", "third", limit=1, ttl_ms=60_000)


async def test_memory_store_expiry_follows_its_clock() -> None:
    now = [100.0]
    store = MemoryStore(clock=lambda: now[0])
    await store.create(NS, "alice", "t1", record("t1"), ttl_ms=1000)
    await store.claim(NS, "alice", ["t1"], "w", lease_ms=500)
    now[0] += 0.5
    assert await store.leased(NS, "alice", ["t1"]) == set()
    assert await store.get(NS, "alice", "t1") is not None
    now[0] += 0.5
    assert await store.get(NS, "alice", "t1") is None
    assert store._spaces == {}  # nothing of an expired owner is kept


async def test_memory_store_forgets_counters_whose_members_all_lapsed() -> None:
    now = [100.0]
    store = MemoryStore(clock=lambda: now[0])
    for owner in ("alice", "bob"):
        assert await store.admit(f"running:{owner}", "t1", limit=1, ttl_ms=1000)
    now[0] += 61
    assert await store.admit("running:carol", "t2", limit=1, ttl_ms=1000)
    assert list(store._counters) == ["running:carol"]


@pytest.mark.redis
async def test_redis_keys_are_namespaced_by_a_hash_of_the_owner(redis_url: str) -> None:
    from pymcp.state.redis import RedisStore

    store = RedisStore(redis_url, prefix="keys-test")
    try:
        await store.create(NS, "https://issuer\x1falice", "t1", record("t1"), ttl_ms=60_000)
        keys = sorted(key.decode() for key in await store.client.keys("keys-test:*"))
        assert all("alice" not in key for key in keys)
        assert [key.rsplit(":", 1)[-1] for key in keys] == ["idx", "t1", "seq"]
        assert all(key.startswith("keys-test:task:{") for key in keys)
        ttls = [await store.client.pttl(key) for key in keys]
        assert all(0 < ttl <= 60_000 for ttl in ttls)
    finally:
        await store.aclose()


@pytest.mark.redis
async def test_open_store_names_memory_redis_or_an_instance(redis_url: str) -> None:
    from pymcp.state.redis import RedisStore

    assert isinstance(open_store(None), MemoryStore)
    assert isinstance(open_store("memory"), MemoryStore)
    mine = MemoryStore()
    assert open_store(mine) is mine
    opened = open_store(redis_url)
    assert isinstance(opened, RedisStore)
    await opened.aclose()
    with pytest.raises(ValueError, match=r"unknown store `postgres://x`"):
        open_store("postgres://x")
    with pytest.raises(TypeError, match="`store` must be a URL or a `Store`"):
        open_store(42)  # type: ignore[arg-type]


@pytest.mark.redis
async def test_redis_store_works_on_a_decoding_client(redis_url: str) -> None:
    from redis.asyncio import Redis

    from pymcp.state.redis import RedisStore

    client = Redis.from_url(redis_url, decode_responses=True)
    store = RedisStore(client, prefix="decoding")
    try:
        events = await store.subscribe()
        await store.create(NS, "alice", "t1", record("t1"), ttl_ms=60_000)
        assert await move(store, "alice", "t1", "completed", {"result": {"content": []}}) == Transition(
            True, record("t1", status="completed")
        )
        assert (await events.get()).record["status"] == "completed"
        assert (await store.page(NS, "alice", before=None, limit=5)).records == [
            record("t1", status="completed")
        ]
        assert await store.get_payload(NS, "alice", "t1") == {"result": {"content": []}}
        await events.aclose()
    finally:
        await store.aclose()  # not its client: the caller's
        await client.aclose()
