"""Rule-based authorization: pymcp-kit 0.3.0's `RuleBasedAuthorizer`, compiled into the Rust policy engine.

The semantics live in `rust/core/src/policy.rs` (this module only adapts principals and requests):

- Rules are tried in order; the first one that matches the request AND applies to the principal decides.
  No match: `default_effect` (deny unless told otherwise).
- A rule matches a request when one of its `methods` globs matches the JSON-RPC method and, if it has a
  `tool` / `prompt` / `resource` glob, the request's tool name (`tools/call`), prompt name (`prompts/get`)
  or resource uri (`resources/read`, each uri of `resources/subscribe` / `unsubscribe`) matches it.
- A rule applies to everyone when it has no conditions. Otherwise it applies to an authenticated principal
  when ANY condition holds — `allow_subjects`, `allow_roles` (roles include those mapped from the groups
  claim by `groups_to_roles`), `allow_scopes` (globs over granted scopes), `allow_claims` — the lists are
  OR-ed, as in 0.3.0; and to an anonymous caller only with `allow_anonymous`. A rule that does not apply is
  skipped: deny rules use the same conditions to say whom they deny.
- Loading is strict: an unknown key, a wrong type, empty `methods`, a bad effect or a duplicate id raises
  `PolicyError` (a `ValueError`) with one line naming the rule (0-based index, and id) and the key.

Differences from 0.3.0, on purpose: strict loading; prompts, resources and claims can be authorized; a deny
rule only hides the scope hint from the principals it applies to; `filter_capabilities` hides every
capability the principal can use nothing of; prompt and resource lists are filtered too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from pymcp import _core
from pymcp.errors import AuthorizationError, PolicyError
from pymcp.protocol.targets import SUBSCRIPTION_METHODS, TARGET_KINDS
from pymcp.security.authz import AuthzRequest
from pymcp.security.principal import Principal

if TYPE_CHECKING:
    from pymcp.security.reload import PolicyReloader

__all__ = ["Decision", "PolicyTrace", "RuleBasedAuthorizer", "RuleStep", "load_json_config"]

_audit_log = logging.getLogger("pymcp.audit")
_policy_log = logging.getLogger("pymcp.policy")

_Item = TypeVar("_Item")

# The methods behind each capability: a capability is hidden when the principal may use none of them.
_CAPABILITY_METHODS: dict[str, tuple[str, ...]] = {
    "completions": ("completion/complete",),
    "logging": ("logging/setLevel",),
    "prompts": ("prompts/list", "prompts/get"),
    "resources": (
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "resources/subscribe",
        "resources/unsubscribe",
    ),
    "tasks": ("tasks/list", "tasks/get", "tasks/result", "tasks/cancel"),
    "tools": ("tools/list", "tools/call"),
}

# Where a principal keeps its compiled bindings, keyed by policy. `Principal` is a frozen dataclass with
# set fields, so it is unhashable and cannot key a dict or a WeakKeyDictionary; a cache stored on the
# instance itself costs one dict lookup, lives exactly as long as the principal, and needs no eviction.
# A principal is immutable after authentication: changing its sets in place would not reach the cache.
_BINDINGS_ATTR = "_pymcp_policy_bindings"


class _Bindings(dict["_core.Policy", "_core.BoundPrincipal"]):
    """A principal's bindings. Copies and pickles as empty: bindings are process-local and rebuilt on use."""

    def __reduce__(self) -> tuple[type[_Bindings], tuple[()]]:
        return (_Bindings, ())


@dataclass(frozen=True, slots=True)
class Decision:
    """Why a request is allowed or denied (`RuleBasedAuthorizer.explain`).

    `rule_index` is 0-based (as in the `rules` list) and `None` when no rule matched: then `default` is
    true and the default effect decided. On denial, `missing_scopes` lists the scopes that would have let
    an earlier allow rule grant the request, and `message` is the text the caller is given.
    """

    allowed: bool
    effect: str
    rule_index: int | None
    rule_id: str | None
    default: bool
    missing_scopes: tuple[str, ...]
    message: str | None


_NON_RPC = Decision(True, "allow", None, None, False, (), None)


