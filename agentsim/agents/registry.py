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

_FACTORIES: dict[str, Callable[..., Any]] = {}


def register_agent(kind: str, factory: Callable[..., Any]) -> None:
    """Register a factory ``factory(**params) -> agent`` under ``kind``."""
    _FACTORIES[kind] = factory


def _ensure_builtins() -> None:
    if _FACTORIES:
        return
    from agentsim.agents.llm.donor import LLMDonorAgent
    from agentsim.agents.scripted.donor import STRATEGIES

    for cls in STRATEGIES:
        register_agent(cls.kind, cls)
    register_agent(LLMDonorAgent.kind, LLMDonorAgent)


def agent_kinds() -> list[str]:
    """All registered agent kinds, sorted."""
    _ensure_builtins()
    return sorted(_FACTORIES)


def make_agent(kind: str, *, name: str | None = None, **params: Any) -> Any:
    """Build an agent of a registered kind; bad kinds or parameters raise ConfigError."""
    _ensure_builtins()
    if kind not in _FACTORIES:
        raise ConfigError("agent kind", kind, agent_kinds())
    try:
        agent = _FACTORIES[kind](**params)
    except TypeError as exc:
        raise ConfigError(f"{kind} parameters", params, str(exc)) from None
    if name is not None:
        agent.name = name
    return agent


def agent_params(agent: Any) -> dict[str, Any]:
    """The JSON-ready parameters of an agent built by :func:`make_agent` (``{}`` if none)."""
    params = getattr(agent, "params", None)
    return dict(params()) if callable(params) else {}
