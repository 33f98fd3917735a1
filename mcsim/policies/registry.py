"""The policy registry: every triage, dispatch and destination rule by name.

Policies are small pure functions (STYLE.md §8). They are registered with the :func:`register`
decorator under a kind and a name, listed by ``mcsim policies``, and looked up by name from a
scenario or the command line. Users add their own without editing mcsim: decorate a function in
their own module, or publish it under the ``mcsim.policies`` entry-point group so that it is
imported when the registry is first used.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any

from mcsim.errors import InputError


class PolicyKind(StrEnum):
    """The three decisions a policy can make."""

    TRIAGE = "triage"
    DISPATCH = "dispatch"
    DESTINATION = "destination"


@dataclass(frozen=True)
class Policy:
    """A registered policy: its name, what it is, and the callable that decides."""

    kind: PolicyKind
    name: str
    description: str
    func: Callable[..., Any]
    params: dict[str, Any] = field(default_factory=dict)
    injected: frozenset[str] = frozenset()
    validate: Callable[[dict[str, Any]], None] | None = None

    def check_params(self, values: dict[str, Any] | None, *, path: str | None = None) -> None:
        """Refuse unknown parameters and values of the wrong type (one :class:`InputError`).

        The type check follows the default: a bool needs a bool, a number a number, a string a
        string; parameters whose default is None or a mapping are checked by the policy's own
        ``validate`` hook, if it has one.
        """
        values = values or {}
        for key, value in values.items():
            where = f"{path}.{key}" if path else key
            if key not in self.params:
                valid = ", ".join(self.params) or "none"
                raise InputError(
                    f"unknown parameter {key!r} of {self.kind} policy {self.name!r}; "
                    f"valid parameters: {valid}",
                    path=where,
                )
            default = self.params[key]
            if isinstance(default, bool):
                ok = isinstance(value, bool)
            elif isinstance(default, int | float):
                ok = isinstance(value, int | float) and not isinstance(value, bool)
            elif isinstance(default, str):
                ok = isinstance(value, str)
            else:
                ok = True
            if not ok:
                wanted = (
                    "true or false"
                    if isinstance(default, bool)
                    else "a string"
                    if isinstance(default, str)
                    else "a number"
                )
                raise InputError(
                    f"parameter {key!r} of {self.kind} policy {self.name!r} needs {wanted}, "
                    f"got {value!r}",
                    path=where,
                )
        if self.validate is not None:
            try:
                self.validate(dict(values))
            except ValueError as exc:
                raise InputError(str(exc), path=path) from None

    def bind(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """The keyword arguments of a call: the defaults updated with checked ``values``."""
        self.check_params(values)
        return {**self.params, **(values or {})}


class PolicyRegistry:
    """Name → policy, per kind. One instance per process is created by :func:`default_registry`."""

    def __init__(self) -> None:
        self._policies: dict[PolicyKind, dict[str, Policy]] = {k: {} for k in PolicyKind}
        self._entry_points_loaded = False

    def add(self, policy: Policy) -> None:
        """Register ``policy``; a second policy of the same kind and name is refused."""
        existing = self._policies[policy.kind].get(policy.name)
        if existing is not None and existing.func is not policy.func:
            raise ValueError(f"a {policy.kind} policy named {policy.name!r} is already registered")
        self._policies[policy.kind][policy.name] = policy

    def remove(self, kind: PolicyKind | str, name: str) -> None:
        """Forget the policy ``name`` of ``kind`` (a test or a plugin cleaning up after itself)."""
        self._policies[PolicyKind(kind)].pop(name, None)

    def get(self, kind: PolicyKind | str, name: str, *, path: str | None = None) -> Policy:
        """The policy ``name`` of ``kind``; an unknown name is an :class:`InputError`."""
        kind = PolicyKind(kind)
        self._load_entry_points()
        try:
            return self._policies[kind][name]
        except KeyError:
            known = ", ".join(sorted(self._policies[kind]))
            raise InputError(f"unknown {kind} policy {name!r}; known: {known}", path=path) from None

    def names(self, kind: PolicyKind | str) -> list[str]:
        """Registered names of ``kind``, sorted."""
        self._load_entry_points()
        return sorted(self._policies[PolicyKind(kind)])

    def all(self) -> list[Policy]:
        """Every registered policy, by kind then name."""
        self._load_entry_points()
        return [self._policies[k][n] for k in PolicyKind for n in sorted(self._policies[k])]

    def _load_entry_points(self) -> None:
        if self._entry_points_loaded:
            return
        self._entry_points_loaded = True
        for ep in entry_points(group="mcsim.policies"):
            ep.load()  # importing the module runs its @register decorators


_REGISTRY = PolicyRegistry()


def default_registry() -> PolicyRegistry:
    """The process-wide registry that the decorators fill (built-ins are imported first)."""
    import mcsim.policies.destination  # noqa: F401  (registers built-ins)
    import mcsim.policies.dispatch  # noqa: F401
    import mcsim.policies.stm  # noqa: F401
    import mcsim.policies.triage  # noqa: F401

    return _REGISTRY


#: Keyword-only parameters without a default that the model supplies at decision time
#: (see :mod:`mcsim.policies.views`).
INJECTABLE = frozenset({"context", "physiology", "truth"})


def register(
    kind: PolicyKind | str,
    name: str,
    description: str,
    *,
    validate: Callable[[dict[str, Any]], None] | None = None,
    params: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register the decorated callable as policy ``name`` of ``kind``.

    Keyword-only parameters of the callable with defaults are its tunable parameters; they are
    listed by ``mcsim policies`` and may be set per policy in a scenario's
    ``policies.params``. Keyword-only parameters without a default must be among
    :data:`INJECTABLE` (``context``, ``physiology``, ``truth``); the model fills them in.
    ``validate`` may check parameter values further (raise ``ValueError`` with a message).

    ``params`` registers one *parameter set* of a rule that several protocols share (the UK
    Triage Sieve and MPTT are one algorithm with different thresholds): the policy's tunable
    parameters are then exactly these names with these defaults, whatever the signature's
    defaults. Each name must be a keyword-only parameter of the callable; a keyword-only
    parameter left out must have a default (used, not tunable) or be injectable. Stacking the
    decorator registers the same callable under several names.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        signature = inspect.signature(func).parameters.values()
        keyword_only = {p.name: p for p in signature if p.kind is inspect.Parameter.KEYWORD_ONLY}
        if params is not None:
            unknown = sorted(set(params) - set(keyword_only))
            if unknown:
                raise TypeError(
                    f"policy {name!r}: params {', '.join(unknown)} are not keyword-only "
                    f"parameters of {func.__qualname__}"
                )
        chosen: dict[str, Any] = {}
        injected: set[str] = set()
        for p in keyword_only.values():
            if params is not None and p.name in params:
                chosen[p.name] = params[p.name]
            elif p.name in INJECTABLE and p.default is inspect.Parameter.empty:
                injected.add(p.name)
            elif p.default is inspect.Parameter.empty:
                raise TypeError(
                    f"policy {name!r}: keyword-only parameter {p.name!r} needs a default "
                    f"(only {', '.join(sorted(INJECTABLE))} are supplied by the model)"
                )
            elif params is None:
                chosen[p.name] = p.default
        _REGISTRY.add(
            Policy(
                PolicyKind(kind),
                name,
                description,
                func,
                chosen,
                frozenset(injected),
                validate,
            )
        )
        return func

    return decorate
