"""Populations across generations: members, reproduction and cultural transmission.

A :class:`Member` is plain data (id, agent kind, parameters), so a population
checkpoints as JSON. Reproduction is a hook: :class:`MutationReproducer` copies a
survivor's parameters with seeded mutation (scripted cultural evolution); LLM
transmission (new agents writing strategies from the survivors' advice,
:mod:`agentsim.evolution.transmission`) plugs in through the same :class:`Reproducer`
protocol.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from agentsim.agents.registry import make_agent

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class Member:
    """One agent of a population: ``id`` follows the paper's ``"<generation>_<i>"``.

    ``kind`` is looked up among the kinds of the env the population lives in (see
    :func:`agentsim.agents.registry.make_agent`).
    """

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

    def build(self, env: str | None = None) -> Any:
        """A fresh agent for this member, of its kind in ``env``."""
        return make_agent(self.kind, env=env, name=self.id, **self.params)


@runtime_checkable
class Mutable(Protocol):
    """An agent whose parameters can be copied with seeded mutation (scripted strategies)."""

    def mutated_params(self, rng: np.random.Generator, sigma: float) -> dict[str, Any]: ...


@runtime_checkable
class Initializes(Protocol):
    """A reproduction hook that also prepares generation 1 (LLM members write strategies)."""

    async def initialize(self, members: list[Member], generation: int) -> list[Member]: ...


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
    env: str | None = None

    async def reproduce(
        self,
        survivors: Sequence[Member],
        scores: Sequence[float],
        n_new: int,
        generation: int,
        rng: np.random.Generator,
    ) -> list[Member]:
        children = []
        by_kind: dict[str, Any] = {}
        for child_id in new_member_ids(generation, n_new):
            parent = survivors[int(rng.integers(len(survivors)))]
            params = self._mutated(parent, rng, by_kind)
            children.append(Member(child_id, parent.kind, params, generation, (parent.id,)))
        return children

    def _mutated(
        self, parent: Member, rng: np.random.Generator, by_kind: dict[str, Any]
    ) -> dict[str, Any]:
        """The child's parameters: the kind's ``mutate_params`` (no agent built) when it has
        one that can answer, else a template agent's ``mutated_params`` (same draws).
        ``by_kind`` keeps each kind's ``mutate_params`` (or None) for the next child."""
        if parent.kind not in by_kind:
            from agentsim.agents.registry import resolve_kind

            factory = resolve_kind(parent.kind, self.env)
            found = getattr(factory, "mutate_params", None)
            # Only a classmethod of the kind itself (an instance method of that name, seen
            # on the class, would want an agent).
            by_kind[parent.kind] = found if getattr(found, "__self__", None) is factory else None
        mutate_params = by_kind[parent.kind]
        params: dict[str, Any] | None = (
            mutate_params(parent.params, rng, self.sigma) if mutate_params else None
        )
        if params is not None:
            return params
        template = parent.build(self.env)
        # getattr, not isinstance(template, Mutable): a runtime protocol check costs
        # tens of microseconds per child (the same test, by attribute).
        mutate = getattr(template, "mutated_params", None)
        if not callable(mutate):
            return dict(parent.params)
        mutated: dict[str, Any] = mutate(rng, self.sigma)
        return mutated


def parse_population(spec: str, generation: int = 1, env: str | None = None) -> list[Member]:
    """Members from ``"kind:count,kind[key=value;key=value]:count"``, ids ``"1_1"``...

    Parameters in brackets override the kind's defaults.

    Example:
        >>> [m.id + "=" + m.kind for m in parse_population("defector:1,cooperator:2")]
        ['1_1=defector', '1_2=cooperator', '1_3=cooperator']
        >>> parse_population("image_scoring[punish=0.5]:1")[0].params["punish"]
        0.5
    """
    parts = population_parts(spec, env)
    members = [(kind, params) for kind, params, n in parts for _ in range(n)]
    ids = new_member_ids(generation, len(members))
    return [
        Member(i, kind, dict(params), generation)
        for i, (kind, params) in zip(ids, members, strict=True)
    ]


def population_parts(spec: str, env: str | None = None) -> list[tuple[str, dict[str, Any], int]]:
    """The validated ``(kind, params, count)`` parts of a population spec, members unbuilt.

    Cheap for any population size: it checks every kind, parameter and count (the total at
    most :data:`MAX_POPULATION`) without creating a member per count.

    Example:
        >>> [(kind, n) for kind, _, n in population_parts("defector:1,image_scoring:2")]
        [('defector', 1), ('image_scoring', 2)]
    """
    parts = [_parse_population_part(spec, part.strip(), env) for part in spec.split(",")]
    if sum(n for _, _, n in parts) > MAX_POPULATION:
        from agentsim.core.errors import ConfigError

        raise ConfigError("population", spec, f"counts summing to at most {MAX_POPULATION:,}")
    return parts


#: The largest population a spec may describe (the largest any env accepts: donor_game_v0
#: takes up to 1,000,000 agents); a bigger count is refused before memory is spent on it.
MAX_POPULATION = 1_000_000

_POPULATION_FORMAT = "kind:count or kind[key=value;...]:count, comma-separated"


def _parse_population_part(
    spec: str, part: str, env: str | None
) -> tuple[str, dict[str, Any], int]:
    from agentsim.agents.registry import agent_kinds, agent_params
    from agentsim.core.errors import ConfigError

    head, _, count = part.rpartition(":") if ":" in part else (part, "", "1")
    kind, _, rest = head.partition("[")
    if kind not in agent_kinds(env):
        raise ConfigError(
            "population", spec, f"{_POPULATION_FORMAT}; kinds: " + ", ".join(agent_kinds(env))
        )
    if rest and not rest.endswith("]"):
        raise ConfigError("population", spec, _POPULATION_FORMAT)
    overrides: dict[str, Any] = {}
    for item in filter(None, rest[:-1].split(";")):
        key, _, value = item.partition("=")
        try:
            overrides[key.strip()] = float(value)
        except ValueError:
            raise ConfigError(
                "population", spec, _POPULATION_FORMAT + " (numeric values)"
            ) from None
    try:
        n = int(count)
    except ValueError:
        raise ConfigError("population", spec, _POPULATION_FORMAT + " (integer counts)") from None
    if not 0 <= n <= MAX_POPULATION:
        raise ConfigError(
            "population", spec, f"{_POPULATION_FORMAT} (counts in [0, {MAX_POPULATION:,}])"
        )
    params = {**_default_params(kind, env), **overrides}
    agent_params(make_agent(kind, env=env, **params))  # validates names and ranges
    return kind, params, n


def _default_params(kind: str, env: str | None) -> dict[str, Any]:
    from agentsim.agents.registry import agent_params

    return agent_params(make_agent(kind, env=env))
