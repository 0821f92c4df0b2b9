# Hand-written stubs for the Rust extension `pymcp._core` (checked by `python -m mypy.stubtest pymcp._core`).
# One section per binding module in rust/py/src/; common imports live here at the top.

from collections.abc import Iterable as _Iterable
from collections.abc import Sequence as _Sequence
from typing import Any as _Any
from typing import final as _final

__all__ = [
    "BoundPrincipal",
    "Explanation",
    "GlobSet",
    "HeaderReader",
    "MessageClassifier",
    "Policy",
    "PolicyError",
    "TokenTable",
    "__version__",
    "fnmatchcase",
    "nesting_violation",
    "sha256",
]
__version__: str

# --- policy: glob, policy, filter (rust/py/src/policy.rs) ---------------------------------------------

class PolicyError(ValueError):
    """A policy (or a principal's claims) that cannot be loaded; the message is one line.

    `rule_index` (0-based), `rule_id` and `key` say where a policy load failed; each is `None`
    when the error is not about a rule or a key.
    """

    rule_index: int | None
    rule_id: str | None
    key: str | None

@_final
class GlobSet:
    """Many `fnmatch.fnmatchcase` patterns matched in one pass."""

    def __new__(cls, patterns: _Sequence[str]) -> GlobSet: ...
    @property
    def patterns(self) -> list[str]: ...
    def is_match(self, name: str) -> bool: ...
    def matches(self, name: str) -> list[int]: ...
    def __len__(self) -> int: ...

def fnmatchcase(name: str, pattern: str) -> bool: ...

@_final
class BoundPrincipal:
    """A principal compiled against one policy (made by `Policy.bind`)."""

@_final
class Explanation:
    """Why a request is allowed or denied."""

    @property
    def allowed(self) -> bool: ...
    @property
    def effect(self) -> str: ...
    @property
    def rule_index(self) -> int | None: ...
    @property
    def rule_id(self) -> str | None: ...
    @property
    def default(self) -> bool: ...
    @property
    def missing_scopes(self) -> tuple[str, ...]: ...
    @property
    def message(self) -> str | None: ...

@_final
class Policy:
    """A compiled rule-based authorization policy (raises `PolicyError` for a bad config)."""

    def __new__(cls, config_json: str | bytes) -> Policy: ...
    @property
    def default_effect(self) -> str: ...
    @property
    def hide_unauthorized_capabilities(self) -> bool: ...
    @property
    def hide_unauthorized_tools(self) -> bool: ...
    @property
    def groups_claim(self) -> str: ...
    @property
    def claim_names(self) -> list[str]: ...
    @property
    def rule_ids(self) -> list[str | None]: ...
    @property
    def rule_effects(self) -> list[str]: ...
    @property
    def anonymous(self) -> BoundPrincipal: ...
    def bind(
        self,
        subject: str | None,
        roles: _Sequence[str] = ...,
        scopes: _Sequence[str] = ...,
        claims_json: str | bytes | None = None,
    ) -> BoundPrincipal: ...
    def is_allowed(self, bound: BoundPrincipal, method: str, target: str | None = None) -> bool: ...
    def decide(self, bound: BoundPrincipal, method: str, target: str | None = None) -> int: ...
    def explain(self, bound: BoundPrincipal, method: str, target: str | None = None) -> Explanation: ...
    def allows_any(self, bound: BoundPrincipal, method: str) -> bool: ...
    def filter(self, bound: BoundPrincipal, method: str, names: _Sequence[str]) -> list[int]: ...
    def trace(
        self, bound: BoundPrincipal, method: str, target: str | None = None
    ) -> list[tuple[int, str, str]]: ...
    def shadowed(self) -> list[tuple[int, int]]: ...

# --- end policy ---

# --- jsonrpc: message parsing and validation (rust/py/src/jsonrpc.rs) ----------------------------------

@_final
class MessageClassifier:
    """Classifies decoded JSON bodies into the given message classes (plain dataclasses, filled in
    without `__init__`) and the error class (called as `error(-32600, message)`)."""

    def __new__(
        cls,
        request: type,
        notification: type,
        response: type,
        invalid_message: type,
        error: type[Exception],
    ) -> MessageClassifier: ...
    def classify(self, body: object) -> _Any: ...

def nesting_violation(params: object, max_depth: int, max_array: int) -> int:
    """0 when decoded `params` fit the limits; -1 when lists and dicts nest deeper than `max_depth`;
    else the length of the shallowest list longer than `max_array` (first in breadth-first order)."""

# --- end jsonrpc ---

# --- http_headers: one pass over an ASGI request's headers (rust/py/src/http_headers.rs) ----------------

@_final
class HeaderReader:
    """Reads `scope["headers"]`: the names in `wanted` are kept (last value), every `authorization` value
    and every `mcp-*` header are listed in order; values are decoded as Latin-1. Each item must be a
    `(name, value)` tuple or list of `bytes` (`TypeError` otherwise)."""

    def __new__(cls, wanted: frozenset[bytes]) -> HeaderReader: ...
    def read(
        self, headers: _Iterable[tuple[bytes, bytes]]
    ) -> tuple[dict[bytes, str], list[str], list[tuple[str, str]]]: ...

# --- end http_headers ---

# --- tokens: SHA-256 and the token map's table (rust/py/src/tokens.rs) ------------------------------------

def sha256(data: bytes) -> bytes:
    """The SHA-256 digest of `data` (32 bytes)."""

@_final
class TokenTable:
    """The SHA-256 digests of a token map's tokens, in its order (`ValueError` for a digest that is not
    32 bytes)."""

    def __new__(cls, digests: _Sequence[bytes]) -> TokenTable: ...
    def find(self, token: bytes) -> int:
        """The index of the entry whose digest is the SHA-256 of `token` (the last, if repeated), or -1;
        every entry is compared, in constant time."""
    def __len__(self) -> int: ...

# --- end tokens ---
