"""Triage, dispatch and destination policies, and the registry that names them."""

from mcsim.policies.registry import Policy, PolicyKind, default_registry, register

__all__ = ["Policy", "PolicyKind", "default_registry", "register"]
