"""Lazy package exports: a package names what it exports and where from, and each module is imported
on first use, so importing a light part (`pymcp.security.rules`) never pays for the web stack."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, origins: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module `__getattr__` and `__dir__` for `package`: `origins` maps each exported name to the
    module defining it (`"module:attribute"` when the name differs there). A name, once loaded, is
    stored in the package's namespace, so later lookups never reach `__getattr__`."""

    def __getattr__(name: str) -> Any:
        origin = origins.get(name)
        if origin is None:
            raise AttributeError(f"module `{package}` has no attribute `{name}`")
        module, _, attribute = origin.partition(":")
        value = getattr(importlib.import_module(module), attribute or name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(set(origins) | set(vars(sys.modules[package])))

    return __getattr__, __dir__
