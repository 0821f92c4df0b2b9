"""Who is calling: the authenticated principal and its stable identity."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

__all__ = ["Principal", "frozen_principal", "principal_identity"]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller (same fields and meaning as pymcp-kit 0.3.0).

    `claims` holds every claim the authenticator kept (for JWTs and introspection, `iss` among them).
    """

    subject: str
    display_name: str | None = None
    scopes: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    claims: Mapping[str, Any] = field(default_factory=dict)


def principal_identity(principal: Principal | None) -> str | None:
    """The stable identity that owns sessions and tasks: issuer plus subject.

    Scopes, roles and display names change when a token is refreshed; ownership must not.
    `None` for anonymous callers (who then own nothing beyond their session).
    """
    if principal is None:
        return None
    claims = principal.claims
    # dicts first: a cheaper check than the ABC, and what claims nearly always are
    issuer = claims.get("iss") if isinstance(claims, (dict, Mapping)) else None
    return f"{issuer if isinstance(issuer, str) else ''}\x1f{principal.subject}"


# -- one immutable principal per credential ----------------------------------------------------------
# An authenticator builds one principal per credential and hands the same object to every request that
# presents it, so the policy binding cached on it is reused. Tool code must not be able to change what the
# next request sees: the sets, the claims and the lists and objects inside them refuse changes. They stay
# `set`, `dict` and `list` subclasses, so `isinstance`, equality and JSON encoding are unchanged.


def _read_only(self: object, *args: object, **kwargs: object) -> NoReturn:
    raise TypeError(f"`{type(self).__name__}` of a principal is read-only")


class _FrozenSet(set[str]):
    __slots__ = ()
    add = discard = remove = pop = clear = update = _read_only
    intersection_update = difference_update = symmetric_difference_update = _read_only
    __ior__ = __iand__ = __isub__ = __ixor__ = _read_only

    def __reduce__(self) -> tuple[type[set[str]], tuple[list[str]]]:
        return (set, (list(self),))  # a copy may be changed


class _FrozenList(list[Any]):
    __slots__ = ()
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only

    def __reduce__(self) -> tuple[type[list[Any]], tuple[list[Any]]]:
        return (list, (list(self),))


class _FrozenDict(dict[str, Any]):
    __slots__ = ()
    clear = pop = popitem = setdefault = update = _read_only
    __setitem__ = __delitem__ = __ior__ = _read_only

    def __reduce__(self) -> tuple[type[dict[str, Any]], tuple[dict[str, Any]]]:
        return (dict, (dict(self),))


def _frozen_value(value: Any) -> Any:
    if isinstance(value, Mapping):
        return _FrozenDict({key: _frozen_value(item) for key, item in value.items()})
    if isinstance(value, list):
        return _FrozenList(_frozen_value(item) for item in value)
    return value


def frozen_principal(
    subject: str,
    *,
    display_name: str | None = None,
    scopes: Iterable[str] = (),
    roles: Iterable[str] = (),
    claims: Mapping[str, Any] | None = None,
) -> Principal:
    """A principal that can be reused across requests: its sets and claims (deeply) refuse changes."""
    return Principal(
        subject=subject,
        display_name=display_name,
        scopes=_FrozenSet(scopes),
        roles=_FrozenSet(roles),
        claims=_FrozenDict({key: _frozen_value(item) for key, item in (claims or {}).items()}),
    )
