"""Shared pytest configuration: `tests/` is on sys.path (see pyproject), so `support` and `oracle` import.

`redis_cluster_url` is declared here, once, so that every directory's tests share one test cluster."""

from support.redis_cluster import redis_cluster_url

__all__ = ["redis_cluster_url"]
