"""`import pymcp` is lazy: the light parts load without the web stack, and every export resolves."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest


@pytest.mark.parametrize("module", ["pymcp", "pymcp.security", "pymcp.security.rules", "pymcp.errors"])
def test_light_imports_do_not_load_the_web_stack(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "loaded = sorted(m for m in ('uvicorn', 'starlette', 'httpx', 'jwt') if m in sys.modules)\n"
        "print(','.join(loaded))"
    )
    command = [sys.executable, "-c", code]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == ""


@pytest.mark.parametrize("package", ["pymcp", "pymcp.security"])
def test_every_export_resolves(package: str) -> None:
    module = importlib.import_module(package)
    assert module.__all__ == sorted(module.__all__)
    for name in module.__all__:
        assert getattr(module, name) is not None
    assert set(module.__all__) <= set(dir(module))
    with pytest.raises(AttributeError, match="has no attribute `nothing`"):
        module.nothing  # noqa: B018
