"""The names `pymcp.state.store` held before the state store was split into `base`, `memory` and the
package's `open_store`; kept so existing imports work."""

from pymcp.state import open_store
from pymcp.state.base import (
    STORE_UNAVAILABLE,
    Page,
    Store,
    StoreEvent,
    StoreUnavailable,
    Subscription,
    TaskStore,
    Transition,
    log_store_failure,
)
from pymcp.state.memory import SUBSCRIPTION_QUEUE_SIZE, MemoryStore

__all__ = [
    "STORE_UNAVAILABLE",
    "SUBSCRIPTION_QUEUE_SIZE",
    "MemoryStore",
    "Page",
    "Store",
    "StoreEvent",
    "StoreUnavailable",
    "Subscription",
    "TaskStore",
    "Transition",
    "log_store_failure",
    "open_store",
]
