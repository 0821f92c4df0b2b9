"""Readable pure-Python reference of the `params` shape limits (`pymcp.server.limits.check_depth`).

The Rust walk (`pymcp._core.nesting_violation`) must give the same answer for every decoded value:
0 when it fits, -1 when it nests too deep, else the length of the shallowest array that is too long.
"""

from __future__ import annotations

from typing import Any

__all__ = ["nesting_violation"]


def nesting_violation(params: Any, max_depth: int, max_array: int) -> int:
    if type(params) is not dict and type(params) is not list:
        return 0
    level: list[Any] = [params]  # the containers at `depth`, one level at a time
    depth = 1
    while level:
        if depth > max_depth:
            return -1
        nested: list[Any] = []
        for value in level:
            if type(value) is list and len(value) > max_array:
                return len(value)
            for child in value.values() if type(value) is dict else value:
                if type(child) is dict or type(child) is list:
                    nested.append(child)
        level = nested
        depth += 1
    return 0