@dataclass(frozen=True, slots=True)
class RuleStep:
    """One rule tried by `RuleBasedAuthorizer.trace`.

    `index` is 0-based, as in the `rules` list. `outcome` is `"decided"` (the rule matched and applied: its
    effect decided), `"method"` (no `methods` glob matched), `"target"` (the tool / prompt / resource glob
    did not match) or `"conditions"` (the rule matched but does not apply to the principal).
    """

    index: int
    rule_id: str | None
    outcome: str
    reason: str


@dataclass(frozen=True, slots=True)
class PolicyTrace:
    """A decision (`decision`) and the rules tried to reach it, in order (`steps`)."""

    method: str
    target: str | None
    decision: Decision
    steps: tuple[RuleStep, ...]


# The C-level `args` slot of an exception, which `_Denial` uses to hold the decision's inputs.
_EXCEPTION_ARGS: Any = BaseException.__dict__["args"]


class _Denial(AuthorizationError):
    """The policy's `AuthorizationError`: its message and scope hint are worked out when first read.

    A deny storm is the cheapest attack on an authorizer, so a denial costs one decision and one raise;
    the explanation (the rule's message, the missing scopes) is asked of the policy only if the caller
    reads it. Constructed with the C-level `Exception.__init__`: the decision's inputs are its only state.
    """

    __init__ = Exception.__init__  # (policy, bound, method, target)

    def __getattr__(self, name: str) -> Any:
        # `message` and `required_scopes` are filled in on first read (this runs only for missing names)
        if name not in ("message", "required_scopes"):
            raise AttributeError(name)
        policy, bound, method, target = _EXCEPTION_ARGS.__get__(self)
        why = policy.explain(bound, method, target)
        self.message = why.message or "Forbidden"
        self.required_scopes = why.missing_scopes
        return self.__dict__[name]

    @property
    def args(self) -> tuple[Any, ...]:
        return (self.message,)

    @args.setter
    def args(self, value: tuple[Any, ...]) -> None:
        _EXCEPTION_ARGS.__set__(self, value)

    def __str__(self) -> str:
        return str(self.message)

    def __repr__(self) -> str:
        return f"AuthorizationError({self.message!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (AuthorizationError, (self.message,), {"required_scopes": self.required_scopes})


class _AuditMessage:
    """An audit event that becomes its JSON text only when a handler formats the record."""

    __slots__ = ("event",)

    def __init__(self, event: dict[str, Any]) -> None:
        self.event = event

    def __str__(self) -> str:
        return orjson.dumps(self.event).decode()


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


def _compile(config: Mapping[str, Any]) -> _core.Policy:
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


def _claims_json(claims: Mapping[str, Any], names: Sequence[str]) -> bytes | None:
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


def _strings(values: Any) -> list[str]:
    return [value for value in values or () if isinstance(value, str)]


def _item_key(item: Any, key: str, attribute: str) -> Any:
    if isinstance(item, Mapping):
        return item.get(key)
    return getattr(item, attribute, None)


def _targets(request: AuthzRequest) -> tuple[str | None, ...]:
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


