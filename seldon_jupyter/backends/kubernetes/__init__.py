"""The kubernetes backend (official `kubernetes` client against a real cluster)."""

from __future__ import annotations

from seldon_jupyter.backends.kubernetes.backend import KubernetesBackend

__all__ = ["KubernetesBackend"]
