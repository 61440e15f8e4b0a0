"""``norm_society_v0``: a society living through eras of changing norms (PettingZoo Parallel).

An approximate reproduction of Li, Sun, Cheng & Qiu (2024, "Agent Alignment in Evolving
Social Norms", arXiv:2401.04620, EvolutionaryAgent): the paper's norm texts, questionnaire
and rubric are unpublished, so ours are written from its description. Beyond the paper,
the society is a social network (networkx): agents see their neighbours' behaviour.

One episode is one time step (default 2 simulated years); ``steps_per_era`` steps form an
era (a decade) and norms change between eras (``norm_schedule``). Step g (1-based, from
``reset(options={"generation": g})``; 1 when absent) is era ``(g-1)//steps_per_era``, year
``start_year + (g-1)*years_per_step``. Rounds of a step:

1. ``situations_per_step`` situation rounds (phase 0): each agent meets its own situation
   from the bank (drawn by the env's RNG) and acts with a behaviour vector; its chosen
   option is the option nearest to it.
2. One questionnaire round (phase 1): each agent answers with a statement vector. The
   observer judges every agent's conduct (behaviours and statement) against the era's
   norm: the rule observer at once (vectorised), an LLM observer asynchronously
   (:meth:`NormSocietyEnv.asettle`, awaited by the runner; used without a runner the env
   settles by itself at the next step).
3. One feedback round (phase 2): agents see their score, advice and feedback; their
   actions are ignored, and every agent terminates after it.

Observation (``Dict``, per agent; d = the bank's dimensions, 5):

====================  ===========================================================
``phase``             0 situation, 1 questionnaire, 2 feedback
``situation``         bank index of this round's situation (0 outside phase 0)
``options``           ``(4, d)`` option vectors (zeros outside phase 0)
``neighbours``        ``(d,)`` mean behaviour of the agent's neighbours in the
                      previous situation round of this step (0.5 when unknown)
``neighbours_known``  1 when ``neighbours`` is known (not in the first round, nor
                      for an agent without neighbours)
``era``, ``year``     era index (capped at 63) and simulated year (capped at 10000)
``score``             ``(1,)`` the observer's score of this step (phase 2; 4 before)
``advice``            ``(d,)`` signed direction toward the norm (rule observer:
                      clip((norm - mean behaviour) / 0.5, -1, 1)); zeros if none
``feedback``          the observer's feedback text (phase 2; "" before)
====================  ===========================================================

Action: ``Box(0, 1, (d,), float32)``: the behaviour (phase 0), the statement (phase 1);
ignored in phase 2. Finite values outside [0, 1] are clipped; a wrong shape, a non-finite
value or a missing agent raises ``ValueError`` naming the agent. Reward: the observer's
score (1..7) on the feedback round's step, 0 before.

Records (``pop_records``): ``norms`` (first step of an era, and the shift step),
``behaviour`` (per agent and situation round, with the behaviour's own score and label),
``statement``, ``judgement`` (per agent and judge, the audit judge too); generation 1's
``episode_records`` add the ``network``. ``episode_stats`` are the step's headline figures.

Example:
    >>> import numpy as np
    >>> env = NormSocietyEnv(n_agents=4)
    >>> obs, infos = env.reset(seed=0)
    >>> while env.agents:
    ...     obs, rewards, terms, truncs, infos = env.step(
    ...         {a: np.full(5, 0.5, np.float32) for a in env.agents})
    >>> sorted(env.episode_stats(env.possible_agents))[:3]
    ['adherence_rate', 'assortativity', 'best_score']

Version History:
    v0: initial (Li et al. 2024, approximate reproduction; networks beyond the paper).
"""

from __future__ import annotations

import asyncio
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from agentsim.core import records
from agentsim.core.config import build_config, check_choice
from agentsim.core.records import Record
from agentsim.envs.norm_society.catalogue import Bank
from agentsim.envs.norm_society.config import MAX_ERA_INDEX, NormSocietyConfig
from agentsim.envs.norm_society.network import Graph, build_graph
from agentsim.envs.text import env_record, fold, text_space
from agentsim.games import norm_society as rules
from agentsim.judges.base import AsyncJudge, Judgement, judge_all
from agentsim.judges.norm_llm_observer import llm_norm_observer
from agentsim.judges.norm_observer import NormItem, RuleNormObserver

