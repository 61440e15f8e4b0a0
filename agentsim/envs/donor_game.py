"""``donor_game_v0``: the donor game as a PettingZoo ``ParallelEnv``.

One episode is one generation: ``games`` games of ``rounds`` rounds each. Every
step is one round; all agents submit an action, but only that round's donors'
actions count (``infos[agent]["acting"]`` says who acts). Resources and traces
reset to the endowment at the start of every game.

Observation (a ``Dict`` of numpy values; seat indices refer to ``possible_agents``):

=====================  ===========================================================
``generation``         generation number (from ``reset(options={"generation": g})``)
``game``, ``round``    0-based game and round indices
``self``               this agent's seat index
``is_donor``           1 if this agent donates this round, else 0
``partner``            seat of this round's partner (recipient if donor, else donor)
``own_resources``      this agent's current resources
``partner_resources``  the partner's current resources
``trace_length``       how many trace entries are valid (0 .. trace_depth)
``trace_round``        per entry: round index of the action (-1 = empty)
``trace_donor``        per entry: seat of the acting agent (-1 = empty)
``trace_recipient``    per entry: seat of its recipient (-1 = empty)
``trace_fraction``     per entry: signed fraction given (negative = punished)
=====================  ===========================================================

For a donor, the trace is the recipient's: entry 0 is the recipient's own latest
action, entry 1 what that action's recipient did before, and so on (the paper's
"In round 3, A donated X% to B. In round 2, B donated ..."). For a recipient, it
is the donor's trace.

Action: ``Box(0, 1, (1,))``, the fraction of own resources to give up; with
``punishment="costly"`` it is ``Box(-1, 1, (1,))`` and a negative value punishes
with that fraction. Reward: the change in own resources this round.

What ``step`` accepts: a dict from live agents to actions. An action is an array of
shape ``(1,)`` (or 0-d) of real numbers, a numpy real scalar (``np.float32(0.5)``,
``np.int64(1)``) or a Python ``int``/``float``. Finite values outside the action
space are clipped to it (to [0, 1], or [-1, 1] with costly punishment), as the rules
do. Strings, bools, complex numbers, ``None``, dicts, empty or wrongly shaped arrays,
non-finite values and actions for agents that are not live raise ``ValueError``
naming the agent, the action and the action space. Only the round's donors act: a
recipient may leave its action out; if given, it is checked the same way and ignored
(PettingZoo's parallel API hands every live agent an action).

Version History:
    * v0: initial release (Vallinder & Hughes 2024, arXiv:2412.10270); clear errors for
      malformed actions (no change of dynamics).

Example:
    >>> import agentsim, numpy as np
    >>> env = agentsim.make_env("donor_game_v0", agents=4, rounds=4)
    >>> obs, infos = env.reset(seed=0)
    >>> while env.agents:
    ...     obs, rew, term, trunc, infos = env.step({a: np.array([1.0]) for a in env.agents})
    >>> env.final_resources.mean(axis=1).tolist()
    [120.0, 120.0]
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np
from gymnasium import spaces
from gymnasium.utils import seeding
from pettingzoo import ParallelEnv

from agentsim.core import records
from agentsim.core.records import Record, make_record, register_record_type
from agentsim.games import donor

_BIG = float(np.finfo(np.float64).max)
# What step()'s fast path accepts: arrays of a float dtype (of shape (1,): checked apart).
_KIND, _KIND_F = operator.attrgetter("dtype.kind"), {"f"}
#: The observation's keys, in the order of the observation space.
_OBS_KEYS = (
    "generation",
    "game",
    "round",
    "self",
    "is_donor",
    "partner",
    "own_resources",
    "partner_resources",
    "trace_length",
    "trace_round",
    "trace_donor",
    "trace_recipient",
    "trace_fraction",
)


# pettingzoo ships no type information, so ParallelEnv is Any to mypy.
#: The record types of this env (registered with the schema on import).
RECORD_TYPES: Mapping[str, tuple[str, ...]] = {
    # One donor-game interaction; kind is "donate" or "punish".
    "transfer": (
        "generation",
        "game",
        "round",
        "donor",
        "recipient",
        "kind",
        "fraction",
        "amount",
        "donor_before",
        "recipient_before",
        "shown_fraction",
    ),
    # Final resources of one game.
    "game_end": ("generation", "game", "final_resources"),
}
#: How the fields of those records are checked on read.
FIELD_TYPES: Mapping[str, records.FieldType] = {
    "donor": records.STRING,
    "recipient": records.STRING,
    "fraction": records.NUMBER,
    "amount": records.NUMBER,
    "shown_fraction": records.NUMBER_OR_NULL,
    "final_resources": records.NUMBERS_BY_MEMBER,
    "mean_final_resources": records.NUMBER_OR_NULL,
    "mean_donation_fraction": records.NUMBERS_BY_MEMBER,
    "donor_decisions": records.INTEGER,
    "punishments": records.INTEGER,
}
for _type, _fields in RECORD_TYPES.items():
    register_record_type(_type, _fields, FIELD_TYPES)


class DonorGameEnv(ParallelEnv[str, dict[str, Any], np.ndarray]):  # type: ignore[misc]
    """Parallel PettingZoo env of one donor-game generation (see module docstring)."""

    metadata: ClassVar[dict[str, Any]] = {
        "name": "donor_game_v0",
        "render_modes": ["ansi"],
        "is_parallelizable": True,
    }

    def __init__(self, render_mode: str | None = None, **config: Any) -> None:
        from agentsim.core.config import build_config, check_choice

        check_choice("render_mode", render_mode, [None, *self.metadata["render_modes"]])
        self.config = build_config(donor.DonorGameConfig, config)
        self.render_mode = render_mode
        n = self.config.agents
        self.possible_agents = [f"agent_{i}" for i in range(n)]
        self.agents: list[str] = []
        self._live: frozenset[str] = frozenset()
        obs_space = self._observation_space()
        low = -1.0 if self.config.punishment == "costly" else 0.0
        act_space = _FractionBox(low, 1.0)
        self._obs_spaces = {a: obs_space for a in self.possible_agents}
        self._act_spaces = {a: act_space for a in self.possible_agents}
        self.np_random, _ = seeding.np_random(None)
        self.generation = 1
        self.final_resources = np.zeros((0, n))
        self._last: donor.RoundResult | None = None
        self.fraction_sum = np.zeros(n)
        self.donor_decisions = np.zeros(n, dtype=np.int64)
        self.punishments = np.zeros(n, dtype=np.int64)
        self._position_cache: tuple[np.ndarray, np.ndarray] | None = None
        self._costly = self.config.punishment == "costly"
        self._seats = range(n)
        self._zero_d = [(i, ...) for i in range(n)]  # indices of a seat's 0-d view

    def _observation_space(self) -> spaces.Dict:
        cfg, n, d = self.config, self.config.agents, self.config.trace_depth
        seat = spaces.Box(-1, n - 1, shape=(d,), dtype=np.int64)
        return spaces.Dict(
            {
                "generation": spaces.Box(0, 2**31 - 1, shape=(), dtype=np.int64),
                "game": spaces.Discrete(cfg.games),
                "round": spaces.Discrete(cfg.rounds),
                "self": spaces.Discrete(n),
                "is_donor": spaces.Discrete(2),
                "partner": spaces.Discrete(n),
                "own_resources": spaces.Box(0.0, _BIG, shape=(), dtype=np.float64),
                "partner_resources": spaces.Box(0.0, _BIG, shape=(), dtype=np.float64),
                "trace_length": spaces.Discrete(d + 1),
                "trace_round": spaces.Box(-1, max(cfg.rounds - 1, 0), shape=(d,), dtype=np.int64),
                "trace_donor": seat,
                "trace_recipient": seat,
                "trace_fraction": spaces.Box(-1.0, 1.0, shape=(d,), dtype=np.float64),
            }
        )

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._obs_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        return self._act_spaces[agent]

    # -- episode ---------------------------------------------------------------------------

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        """Start a generation; seats are shuffled into the two groups with the env's RNG.

        Options:
            generation: the generation number shown to agents (default 1).
        """
        if seed is not None:
            self.np_random, _ = seeding.np_random(seed)
        self.generation = int((options or {}).get("generation", 1))
        self.agents = list(self.possible_agents)
        self._live = frozenset(self.agents)
        # position -> seat: which seats form group A (first half) and group B.
        self._seat_of = self.np_random.permutation(self.config.agents).astype(np.int64)
        self._schedule = _Schedule(self.config, self._seat_of, self._positions())
        self._step = 0
        self._games_final: list[np.ndarray] = []
        self.final_resources = np.zeros((0, self.config.agents))
        self._last = None
        n = self.config.agents
        # Per-seat tallies over the episode (what summaries need without the event log).
        self.fraction_sum = np.zeros(n)
        self.donor_decisions = np.zeros(n, dtype=np.int64)
        self.punishments = np.zeros(n, dtype=np.int64)
        self._begin_game()
        self._prepare_round()
        return self._observe(), self._infos()

    def _positions(self) -> tuple[np.ndarray, np.ndarray]:
        """Donor and recipient group positions of every step, ``(steps, pairs)`` each.

        They depend on the config only, so they are built once per env.
        """
        if self._position_cache is None:
            cfg = self.config
            pairs = [
                donor.round_pairs(cfg, g, r) for g in range(cfg.games) for r in range(cfg.rounds)
            ]
            self._position_cache = (
                np.array([d for d, _ in pairs], dtype=np.int64).reshape(len(pairs), -1),
                np.array([r for _, r in pairs], dtype=np.int64).reshape(len(pairs), -1),
            )
        return self._position_cache

    def _begin_game(self) -> None:
        self.state = donor.new_state(self.config)

    @property
    def game(self) -> int:
        return self._step // self.config.rounds

    @property
    def round(self) -> int:
        return self._step % self.config.rounds

    def _prepare_round(self) -> None:
        # Views of the episode's schedule, built at reset: nothing is allocated per round.
        k, sched = self._step, self._schedule
        self._donors = sched.donors[k]
        self._recipients = sched.recipients[k]
        self._partner = sched.partner[k]
        self._is_donor = sched.is_donor[k]
        self._labels = sched.labels[k]

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, dict[str, Any]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        if not self.agents:
            raise RuntimeError("donor_game_v0: the episode is over; call reset() first")
        signed = self._donor_actions(actions)
        cfg, resources = self.config, self.state.resources
        before = resources.copy()
        k = self._step
        self._last_at = game_round = divmod(k, cfg.rounds)
        plan = donor.RoundPlan(game_round[1], self._donors, self._recipients, self._labels)
        self._last = r = donor.apply_round(cfg, self.state, plan, signed)
        self.donor_decisions += self._is_donor
        if self._costly:
            self.fraction_sum[r.donors] += np.where(r.punish, 0.0, r.fraction)
            self.punishments[r.donors] += r.punish
        else:  # nothing is punished: every fraction counts
            self.fraction_sum[r.donors] += r.fraction
        names = self.possible_agents
        rewards = dict(zip(names, (resources - before).tolist(), strict=True))
        self._step = k + 1
        done = self._step >= cfg.games * cfg.rounds
        if game_round[1] + 1 == cfg.rounds:  # a game just ended
            self._games_final.append(resources.copy())
            self.final_resources = np.array(self._games_final)
            if not done:
                self._begin_game()
        if done:
            self._step -= 1  # keep the last round's indices for observations and records
            obs, infos = self._observe(), self._infos()
            self.agents = []
            self._live = frozenset()
            flags = dict.fromkeys(names, True)
            return obs, rewards, flags, dict.fromkeys(names, False), infos
        self._prepare_round()
        flags = dict.fromkeys(names, False)
        return self._observe(), rewards, flags, dict(flags), self._infos()

    def _donor_actions(self, actions: Any) -> np.ndarray:
        """The donors' signed fractions, after checking every given action (see module doc)."""
        if type(actions) is dict:
            fast = self._common_donor_actions(actions)
            if fast is not None:
                return fast
        return self._checked_donor_actions(actions)

    def _common_donor_actions(self, actions: dict[str, Any]) -> np.ndarray | None:
        """The common case at array speed: every agent's action a finite float array ``(1,)``.

        Returns None for anything else, which :meth:`_checked_donor_actions` then accepts or
        rejects with the error the agent needs (the same result, only slower).
        """
        given = list(actions.values())
        try:  # map() runs the check in C; a non-array raises AttributeError
            if set(map(_KIND, given)) != _KIND_F:
                return None
            values = np.array(given)  # (agents, 1) only if every action has shape (1,)
        except (AttributeError, ValueError):
            return None
        if values.shape != (len(given), 1) or list(actions) != self.possible_agents:
            return None  # not every agent in seat order (or a shape other than (1,))
        if not math.isfinite(sum(values[:, 0].tolist())):
            return None  # a NaN or infinity (or finite values summing past the float range)
        # Widening float16/32 to float64 is exact: the same values float(action[0]) gives.
        signed: np.ndarray = values[self._donors, 0].astype(np.float64)
        return signed

    def _checked_donor_actions(self, actions: Any) -> np.ndarray:
        if not isinstance(actions, Mapping):
            raise ValueError(
                "donor_game_v0: step() takes a dict {agent: action}, "
                f"got {_short_repr(actions)} ({type(actions).__name__})"
            )
        values = {}
        for name, action in actions.items():
            if name not in self._live:
                raise ValueError(
                    f"donor_game_v0: action {_short_repr(action)} for agent {name!r}, which is "
                    f"not a live agent; live agents: {', '.join(self.agents)}"
                )
            values[name] = self._action_value(name, action)
        signed = np.empty(len(self._donors))
        for i, seat in enumerate(self._donors.tolist()):
            name = self.possible_agents[seat]
            if name not in values:
                raise ValueError(
                    f"donor_game_v0: no action for donor {name!r} this round; it needs an "
                    f"action in {self._act_spaces[name]}"
                )
            signed[i] = values[name]
        return signed

    def _action_value(self, name: str, action: Any) -> float:
        """One action as a float, or a ValueError naming the agent, action and space."""
        if type(action) is np.ndarray and action.shape == (1,) and action.dtype.kind == "f":
            value = float(action[0])  # the common case, checked first for speed
        else:
            value = self._unusual_action_value(name, action)
        if not math.isfinite(value):
            raise self._action_error(name, action, "it must be a finite number")
        return value

    def _unusual_action_value(self, name: str, action: Any) -> float:
        if isinstance(action, bool | np.bool_):
            raise self._action_error(name, action, "a bool is not a fraction")
        if isinstance(action, int | float | np.integer | np.floating):
            return float(action)
        if not isinstance(action, np.ndarray | list | tuple):
            why = f"a {type(action).__name__} is not a number"
            raise self._action_error(name, action, why)
        try:
            array = np.asarray(action)
        except (ValueError, TypeError):
            raise self._action_error(name, action, "it is not an array of numbers") from None
        if array.dtype.kind not in "iuf":
            why = f"its dtype {array.dtype} is not a real number type"
            raise self._action_error(name, action, why)
        if array.shape not in ((1,), ()):
            why = f"its shape {array.shape} is not (1,)"
            raise self._action_error(name, action, why)
        return float(array.reshape(-1)[0])

    def _action_error(self, name: str, action: Any, why: str) -> ValueError:
        space = self._act_spaces[name]
        return ValueError(
            f"donor_game_v0: invalid action {_short_repr(action)} for agent {name!r}: {why}; "
            f"the action space is {space}: an array of shape (1,) holding a fraction in "
            f"[{space.low[0]:g}, {space.high[0]:g}] (finite values outside are clipped)"
        )

    # -- observations ----------------------------------------------------------------------

    def _observe(self) -> dict[str, dict[str, Any]]:
        # The round's views are gathered once as whole-population arrays, fresh every step
        # (agents may keep observations: nothing handed out is ever written again), and
        # every agent gets rows and 0-d views of them. A seat's 0-d resources view is both
        # its own_resources and its partner's partner_resources (same value, same array).
        # Each agent's dict is a copy of the round's template with its own values set:
        # copying a dict of these 13 keys is about half the cost of building one.
        s, p, k, rounds = self.state, self._partner, self._step, self.config.rounds
        resources = list(map(s.resources.copy().__getitem__, self._zero_d))
        logged = s.trace_rows(p).T
        labels = s.log_label.take(logged, axis=0).astype(np.int64)  # (agents, depth, 3)
        template = dict.fromkeys(_OBS_KEYS)
        template["generation"] = np.array(self.generation, np.int64)
        template["game"], template["round"] = divmod(k, rounds)
        out = {}
        for name, i, acting, j, length, t_round, t_donor, t_recipient, t_fraction in zip(
            self.possible_agents,
            self._seats,
            self._schedule.acting[k],
            self._schedule.partners[k],
            s.chain_len[p].tolist(),
            labels[..., 0],
            labels[..., 1],
            labels[..., 2],
            s.log_fraction[logged],
            strict=True,
        ):
            obs = out[name] = template.copy()
            obs["self"] = i
            obs["is_donor"] = acting
            obs["partner"] = j
            obs["own_resources"] = resources[i]
            obs["partner_resources"] = resources[j]
            obs["trace_length"] = length
            obs["trace_round"] = t_round
            obs["trace_donor"] = t_donor
            obs["trace_recipient"] = t_recipient
            obs["trace_fraction"] = t_fraction
        return out

    def _infos(self) -> dict[str, dict[str, Any]]:
        acting = self._schedule.acting_flags[self._step]
        return {a: {"acting": d} for a, d in zip(self.possible_agents, acting, strict=True)}

    # -- results, records, rendering -------------------------------------------------------

    def scores(self) -> np.ndarray:
        """Selection score per seat after the episode (see ``selection_score``)."""
        if len(self.final_resources) < self.config.games:
            raise RuntimeError("donor_game_v0: scores() needs a finished episode")
        return donor.generation_scores(self.config, self.final_resources)

    def episode_records(self, ids: Sequence[str]) -> list[Record]:
        """One ``game_end`` record per game of the finished episode (``ids``: name per seat)."""
        return [
            make_record(
                "game_end",
                generation=self.generation,
                game=game,
                final_resources=dict(zip(ids, final.tolist(), strict=True)),
            )
            for game, final in enumerate(self.final_resources)
        ]

    def episode_stats(self, ids: Sequence[str]) -> dict[str, Any]:
        """Fields of the ``generation_end`` record (``ids``: name per seat)."""
        return {
            "mean_final_resources": float(self.final_resources.mean()),
            "mean_donation_fraction": dict(
                zip(ids, self.mean_donation_fraction().tolist(), strict=True)
            ),
            "donor_decisions": int(self.donor_decisions.sum()),
            "punishments": int(self.punishments.sum()),
        }

    def mean_donation_fraction(self) -> np.ndarray:
        """Per seat: mean fraction donated over its donor decisions this episode (punish = 0)."""
        return self.fraction_sum / np.maximum(self.donor_decisions, 1)

    def pop_records(self) -> list[Record]:
        """Transfer records of the last step, once (seat names; the runner maps them to members).

        A second call returns nothing, so wrappers that call it after every AEC step
        (``parallel_to_aec``) still get each round's records exactly once.
        """
        r, self._last = self._last, None
        if r is None:
            return []
        names = self.possible_agents
        game, rnd = self._last_at
        out = []
        for k in range(len(r.donors)):
            shown = float(r.shown_fraction[k])
            out.append(
                make_record(
                    "transfer",
                    generation=self.generation,
                    game=game,
                    round=rnd,
                    donor=names[r.donors[k]],
                    recipient=names[r.recipients[k]],
                    kind="punish" if r.punish[k] else "donate",
                    fraction=float(r.fraction[k]),
                    amount=float(r.amount[k]),
                    donor_before=float(r.donor_before[k]),
                    recipient_before=float(r.recipient_before[k]),
                    shown_fraction=None if np.isnan(shown) else shown,
                )
            )
        return out

    def render(self) -> str | None:
        if self.render_mode != "ansi":
            return None
        res = ", ".join(
            f"{a}={self.state.resources[i]:.1f}" for i, a in enumerate(self.possible_agents)
        )
        return f"generation {self.generation} game {self.game} round {self.round}: {res}"

    def close(self) -> None:
        pass


