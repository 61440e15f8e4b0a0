"""Cultural transmission: new LLM members write their strategies from the survivors' advice.

Vallinder & Hughes (2024), "Cultural Evolution of Cooperation among LLM Agents",
arXiv:2412.10270, and their released notebook: each new agent copies the kind of a
uniformly chosen survivor; an LLM child writes its strategy from the strategies of all
LLM survivors, best first (as the notebook sorts them) and with their scores, or without
them as in the released code. Scripted children mutate their parent's parameters.

A study's LLM agents bring the strategy writer (the donor game's is
:func:`agentsim.agents.llm.donor.write_strategy`); this module, above ``agents/`` and
``envs/`` in the layers, turns it into a :class:`~agentsim.evolution.population.Reproducer`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from agentsim.agents.base import Usage
from agentsim.agents.llm.donor import KIND, write_strategy
from agentsim.agents.llm.settings import LLMSettings
from agentsim.evolution.population import Member, MutationReproducer, Reproducer, new_member_ids
from agentsim.llm.types import gather_or_cancel

#: (strategy, score or None) of each LLM survivor, in the order a child reads them.
Advice = list[tuple[str, float | None]]


class TransmissionContext(Protocol):
    """What the transmission reads from a study's LLM context: its settings."""

    @property
    def settings(self) -> LLMSettings: ...


class StrategyWriter(Protocol):
    """``write(ctx, name, generation, advice) -> (params, usage)``: a member's strategy.

    ``advice`` is None for generation-1 members, who write from the rules only.
    """

    def __call__(
        self,
        ctx: Any,
        name: str,
        generation: int,
        advice: Sequence[tuple[str, float | None]] | None,
    ) -> Awaitable[tuple[dict[str, Any], Usage]]: ...


def survivor_advice(
    survivors: Sequence[Member], scores: Sequence[float], settings: LLMSettings, kind: str = KIND
) -> Advice:
    """(strategy, score or None) of each ``kind`` survivor, in the order a child reads them.

    ``best_first`` sorts by score, highest first, as the notebook's top-half selection
    returns survivors; ties keep population order. Scores are ordered by even when
    ``inherit_scores`` is off and they are not shown.

    Example:
        >>> members = [Member(i, "llm", {"strategy": s}) for i, s in [("1_1", "a"), ("1_2", "b")]]
        >>> survivor_advice(members, [1.0, 2.0], LLMSettings(inherit_scores=True))
        [('b', 2.0), ('a', 1.0)]
    """
    pairs = [
        (m.params.get("strategy", ""), float(s))
        for m, s in zip(survivors, scores, strict=True)
        if m.kind == kind
    ]
    if settings.advice_order == "best_first":
        pairs.sort(key=lambda pair: -pair[1])  # stable: ties keep population order
    return [(text, s if settings.inherit_scores else None) for text, s in pairs]


@dataclass
class LLMTransmission:
    """Reproduction for populations with LLM members (cultural transmission).

    Each new member copies the kind of a uniformly chosen survivor. Children of ``kind``
    write their strategy with ``write`` from the advice of all such survivors (with their
    scores if ``inherit_scores``), listed best first unless ``advice_order="population"``;
    the others are reproduced by ``scripted`` (mutation of their parent's parameters).

    Attributes:
        context: the study's LLM context, passed to ``write``.
        scripted: reproduction of the scripted children.
        write: the study's strategy writer (default: the donor game's).
        kind: the agent kind whose members transmit culturally.
    """

    context: TransmissionContext
    scripted: Reproducer = field(default_factory=lambda: MutationReproducer(env="donor_game_v0"))
    write: StrategyWriter = write_strategy
    kind: str = KIND

    async def initialize(self, members: list[Member], generation: int) -> list[Member]:
        """Generation-1 strategies for LLM members that have none (from the rules only)."""
        todo = [m for m in members if m.kind == self.kind and not m.params.get("strategy")]
        written = await gather_or_cancel(
            [self.write(self.context, m.id, generation, None) for m in todo]
        )
        params = {m.id: p for m, (p, _) in zip(todo, written, strict=True)}
        return [
            Member(m.id, m.kind, params.get(m.id, m.params), m.born, m.parents) for m in members
        ]

    async def reproduce(
        self,
        survivors: Sequence[Member],
        scores: Sequence[float],
        n_new: int,
        generation: int,
        rng: np.random.Generator,
    ) -> list[Member]:
        parents = [survivors[int(rng.integers(len(survivors)))] for _ in range(n_new)]
        ids = new_member_ids(generation, n_new)
        advice = survivor_advice(survivors, scores, self.context.settings, self.kind)
        llm_children = [(i, p) for i, p in zip(ids, parents, strict=True) if p.kind == self.kind]
        written = await gather_or_cancel(
            [
                self.write(self.context, child_id, generation, advice or None)
                for child_id, _ in llm_children
            ]
        )
        strategies = {cid: p for (cid, _), (p, _) in zip(llm_children, written, strict=True)}
        llm_parents = tuple(m.id for m in survivors if m.kind == self.kind)
        children = []
        for child_id, parent in zip(ids, parents, strict=True):
            if parent.kind == self.kind:
                children.append(
                    Member(child_id, self.kind, strategies[child_id], generation, llm_parents)
                )
            else:
                (child,) = await self.scripted.reproduce([parent], [0.0], 1, generation, rng)
                children.append(
                    Member(child_id, child.kind, child.params, generation, child.parents)
                )
        return children