__all__ = ["FIELD_TYPES", "RECORD_FIELDS", "NormSocietyConfig", "NormSocietyEnv"]

SITUATION, QUESTIONNAIRE, FEEDBACK = 0, 1, 2
MAX_YEAR = 10_000
MAX_FEEDBACK = 2000
#: Characters of the feedback text (printable ASCII; others are folded or replaced).
CHARSET = frozenset(string.printable)
NEUTRAL_SCORE = 4.0

#: Required fields per record type (the study registers them).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "norms": ("era", "year", "norm", "text", "schedule"),
    "network": ("kind", "nodes", "edges"),
    "behaviour": ("agent", "round", "situation", "option", "vector", "score", "label"),
    "statement": ("agent", "vector"),
}
#: How their fields (and the step statistics) are checked when a log is read. A field type
#: holds wherever the field appears, in any study's records: common names stay unchecked.
FIELD_TYPES: Mapping[str, records.FieldType] = {
    "score": records.FINITE_OR_NULL,
    "year": records.INTEGER,
    "era": records.STRING,
    "mean_score": records.NUMBER_OR_NULL,
    "best_score": records.NUMBER_OR_NULL,
    "violation_rate": records.NUMBER_OR_NULL,
    "adherence_rate": records.NUMBER_OR_NULL,
    "diversity": records.NUMBER_OR_NULL,
    "norm_distance": records.NUMBER_OR_NULL,
    "assortativity": records.NUMBER_OR_NULL,
    "violator_clustering": records.NUMBER_OR_NULL,
}


def sanitize(text: str, limit: int = MAX_FEEDBACK) -> str:
    """``text`` in :data:`CHARSET` (accents folded to ASCII, others "?"), cut to ``limit``."""
    return fold(text, CHARSET, limit)


def toward(start: np.ndarray, target: np.ndarray, distance: float) -> np.ndarray:
    """``start`` moved ``distance`` (Euclidean) toward ``target``, never past it.

    Example:
        >>> toward(np.array([0.0, 0.0]), np.array([0.3, 0.4]), 0.25).tolist()
        [0.15, 0.2]
    """
    gap = target - start
    length = float(np.sqrt((gap * gap).sum()))
    if length <= distance or length == 0.0:
        return np.array(target, dtype=np.float64)
    return np.asarray(start + gap * (distance / length), dtype=np.float64)


@dataclass
class _Evolving:
    """The ``evolve`` schedule's state: the current era's norm and, for the next one, the
    summed per-step mean behaviour of the top agents."""

    era: int
    norm: np.ndarray
    top_sum: np.ndarray
    top_steps: int


@dataclass
class _Pending:
    """A judge's verdicts still to come (an async judge): its items, and where they go."""

    judge: AsyncJudge
    items: list[NormItem]
    role: str


