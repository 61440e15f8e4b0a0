"""The donor game's vectorised episode: a scripted population played as arrays.

``donor_game_v0`` through PettingZoo's API asks every donor for its action one
observation dict at a time. When every seat is a scripted strategy
(:class:`~agentsim.agents.scripted.donor.DonorStrategy`), :func:`play_batch` plays the
same episode with the rules of :mod:`agentsim.games.donor` on whole rounds, each kind
of strategy deciding all of its donors in one call (each row by its own agent's
parameters, :func:`~agentsim.agents.scripted.donor.row_rule`). It is the study's
:attr:`~agentsim.envs.study.Study.batch`: the runtime plays it instead of the PettingZoo
episode and gets the same records and results, bit for bit, for the same seed (the
game of Vallinder & Hughes 2024, arXiv:2412.10270).

:class:`ScriptedRows` (a population's decisions, row by row) is shared with the
vectorised training env (:mod:`agentsim.envs.donor_vector`).

Example:
    >>> import agentsim
    >>> from agentsim.agents.scripted.donor import Cooperator
    >>> env = agentsim.make_env("donor_game_v0", agents=4, rounds=4)
    >>> agents = {a: Cooperator() for a in env.possible_agents}
    >>> steps = play_batch(env, agents, seed=0, options={}, record=False, reset=print)
    >>> try:
    ...     while True:
    ...         _ = next(steps)
    ... except StopIteration as done:
    ...     results = done.value
    >>> results.final_resources.mean(axis=1).tolist()
    [120.0, 120.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.utils import seeding

from agentsim.agents.base import Decision
from agentsim.agents.scripted.donor import DonorStrategy, TraceBatch, row_rule
from agentsim.core.records import Record, make_record
from agentsim.envs.donor_game import DonorGameEnv
from agentsim.envs.study import BatchPlay, BatchStep
from agentsim.games import donor

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class ScriptedRows:
    """Decisions of scripted donor strategies, one agent per row, for any rows at once.

    Rows of a kind with a vectorised rule are decided in one call per kind, from
    per-row parameter arrays gathered once; any other strategy (a subclass, a random
    donor with its own generator) decides its own rows, one call per row, in row order,
    exactly as its ``act`` would one observation at a time.
    """

    def __init__(self, agents: Sequence[DonorStrategy]) -> None:
        kinds: dict[type[DonorStrategy], list[int]] = {}
        for i, agent in enumerate(agents):
            kinds.setdefault(type(agent), []).append(i)
        self.agents = list(agents)
        self.group = np.full(len(agents), -1, dtype=np.int64)  # -1: decided one by one
        self.rules: list[Any] = []
        self.params: list[dict[str, FloatArray]] = []
        for kind, rows in kinds.items():
            rule = row_rule(kind)
            if rule is None:
                continue
            self.group[rows] = len(self.rules)
            self.rules.append(rule)
            names = tuple(kind.BOUNDS)  # a built-in kind's parameters are its bounded ones
            values = np.zeros((len(names), len(agents)))
            if names:
                table = [[getattr(agents[i], k) for k in names] for i in rows]
                values[:, rows] = np.array(table, dtype=np.float64).T
            self.params.append(dict(zip(names, values, strict=True)))

    @staticmethod
    def accepts(agents: Sequence[Any]) -> bool:
        """Whether every agent is a scripted strategy whose ``act`` is its batch rule."""
        return all(
            isinstance(a, DonorStrategy) and type(a).act is DonorStrategy.act for a in agents
        )

    def decide(self, rows: IntArray, lengths: IntArray, fractions: FloatArray) -> FloatArray:
        """Signed fractions of the agents of ``rows`` for their traces (one row each)."""
        out = np.empty(len(rows))
        groups = self.group[rows]
        for g, (rule, params) in enumerate(zip(self.rules, self.params, strict=True)):
            picked = np.flatnonzero(groups == g)
            if len(picked):
                at = rows[picked]
                batch = TraceBatch(lengths[picked], fractions[picked])
                out[picked] = rule({k: v[at] for k, v in params.items()}, batch)
        for k in np.flatnonzero(groups < 0).tolist():
            batch = TraceBatch(lengths[k : k + 1], fractions[k : k + 1])
            out[k] = self.agents[int(rows[k])].decide_batch(batch)[0]
        return out


def as_actions(values: FloatArray, names: Sequence[str], seats: IntArray) -> FloatArray:
    """Decisions as the env applies them: float32 actions read back as float64.

    Raises:
        ValueError: for a non-finite decision, as the env does (naming the agent).
    """
    signed = values.astype(np.float32).astype(np.float64)
    bad = np.flatnonzero(~np.isfinite(signed))
    if len(bad):
        name = names[int(seats[bad[0]])]
        raise ValueError(
            f"donor_game_v0: invalid action {signed[bad[0]]!r} for agent {name!r}: "
            "it must be a finite number"
        )
    return signed


def play_batch(
    env: Any,
    agents: Mapping[str, Any],
    *,
    seed: int | None,
    options: Mapping[str, Any],
    record: bool,
    reset: Callable[[str], None],
) -> BatchPlay | None:
    """The donor game's :class:`~agentsim.envs.study.BatchEpisode` (see module docstring).

    Returns None unless ``env`` is a ``donor_game_v0`` env and every agent a scripted
    strategy. The results are the env itself, left as the PettingZoo episode leaves it
    (its final resources and per-seat tallies), so its ``scores``, ``episode_records``
    and ``episode_stats`` are the ones the loop always reads.
    """
    game_env = env.unwrapped
    if not isinstance(game_env, DonorGameEnv):
        return None
    seated = [agents[a] for a in game_env.possible_agents]
    if not ScriptedRows.accepts(seated):
        return None
    for name, agent in zip(game_env.possible_agents, seated, strict=True):
        if type(agent).reset is not DonorStrategy.reset:  # the base keeps no state
            reset(name)
    if seed is not None:
        game_env.np_random, _ = seeding.np_random(seed)
    seat_of = game_env.np_random.permutation(game_env.config.agents).astype(np.int64)
    generation = int(options.get("generation", 1))
    return _episode(game_env, ScriptedRows(seated), seat_of, generation, record)


def _episode(
    env: DonorGameEnv, rows: ScriptedRows, seat_of: IntArray, generation: int, record: bool
) -> BatchPlay:
    cfg, names = env.config, env.possible_agents
    n = cfg.agents
    fraction_sum, decisions = np.zeros(n), np.zeros(n, dtype=np.int64)
    punishments = np.zeros(n, dtype=np.int64)
    finals = []
    for game in range(cfg.games):
        state = donor.new_state(cfg)
        for rnd in range(cfg.rounds):
            positions = donor.round_pairs(cfg, game, rnd)
            donors, recipients = seat_of[positions[0]], seat_of[positions[1]]
            plan = donor.RoundPlan(rnd, donors, recipients, _labels(rnd, donors, recipients))
            lengths, fractions = donor.recipient_traces(state, plan)
            chosen = rows.decide(donors, lengths, fractions)
            signed = as_actions(chosen, names, donors)
            step = _decisions(env, state, plan, signed, (generation, game, rnd)) if record else []
            result = donor.apply_round(cfg, state, plan, signed)
            fraction_sum[donors] += np.where(result.punish, 0.0, result.fraction)
            decisions[donors] += 1
            punishments[donors] += result.punish
            transfers = _transfers(names, result, (generation, game, rnd)) if record else []
            yield BatchStep(step, transfers)
        finals.append(state.resources.copy())
    env.generation = generation
    env.final_resources = np.array(finals)
    env.fraction_sum, env.donor_decisions, env.punishments = fraction_sum, decisions, punishments
    env.agents = []
    return env


def _labels(rnd: int, donors: IntArray, recipients: IntArray) -> FloatArray:
    labels = np.empty((len(donors), 3))
    labels[:, 0] = rnd
    labels[:, 1] = donors
    labels[:, 2] = recipients
    return labels


def _decisions(
    env: DonorGameEnv,
    state: donor.DonorState,
    plan: donor.RoundPlan,
    signed: FloatArray,
    at: tuple[int, int, int],
) -> list[tuple[str, Any, Any]]:
    """The round's decisions with the observations the env shows its donors, in seat order."""
    order = np.argsort(plan.donors)
    donors, partners = plan.donors[order], plan.recipients[order]
    chain = state.traces(partners)
    ints = chain[..., :3].astype(np.int64)
    columns = (
        donors.tolist(),
        partners.tolist(),
        state.resources[donors].tolist(),
        state.resources[partners].tolist(),
        state.chain_len[partners].tolist(),
        ints[..., 0].tolist(),
        ints[..., 1].tolist(),
        ints[..., 2].tolist(),
        np.ascontiguousarray(chain[..., 3]).tolist(),
    )
    actions = signed[order].astype(np.float32)
    generation, game, rnd = at
    names = env.possible_agents
    out: list[tuple[str, Any, Any]] = []
    for k, (seat, partner, own, theirs, length, rounds, who, whom, fractions) in enumerate(
        zip(*columns, strict=True)
    ):
        observation = {
            "generation": generation,
            "game": game,
            "round": rnd,
            "self": seat,
            "is_donor": 1,
            "partner": partner,
            "own_resources": own,
            "partner_resources": theirs,
            "trace_length": length,
            "trace_round": rounds,
            "trace_donor": who,
            "trace_recipient": whom,
            "trace_fraction": fractions,
        }
        out.append((names[seat], Decision(action=actions[k : k + 1]), observation))
    return out


def _transfers(
    names: Sequence[str], r: donor.RoundResult, at: tuple[int, int, int]
) -> list[Record]:
    """The round's ``transfer`` records, as the env's ``pop_records`` writes them."""
    generation, game, rnd = at
    shown = r.shown_fraction.tolist()
    return [
        make_record(
            "transfer",
            generation=generation,
            game=game,
            round=rnd,
            donor=names[d],
            recipient=names[c],
            kind="punish" if p else "donate",
            fraction=f,
            amount=a,
            donor_before=db,
            recipient_before=rb,
            shown_fraction=None if s != s else s,  # NaN: nothing shown
        )
        for d, c, p, f, a, db, rb, s in zip(
            r.donors.tolist(),
            r.recipients.tolist(),
            r.punish.tolist(),
            r.fraction.tolist(),
            r.amount.tolist(),
            r.donor_before.tolist(),
            r.recipient_before.tolist(),
            shown,
            strict=True,
        )
    ]
