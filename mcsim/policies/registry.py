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
    import mcsim.policies.triage  # noqa: F401

    return _REGISTRY


def register(
    kind: PolicyKind | str, name: str, description: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: register the decorated callable as policy ``name`` of ``kind``.

    Keyword-only parameters of the callable with defaults are its tunable parameters; they are
    listed by ``mcsim policies``.
    """

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        params = {
            p.name: p.default
            for p in inspect.signature(func).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and p.default is not inspect.Parameter.empty
        }
        _REGISTRY.add(Policy(PolicyKind(kind), name, description, func, params))
        return func

    return decorate
