"""Populations across generations: members, reproduction and cultural transmission.

A :class:`Member` is plain data (id, agent kind, parameters), so a population
checkpoints as JSON. Reproduction is a hook: :class:`MutationReproducer` copies a
survivor's parameters with seeded mutation (scripted cultural evolution); LLM
transmission (new agents writing strategies from the survivors' advice) plugs in
through the same :class:`Reproducer` protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import numpy as np

from agentsim.agents.registry import make_agent


@dataclass(frozen=True)
class Member:
    """One agent of a population: ``id`` follows the paper's ``"<generation>_<i>"``."""

    id: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    born: int = 1
    parents: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["parents"] = list(self.parents)
        return d

    @staticmethod
    def from_json(d: dict[str, Any]) -> Member:
        return Member(d["id"], d["kind"], dict(d["params"]), d["born"], tuple(d["parents"]))

    def build(self) -> Any:
        """A fresh agent for this member."""
        return make_agent(self.kind, name=self.id, **self.params)


class Reproducer(Protocol):
    """Creates the new members of the next generation from the survivors."""

    async def reproduce(
        self,
        survivors: Sequence[Member],
        scores: Sequence[float],
        n_new: int,
        generation: int,
        rng: np.random.Generator,
    ) -> list[Member]: ...


def new_member_ids(generation: int, n_new: int, start: int = 1) -> list[str]:
    """Ids ``"<generation>_<i>"`` for new members (survivors keep their ids)."""
    return [f"{generation}_{i}" for i in range(start, start + n_new)]


@dataclass(frozen=True)
class MutationReproducer:
    """Each new member copies a uniformly chosen survivor's kind and mutated parameters.

    ``sigma`` is the mutation's standard deviation as a fraction of each
    parameter's range (see ``DonorStrategy.BOUNDS``); 0 copies exactly.
    """

    sigma: float = 0.05

    async def reproduce(
        self,
        survivors: Sequence[Member],
        scores: Sequence[float],
        n_new: int,
        generation: int,
        rng: np.random.Generator,
    ) -> list[Member]:
        children = []
        for child_id in new_member_ids(generation, n_new):
            parent = survivors[int(rng.integers(len(survivors)))]
            template = parent.build()
            mutate = getattr(template, "mutated_params", None)
            params = mutate(rng, self.sigma) if mutate is not None else dict(parent.params)
            children.append(Member(child_id, parent.kind, params, generation, (parent.id,)))
        return children


def parse_population(spec: str, generation: int = 1) -> list[Member]:
    """Members from ``"kind:count,kind:count"`` (default parameters), ids ``"1_1"``...

    Example:
        >>> [m.id + "=" + m.kind for m in parse_population("defector:1,cooperator:2")]
        ['1_1=defector', '1_2=cooperator', '1_3=cooperator']
    """
    from agentsim.agents.registry import agent_kinds
    from agentsim.core.errors import ConfigError

    kinds: list[str] = []
    for part in spec.split(","):
        kind, _, count = part.strip().partition(":")
        if kind not in agent_kinds():
            raise ConfigError("population", spec, "kind:count,... with kinds " + ", ".join(
                agent_kinds()))
        try:
            n = int(count) if count else 1
        except ValueError:
            raise ConfigError("population", spec, "kind:count with an integer count") from None
        if n < 0:
            raise ConfigError("population", spec, "kind:count with count >= 0")
        kinds += [kind] * n
    ids = new_member_ids(generation, len(kinds))
    return [Member(i, k, dict(_default_params(k)), generation) for i, k in zip(ids, kinds,
                                                                            strict=True)]


def _default_params(kind: str) -> dict[str, Any]:
    from agentsim.agents.registry import agent_params

    return agent_params(make_agent(kind))
