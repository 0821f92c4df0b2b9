"""Shared pytest configuration: `tests/` is on sys.path (see pyproject), so `support` and `oracle` import.

`redis_cluster_url` is declared here, once, so that every directory's tests share one test cluster."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

__all__ = ["redis_cluster_url"]


@pytest.fixture(scope="session")
def redis_cluster_url() -> Iterator[str]:
    """One 6-node cluster for the test session (the ACL user's `redis+cluster://` URL)."""
    # Imported here: redis-py is an optional dependency, absent where only the wheel's quick start runs.
    from support.redis_cluster import redis_cluster

    with redis_cluster() as cluster:
        yield cluster.url()
