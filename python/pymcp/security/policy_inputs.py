"""What the Rust policy engine is given: the compiled policy, the bindings cached on a principal, the
claims it reads and the targets of a request; and `load_json_config`, which reads a policy file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson

from pymcp import _core
from pymcp.errors import PolicyError
from pymcp.protocol.targets import SUBSCRIPTION_METHODS
from pymcp.security.authz import AuthzRequest

__all__ = [
    "BINDINGS_ATTR",
    "Bindings",
    "claims_for_policy",
    "compile_policy",
    "item_key",
    "load_json_config",
    "request_targets",
    "string_items",
]

# Where a principal keeps its compiled bindings, keyed by policy. `Principal` is a frozen dataclass with
# set fields, so it is unhashable and cannot key a dict or a WeakKeyDictionary; a cache stored on the
# instance itself costs one dict lookup, lives exactly as long as the principal, and needs no eviction.
# A principal is immutable after authentication: changing its sets in place would not reach the cache.
BINDINGS_ATTR = "_pymcp_policy_bindings"


class Bindings(dict["_core.Policy", "_core.BoundPrincipal"]):
    """A principal's bindings. Copies and pickles as empty: bindings are process-local and rebuilt on use."""

    def __reduce__(self) -> tuple[type[Bindings], tuple[()]]:
        return (Bindings, ())


def load_json_config(path: str | Path) -> dict[str, Any]:
    """Read a policy file: a UTF-8 JSON object (validated when given to `RuleBasedAuthorizer`)."""
    data = Path(path).read_bytes()
    try:
        config = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise ValueError(f"policy file `{path}` is not valid UTF-8 JSON: {error}") from None
    if not isinstance(config, dict):
        raise ValueError(f"policy file `{path}` must hold a JSON object")
    return config


def compile_policy(config: Mapping[str, Any]) -> _core.Policy:
    if not isinstance(config, Mapping):
        raise PolicyError("policy must be a JSON object")
    try:
        text = orjson.dumps(config, default=_plain_mapping)
    except TypeError as error:  # orjson.JSONEncodeError included
        raise PolicyError(f"policy is not JSON: {error}") from None
    try:
        return _core.Policy(text)
    except _core.PolicyError as error:
        raise PolicyError.from_core(error) from None


def _plain_mapping(value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"`{type(value).__name__}` is not a JSON value")


def _null(_: object) -> None:
    """orjson's fallback for values that are not JSON (sets, objects): null, which matches no claim value."""
    return None


def claims_for_policy(claims: Mapping[str, Any], names: Sequence[str]) -> bytes | None:
    """The claims the policy reads, as JSON; values that are not JSON are left out (they match nothing)."""
    picked = {name: claims[name] for name in names if name in claims}
    if not picked:
        return None
    try:
        return orjson.dumps(picked, default=_null)
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits: drop just that claim
        kept = {}
        for name, value in picked.items():
            try:
                orjson.dumps(value, default=_null)
            except orjson.JSONEncodeError:
                continue
            kept[name] = value
        return orjson.dumps(kept, default=_null)


def string_items(values: Any) -> list[str]:
    return [value for value in values or () if isinstance(value, str)]


def item_key(item: Any, key: str, attribute: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, attribute, None)


def request_targets(request: AuthzRequest) -> tuple[str | None, ...]:
    method = request.rpc_method
    if method == "tools/call":
        return (request.tool_name,)
    if method == "prompts/get":
        return (request.prompt_name,)
    if method == "resources/read":
        return (request.resource_uri,)
    if method in SUBSCRIPTION_METHODS:
        return request.resource_uris or ((request.resource_uri,) if request.resource_uri else (None,))
    return (None,)
