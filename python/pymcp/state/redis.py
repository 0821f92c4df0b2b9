"""`RedisStore`: the `Store` on Redis, so several worker processes share tasks and sessions.

Layout (P = prefix, N = namespace, H = hash of the owner, in braces so one owner's keys share a cluster
slot): `P:N:{H}:r:ID` record hash (each field JSON), `P:N:{H}:p:ID` payload, `P:N:{H}:l:ID` lease,
`P:N:{H}:idx` newest-first index (sorted set by creation position), `P:N:{H}:seq` position counter,
`P:events` the status channel, `P:count:{C}` a counter (sorted set of members by the time they stop
counting; C = hash of its name). Records and payloads expire through Redis; compare-and-set and the
event publish run in one Lua script, so an applied change is always announced.

On Redis Cluster every script, transaction and multi-key command names keys of one record owner only,
so it touches one slot. The channel is not a key: a `PUBLISH` (in the script) reaches the subscribers
of every node, so a subscription listens on any one node. Sharded pub/sub would not do: a script may
only `SPUBLISH` to a channel of its own slot, one per owner, and no subscriber can know every owner.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Coroutine, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import orjson

from pymcp.state.base import Page, StoreEvent, StoreUnavailable, Transition, log_store_failure
from pymcp.state.redis_url import client_url, redacted

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub
    from redis.asyncio.cluster import RedisCluster

__all__ = ["RedisStore"]

# On a cluster each subscription holds a connection of its node's pool for its lifetime: room for them
# beyond the `pool_size` connections that commands share.
_SUBSCRIPTION_CONNECTIONS = 16

logger = logging.getLogger("pymcp.state")

_P = ParamSpec("_P")
_R = TypeVar("_R")

_CREATE = """
local position = redis.call('INCR', KEYS[3])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], position, ARGV[2])
for _, key in ipairs({KEYS[2], KEYS[3]}) do
  if redis.call('PTTL', key) < tonumber(ARGV[1]) then redis.call('PEXPIRE', key, ARGV[1]) end
end
return position
"""

# KEYS: record, payload. ARGV: channel, event head, n, n allowed statuses, payload ('' = keep), fields...
_TRANSITION = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return false end
local n = tonumber(ARGV[3])
local allowed = false
for i = 4, 3 + n do
  if ARGV[i] == status then allowed = true end
end
if allowed then
  redis.call('HSET', KEYS[1], unpack(ARGV, 5 + n))
  local payload = ARGV[4 + n]
  if payload ~= '' then
    local ttl = redis.call('PTTL', KEYS[1])
    if ttl > 0 then redis.call('SET', KEYS[2], payload, 'PX', ttl)
    else redis.call('SET', KEYS[2], payload) end
  end
end
local fields = redis.call('HGETALL', KEYS[1])
if allowed then
  local parts = {}
  for i = 1, #fields, 2 do parts[#parts + 1] = cjson.encode(fields[i]) .. ':' .. fields[i + 1] end
  redis.call('PUBLISH', ARGV[1], ARGV[2] .. '{' .. table.concat(parts, ',') .. '}}')
end
return {allowed and 1 or 0, fields}
"""


# KEYS: counter (sorted set: member → when it stops counting). ARGV: member, limit, ttl in ms.
_ADMIT = """
local clock = redis.call('TIME')
local now = clock[1] * 1000 + math.floor(clock[2] / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[3]) then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return 1
"""