class _FractionBox(spaces.Box):
    """The action space: a bounded float ``Box`` of shape (1,) that samples directly.

    ``Box.sample`` sorts every coordinate into bounded or unbounded cases with a dozen array
    operations (~20 us, most of a random policy's turn); for this box all that reduces to
    one ``uniform`` draw between the bounds, made here with the bounds as floats: the same
    draw from the same generator, so the same values for the same seed
    (``tests/envs/test_aec_view.py`` checks it).
    """

    def __init__(self, low: float, high: float) -> None:
        super().__init__(low, high, shape=(1,), dtype=np.float32)
        self._bounds = (float(self.low[0]), float(self.high[0]))

    def sample(self, mask: None = None, probability: None = None) -> np.ndarray:
        if mask is not None or probability is not None:
            return super().sample(mask, probability)
        low, high = self._bounds
        return self.np_random.uniform(low, high, (1,)).astype(np.float32)


class _Schedule:
    """One episode's pairs as seats, every step at once (``reset`` builds it)."""

    def __init__(
        self,
        cfg: donor.DonorGameConfig,
        seat_of: np.ndarray,
        positions: tuple[np.ndarray, np.ndarray],
    ) -> None:
        self.donors = seat_of[positions[0]]  # (steps, pairs)
        self.recipients = seat_of[positions[1]]
        steps, n = len(self.donors), cfg.agents
        rows = np.arange(steps)[:, None]
        self.partner = np.empty((steps, n), dtype=np.int64)
        self.partner[rows, self.donors] = self.recipients
        self.partner[rows, self.recipients] = self.donors
        self.is_donor = np.zeros((steps, n), dtype=np.int64)  # 1 if the seat donates
        self.is_donor[rows, self.donors] = 1
        # What donor.resolve_round labels each round's actions with, for donor.apply_round.
        self.labels = np.empty((*self.donors.shape, 3))
        self.labels[..., 0] = (np.arange(steps) % cfg.rounds)[:, None]
        self.labels[..., 1] = self.donors
        self.labels[..., 2] = self.recipients
        # Per step, as the Python ints observations show: 1 if the seat donates; partners;
        # and as the bools of infos["acting"].
        self.acting: list[list[int]] = self.is_donor.tolist()
        self.partners: list[list[int]] = self.partner.tolist()
        self.acting_flags: list[list[bool]] = self.is_donor.astype(bool).tolist()


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def parallel_env(**config: Any) -> DonorGameEnv:
    """Factory in PettingZoo's style."""
    return DonorGameEnv(**config)