# pettingzoo ships no type information, so ParallelEnv is Any to mypy.
class NormSocietyEnv(ParallelEnv[str, dict[str, Any], np.ndarray]):  # type: ignore[misc]
    """Parallel env of one time step of the norm society (see the module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "norm_society_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": True,
    }

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self.config = build_config(NormSocietyConfig, config)
        self.render_mode = render_mode
        cfg = self.config
        self.bank: Bank = cfg.bank()
        self.d = self.bank.dims
        self.possible_agents = [f"agent_{i}" for i in range(cfg.n_agents)]
        self._seats = frozenset(self.possible_agents)
        self.agents: list[str] = []
        self._options = self.bank.option_array().astype(np.float32)
        self._obs_space = self._observation_space()
        self._act_space = spaces.Box(0.0, 1.0, (self.d,), np.float32)
        dims = [(x.name, x.low, x.high) for x in self.bank.dimensions]
        self.observer = self._judge(cfg.observer, cfg.observer, dims)
        self.audit = self._judge(cfg.audit_observer, f"audit_{cfg.audit_observer}", dims)
        self.np_random, _ = seeding.np_random(None)
        self._graph_seed = cfg.graph_seed
        self.graph: Graph | None = None
        if cfg.network in ("complete", "ring", "file") or cfg.graph_seed is not None:
            self.graph = self._build_graph(cfg.graph_seed or 0)
        self._evolving: _Evolving | None = None
        self._direction = cfg.direction_vector(self.d)
        self._records: list[Record] = []
        self._pending: list[_Pending] = []
        self.generation = 0
        self._scores: np.ndarray | None = None

    def _judge(self, kind: str, name: str, dims: list[tuple[str, str, str]]) -> Any:
        cfg = self.config
        if kind == "rule":
            return RuleNormObserver(
                width=cfg.fitness_width,
                statement_weight=cfg.statement_weight,
                noise=cfg.observer_noise,
                dimensions=dims,
                name=name,
            )
        if kind == "llm":
            return llm_norm_observer(name=name)
        return None

    def _build_graph(self, seed: int) -> Graph:
        cfg = self.config
        return build_graph(
            cfg.network,
            cfg.n_agents,
            degree=cfg.degree,
            rewire=cfg.rewire,
            attach=cfg.attach,
            graph_file=cfg.graph_file,
            seed=seed,
        )

    def _observation_space(self) -> spaces.Dict:
        d = self.d
        return spaces.Dict(
            {
                "phase": spaces.Discrete(3),
                "situation": spaces.Discrete(len(self.bank.situations)),
                "options": spaces.Box(0.0, 1.0, (4, d), np.float32),
                "neighbours": spaces.Box(0.0, 1.0, (d,), np.float32),
                "neighbours_known": spaces.Discrete(2),
                "era": spaces.Discrete(MAX_ERA_INDEX + 1),
                "year": spaces.Box(0, MAX_YEAR, (1,), np.int64),
                "score": spaces.Box(1.0, 7.0, (1,), np.float32),
                "advice": spaces.Box(-1.0, 1.0, (d,), np.float32),
                "feedback": text_space(MAX_FEEDBACK, CHARSET),
            }
        )

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._obs_space

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self._act_space

    def bind(self, context: Any) -> None:
        """Attach the run's LLM context to the LLM judges (observer, audit)."""
        for judge in (self.observer, self.audit):
            if judge is not None and hasattr(judge, "bind"):
                judge.bind(context)

    # -- episode ---------------------------------------------------------------------------

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Start step ``options["generation"]`` (default 1): its norm and situations.

        Options:
            generation: the 1-based step (the evolution loop's generation).
        """
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        cfg, n, d, s = self.config, self.config.n_agents, self.d, self.config.situations_per_step
        g = int((options or {}).get("generation", 1))
        if g < 1:
            raise ValueError(f"norm_society_v0: generation must be >= 1, got {g}")
        self.generation = g
        if self.graph is None or (g == 1 and cfg.graph_seed is None and _random(cfg.network)):
            self._graph_seed = int(self.np_random.integers(2**31))
            self.graph = self._build_graph(self._graph_seed)
        self.era, self.year = cfg.era_of(g), cfg.year_of(g)
        self.norm = self._norm_for(g)
        self.era_name = self._era_name(self.era)
        self.agents = list(self.possible_agents)
        self._situations = self.np_random.integers(len(self.bank.situations), size=(s, n))
        self._audit_rng = np.random.default_rng(int(self.np_random.integers(2**63)))
        self._behaviours = np.zeros((n, s, d))
        self._statements = np.zeros((n, d))
        self._chosen = np.zeros((s, n), dtype=np.int64)
        self._own_labels = np.zeros((n, s), dtype=np.int8)
        self._neighbours = np.full((n, d), rules.NO_NEIGHBOUR_MEAN, dtype=np.float32)
        self._known = np.zeros(n, dtype=bool)
        self._phase, self._round = SITUATION, 0
        self._score_obs = np.full(n, NEUTRAL_SCORE, dtype=np.float32)
        self._advice = np.zeros((n, d), dtype=np.float32)
        self._feedback = [""] * n
        self._scores, self._pending, self._records = None, [], []
        if self._announces_norm(g):
            self._records.append(self._norms_record())
        return self._observe(), self._infos()

    # -- norms -----------------------------------------------------------------------------

    def _norm_for(self, g: int) -> np.ndarray:
        cfg, eras = self.config, self.bank.eras
        era = cfg.era_of(g)
        if cfg.norm_schedule == "bank":
            return np.array(eras[min(era, len(eras) - 1)].norm)
        if cfg.norm_schedule == "shift":
            return rules.shifted_norm(g, cfg.shift_step, self.d)
        target = self._target()
        if cfg.norm_schedule == "drift":
            return toward(np.array(eras[0].norm), target, cfg.drift * era)
        return self._evolved(g, era, target).copy()

    def _target(self) -> np.ndarray:
        if self._direction is not None:
            return np.asarray(self._direction, dtype=np.float64)
        return np.array(self.bank.eras[-1].norm)

    def _evolved(self, g: int, era: int, target: np.ndarray) -> np.ndarray:
        """The evolve schedule: a run's first step starts from the first bank era; each
        new era's norm is the last era's top agents' mean behaviour moved ``drift`` toward
        the direction (Li et al.'s Evolve(h, r_v); without any history, the old norm)."""
        state = self._evolving
        if state is None or g == 1 or era < state.era:
            state = _Evolving(0, np.array(self.bank.eras[0].norm), np.zeros(self.d), 0)
        while state.era < era:
            base = state.top_sum / state.top_steps if state.top_steps else state.norm
            state = _Evolving(
                state.era + 1, toward(base, target, self.config.drift), np.zeros(self.d), 0
            )
        self._evolving = state
        return state.norm

    def _announces_norm(self, g: int) -> bool:
        cfg = self.config
        first_of_era = (g - 1) % cfg.steps_per_era == 0
        return first_of_era or (cfg.norm_schedule == "shift" and g == cfg.shift_step)

    def _era_name(self, era: int) -> str:
        eras = self.bank.eras
        if self.config.norm_schedule == "bank" and era < len(eras):
            return eras[era].name
        start = self.config.year_of(era * self.config.steps_per_era + 1)
        return f"era {era + 1} (from {start})"

    def norm_text(self) -> str:
        """The current norms in prose: the bank era's text, or the vector described."""
        eras = self.bank.eras
        if self.config.norm_schedule == "bank" and self.era < len(eras):
            return eras[self.era].text
        return "People are expected to behave in ways that " + self.bank.describe(
            self.norm.tolist()
        )

    def _norms_record(self) -> Record:
        return env_record(
            "norms",
            era=self.era_name,
            era_index=self.era,
            year=self.year,
            norm=[float(x) for x in self.norm],
            text=self.norm_text(),
            schedule=self.config.norm_schedule,
        )

    # -- step ------------------------------------------------------------------------------

    def step(
        self, actions: Mapping[str, Any]
    ) -> tuple[
        dict[str, dict[str, Any]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        if not self.agents:
            raise RuntimeError("norm_society_v0: the step is over; call reset() first")
        n = self.config.n_agents
        rewards = dict.fromkeys(self.possible_agents, 0.0)
        if self._phase == SITUATION:
            self._situation_round(self._vectors(actions))
        elif self._phase == QUESTIONNAIRE:
            self._questionnaire(self._vectors(actions))
        else:
            if self._pending:  # used without a runner: settle here
                asyncio.run(self._settle())
            assert self._scores is not None  # judged in the questionnaire round
            rewards = {a: float(self._scores[i]) for i, a in enumerate(self.possible_agents)}
            obs, infos = self._observe(), self._infos()
            self.agents = []
            done = dict.fromkeys(self.possible_agents, True)
            return obs, rewards, done, dict.fromkeys(self.possible_agents, False), infos
        flags = dict.fromkeys(self.possible_agents, False)
        assert len(flags) == n
        return self._observe(), rewards, flags, dict(flags), self._infos()

    def _vectors(self, actions: Mapping[str, Any]) -> np.ndarray:
        """The live agents' actions as an ``(n, d)`` array in [0, 1] (clipped)."""
        unknown = [a for a in actions if a not in self._seats]
        if unknown:
            raise ValueError(f"norm_society_v0: actions for unknown agents {unknown[:3]}")
        values = [actions.get(a) for a in self.possible_agents]
        arrays = [v for v in values if isinstance(v, np.ndarray)]
        shape = (self.d,)
        if len(arrays) == len(values) and all(
            v.dtype.kind in "iuf" and v.shape == shape for v in arrays
        ):  # the usual case, checked for the population at once
            stacked = np.stack(arrays).astype(np.float64)
            if np.isfinite(stacked).all():
                return np.clip(stacked, 0.0, 1.0)
        out = np.empty((self.config.n_agents, self.d))
        for i, agent in enumerate(self.possible_agents):
            if agent not in actions:
                raise ValueError(f"norm_society_v0: no action for {agent!r} (every agent acts)")
            out[i] = self._vector(agent, actions[agent])
        return np.clip(out, 0.0, 1.0)

    def _vector(self, agent: str, action: Any) -> np.ndarray:
        why = ""
        try:
            value = np.asarray(action)
            if value.dtype.kind not in "iuf" or value.shape != (self.d,):
                why = f"a numeric array of shape ({self.d},)"
            elif not np.all(np.isfinite(value)):
                why = "finite values"
        except (TypeError, ValueError):
            why = f"a numeric array of shape ({self.d},)"
        if why:
            raise ValueError(
                f"norm_society_v0: action of {agent!r} must be {why} in "
                f"{self._act_space}, got {_short(action)}"
            )
        return value.astype(np.float64)

    def _situation_round(self, vectors: np.ndarray) -> None:
        r = self._round
        sits = self._situations[r]
        chosen = rules.nearest_option(vectors, self._options[sits])
        own = rules.behaviour_scores(vectors, self.norm, width=self.config.fitness_width)
        labels = rules.labels(own)
        self._behaviours[:, r], self._chosen[r], self._own_labels[:, r] = vectors, chosen, labels
        assert self.graph is not None  # built at reset
        means, has = self.graph.neighbour_means(vectors)
        self._neighbours = means.astype(np.float32)
        self._known = has
        rows = zip(
            self.possible_agents,
            sits.tolist(),
            chosen.tolist(),
            np.round(vectors, 6).tolist(),
            own.tolist(),
            labels.tolist(),
            strict=True,
        )
        situations = self.bank.situations
        self._records += [
            env_record(
                "behaviour",
                agent=agent,
                round=r,
                situation=situations[sit].id,
                option=situations[sit].options[option].id,
                vector=vector,
                score=score,
                label=rules.LABELS[label],
            )
            for agent, sit, option, vector, score, label in rows
        ]
        self._round += 1
        if self._round == self.config.situations_per_step:
            self._phase = QUESTIONNAIRE

    def _questionnaire(self, statements: np.ndarray) -> None:
        self._statements = statements
        rounded = np.round(statements, 6).tolist()
        self._records += [
            env_record("statement", agent=agent, vector=vector)
            for agent, vector in zip(self.possible_agents, rounded, strict=True)
        ]
        self._phase = FEEDBACK
        items: list[NormItem] | None = None
        for judge, role in ((self.observer, "observer"), (self.audit, "audit")):
            if judge is None:
                continue
            if isinstance(judge, RuleNormObserver):
                rng = self.np_random if role == "observer" else self._audit_rng
                scores, advice = judge.score_batch(self._behaviours, statements, self.norm, rng=rng)
                self._accept(judge.judgements(scores, advice), role, advice)
            else:
                items = items if items is not None else self._items()
                self._pending.append(_Pending(judge, items, role))

    def _items(self) -> list[NormItem]:
        """One :class:`NormItem` per agent (what an LLM judge reads)."""
        bank, out = self.bank, []
        norm, text = tuple(float(x) for x in self.norm), self.norm_text()
        for i, agent in enumerate(self.possible_agents):
            behaviours = []
            for r in range(self.config.situations_per_step):
                situation = bank.situations[int(self._situations[r, i])]
                option = situation.options[int(self._chosen[r, i])]
                vector = tuple(float(x) for x in self._behaviours[i, r])
                behaviours.append((situation.text, option.behaviour, vector))
            statement = tuple(float(x) for x in self._statements[i])
            out.append(
                NormItem(
                    key=f"{self.generation}/{agent}",
                    era=self.era_name,
                    year=self.year,
                    norm=norm,
                    norm_text=text,
                    behaviours=tuple(behaviours),
                    statement=statement,
                    statement_text=bank.answers_text(bank.answers_for(statement)),
                )
            )
        return out

    def _accept(
        self, verdicts: Sequence[Judgement], role: str, advice: np.ndarray | None = None
    ) -> None:
        """Record a judge's verdicts; the observer's become the step's scores and feedback."""
        for i, (agent, v) in enumerate(zip(self.possible_agents, verdicts, strict=True)):
            g = self.generation
            record = v.record(f"{g}/{agent}", agent=agent, generation=g, role=role)
            self._records.append(record)
            if role == "observer":
                self._feedback[i] = sanitize(v.rationale)
        if role != "observer":
            return
        scores = np.array([NEUTRAL_SCORE if v.score is None else float(v.score) for v in verdicts])
        self._scores = np.clip(scores, 1.0, 7.0)
        self._score_obs = self._scores.astype(np.float32)
        if advice is not None:
            self._advice = np.asarray(advice, dtype=np.float32)
        self._note_top()

    def _note_top(self) -> None:
        """Evolve schedule: add this step's top agents' mean behaviour to the era's tally."""
        if self.config.norm_schedule != "evolve" or self._evolving is None:
            return
        assert self._scores is not None
        n = self.config.n_agents
        k = max(1, round(self.config.evolve_top * n))
        top = np.argsort(-self._scores, kind="stable")[:k]
        self._evolving.top_sum = self._evolving.top_sum + self._behaviours[top].mean(axis=(0, 1))
        self._evolving.top_steps += 1

    async def asettle(self, observations: dict[str, Any]) -> dict[str, Any]:
        """Await the async judges' verdicts of this step (if any) and return the agents'
        observations with them (the runner calls this after every step)."""
        if not self._pending:
            return observations
        await self._settle()
        return self._observe()

    async def _settle(self) -> None:
        pending, self._pending = self._pending, []
        for p in pending:
            self._accept(await judge_all(p.judge, p.items), p.role)

    # -- observations ----------------------------------------------------------------------

    def _observe(self) -> dict[str, dict[str, Any]]:
        n, d = self.config.n_agents, self.d
        phase = self._phase
        if phase == SITUATION:
            sits = self._situations[self._round]
            options = self._options[sits]
            situation = sits.tolist()
        else:
            options = np.zeros((n, 4, d), dtype=np.float32)
            situation = [0] * n
        known = self._known.tolist()
        era = min(self.era, MAX_ERA_INDEX)
        year = np.array([min(self.year, MAX_YEAR)], dtype=np.int64)
        # Fresh arrays every call: users keep observations, and the env's state changes.
        score = self._score_obs.reshape(n, 1).copy()
        neighbours, advice = self._neighbours.copy(), self._advice.copy()
        return {
            agent: {
                "phase": phase,
                "situation": situation[i],
                "options": options[i],
                "neighbours": neighbours[i],
                "neighbours_known": int(known[i]),
                "era": era,
                "year": year.copy(),
                "score": score[i],
                "advice": advice[i],
                "feedback": self._feedback[i],
            }
            for i, agent in enumerate(self.possible_agents)
        }

    def _infos(self) -> dict[str, dict[str, Any]]:
        return {a: {} for a in self.possible_agents}

    # -- results ---------------------------------------------------------------------------

    def scores(self) -> np.ndarray:
        """The observer's score per seat of the finished step (selection's fitness)."""
        if self._scores is None or self._pending:
            raise RuntimeError("norm_society_v0: scores() needs a judged step")
        return self._scores.copy()

    def pop_records(self) -> list[Record]:
        """The records made since the last call (oldest first), once."""
        out, self._records = self._records, []
        return out

    def episode_records(self, ids: Sequence[str]) -> list[Record]:
        """Generation 1: the ``network`` record (seat i = node i)."""
        if self.generation != 1 or self.graph is None:
            return []
        return [
            env_record(
                "network",
                kind=self.graph.kind,
                nodes=self.graph.n,
                edges=self.graph.edge_list(),
                graph_seed=self._graph_seed if _random(self.config.network) else None,
            )
        ]

    def episode_stats(self, ids: Sequence[str]) -> dict[str, Any]:
        """The step's headline figures (merged into ``generation_end``)."""
        scores = self.scores()
        statements, norm = self._statements, self.norm
        violating = scores <= rules.VIOLATES_AT
        return {
            "era": self.era_name,
            "era_index": self.era,
            "year": self.year,
            "norm": [float(x) for x in norm],
            "mean_score": float(scores.mean()),
            "best_score": float(scores.max()),
            "violation_rate": float((self._own_labels == 0).mean()),
            "adherence_rate": float((scores >= rules.ADHERES_AT).mean()),
            "diversity": float(statements.std(axis=0).mean()),
            "norm_distance": float(np.sqrt(((statements - norm) ** 2).sum(axis=1)).mean()),
            **self._network_stats(scores, violating),
        }

    def _network_stats(self, scores: np.ndarray, violating: np.ndarray) -> dict[str, Any]:
        """Assortativity of scores and clustering of violators (None where the graph's
        edges are not listed: a complete graph of more than 1,000 nodes)."""
        g = self.graph
        if g is None or g.edges is None or g.indptr is None or g.indices is None:
            return {"assortativity": None, "violator_clustering": None}
        return {
            "assortativity": rules.numeric_assortativity(scores, g.edges),
            "violator_clustering": rules.violator_clustering(violating, g.indptr, g.indices),
        }

    # -- persistent state ------------------------------------------------------------------

    def env_state(self) -> dict[str, Any]:
        """What a resumed run needs: the graph's seed and the evolve schedule's state."""
        state: dict[str, Any] = {"graph_seed": self._graph_seed}
        e = self._evolving
        if e is not None:
            state["evolve"] = {
                "era": e.era,
                "norm": [float(x) for x in e.norm],
                "top_sum": [float(x) for x in e.top_sum],
                "top_steps": e.top_steps,
            }
        return state

    def restore_env_state(self, state: dict[str, Any]) -> None:
        """Continue from :meth:`env_state` (a resumed run)."""
        seed = state.get("graph_seed")
        if seed is not None and _random(self.config.network):
            self._graph_seed = int(seed)
            self.graph = self._build_graph(self._graph_seed)
        e = state.get("evolve")
        if e is not None:
            self._evolving = _Evolving(
                int(e["era"]),
                np.array(e["norm"], dtype=np.float64),
                np.array(e["top_sum"], dtype=np.float64),
                int(e["top_steps"]),
            )

    # -- rendering -------------------------------------------------------------------------

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        phase = ("situation", "questionnaire", "feedback")[self._phase]
        scores = "" if self._scores is None else f"; mean score {self._scores.mean():.2f}"
        return f"step {self.generation} ({self.era_name}, {self.year}) {phase}{scores}"

    def close(self) -> None:
        pass


def _random(network: str) -> bool:
    """Whether a network kind is drawn at random (needs a seed)."""
    return network in ("small_world", "scale_free")


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parallel_env(**config: Any) -> NormSocietyEnv:
    """Factory in PettingZoo's style."""
    return NormSocietyEnv(**config)
