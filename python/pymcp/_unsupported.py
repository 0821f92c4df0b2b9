"""0.3.0 internals with no counterpart here: they still import, and any use says what to do instead."""

from __future__ import annotations

from typing import Any, NoReturn

__all__ = ["unsupported", "unsupported_function"]


def unsupported(name: str, instead: str) -> type:
    """A class standing for the 0.3.0 internal `name`: importable, and any use says what to do instead."""

    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(
            f"`{name}` is a pymcp-kit 0.3.0 internal with no equivalent here: {instead}"
        )

    return type(name.rsplit(".", 1)[-1], (), {"__new__": refuse, "__doc__": f"Not available: {instead}"})


def unsupported_function(name: str, instead: str) -> Any:
    """A function standing for the 0.3.0 internal `name` (see `unsupported`)."""

    def refuse(*args: Any, **kwargs: Any) -> NoReturn:
        raise NotImplementedError(
            f"`{name}` is a pymcp-kit 0.3.0 internal with no equivalent here: {instead}"
        )

    refuse.__name__ = name.rsplit(".", 1)[-1]
    refuse.__doc__ = f"Not available: {instead}"
    return refuse
