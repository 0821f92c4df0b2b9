"""Results of revision 2026-07-28: `resultType`, caching hints, `serverInfo` and `server/discover`.

Every result carries `resultType` (`"complete"`, `"input_required"`, or an extension's value such as
the tasks extension's `"task"`). The results of `server/discover`, the four list methods and
`resources/read` also carry `ttlMs` (how long a client may reuse them) and `cacheScope`: `"public"`
only when the answer is the same for every caller; whenever it depends on who asks (a list filtered
by the caller's rights, a resource read with the caller's identity) it must be `"private"`, or a
cache serving several users would hand one user's view to another.

`decorate_result` returns a new dict and never touches the one it gets: the server keeps compiled
`tools/list` pages and must be able to hand the same page to both eras.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pymcp.protocol.stateless.envelope import TASKS_EXTENSION

__all__ = [
    "CACHEABLE_METHODS",
    "RESULT_COMPLETE",
    "RESULT_INPUT_REQUIRED",
    "SERVER_INFO_KEY",
    "CachePolicy",
    "decorate_result",
    "discover_result",
    "ordered",
    "stateless_capabilities",
]

RESULT_COMPLETE = "complete"
RESULT_INPUT_REQUIRED = "input_required"
SERVER_INFO_KEY = "io.modelcontextprotocol/serverInfo"
CACHEABLE_METHODS: frozenset[str] = frozenset(
    (
        "server/discover",
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
        "resources/read",
    )
)


@dataclass(frozen=True, slots=True)
class CachePolicy:
    """The caching hints of one cacheable result.

    `private` is the safe default: set it to False only for answers that no caller identity,
    authorization rule or per-caller filter can change.
    """

    ttl_ms: int = 0
    private: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.ttl_ms, bool) or not isinstance(self.ttl_ms, int) or self.ttl_ms < 0:
            raise ValueError(f"ttl_ms must be a non-negative integer, got `{self.ttl_ms!r}`")

    @property
    def scope(self) -> str:
        """The `cacheScope` value."""
        return "private" if self.private else "public"


_DEFAULT_CACHE = CachePolicy()


def decorate_result(
    method: str,
    result: Mapping[str, Any],
    *,
    server_info: Mapping[str, Any] | None = None,
    cache: CachePolicy | None = None,
) -> dict[str, Any]:
    """A copy of `result` ready for a 2026-07-28 response to `method`.

    Adds `resultType: "complete"` unless the result already has a type; adds `ttlMs` / `cacheScope`
    to complete results of `CACHEABLE_METHODS` (from `cache`, default 0 ms and private) unless already
    set; adds `serverInfo` under `_meta`, keeping whatever `_meta` the result had. `tools/list` loses
    each tool's `execution` (2026-07-28 moved task support into the tasks extension).
    """
    decorated = dict(result)
    if method == "tools/list" and isinstance(decorated.get("tools"), list):
        decorated["tools"] = [
            {key: value for key, value in tool.items() if key != "execution"} if "execution" in tool else tool
            for tool in decorated["tools"]
        ]
    result_type = decorated.setdefault("resultType", RESULT_COMPLETE)
    if result_type == RESULT_COMPLETE and method in CACHEABLE_METHODS:
        policy = cache or _DEFAULT_CACHE
        decorated.setdefault("ttlMs", policy.ttl_ms)
        decorated.setdefault("cacheScope", policy.scope)
    if server_info is not None:
        meta = decorated.get("_meta")
        info = {SERVER_INFO_KEY: server_info}  # shared, not copied: the result is encoded and dropped
        decorated["_meta"] = {**meta, **info} if meta is not None and isinstance(meta, Mapping) else info
    return decorated


def stateless_capabilities(capabilities: Mapping[str, Any]) -> dict[str, Any]:
    """Server capabilities in their 2026-07-28 shape, from the shape `initialize` advertises.

    Tasks left the core protocol: a `tasks` capability becomes the `io.modelcontextprotocol/tasks`
    extension (the extension has no settings); every other key stays as it is.
    """
    converted = {key: value for key, value in capabilities.items() if key != "tasks"}
    if "tasks" in capabilities:
        extensions = converted.get("extensions")
        converted["extensions"] = {
            **(extensions if isinstance(extensions, Mapping) else {}),
            TASKS_EXTENSION: {},
        }
    return converted


def discover_result(
    *,
    supported_versions: Sequence[str],
    capabilities: Mapping[str, Any],
    server_info: Mapping[str, Any],
    instructions: str | None = None,
    cache: CachePolicy | None = None,
) -> dict[str, Any]:
    """The `server/discover` result: stateless versions, 2026-07-28 capabilities and who we are.

    Pass `CachePolicy(private=True)` (the default) when `capabilities` were filtered for the caller.
    """
    result: dict[str, Any] = {
        "supportedVersions": list(supported_versions),
        "capabilities": stateless_capabilities(capabilities),
    }
    if instructions is not None:
        result["instructions"] = instructions
    return decorate_result("server/discover", result, server_info=server_info, cache=cache)


def ordered(items: Iterable[Mapping[str, Any]], key: str) -> list[Mapping[str, Any]]:
    """`items` sorted by their `key` field (`name`, `uri` or `uriTemplate`), for a deterministic list.

    Same set in, same order out, whatever order the items were registered or filtered in.
    """
    return sorted(items, key=lambda item: str(item.get(key, "")))