class RuleBasedAuthorizer:
    """Ordered allow/deny rules from a config mapping (see the module docstring for the semantics).

    `audit=True` logs one structured event per decision on the `pymcp.audit` logger (never tokens or
    arguments). `dry_run=True` logs denials as audit events marked `dry_run` and allows everything, so a
    new policy can be watched before it is enforced; lists are not filtered then either.
    """

    def __init__(self, config: Mapping[str, Any], *, audit: bool = False, dry_run: bool = False) -> None:
        self._install(_compile(config))
        self._audit = audit
        self._dry_run = dry_run
        self._observed = audit or dry_run
        self._source: Path | None = None
        self._reloads: PolicyReloader | None = None

    def _install(self, policy: _core.Policy) -> None:
        # Decisions are synchronous and run on the event loop, so one that started finishes on the policy
        # it started with; these assignments happen between two decisions, never inside one.
        self._policy = policy
        self._anonymous = policy.anonymous
        self._check = policy.is_allowed
        self._claim_names = tuple(policy.claim_names)

    @classmethod
    def from_file(
        cls,
        path: str | Path,
        *,
        audit: bool = False,
        dry_run: bool = False,
        reload_on_sighup: bool = False,
        watch_seconds: float | None = None,
    ) -> RuleBasedAuthorizer:
        """An authorizer for the policy file `path`, which `reload_file()` reads again.

        With `reload_on_sighup=True` the server reloads the file when the process gets SIGHUP; with
        `watch_seconds` it also checks the file's modification time that often and reloads on a change.
        Both start with the app (`create_app` runs them in its lifespan, in every worker). An invalid new
        file keeps the current policy and logs one line on the `pymcp.policy` logger.
        """
        if watch_seconds is not None and not watch_seconds > 0:
            raise ValueError(f"`watch_seconds` must be a positive number of seconds, not `{watch_seconds}`")
        authorizer = cls(load_json_config(path), audit=audit, dry_run=dry_run)
        authorizer._source = Path(path)
        if reload_on_sighup or watch_seconds is not None:
            from pymcp.security.reload import PolicyReloader

            authorizer._reloads = PolicyReloader(
                authorizer, sighup=reload_on_sighup, watch_seconds=watch_seconds
            )
        return authorizer

    @property
    def source(self) -> Path | None:
        """The policy file given to `from_file`, if any."""
        return self._source

    @property
    def reloader(self) -> PolicyReloader | None:
        """What reloads the policy file while the app runs (`from_file` with a reload option), if anything."""
        return self._reloads

    def reload(self, config: Mapping[str, Any]) -> None:
        """Swap in a new policy, atomically: raise `PolicyError` and keep the current one if it is invalid.

        Call it on the event loop's thread (from another thread, use `loop.call_soon_threadsafe`).
        """
        self._install(_compile(config))

    def reload_file(self, path: str | Path | None = None) -> bool:
        """Reload from `path` (default: the `from_file` file); whether the new policy is in force.

        A file that cannot be read or is not a valid policy keeps the current policy and logs one line
        naming the file, the rule and the key on the `pymcp.policy` logger.
        """
        source = Path(path) if path is not None else self._source
        if source is None:
            raise ValueError("`reload_file()` needs a path: this authorizer was not made by `from_file`")
        try:
            policy = _compile(load_json_config(source))
        except OSError as error:
            _policy_log.error(
                "policy `%s` not reloaded: cannot read it (%s)", source, error.strerror or error
            )
            return False
        except ValueError as error:
            _policy_log.error("policy `%s` not reloaded, the current one stays: %s", source, error)
            return False
        self._install(policy)
        _policy_log.info("policy `%s` reloaded (%d rules)", source, len(policy.rule_ids))
        return True

    @property
    def policy(self) -> _core.Policy:
        """The compiled policy."""
        return self._policy

    @property
    def default_effect(self) -> str:
        """`"allow"` or `"deny"`: what happens when no rule matches."""
        return self._policy.default_effect

    @property
    def hide_unauthorized_capabilities(self) -> bool:
        """Whether `filter_capabilities` hides capabilities the principal can use nothing of."""
        return self._policy.hide_unauthorized_capabilities

    @property
    def hide_unauthorized_tools(self) -> bool:
        """Whether the list filters hide what the principal may not call."""
        return self._policy.hide_unauthorized_tools

    # --- binding ---------------------------------------------------------------------------------------

    def _binding(self, principal: Principal | None) -> _core.BoundPrincipal:
        if principal is None:
            return self._anonymous
        try:
            cache: _Bindings | None = principal.__dict__.get(_BINDINGS_ATTR)
        except AttributeError:  # a principal-like object without __dict__: bind every time
            return self._bind(principal)
        if cache is not None:
            bound = cache.get(self._policy)
            if bound is not None:
                return bound
        bound = self._bind(principal)
        principal.__dict__.setdefault(_BINDINGS_ATTR, _Bindings())[self._policy] = bound
        return bound

    def _bind(self, principal: Principal) -> _core.BoundPrincipal:
        claims = principal.claims
        claims_json = (
            _claims_json(claims, self._claim_names)
            if self._claim_names and isinstance(claims, Mapping)
            else None
        )
        return self._policy.bind(
            principal.subject, _strings(principal.roles), _strings(principal.scopes), claims_json
        )

    # --- decisions -------------------------------------------------------------------------------------

    def is_allowed(self, principal: Principal | None, method: str, target: str | None = None) -> bool:
        """Whether `method` (with its tool / prompt name or resource uri) is allowed: the fast path."""
        # `_binding` inlined: this is the per-request hot path.
        if principal is None:
            bound = self._anonymous
        else:
            try:
                bound = principal.__dict__[_BINDINGS_ATTR][self._policy]
            except (KeyError, AttributeError):
                bound = self._binding(principal)
        if self._observed:
            return self._observe(principal, bound, method, (target,)).allowed
        return self._check(bound, method, target)

    def authorize(self, principal: Principal | None, request: AuthzRequest) -> None:
        """Raise `AuthorizationError` (with the rule's message and the missing scopes) unless allowed.

        Requests without a JSON-RPC method are allowed, as in 0.3.0. Every uri of a subscribe request
        must be allowed.
        """
        method = request.rpc_method
        if method is None:
            return
        # `_binding` and the single-target `_targets` inlined: this is the public per-request path.
        if principal is None:
            bound = self._anonymous
        else:
            try:
                bound = principal.__dict__[_BINDINGS_ATTR][self._policy]
            except (KeyError, AttributeError):
                bound = self._binding(principal)
        if self._observed:
            decision = self._observe(principal, bound, method, _targets(request))
            if not decision.allowed:
                raise AuthorizationError(
                    decision.message or "Forbidden", required_scopes=decision.missing_scopes
                )
            return
        if method == "tools/call":
            target = request.tool_name
        elif method == "resources/read" or method in SUBSCRIPTION_METHODS:
            for target in _targets(request):
                if not self._check(bound, method, target):
                    raise _Denial(self._policy, bound, method, target)
            return
        elif method == "prompts/get":
            target = request.prompt_name
        else:
            target = None
        if not self._check(bound, method, target):
            raise _Denial(self._policy, bound, method, target)

    def explain(self, principal: Principal | None, request: AuthzRequest) -> Decision:
        """The decision for `request` and why (a non-RPC request is allowed with no rule and no default)."""
        if request.rpc_method is None:
            return _NON_RPC
        return self._decide(self._binding(principal), request.rpc_method, _targets(request))

    def decide(self, principal: Principal | None, method: str, target: str | None = None) -> Decision:
        """The decision for `method` on `target` (tool / prompt name or resource uri), with the deciding rule.

        `explain` takes an `AuthzRequest`; this takes the method and target directly, as `is_allowed` does.
        """
        return self._decide(self._binding(principal), method, (target,))

    def trace(self, principal: Principal | None, method: str, target: str | None = None) -> PolicyTrace:
        """The decision and every rule tried before it, each with why it did not apply (or why it decided).

        Meant for people and tools (`pymcp policy explain`), not for the request path.
        """
        policy = self._policy  # one policy for the whole trace, even if a reload happens meanwhile
        bound = policy.anonymous if principal is None else self._bind(principal)
        why = policy.explain(bound, method, target)
        ids = policy.rule_ids
        decision = Decision(
            allowed=why.allowed,
            effect=why.effect,
            rule_index=why.rule_index,
            rule_id=why.rule_id,
            default=why.default,
            missing_scopes=why.missing_scopes,
            message=why.message,
        )
        steps = tuple(
            RuleStep(index, ids[index], outcome, reason)
            for index, outcome, reason in policy.trace(bound, method, target)
        )
        return PolicyTrace(method, target, decision, steps)

    def shadowed_rules(self) -> list[tuple[int, int]]:
        """Rules that can never decide: `(rule, earlier rule)` pairs, 0-based, where the earlier rule matches
        every request the later one matches, for everyone the later one applies to (sure findings only)."""
        return self._policy.shadowed()

    def required_scopes_for(self, principal: Principal | None, request: AuthzRequest) -> tuple[str, ...]:
        """Scopes that would have granted a denied request (empty when it is allowed)."""
        return self.explain(principal, request).missing_scopes

    def _decide(self, bound: _core.BoundPrincipal, method: str, targets: tuple[str | None, ...]) -> Decision:
        why = None
        for target in targets:
            why = self._policy.explain(bound, method, target)
            if not why.allowed:
                break
        assert why is not None  # `_targets` never returns an empty tuple
        return Decision(
            allowed=why.allowed,
            effect=why.effect,
            rule_index=why.rule_index,
            rule_id=why.rule_id,
            default=why.default,
            missing_scopes=why.missing_scopes,
            message=why.message,
        )

    def _observe(
        self,
        principal: Principal | None,
        bound: _core.BoundPrincipal,
        method: str,
        targets: tuple[str | None, ...],
    ) -> Decision:
        """Decide, log the audit event, and in dry-run mode turn a denial into an allow."""
        decision = self._decide(bound, method, targets)
        dry_run_denial = self._dry_run and not decision.allowed
        # Built only when some handler will see it, and formatted only when a handler formats it.
        if (
            (self._audit or dry_run_denial)
            and _audit_log.isEnabledFor(logging.INFO)
            and _audit_log.hasHandlers()
        ):
            event: dict[str, Any] = {
                "event": "authz",
                "decision": decision.effect,
                "subject": principal.subject if principal is not None else None,
                "method": method,
                "rule_index": decision.rule_index,
                "rule_id": decision.rule_id,
                "default": decision.default,
            }
            field = TARGET_KINDS.get(method)
            if field is not None:
                event[field] = list(targets) if len(targets) > 1 else targets[0]
            if self._dry_run:
                event["dry_run"] = True
            _audit_log.info(_AuditMessage(event), extra={"audit": event})
        if dry_run_denial:
            return _NON_RPC
        return decision

    # --- lists and capabilities ------------------------------------------------------------------------

    def filter_capabilities(
        self, principal: Principal | None, capabilities: dict[str, Any]
    ) -> dict[str, Any]:
        """Without the capabilities whose methods the principal can use none of (when hiding is on).

        A capability counts as usable when some target would be allowed: a rule allowing `tools/call` for
        `deploy_*` keeps `tools`. Unknown capability keys are kept.
        """
        if not self.hide_unauthorized_capabilities or self._dry_run:
            return dict(capabilities)
        bound = self._binding(principal)
        return {
            name: value
            for name, value in capabilities.items()
            if name not in _CAPABILITY_METHODS
            or any(self._policy.allows_any(bound, method) for method in _CAPABILITY_METHODS[name])
        }

    def _filter(
        self,
        principal: Principal | None,
        items: Sequence[Any],
        method: str,
        key: str,
        attribute: str,
        enabled: bool,
    ) -> list[Any]:
        items = list(items)
        if not enabled or self._dry_run:
            return items
        keys: list[Any] = [
            item.get(key) if type(item) is dict else _item_key(item, key, attribute) for item in items
        ]
        if all(type(name) is str for name in keys):
            allowed = self._policy.filter(self._binding(principal), method, keys)
            return [items[index] for index in allowed]
        # Items without a name are dropped, as in 0.3.0.
        positions = [position for position, name in enumerate(keys) if isinstance(name, str)]
        allowed = self._policy.filter(self._binding(principal), method, [keys[p] for p in positions])
        return [items[positions[index]] for index in allowed]

    def filter_tools(self, principal: Principal | None, tools: Sequence[_Item]) -> list[_Item]:
        """The tools `tools/call` would allow (when `hide_unauthorized_tools`), so list and call agree."""
        return self._filter(principal, tools, "tools/call", "name", "name", self.hide_unauthorized_tools)

    def _hide_lists(self) -> bool:
        # Prompts and resources had no filter in 0.3.0; either hiding switch turns theirs on, so a policy
        # that hides anything never lists a prompt or resource it would refuse.
        return self.hide_unauthorized_tools or self.hide_unauthorized_capabilities

    def filter_prompts(self, principal: Principal | None, prompts: Sequence[_Item]) -> list[_Item]:
        """The prompts `prompts/get` would allow (when either hiding switch is on)."""
        return self._filter(principal, prompts, "prompts/get", "name", "name", self._hide_lists())

    def filter_resources(self, principal: Principal | None, resources: Sequence[_Item]) -> list[_Item]:
        """The resources `resources/read` would allow (when either hiding switch is on)."""
        return self._filter(principal, resources, "resources/read", "uri", "uri", self._hide_lists())

    def filter_resource_templates(
        self, principal: Principal | None, templates: Sequence[_Item]
    ) -> list[_Item]:
        """The templates whose `uriTemplate` text `resources/read` would allow as a uri (when hiding is on).

        A template is matched as written (`file:///{path}`): a `resource` glob such as `file:///*` keeps it.
        """
        return self._filter(
            principal, templates, "resources/read", "uriTemplate", "uri_template", self._hide_lists()
        )
