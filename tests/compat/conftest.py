"""Fixtures for the apps written against pymcp-kit 0.3.0 (`tests/compat/apps`)."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pymcp import prompt_registry, resource_registry, tool_registry

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def kit030_app() -> Iterator[Any]:
    """`apps/kit030_server.py`'s app, run as written; the global registries it fills are restored after."""
    registries = (tool_registry, prompt_registry, resource_registry, resource_registry.templates)
    saved = [registry.list() for registry in registries]
    try:
        yield runpy.run_path(str(APPS / "kit030_server.py"), run_name="kit030_server")["app"]
    finally:
        for registry, items in zip(registries, saved, strict=True):
            registry.clear()
            for item in items:
                registry.add(item)
