"""Fixtures: `store_factory` (memory and real Redis) and `redis_url`."""

from support.redis import redis_url, store_factory

__all__ = ["redis_url", "store_factory"]
