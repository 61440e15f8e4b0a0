"""``NormSocietyConfig``: the validated, frozen settings of ``norm_society_v0``.

Defaults follow Li et al. (2024, arXiv:2401.04620): 10 agents, steps of 2 simulated years,
eras of 5 steps (a decade) from 2000, norms from the bank's eras. Every invalid value is a
:class:`~agentsim.core.errors.ConfigError` naming the key and what is allowed.

Example:
    >>> cfg = NormSocietyConfig(network="small_world", n_agents=20)
    >>> cfg.era_of(6), cfg.year_of(6)
    (1, 2010)
    >>> NormSocietyConfig(degree=3, network="ring")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    agentsim.core.errors.ConfigError: invalid degree=3; allowed: an even integer in [2, 9] ...
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from agentsim.core.config import check_choice, check_number
from agentsim.core.errors import ConfigError, UserError
from agentsim.envs.norm_society import catalogue
from agentsim.envs.norm_society.network import KINDS, check_shape, read_edge_list

SCHEDULES = ("bank", "shift", "drift", "evolve")
OBSERVERS = ("rule", "llm")
AUDIT_OBSERVERS = ("", "rule", "llm")
MAX_AGENTS = 20_000
#: The ``era`` observation is ``Discrete(MAX_ERA_INDEX + 1)``; later eras show as the last.
MAX_ERA_INDEX = 63
#: Keys only some networks read: refused away from their defaults elsewhere (no silent no-op).
_NETWORK_KEYS = {
    "degree": ("small_world", "ring"),
    "rewire": ("small_world",),
    "attach": ("scale_free",),
    "graph_file": ("file",),
    "graph_seed": ("small_world", "scale_free"),
}
_SCHEDULE_KEYS = {
    "shift_step": ("shift",),
    "drift": ("drift", "evolve"),
    "direction": ("drift", "evolve"),
    "evolve_top": ("evolve",),
}


@dataclass(frozen=True)
class NormSocietyConfig:
    """Settings of ``norm_society_v0`` (one episode = one time step).

    Attributes:
        n_agents: seats (= nodes of the network), 2 to 20,000.
        network: ``complete``, ``small_world`` (connected Watts-Strogatz), ``scale_free``
            (Barabasi-Albert), ``ring`` or ``file`` (``graph_file``).
        degree: small_world / ring: each node's lattice degree (even).
        rewire: small_world: rewiring probability.
        attach: scale_free: edges each new node attaches.
        graph_file: network=file: an edge list ``u v`` per line over nodes 0..n_agents-1.
        graph_seed: small_world / scale_free: the graph's seed; None derives it from the
            seed of the first step (a new graph per run seed, kept for the whole run).
        steps_per_era: steps per era (5: a decade of 2-year steps); norms change between eras.
        years_per_step: simulated years per step; start_year: the first step's year.
        norm_schedule: ``bank`` (the bank's eras in order, the last one held), ``shift``
            (0.3 in every dimension before ``shift_step``, 0.7 from it on: the modelling
            oracle), ``drift`` (from the first era's norm, ``drift`` per era toward
            ``direction``) or ``evolve`` (each era's norm: the top ``evolve_top`` agents'
            mean behaviour over the last era, moved ``drift`` toward ``direction``; Li et
            al.'s Evolve(h, r_v)).
        shift_step: shift: the first step (1-based) under the new norm.
        drift: drift / evolve: the distance moved toward ``direction`` per era.
        direction: drift / evolve: comma-separated target vector (d floats in [0, 1]);
            "" is the last bank era's norm.
        evolve_top: evolve: the share of top-scoring agents whose behaviour sets the next norm.
        situations_per_step: situation rounds per step (each agent meets its own situation).
        statement_weight: the questionnaire's share of the observer's distance.
        fitness_width: width of the observer's Gaussian fitness.
        observer: ``rule`` (distance to the norm vector) or ``llm`` (a rubric; needs a model).
        observer_noise: sd of the rule observer's score noise.
        audit_observer: ``""`` or a second judge (``rule`` / ``llm``) scoring the same items
            (for Cohen's kappa); it never affects fitness.
        mutation_sigma: sd of a scripted trait element's mutation.
        bank_dir: a folder with bank files replacing the built-in ones ("" = built-in).
    """

    n_agents: int = 10
    network: str = "complete"
    degree: int = 4
    rewire: float = 0.1
    attach: int = 2
    graph_file: str = ""
    graph_seed: int | None = None
    steps_per_era: int = 5
    years_per_step: int = 2
    start_year: int = 2000
    norm_schedule: str = "bank"
    shift_step: int = 11
    drift: float = 0.05
    direction: str = ""
    evolve_top: float = 0.2
    situations_per_step: int = 3
    statement_weight: float = 0.5
    fitness_width: float = 0.35
    observer: str = "rule"
    observer_noise: float = 0.0
    audit_observer: str = ""
    mutation_sigma: float = 0.1
    bank_dir: str = ""

    def __post_init__(self) -> None:
        check_number("n_agents", self.n_agents, low=2, high=MAX_AGENTS, integer=True)
        self._check_network()
        check_number("steps_per_era", self.steps_per_era, low=1, high=10_000, integer=True)
        check_number("years_per_step", self.years_per_step, low=1, high=100, integer=True)
        check_number("start_year", self.start_year, low=0, high=9999, integer=True)
        check_choice("norm_schedule", self.norm_schedule, SCHEDULES)
        check_number("shift_step", self.shift_step, low=1, high=100_000, integer=True)
        check_number("drift", self.drift, low=0.0, high=1.0)
        check_number("evolve_top", self.evolve_top, low=1e-9, high=1.0)
        check_number("situations_per_step", self.situations_per_step, low=1, high=20, integer=True)
        check_number("statement_weight", self.statement_weight, low=0.0, high=1.0)
        check_number("fitness_width", self.fitness_width, low=1e-3, high=10.0)
        check_choice("observer", self.observer, OBSERVERS)
        check_number("observer_noise", self.observer_noise, low=0.0, high=6.0)
        check_choice("audit_observer", self.audit_observer, AUDIT_OBSERVERS)
        check_number("mutation_sigma", self.mutation_sigma, low=0.0, high=1.0)
        self._check_bank()
        self._check_unused()

    def _check_network(self) -> None:
        check_choice("network", self.network, KINDS)
        check_number("degree", self.degree, low=2, high=MAX_AGENTS, integer=True)
        check_number("rewire", self.rewire, low=0.0, high=1.0)
        check_number("attach", self.attach, low=1, high=MAX_AGENTS, integer=True)
        if not isinstance(self.graph_file, str):
            raise ConfigError("graph_file", self.graph_file, "a path to an edge list, or ''")
        if self.graph_seed is not None:
            check_number("graph_seed", self.graph_seed, low=0, high=2**63 - 1, integer=True)
        check_shape(self.network, self.n_agents, self.degree, self.attach)
        if self.network == "file":
            read_edge_list(self.graph_file, self.n_agents)

    def _check_bank(self) -> None:
        if not isinstance(self.bank_dir, str):
            raise ConfigError("bank_dir", self.bank_dir, "a folder of bank files, or ''")
        if self.bank_dir and not Path(self.bank_dir).is_dir():
            raise ConfigError("bank_dir", self.bank_dir, "an existing folder of bank files, or ''")
        try:
            bank = self.bank()
        except UserError as exc:
            raise ConfigError("bank_dir", self.bank_dir, f"a valid bank ({exc})") from None
        self.direction_vector(bank.dims)

    def _check_unused(self) -> None:
        """Refuse a key this network or schedule ignores, set away from its default."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for keys, chosen, name in (
            (_NETWORK_KEYS, self.network, "network"),
            (_SCHEDULE_KEYS, self.norm_schedule, "norm_schedule"),
        ):
            for key, users in keys.items():
                if chosen not in users and getattr(self, key) != defaults[key]:
                    raise ConfigError(
                        key,
                        getattr(self, key),
                        f"its default {defaults[key]!r}: only {name}={' or '.join(users)} uses it",
                    )

    def bank(self) -> catalogue.Bank:
        """The situation bank (``bank_dir``, or the built-in one)."""
        return catalogue.load_bank(self.bank_dir or None)

    def direction_vector(self, dims: int) -> np.ndarray | None:
        """``direction`` as a vector of ``dims`` floats (None for "": the last bank era).

        Raises:
            ConfigError: naming ``direction``.
        """
        if not self.direction:
            return None
        allowed = f"'' or {dims} comma-separated numbers in [0, 1]"
        try:
            values = np.array([float(x) for x in str(self.direction).split(",")])
        except ValueError:
            raise ConfigError("direction", self.direction, allowed) from None
        if values.shape != (dims,) or not np.all((values >= 0) & (values <= 1)):
            raise ConfigError("direction", self.direction, allowed)
        return values

    def era_of(self, step: int) -> int:
        """The 0-based era of a 1-based step."""
        return (step - 1) // self.steps_per_era

    def year_of(self, step: int) -> int:
        """The simulated year of a 1-based step."""
        return self.start_year + (step - 1) * self.years_per_step
