"""Agent registry: build agents by kind from JSON-ready parameters.

Populations store members as ``(kind, params)`` so that a checkpoint is plain
JSON; ``make_agent`` turns them back into agents.

Example:
    >>> a = make_agent("fixed_fraction", name="1_1", fraction=0.25)
    >>> a.name, agent_params(a)
    ('1_1', {'fraction': 0.25})
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agentsim.core.errors import ConfigError
from agentsim.core.registry import Registry


def _load_builtins(registry: Registry[Callable[..., Any]]) -> None:
    from agentsim.agents.llm.donor import LLMDonorAgent
    from agentsim.agents.scripted.donor import STRATEGIES

    for cls in STRATEGIES:
        registry.register(cls.kind, cls)
    registry.register(LLMDonorAgent.kind, LLMDonorAgent)


# The built-ins load before the first lookup *or* registration (see Registry), so a kind
# registered before any lookup keeps them, and may replace a built-in of the same name.
_KINDS: Registry[Callable[..., Any]] = Registry("agent kind", _load_builtins)


def register_agent(kind: str, factory: Callable[..., Any]) -> None:
    """Register a factory ``factory(**params) -> agent`` under ``kind``.

    Registering before any lookup keeps the built-in kinds; a factory under a built-in's
    name replaces the built-in.
    """
    _KINDS.register(kind, factory)


def agent_kinds() -> list[str]:
    """All registered agent kinds, sorted."""
    return _KINDS.names()


def make_agent(kind: str, *, name: str | None = None, **params: Any) -> Any:
    """Build an agent of a registered kind; bad kinds or parameters raise ConfigError."""
    factory = _KINDS.get(kind)
    try:
        agent = factory(**params)
    except TypeError as exc:
        raise ConfigError(f"{kind} parameters", params, str(exc)) from None
    if name is not None:
        agent.name = name
    return agent


def agent_params(agent: Any) -> dict[str, Any]:
    """The JSON-ready parameters of an agent built by :func:`make_agent` (``{}`` if none)."""
    params = getattr(agent, "params", None)
    return dict(params()) if callable(params) else {}
