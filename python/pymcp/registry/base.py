"""What every registry shares: items by key, a generation counter, change listeners, cached list pages."""

from __future__ import annotations

import builtins
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from pymcp._json import dump_value

__all__ = ["Registry", "WireItem", "dump_value"]

T = TypeVar("T")


class WireItem:
    """A registered definition: its MCP object (`to_wire`), also under 0.3.0's name `to_mcp_payload`."""

    __slots__ = ()

    def to_wire(self) -> dict[str, Any]:
        raise NotImplementedError

    def to_mcp_payload(self) -> dict[str, Any]:
        """0.3.0 name of `to_wire`."""
        return self.to_wire()


class Registry(Generic[T]):
    """Items by key in registration order.

    `generation` changes on every change, so cached views (the `tools/list` pages, cursors) know when
    they are stale; listeners are told after each change (list_changed notifications).
    """

    kind = "item"

    def __init__(self) -> None:
        self._items: dict[str, T] = {}
        self._listeners: builtins.list[Callable[[], None]] = []
        self.generation = 0
        self._wire: builtins.list[dict[str, Any]] | None = None

    def key_of(self, item: T) -> str:
        raise NotImplementedError

    def wire_of(self, item: T) -> dict[str, Any]:
        return item.to_wire()  # type: ignore[attr-defined,no-any-return]

    def add(self, item: T) -> None:
        """Add or replace an item."""
        self._items[self.key_of(item)] = item
        self._changed()

    def remove(self, key: str) -> bool:
        """Remove an item; whether it was there."""
        if self._items.pop(key, None) is None:
            return False
        self._changed()
        return True

    unregister = remove

    def get(self, key: str) -> T | None:
        return self._items.get(key)

    def list(self) -> builtins.list[T]:
        return builtins.list(self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def clear(self) -> None:
        if self._items:
            self._items.clear()
            self._changed()

    def wire_items(self) -> builtins.list[dict[str, Any]]:
        """Every item as its wire object, built once per generation."""
        if self._wire is None:
            self._wire = [self.wire_of(item) for item in self._items.values()]
        return self._wire

    def on_change(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call `listener` after every change; returns a function that removes it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def list_payload(self) -> builtins.list[dict[str, Any]]:
        """0.3.0 name of `wire_items` (a copy: the cached list stays ours)."""
        return list(self.wire_items())

    def add_listener(self, listener: Callable[[], None]) -> None:
        """0.3.0 name of `on_change`."""
        self.on_change(listener)

    def copy(self) -> Any:
        """A registry with the same items and no listeners (what `create_app` gives each app)."""
        other = type(self)()
        other._items = dict(self._items)
        return other

    def _changed(self) -> None:
        self.generation += 1
        self._wire = None
        for listener in list(self._listeners):
            listener()
