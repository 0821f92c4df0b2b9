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
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pymcp import _core
from pymcp.errors import AuthorizationError
from pymcp.protocol.targets import SUBSCRIPTION_METHODS, TARGET_KINDS
from pymcp.security.authz import AuthzRequest
from pymcp.security.decisions import NON_RPC, AuditMessage, Decision, Denial, PolicyTrace, RuleStep
from pymcp.security.policy_inputs import (
    BINDINGS_ATTR,
    Bindings,
    claims_for_policy,
    compile_policy,
    item_key,
    load_json_config,
    request_targets,
    string_items,
)
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


class RuleBasedAuthorizer:
    """Ordered allow/deny rules from a config mapping (see the module docstring for the semantics).

    `audit=True` logs one structured event per decision on the `pymcp.audit` logger (never tokens or
    arguments). `dry_run=True` logs denials as audit events marked `dry_run` and allows everything, so a
    new policy can be watched before it is enforced; lists are not filtered then either.
    """

    def __init__(self, config: Mapping[str, Any], *, audit: bool = False, dry_run: bool = False) -> None:
        self._install(compile_policy(config))
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
        self._install(compile_policy(config))

    def reload_file(self, path: str | Path | None = None) -> bool:
        """Reload from `path` (default: the `from_file` file); whether the new policy is in force.

        A file that cannot be read or is not a valid policy keeps the current policy and logs one line
        naming the file, the rule and the key on the `pymcp.policy` logger.
        """
        source = Path(path) if path is not None else self._source
        if source is None:
            raise ValueError("`reload_file()` needs a path: this authorizer was not made by `from_file`")
        try:
            policy = compile_policy(load_json_config(source))
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
            cache: Bindings | None = principal.__dict__.get(BINDINGS_ATTR)
        except AttributeError:  # a principal-like object without __dict__: bind every time
            return self._bind(principal)
        if cache is not None:
            bound = cache.get(self._policy)
            if bound is not None:
                return bound
        bound = self._bind(principal)
        principal.__dict__.setdefault(BINDINGS_ATTR, Bindings())[self._policy] = bound
        return bound

    def _bind(self, principal: Principal) -> _core.BoundPrincipal:
        claims = principal.claims
        claims_json = (
            claims_for_policy(claims, self._claim_names)
            if self._claim_names and isinstance(claims, Mapping)
            else None
        )
        return self._policy.bind(
            principal.subject, string_items(principal.roles), string_items(principal.scopes), claims_json
        )

    # --- decisions -------------------------------------------------------------------------------------

    def is_allowed(self, principal: Principal | None, method: str, target: str | None = None) -> bool:
        """Whether `method` (with its tool / prompt name or resource uri) is allowed: the fast path."""
        # `_binding` inlined: this is the per-request hot path.
        if principal is None:
            bound = self._anonymous
        else:
            try:
                bound = principal.__dict__[BINDINGS_ATTR][self._policy]
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
        # `_binding` and the single-target `request_targets` inlined: this is the public per-request path.
        if principal is None:
            bound = self._anonymous
        else:
            try:
                bound = principal.__dict__[BINDINGS_ATTR][self._policy]
            except (KeyError, AttributeError):
                bound = self._binding(principal)
        if self._observed:
            decision = self._observe(principal, bound, method, request_targets(request))
            if not decision.allowed:
                raise AuthorizationError(
                    decision.message or "Forbidden", required_scopes=decision.missing_scopes
                )
            return
        if method == "tools/call":
            target = request.tool_name
        elif method == "resources/read" or method in SUBSCRIPTION_METHODS:
            for target in request_targets(request):
                if not self._check(bound, method, target):
                    raise Denial(self._policy, bound, method, target)
            return
        elif method == "prompts/get":
            target = request.prompt_name
        else:
            target = None
        if not self._check(bound, method, target):
            raise Denial(self._policy, bound, method, target)

    def explain(self, principal: Principal | None, request: AuthzRequest) -> Decision:
        """The decision for `request` and why (a non-RPC request is allowed with no rule and no default)."""
        if request.rpc_method is None:
            return NON_RPC
        return self._decide(self._binding(principal), request.rpc_method, request_targets(request))

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
        assert why is not None  # `request_targets` never returns an empty tuple
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
            _audit_log.info(AuditMessage(event), extra={"audit": event})
        if dry_run_denial:
            return NON_RPC
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
            item.get(key) if type(item) is dict else item_key(item, key, attribute) for item in items
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
