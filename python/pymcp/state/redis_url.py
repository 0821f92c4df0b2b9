"""The `store` URLs of Redis: which schemes name one server and which a cluster, what such a URL may set,
and how it is shown in messages (without its password). No redis import: `open_store` reads it too."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["CLUSTER_SCHEMES", "REDIS_SCHEMES", "client_url", "redacted"]

CLUSTER_SCHEMES = ("redis+cluster://", "rediss+cluster://")
"""A Redis Cluster: the URL names any one node; the client finds the others."""

REDIS_SCHEMES = ("redis://", "rediss://", "unix://", *CLUSTER_SCHEMES)

# The pool is sized and timed by `store_pool_size` and `store_pool_timeout`; a URL must not say otherwise.
_POOL_OPTIONS = {"max_connections": "store_pool_size", "timeout": "store_pool_timeout"}


def client_url(url: str) -> tuple[str, bool]:
    """The URL for redis-py (`redis://` or `rediss://` for a cluster) and whether it names a cluster;
    `ValueError` for what the URL may not set."""
    parts = urlsplit(url)
    for name, _ in parse_qsl(parts.query):
        if name in _POOL_OPTIONS:
            raise ValueError(
                f"the `store` URL may not set `{name}`: use the `{_POOL_OPTIONS[name]}` setting instead"
            )
    if not url.startswith(CLUSTER_SCHEMES):
        return url, False
    if parts.path not in ("", "/", "/0"):
        where = redacted(url)
        raise ValueError(
            f"a redis cluster has only database 0: remove `{parts.path}` from the `store` URL `{where}`"
        )
    return url.replace("+cluster://", "://", 1), True


def redacted(url: str) -> str:
    """`url` without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{unquote(parts.username or '')}:***@{parts.netloc.rpartition('@')[2]}"
    return parts._replace(netloc=netloc).geturl()
