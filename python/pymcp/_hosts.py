"""Which `Host` values a server answers (DNS rebinding protection, MCP 2025-11-25 security best practices).

A page on `evil.example` whose name an attacker re-points at the server's address sends `Host: evil.example`
and a matching `Origin`: comparing the two proves nothing. A server reachable beyond loopback therefore
names its hosts (`allowed_hosts`), and requests for any other host are refused before anything else.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

__all__ = ["LOOPBACK_HOSTS", "check_allowed_hosts", "host_allowed", "hostname", "is_loopback"]

LOOPBACK_HOSTS = frozenset(("localhost", "127.0.0.1", "::1"))


def hostname(netloc: str) -> str:
    """The host part of `host[:port]` (IPv6 brackets removed), lowercased; empty when unparsable."""
    try:
        return (urlsplit("//" + netloc).hostname or "").lower()
    except ValueError:
        return ""


def is_loopback(host: str) -> bool:
    """Whether a bind address or host name only reaches this machine."""
    if host.lower() in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_allowed(host: str, allowed: frozenset[str]) -> bool:
    """Whether a `Host` header names one of `allowed` (entries are `name` for any port, or `name:port`)."""
    host = host.strip().lower()
    return host in allowed or hostname(host) in allowed


def check_allowed_hosts(hosts: Sequence[str] | None) -> frozenset[str] | None:
    """The configured hosts, lowercased; a malformed entry raises `ValueError` naming it."""
    if hosts is None:
        return None
    if isinstance(hosts, str):
        raise ValueError("`allowed_hosts` must be a list of host names, not a string")
    checked: list[str] = []
    for host in _strings(hosts):
        if not host or "/" in host or "@" in host or host != host.strip() or not hostname(host):
            raise ValueError(f"`allowed_hosts` entry `{host}` is not a host name (`name` or `name:port`)")
        checked.append(host.lower())
    return frozenset(checked)


def _strings(values: Iterable[object]) -> list[str]:
    out: list[str] = []
    for value in values:
        if not isinstance(value, str):
            raise ValueError(f"`allowed_hosts` entry `{value!r}` must be a string")
        out.append(value)
    return out
