"""The agent interface every environment accepts.

An agent is anything with ``name``, ``reset(*, seed)`` and ``act(observation)``
(optionally ``async aact(observation)``). Nothing has to inherit from anything:
:class:`Agent` is a structural protocol.

Example:
    >>> import numpy as np
    >>> class Half:
    ...     name = "half"
    ...     def reset(self, *, seed=None): pass
    ...     def act(self, observation): return Decision(action=np.array([0.5]))
    >>> isinstance(Half(), Agent)
    True
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Usage:
    """Token and cost accounting of the LLM calls behind one decision."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float | None = 0.0  # None when a provider's price is unknown

    def __add__(self, other: Usage) -> Usage:
        cost = (
            None
            if self.cost_usd is None or other.cost_usd is None
            else (self.cost_usd + other.cost_usd)
        )
        return Usage(
            self.calls + other.calls,
            self.prompt_tokens + other.prompt_tokens,
            self.completion_tokens + other.completion_tokens,
            cost,
        )


@dataclass(frozen=True)
class Decision:
    """An action plus how it was reached.

    Attributes:
        action: the action passed to the environment (in its action space).
        rationale: the agent's stated reasoning, if any.
        raw: the raw model reply, if an LLM produced it.
        parse_status: ``"scripted"``, ``"ok"``, ``"reasked"`` (parsed after re-asking)
            or ``"fallback"`` (never parsed; ``action`` is the recorded fallback).
        usage: LLM calls, tokens and cost spent on this decision.
        extra: any further JSON-ready detail to record with the decision.
    """

    action: Any
    rationale: str | None = None
    raw: str | None = None
    parse_status: str = "scripted"
    usage: Usage = field(default_factory=Usage)
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Agent(Protocol):
    """Structural interface of an agent; ``aact`` is optional (see :func:`has_async`)."""

    name: str

    def reset(self, *, seed: int | None = None) -> None:
        """Start a new episode; ``seed`` re-seeds the agent's own RNG."""

    def act(self, observation: Any) -> Decision:
        """Choose an action for one observation."""
        ...


def has_async(agent: object) -> bool:
    """Whether an agent offers ``async aact(observation)``."""
    return callable(getattr(agent, "aact", None))


async def decide(agent: Any, observation: Any) -> Decision:
    """One decision from a sync or async agent (``aact`` when it has one)."""
    if has_async(agent):
        decision: Decision = await agent.aact(observation)
        return decision
    result: Decision = agent.act(observation)
    return result


def decide_sync(agent: Any, observation: Any) -> Decision:
    """One decision from synchronous code (uses ``act``; ``aact`` only if that is all there is).

    Example:
        >>> class Async:
        ...     async def aact(self, observation): return Decision(action=observation)
        >>> decide_sync(Async(), 3).action
        3
    """
    act = getattr(agent, "act", None)
    if callable(act):
        result: Decision = act(observation)
        return result
    return asyncio.run(decide(agent, observation))
