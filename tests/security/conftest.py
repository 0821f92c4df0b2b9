"""Fixtures for the security tests: one local identity provider per module, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.authservers import IdentityProvider, identity_provider


@pytest.fixture(scope="module")
def running_idp() -> Iterator[IdentityProvider]:
    with identity_provider() as idp:
        yield idp


@pytest.fixture
def idp(running_idp: IdentityProvider) -> IdentityProvider:
    running_idp.tokens.clear()
    running_idp.delay = 0.0
    running_idp.down = False
    running_idp.introspections = 0
    running_idp.jwks_fetches = 0
    return running_idp


def bearer(token: str) -> dict[str, Any]:
    """An ASGI scope carrying `Authorization: Bearer <token>` (what authenticators read)."""
    return {"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]}