def _keeps_cancellation(call: Callable[_P, Awaitable[_R]]) -> Callable[_P, Coroutine[Any, Any, _R]]:
    """Make a cancelled call raise `CancelledError`, whatever the client library did with it.

    redis-py sends every command under `asyncio.wait_for`, which on Python 3.11 returns normally when
    the cancellation arrives as the send completes, and turns some cancelled reads into connection
    errors. A swallowed cancellation leaves the caller running: a background loop that never stops,
    a closing engine that waits for ever, a connection opened after its pool was closed.
    """

    @functools.wraps(call)
    async def guarded(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        task = asyncio.current_task()
        cancels_before = task.cancelling() if task is not None else 0
        try:
            outcome = await call(*args, **kwargs)
        except Exception as error:
            if task is not None and task.cancelling() > cancels_before:
                raise asyncio.CancelledError from error
            if _is_outage(error):
                log_store_failure(logger, "redis", error)
                raise StoreUnavailable from error
            raise
        if task is not None and task.cancelling() > cancels_before:
            raise asyncio.CancelledError
        return outcome

    return guarded


def _is_outage(error: Exception) -> bool:
    """Whether `error` means Redis (or the cluster's node for a key) cannot serve now: unreachable, out
    of connections, refusing the credentials, or a cluster failing over (down, slot not covered)."""
    from redis.exceptions import (  # loaded with the client
        ClusterError,
        ConnectionError,
        RedisClusterException,
        TimeoutError,
        TryAgainError,
    )

    return isinstance(
        error, ConnectionError | TimeoutError | ClusterError | TryAgainError | RedisClusterException
    )


def _uses_pool(
    method: Callable[Concatenate[RedisStore, _P], Awaitable[_R]],
) -> Callable[Concatenate[RedisStore, _P], Coroutine[Any, Any, _R]]:
    """Run a store call holding one of the `pool_size` slots (see `RedisStore._pool_slot`)."""

    @functools.wraps(method)
    async def call(store: RedisStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        async with store._pool_slot():
            return await method(store, *args, **kwargs)

    return _keeps_cancellation(call)


def _hashed(name: str) -> str:
    """What keys hold instead of an owner's (or a counter's) name; in braces it is the key's hash tag."""
    return hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _fields(record: Mapping[str, Any]) -> list[bytes | str]:
    flat: list[bytes | str] = []
    for name, value in record.items():
        flat += [name, orjson.dumps(value)]
    return flat


def _text(value: bytes | str) -> str:
    # Clients made with `decode_responses=True` reply with str, others with bytes.
    return value.decode() if isinstance(value, bytes) else value


def _record(fields: Mapping[bytes | str, bytes | str]) -> dict[str, Any]:
    return {_text(name): orjson.loads(value) for name, value in fields.items()}


class _RedisSubscription:
    def __init__(self, pubsub: PubSub) -> None:
        self._pubsub = pubsub

    @_keeps_cancellation
    async def get(self) -> StoreEvent:
        while True:
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=None)
            if message is not None and message["type"] == "message":
                data = orjson.loads(message["data"])
                return StoreEvent(data["n"], data["o"], data["i"], data["r"])

    async def aclose(self) -> None:
        await self._pubsub.aclose()


class RedisStore:
    """The store for many workers. `target` is a `redis://`, `rediss://` or `unix://` URL, a
    `redis+cluster://` or `rediss+cluster://` URL of any node of a Redis Cluster, or a ready
    `redis.asyncio.Redis` or `redis.asyncio.cluster.RedisCluster` client (its owner closes it).

    At most `pool_size` store calls use Redis at once; the others wait up to `pool_timeout` seconds
    for their turn, then fail as an outage (`StoreUnavailable`)."""

    def __init__(
        self,
        target: str | Redis | RedisCluster,
        *,
        prefix: str = "pymcp",
        pool_size: int = 64,
        pool_timeout: float = 10.0,
    ) -> None:
        if pool_size < 1 or pool_timeout <= 0:
            raise ValueError("`store_pool_size` and `store_pool_timeout` must be positive")
        try:
            from redis.asyncio import BlockingConnectionPool, Redis  # lazily: an optional dependency
            from redis.asyncio.cluster import RedisCluster
        except ImportError as error:
            raise ImportError(
                'the redis store needs the `redis` package: `pip install "redis>=5"`'
            ) from error

        # Any: redis-py's reply types are unions of every RESP shape; replies are checked where used.
        self._client: Any
        self._url = redacted(target) if isinstance(target, str) else None
        url, cluster = client_url(target) if isinstance(target, str) else ("", False)
        # A cluster client's node pools raise at their cap instead of waiting: calls wait here instead.
        self._pool_slots: asyncio.Semaphore | None = None
        self._pool_timeout = pool_timeout
        if cluster:
            self._client = RedisCluster.from_url(url, max_connections=pool_size + _SUBSCRIPTION_CONNECTIONS)
            self._pool_slots = asyncio.Semaphore(pool_size)
            self._owns_client = True
        elif url:
            # Blocking: under load a request waits for a connection (redis-py's default pool raises
            # at its cap, which looked like an outage); it fails only after `pool_timeout` seconds.
            pool = BlockingConnectionPool.from_url(url, max_connections=pool_size, timeout=pool_timeout)
            self._client = Redis.from_pool(pool)  # closing the client closes the pool
            self._owns_client = True
        else:
            self._client = target
            self._owns_client = False
        self._cluster = isinstance(self._client, RedisCluster)
        self._prefix = prefix
        self._channel = f"{prefix}:events"
        self._create = self._client.register_script(_CREATE)
        self._transition = self._client.register_script(_TRANSITION)
        self._admit = self._client.register_script(_ADMIT)

    @property
    def client(self) -> Redis | RedisCluster:
        client: Redis | RedisCluster = self._client
        return client

    @asynccontextmanager
    async def _pool_slot(self) -> AsyncIterator[None]:
        if self._pool_slots is None:
            yield  # the connection pool itself waits
            return
        try:
            async with asyncio.timeout(self._pool_timeout):
                await self._pool_slots.acquire()
        except TimeoutError as error:
            from redis.exceptions import ConnectionError

            raise ConnectionError("no connection available") from error  # what the pool would say
        try:
            yield
        finally:
            self._pool_slots.release()

    def _key(self, namespace: str, owner: str, kind: str, record_id: str = "") -> str:
        return f"{self._prefix}:{namespace}:{{{_hashed(owner)}}}:{kind}{record_id}"

    @_uses_pool
    async def create(
        self, namespace: str, owner: str, record_id: str, record: Mapping[str, Any], *, ttl_ms: int
    ) -> None:
        keys = [
            self._key(namespace, owner, "r:", record_id),
            self._key(namespace, owner, "idx"),
            self._key(namespace, owner, "seq"),
        ]
        await self._create(keys=keys, args=[ttl_ms, record_id, *_fields(record)])

    @_uses_pool
    async def get(self, namespace: str, owner: str, record_id: str) -> dict[str, Any] | None:
        fields = await self._client.hgetall(self._key(namespace, owner, "r:", record_id))
        return _record(fields) if fields else None

    @_uses_pool
    async def get_payload(self, namespace: str, owner: str, record_id: str) -> Any:
        raw = await self._client.get(self._key(namespace, owner, "p:", record_id))
        return orjson.loads(raw) if raw is not None else None

    @_uses_pool
    async def delete(self, namespace: str, owner: str, record_id: str) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(
                self._key(namespace, owner, "r:", record_id),
                self._key(namespace, owner, "p:", record_id),
                self._key(namespace, owner, "l:", record_id),
            )
            pipe.zrem(self._key(namespace, owner, "idx"), record_id)
            await pipe.execute()

    @_uses_pool
    async def touch(
        self, namespace: str, owner: str, record_id: str, *, ttl_ms: int
    ) -> dict[str, Any] | None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.pexpire(self._key(namespace, owner, "r:", record_id), ttl_ms)
            pipe.pexpire(self._key(namespace, owner, "p:", record_id), ttl_ms)
            pipe.hgetall(self._key(namespace, owner, "r:", record_id))
            *_, fields = await pipe.execute()
        return _record(fields) if fields else None

    @_uses_pool
    async def page(self, namespace: str, owner: str, *, before: int | None, limit: int) -> Page:
        index = self._key(namespace, owner, "idx")
        found: list[tuple[dict[str, Any], int]] = []
        upper: str = "+inf" if before is None else f"({before}"
        while len(found) <= limit:
            batch = await self._client.zrevrangebyscore(
                index, upper, "-inf", start=0, num=limit + 1, withscores=True
            )
            if not batch:
                break
            async with self._client.pipeline(transaction=False) as pipe:
                for member, _ in batch:
                    pipe.hgetall(self._key(namespace, owner, "r:", _text(member)))
                rows = await pipe.execute()
            stale = [member for (member, _), row in zip(batch, rows, strict=True) if not row]
            if stale:
                await self._client.zrem(index, *stale)  # expired records leave the index lazily
            found += [(_record(row), int(score)) for (_, score), row in zip(batch, rows, strict=True) if row]
            upper = f"({int(batch[-1][1])}"
        more = len(found) > limit
        found = found[:limit]
        return Page([record for record, _ in found], found[-1][1] if more else None)

    @_uses_pool
    async def transition(
        self,
        namespace: str,
        owner: str,
        record_id: str,
        changes: Mapping[str, Any],
        *,
        from_statuses: Collection[str],
        payload: Any = None,
    ) -> Transition:
        head = orjson.dumps({"n": namespace, "o": owner, "i": record_id})[:-1] + b',"r":'
        args: list[bytes | str | int] = [self._channel, head, len(from_statuses)]
        args += [orjson.dumps(status) for status in sorted(from_statuses)]
        args.append(orjson.dumps(payload) if payload is not None else b"")
        args += _fields(changes)
        keys = [self._key(namespace, owner, "r:", record_id), self._key(namespace, owner, "p:", record_id)]
        reply = await self._transition(keys=keys, args=args)
        if reply is None:
            return Transition(False, None)
        applied, flat = reply
        return Transition(bool(applied), _record(dict(zip(flat[::2], flat[1::2], strict=True))))

    @_uses_pool
    async def claim(
        self, namespace: str, owner: str, record_ids: Sequence[str], worker: str, *, lease_ms: int
    ) -> None:
        async with self._client.pipeline(transaction=False) as pipe:
            for record_id in record_ids:
                pipe.set(self._key(namespace, owner, "l:", record_id), worker, px=lease_ms)
            await pipe.execute()

    @_uses_pool
    async def release(self, namespace: str, owner: str, record_id: str) -> None:
        await self._client.delete(self._key(namespace, owner, "l:", record_id))

    @_uses_pool
    async def leased(self, namespace: str, owner: str, record_ids: Sequence[str]) -> set[str]:
        if not record_ids:
            return set()
        holders = await self._client.mget([self._key(namespace, owner, "l:", rid) for rid in record_ids])
        return {rid for rid, holder in zip(record_ids, holders, strict=True) if holder is not None}

    def _counter_key(self, counter: str) -> str:
        # Hashed: a counter's name may hold an owner, and one counter is one key (one cluster slot).
        return f"{self._prefix}:count:{{{_hashed(counter)}}}"

    @_uses_pool
    async def admit(self, counter: str, member: str, *, limit: int, ttl_ms: int) -> bool:
        return bool(await self._admit(keys=[self._counter_key(counter)], args=[member, limit, ttl_ms]))

    @_uses_pool
    async def dismiss(self, counter: str, member: str) -> None:
        await self._client.zrem(self._counter_key(counter), member)

    @_keeps_cancellation
    async def subscribe(self) -> _RedisSubscription:
        """Listen to status events. The first call is made at start-up, so it checks the URL names the
        kind of Redis there (one server or a cluster) and that the credentials are accepted."""
        await self._check_server()
        if self._cluster:
            # Any node hears every event; a random one spreads the listeners and, after a failure,
            # makes the next attempt likely to pick a live node.
            pubsub = self._client.pubsub(node=random.choice(self._client.get_nodes()))
        else:
            pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(self._channel)
            # Wait for the confirmation: from then on no published event can be missed.
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is not None and message["type"] == "subscribe":
                    return _RedisSubscription(pubsub)
        except BaseException:
            await pubsub.aclose()  # its connection goes back to the pool
            raise

    async def _check_server(self) -> None:
        from redis.exceptions import AuthenticationError, RedisClusterException, ResponseError

        where = f"`{self._url}`" if self._url else "the redis client"
        try:
            if self._cluster:
                await self._client.initialize()
                return
            enabled = await self._client.execute_command("CLUSTER", "INFO")
        except (AuthenticationError, RedisClusterException) as error:
            refused = error if isinstance(error, AuthenticationError) else error.__cause__
            if isinstance(refused, AuthenticationError):
                # No URL in the message: it could reach a client if the first call comes from a request.
                raise StoreUnavailable(
                    f"redis refused the credentials in the `store` URL: {refused}"
                ) from error
            if "cluster mode is not enabled" in str(error).lower():
                raise ValueError(
                    f"{where} names a redis cluster but the server is not in cluster mode: use `redis://`"
                ) from error
            raise
        except ResponseError:
            return  # not a cluster node (or the user may not ask): a single server
        if enabled:
            raise ValueError(
                f"{where} is a node of a redis cluster: use `redis+cluster://` to reach all of it"
            )

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.aclose()
