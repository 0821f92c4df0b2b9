"""Readable pure-Python reference of `pymcp._core.HeaderReader.read` (the Rust pass must equal it)."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["read"]


def read(
    wanted: frozenset[bytes], headers: Iterable[tuple[bytes, bytes]]
) -> tuple[dict[bytes, str], list[str], list[tuple[str, str]]]:
    found: dict[bytes, str] = {}
    authorization: list[str] = []
    mcp: list[tuple[str, str]] = []
    for name, value in headers:
        if name.lower() == b"authorization":
            authorization.append(value.decode("latin-1"))
        elif name.startswith(b"mcp-"):
            mcp.append((name.decode("latin-1"), value.decode("latin-1")))
        if name in wanted:
            found[name] = value.decode("latin-1")
    return found, authorization, mcp
