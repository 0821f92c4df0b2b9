"""Fixtures: `store_factory` (memory, real Redis and a real Redis Cluster) and `redis_url`."""

from support.redis import redis_url, store_factory

__all__ = ["redis_url", "store_factory"]
