"""Readable pure-Python reference of `pymcp._core.TokenTable.find` and `pymcp._core.sha256`."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

__all__ = ["find", "sha256"]


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def find(digests: Sequence[bytes], token: bytes) -> int:
    digest = sha256(token)
    found = -1
    for index, stored in enumerate(digests):  # no early exit, as in Rust
        if hmac.compare_digest(stored, digest):
            found = index
    return found
