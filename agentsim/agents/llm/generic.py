"""The generic LLM agent: an environment's LLM agent is its prompts, its parser and its fallback.

A study that has no LLM agent class of its own describes one with a :class:`PromptedPolicy`
(how to render an observation into messages, how to parse a reply into an action, what
to do when no reply parses) and registers ``PromptedAgent.factory(policy)`` as its
``llm`` kind; the run binds a :class:`PromptedContext` (the model stack and settings).
Every call goes through the one driver (:func:`agentsim.agents.llm.driver.ask_and_parse`).

Example:
    >>> import numpy as np
    >>> from agentsim.agents.llm.parsers import ParseResult
    >>> policy = PromptedPolicy(
    ...     messages=lambda obs: [("user", f"You hold {obs['own']}. Contribute how much?")],
    ...     parse=lambda text, obs: ParseResult(True, np.array([float(text)])),
    ...     fallback=lambda obs: np.zeros(1),
    ... )
    >>> agent = PromptedAgent(policy, name="p1")
    >>> agent.kind
    'llm'
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentsim.agents.base import Decision
from agentsim.agents.llm.driver import Question, ask_and_parse
from agentsim.agents.llm.parsers import ParseResult
from agentsim.agents.llm.settings import LLMSettings
from agentsim.llm.types import LanguageModel

Observation = Mapping[str, Any]


@dataclass(frozen=True)
class PromptedPolicy:
    """What makes an LLM agent for one environment.

    Attributes:
        messages: ``messages(obs) -> [(role, text), ...]``: the prompt for one decision.
        parse: ``parse(reply, obs) -> ParseResult``: the action, or an error to re-ask with.
        fallback: ``fallback(obs) -> action``: the recorded action when no reply parses.
        acts: ``acts(obs) -> bool``: whether the agent decides at all (else ``idle``).
        idle: ``idle(obs) -> action``: the action of a turn without a decision.
        purpose: what the calls are for, in the call records.
    """

    messages: Callable[[Observation], Sequence[tuple[str, str]]]
    parse: Callable[[str, Observation], ParseResult[Any]]
    fallback: Callable[[Observation], Any]
    acts: Callable[[Observation], bool] = lambda obs: True
    idle: Callable[[Observation], Any] | None = None
    purpose: str = "decision"


@dataclass
class PromptedContext:
    """What the generic LLM agents of one run share: the model stack and the settings."""

    model: LanguageModel
    settings: LLMSettings


def prompted_context(
    model: LanguageModel, settings: LLMSettings, env: Mapping[str, Any], seeds: Any
) -> PromptedContext:
    """A study's ``LLMBinding.context`` for agents built with :meth:`PromptedAgent.factory`."""
    return PromptedContext(model, settings)


class SeatedLLMAgent:
    """What every LLM agent of a seat shares: the bound context, the per-episode seed from
    the runner and the provider seeds of its calls (fixed by the run seed, so the cache key
    of every call does not depend on dispatch order)."""

    kind = "llm"

    def __init__(self, name: str) -> None:
        self.name = name
        self.context: Any = None
        self._seed = 0
        self._calls = 0

    def params(self) -> dict[str, Any]:
        return {}

    def bind(self, context: Any) -> None:
        """Attach the run's shared context (done by the runtime)."""
        self.context = context

    def reset(self, *, seed: int | None = None) -> None:
        self._seed, self._calls = int(seed or 0), 0

    def act(self, observation: Observation) -> Decision:
        """Synchronous facade (scripts); runners use ``aact``."""
        return asyncio.run(self.aact(observation))

    async def aact(self, observation: Observation) -> Decision:
        raise NotImplementedError

    def bound_context(self) -> Any:
        if self.context is None:
            raise RuntimeError(f"LLM agent {self.name} has no model: call bind(context) first")
        return self.context

    def next_seeds(self, n: int) -> list[int]:
        """Provider seeds for the next question's ``n`` possible asks."""
        seeds = [(self._seed + 7919 * (self._calls + i)) % 2**62 for i in range(n)]
        self._calls += n
        return seeds


class PromptedAgent(SeatedLLMAgent):
    """An LLM agent described by a :class:`PromptedPolicy` (kind ``llm``)."""

    def __init__(self, policy: PromptedPolicy, name: str = "llm") -> None:
        super().__init__(name)
        self.policy = policy

    @classmethod
    def factory(cls, policy: PromptedPolicy) -> Callable[..., PromptedAgent]:
        """An agent factory for a study's ``agent_kinds`` (no parameters)."""

        def make() -> PromptedAgent:
            return cls(policy)

        return make

    async def aact(self, observation: Observation) -> Decision:
        p = self.policy
        if not p.acts(observation):
            idle = p.idle(observation) if p.idle is not None else p.fallback(observation)
            return Decision(action=idle)
        context: PromptedContext = self.bound_context()
        s = context.settings
        assert s.model is not None  # a context is only built with a model
        n = s.max_parse_attempts
        seeds = self.next_seeds(n)
        question = Question.from_settings(
            s, p.messages(observation), purpose=p.purpose, agent=self.name, seeds=seeds
        )
        answer = await ask_and_parse(
            context.model,
            question,
            lambda text: p.parse(text, observation),
            fallback=p.fallback(observation),
            max_attempts=n,
        )
        return answer.decision()
