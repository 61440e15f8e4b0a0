"""Reproduction by crossover and mutation (Li et al. 2024's EvolutionaryAgent; also the
scripted trait-vector society).

Each child has two parents drawn at random from the survivors; it takes each trait from
either parent with probability 0.5 (a list-valued trait element by element: uniform
crossover), then each trait (each element) is mutated with probability ``rate``: perturbed
(scripted, :func:`gaussian`) or rewritten (an LLM prompted with the parents' traits, an
async ``mutate``). Other params come from the first parent; ``fresh`` params (an agent's
memory) are not inherited.

Example:
    >>> import asyncio, numpy as np
    >>> from agentsim.evolution.population import Member
    >>> a = Member("1_1", "evolutionary", {"traits": [0.0, 0.0, 0.0]})
    >>> b = Member("1_2", "evolutionary", {"traits": [1.0, 1.0, 1.0]})
    >>> r = CrossoverReproducer(traits=("traits",), rate=0.0)
    >>> kids = asyncio.run(r.reproduce([a, b], [1.0, 1.0], 2, 2, np.random.default_rng(0)))
    >>> [k.id for k in kids], all(v in (0.0, 1.0) for k in kids for v in k.params["traits"])
    (['2_1', '2_2'], True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from agentsim.evolution.population import Member, new_member_ids
from agentsim.llm.types import gather_or_cancel

#: ``mutate(key, value, parents, child_id, rng) -> value`` (or an awaitable of it).
Mutate = Callable[[str, Any, tuple[Member, Member], str, np.random.Generator], Any]


def gaussian(sigma: float, low: float = 0.0, high: float = 1.0) -> Mutate:
    """Scripted mutation: add N(0, sigma^2) and clip to ``[low, high]``.

    Example:
        >>> m = gaussian(0.1)
        >>> 0.0 <= m("traits", 0.99, (None, None), "2_1", np.random.default_rng(1)) <= 1.0
        True
    """

    def mutate(key: str, value: Any, parents: Any, child: str, rng: np.random.Generator) -> float:
        return float(np.clip(float(value) + rng.normal(0.0, sigma), low, high))

    return mutate


@dataclass(frozen=True)
class CrossoverReproducer:
    """Two random survivors per child, uniform crossover of ``traits``, mutation at ``rate``.

    Attributes:
        traits: the params that are inherited trait by trait.
        rate: probability that a trait (an element of a list-valued trait) mutates.
        mutate: how a trait mutates (default: ``gaussian(0.1)``); may be async.
        fresh: params a child does not inherit (its memory starts empty); a mapping gives
            them per kind (the child's kind is its first parent's).
    """

    traits: tuple[str, ...]
    rate: float
    mutate: Mutate | None = None
    fresh: tuple[str, ...] | Mapping[str, tuple[str, ...]] = ()

    def _fresh(self, kind: str) -> tuple[str, ...]:
        if isinstance(self.fresh, Mapping):
            return tuple(self.fresh.get(kind, ()))
        return tuple(self.fresh)

    async def reproduce(
        self,
        survivors: Sequence[Member],
        scores: Sequence[float],
        n_new: int,
        generation: int,
        rng: np.random.Generator,
    ) -> list[Member]:
        if n_new and not survivors:
            raise ValueError("crossover needs at least one survivor")
        mutate = self.mutate or gaussian(0.1)
        plans = []  # every random draw happens here, in order, before any await
        for child_id in new_member_ids(generation, n_new):
            i, j = rng.choice(len(survivors), size=2, replace=len(survivors) < 2)
            a, b = survivors[int(i)], survivors[int(j)]
            fresh = self._fresh(a.kind)
            params = {k: v for k, v in a.params.items() if k not in fresh}
            todo: list[tuple[str, int | None, Any]] = []
            # The child is of the first parent's kind: it inherits that kind's traits only
            # (a parent of another kind passes on the first parent's value).
            for key in (k for k in self.traits if k in a.params):
                va = a.params[key]
                vb = b.params.get(key, va)
                if isinstance(va, list) and isinstance(vb, list) and len(va) == len(vb):
                    pick = rng.random(len(va)) < 0.5
                    mixed = [x if p else y for x, y, p in zip(va, vb, pick, strict=True)]
                    hits = np.flatnonzero(rng.random(len(mixed)) < self.rate)
                    todo += [(key, int(e), mixed[e]) for e in hits]
                    params[key] = mixed
                else:
                    params[key] = va if rng.random() < 0.5 else vb
                    if rng.random() < self.rate:
                        todo.append((key, None, params[key]))
            plans.append((child_id, a, b, params, todo))
        # Mutations are called in plan order (a scripted one draws from rng); an LLM rewrite
        # returns an awaitable, and all children's rewrites are awaited together.
        results = [
            mutate(key, v, (a, b), child_id, rng)
            for child_id, a, b, _, todo in plans
            for key, _, v in todo
        ]
        if any(inspect.isawaitable(r) for r in results):
            results = list(await gather_or_cancel([_value(r) for r in results]))
        done = iter(results)
        children = []
        for child_id, a, b, params, todo in plans:
            for key, element, _ in todo:
                new = next(done)
                if element is None:
                    params[key] = new
                else:
                    old: list[Any] = params[key]
                    params[key] = [*old[:element], new, *old[element + 1 :]]
            children.append(Member(child_id, a.kind, params, generation, (a.id, b.id)))
        return children


async def _value(result: Any) -> Any:
    return await result if inspect.isawaitable(result) else result
