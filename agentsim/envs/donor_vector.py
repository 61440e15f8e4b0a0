"""``DonorVectorEnv``: many donor games, one learner seat each, as one batch of arrays.

A ``gymnasium.vector.VectorEnv`` for training on ``donor_game_v0`` without the dict API:
game ``i`` is what ``make_gym_env("donor_game_v0", learner=..., others=...)`` plays (the
same observations, rewards, terminations and infos for the same seeds and actions), but
all games advance together with the rules of :mod:`agentsim.games.donor` on one
side-by-side state, and the other seats (scripted strategies) decide in one call per
kind (:class:`~agentsim.envs.donor_batch.ScriptedRows`, the runtime's batch path too).

As in the single-agent view, the learner is asked only when it donates: the rounds in
which it is a recipient are played inside ``step``/``reset`` and their rewards added to
the next reward returned. Observations are the view's (0-d fields lifted to shape
``(1,)``, :func:`~agentsim.envs.gym_view.lift_space`), batched by gymnasium's
``batch_space``. Autoreset follows gymnasium 1.x ``AutoresetMode.NEXT_STEP``: the step
after a game ends resets it (that step's action is ignored; reward 0, not terminated).
``reset(seed=s)`` seeds game ``i`` with ``s + i`` (a list gives one seed per game), as
``SyncVectorEnv`` seeds its envs; ``options={"reset_mask": mask}`` resets some games.

The game is Vallinder & Hughes (2024, arXiv:2412.10270); the vectorised form follows
``gymnasium.vector`` (Towers et al. 2024, arXiv:2407.17032).

Example:
    >>> import numpy as np
    >>> envs = DonorVectorEnv(num_envs=4, agents=6)
    >>> obs, infos = envs.reset(seed=0)
    >>> obs["own_resources"].shape
    (4, 1)
    >>> obs, rewards, terminated, truncated, infos = envs.step(np.ones((4, 1), np.float32))
    >>> rewards.shape, bool(infos["acting"].all())
    ((4,), True)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from agentsim.agents.scripted.donor import DonorStrategy
from agentsim.core.errors import ConfigError
from agentsim.core.seeding import seat_seed
from agentsim.envs.donor_batch import ScriptedRows, as_actions
from agentsim.envs.donor_game import DonorGameEnv
from agentsim.envs.gym_view import check_others, lift_space
from agentsim.games import donor

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Agents for the other seats: seat -> agent, or a factory called once per game and seat.
Others = Mapping[str, Any] | Callable[[str], Any]


class DonorVectorEnv(VectorEnv[dict[str, Any], np.ndarray, np.ndarray]):
    """``num_envs`` donor games with one learner each (see module docstring).

    Args:
        num_envs: how many games run side by side.
        learner: the learning seat of every game (default ``agent_0``).
        others: the other seats' scripted strategies, as a factory ``seat -> agent``
            (called for every game, so each game has its own agents) or a mapping used by
            every game (default: ``trace_average`` everywhere, as ``make_gym_env``). Their
            parameters are read once, here (one array per parameter): changing an
            agent's parameters later does not reach this env (build a new one).
        **config: the donor game's config (``agents``, ``rounds``, ``punishment``, ...).

    Raises:
        ConfigError: for an unknown learner, or another seat whose agent is not a
            scripted donor strategy (those decide in batches; play others through
            ``make_gym_env``).
    """

    metadata: dict[str, Any] = {"autoreset_mode": AutoresetMode.NEXT_STEP}  # noqa: RUF012

    def __init__(
        self,
        num_envs: int,
        learner: str | None = None,
        others: Others | None = None,
        **config: Any,
    ) -> None:
        from agentsim.core.config import check_number

        check_number("num_envs", num_envs, low=1, high=10_000_000, integer=True)
        template = DonorGameEnv(**config)
        self.config = cfg = template.config
        self.num_envs = int(num_envs)
        names = template.possible_agents
        self.learner = learner or names[0]
        if self.learner not in names:
            raise ConfigError("learner", self.learner, names)
        self._me = names.index(self.learner)
        self.single_observation_space = lift_space(template.observation_space(self.learner))
        self.single_action_space = template.action_space(self.learner)
        self.observation_space = batch_space(self.single_observation_space, self.num_envs)
        self.action_space = batch_space(self.single_action_space, self.num_envs)
        self.render_mode = None
        self._names = names
        self._agents = _seat_agents(names, self._me, others, self.num_envs)
        self._rows = ScriptedRows(self._agents)
        self._resettable = [
            (i, a) for i, a in enumerate(self._agents) if type(a).reset is not DonorStrategy.reset
        ]
        self._build_tables()
        self._generators = [seeding.np_random(None)[0] for _ in range(self.num_envs)]
        g, n = self.num_envs, cfg.agents
        self._state = donor.new_state(cfg, g)
        self._offset = np.arange(g, dtype=np.int64) * n
        self._seat_of = np.tile(np.arange(n, dtype=np.int64), (g, 1))
        self._position = np.zeros(g, dtype=np.int64)  # the learner's position per game
        self._cursor = np.zeros(g, dtype=np.int64)  # game * rounds + round, per game
        self._pending = np.zeros(g)
        self._ended = np.zeros(g, dtype=bool)  # termination reported: reset on the next step
        self._generation = np.ones(g, dtype=np.int64)
        self._started = False  # step() before the first reset() would play unseated games

    def _build_tables(self) -> None:
        cfg = self.config
        self._donor_pos, self._recipient_pos = donor.schedule(cfg)
        steps, n = len(self._donor_pos), cfg.agents
        self._acts = np.zeros((steps, n), dtype=bool)  # position donates at step k
        self._partner_pos = np.empty((steps, n), dtype=np.int64)
        k = np.arange(steps)[:, None]
        self._acts[k, self._donor_pos] = True
        self._partner_pos[k, self._donor_pos] = self._recipient_pos
        self._partner_pos[k, self._recipient_pos] = self._donor_pos
        self._steps = steps

    # -- gymnasium API ---------------------------------------------------------------------

    def reset(
        self,
        *,
        seed: int | Sequence[int | None] | None = None,
        options: dict[str, Any] | None = None,
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Reset every game (or those of ``options["reset_mask"]``); see module docstring."""
        options = dict(options or {})
        mask = options.pop("reset_mask", None)
        games = (
            np.arange(self.num_envs)
            if mask is None
            else np.flatnonzero(np.asarray(mask, dtype=bool))
        )
        if not self._started and len(games) < self.num_envs:
            raise RuntimeError("DonorVectorEnv: the first reset() must reset every game")
        self._reset_games(games, _seeds(seed, self.num_envs), options)
        self._started = True
        return self._observe(), self._infos()

    def step(
        self, actions: Any
    ) -> tuple[dict[str, Any], FloatArray, BoolArray, BoolArray, dict[str, Any]]:
        """One learner decision per game (a game that ended last step is reset instead)."""
        if not self._started:
            raise RuntimeError("DonorVectorEnv: call reset() before step()")
        restart = np.flatnonzero(self._ended)
        live = np.flatnonzero(~self._ended)
        # A game may have ended before its learner acted (in reset): it only reports the end.
        acting = live[self._cursor[live] < self._steps]
        values = self._learner_values(actions, acting)
        rewards = np.zeros(self.num_envs)
        terminated = np.zeros(self.num_envs, dtype=bool)
        self._reset_games(restart, [None] * self.num_envs, {})
        if len(acting):
            self._play_round(acting, values[acting])
            self._skip_idle(acting)
        rewards[live] = self._pending[live]
        self._pending[live] = 0.0
        terminated[live] = self._cursor[live] >= self._steps
        self._ended[live] = terminated[live]
        return self._observe(), rewards, terminated, np.zeros(self.num_envs, bool), self._infos()

    def render(self) -> Any:
        """No frames (no render modes): one None per game, as ``SyncVectorEnv`` over
        ``make_gym_env`` without a ``render_mode`` gives."""
        return (None,) * self.num_envs

    def close_extras(self, **kwargs: Any) -> None:
        pass

    # -- games -----------------------------------------------------------------------------

    def _reset_games(
        self, games: IntArray, seeds: Sequence[int | None], options: Mapping[str, Any]
    ) -> None:
        if not len(games):
            return
        n = self.config.agents
        for g in games.tolist():
            if seeds[g] is not None:
                self._generators[g] = seeding.np_random(seeds[g])[0]
            self._seat_of[g] = self._generators[g].permutation(n)
            self._reset_agents(g, seeds[g])
        self._generation[games] = int(options.get("generation", 1))
        self._position[games] = np.argsort(self._seat_of[games], axis=1)[:, self._me]
        self._cursor[games] = 0
        self._pending[games] = 0.0
        self._ended[games] = False
        donor.reset_rows(self.config, self._state, _rows_of(games, n))
        self._skip_idle(games)

    def _reset_agents(self, game: int, seed: int | None) -> None:
        n = self.config.agents
        for row, agent in self._resettable:
            if row // n == game:
                agent.reset(seed=seat_seed(seed, row % n))  # as the single-agent view

    def _acting(self, games: IntArray) -> BoolArray:
        k = np.minimum(self._cursor[games], self._steps - 1)
        return self._acts[k, self._position[games]] & (self._cursor[games] < self._steps)

    def _skip_idle(self, games: IntArray) -> None:
        """Play rounds in which the learner is a recipient, until it donates or its game ends."""
        while len(games):
            games = games[~self._acting(games) & (self._cursor[games] < self._steps)]
            if len(games):
                self._play_round(games, None)

    def _play_round(self, games: IntArray, learner: FloatArray | None) -> None:
        """One round of each game of ``games`` (each at its own round)."""
        cfg, n, state = self.config, self.config.agents, self._state
        k = self._cursor[games]
        seat_of = self._seat_of[games]
        d_seat = np.take_along_axis(seat_of, self._donor_pos[k], axis=1)
        r_seat = np.take_along_axis(seat_of, self._recipient_pos[k], axis=1)
        base = self._offset[games][:, None]
        donors, recipients = (d_seat + base).ravel(), (r_seat + base).ravel()
        labels = np.empty((len(donors), 3))
        labels[:, 0] = np.repeat(k % cfg.rounds, d_seat.shape[1])
        labels[:, 1], labels[:, 2] = d_seat.ravel(), r_seat.ravel()
        plan = donor.RoundPlan(0, donors, recipients, labels)
        lengths, fractions = donor.recipient_traces(state, plan)
        mine = (d_seat == self._me).ravel()
        others = np.flatnonzero(~mine)
        signed = np.empty(len(donors))
        chosen = self._rows.decide(donors[others], lengths[others], fractions[others])
        signed[others] = as_actions(chosen, self._names, donors[others] % n)
        if learner is not None:
            signed[mine] = learner
        me = self._offset[games] + self._me
        before = state.resources[me]
        donor.apply_round(cfg, state, plan, signed)
        self._pending[games] += state.resources[me] - before
        self._cursor[games] = k + 1
        new_game = (k + 1) % cfg.rounds == 0
        restart = games[new_game & (k + 1 < self._steps)]
        if len(restart):
            donor.reset_rows(cfg, state, _rows_of(restart, n))

    def _learner_values(self, actions: Any, acting: IntArray) -> FloatArray:
        """The learners' fractions as the env reads them (``float(action[0])``); only the
        games in ``acting`` use theirs, so only theirs must be finite."""
        array = np.asarray(actions)
        if array.dtype.kind not in "iuf" or array.size != self.num_envs:
            raise ValueError(
                f"DonorVectorEnv: actions must be real numbers of shape ({self.num_envs}, 1), "
                f"got dtype {array.dtype} and shape {array.shape}; the action space is "
                f"{self.action_space}"
            )
        values = array.reshape(self.num_envs).astype(np.float64)
        finite = np.isfinite(values[acting])
        if not finite.all():
            bad = int(acting[np.flatnonzero(~finite)[0]])
            raise ValueError(
                f"DonorVectorEnv: invalid action {values[bad]!r} for game {bad}: it must be "
                f"a finite number (the action space is {self.single_action_space})"
            )
        return values

    # -- observations ----------------------------------------------------------------------

    def _observe(self) -> dict[str, Any]:
        cfg, state = self.config, self._state
        # After the last round the view shows that round's indices and pairing.
        k = np.where(self._cursor >= self._steps, self._steps - 1, self._cursor)
        partner_seat = self._seat_of[np.arange(self.num_envs), self._partner_pos[k, self._position]]
        partner = self._offset + partner_seat
        me = self._offset + self._me
        chain = state.traces(partner)
        ints = chain[..., :3].astype(np.int64)
        return {
            "generation": self._generation[:, None].copy(),
            "game": k // cfg.rounds,
            "round": k % cfg.rounds,
            "self": np.full(self.num_envs, self._me, dtype=np.int64),
            "is_donor": self._acts[k, self._position].astype(np.int64),
            "partner": partner_seat,
            "own_resources": state.resources[me][:, None],
            "partner_resources": state.resources[partner][:, None],
            "trace_length": state.chain_len[partner].copy(),
            "trace_round": np.ascontiguousarray(ints[..., 0]),
            "trace_donor": np.ascontiguousarray(ints[..., 1]),
            "trace_recipient": np.ascontiguousarray(ints[..., 2]),
            "trace_fraction": np.ascontiguousarray(chain[..., 3]),
        }

    def _infos(self) -> dict[str, Any]:
        # The learner's role in its current round; after the last round, in that round
        # (the env's final infos), as the single-agent view reports them.
        k = np.minimum(self._cursor, self._steps - 1)
        acting = self._acts[k, self._position]
        return {"acting": acting, "_acting": np.ones(self.num_envs, dtype=bool)}


def _seeds(seed: int | Sequence[int | None] | None, count: int) -> list[int | None]:
    if seed is None:
        return [None] * count
    if isinstance(seed, int | np.integer):
        return [int(seed) + i for i in range(count)]
    seeds = list(seed)
    if len(seeds) != count:
        raise ValueError(f"DonorVectorEnv: {len(seeds)} seeds for {count} games")
    return seeds


def _rows_of(games: IntArray, n: int) -> IntArray:
    return (games[:, None] * n + np.arange(n)).ravel()


def _seat_agents(
    names: Sequence[str], me: int, others: Others | None, games: int
) -> list[DonorStrategy]:
    """Every row's agent (the learner's rows hold a placeholder that is never asked)."""
    from agentsim.agents.registry import make_agent

    def agent_for(seat: str) -> Any:
        if others is None:
            return make_agent("trace_average", name=seat)
        return others[seat] if isinstance(others, Mapping) else others(seat)

    if others is not None:
        check_others(others, [a for s, a in enumerate(names) if s != me])
    placeholder = make_agent("defector")
    agents = [
        placeholder if s == me else agent_for(a) for _ in range(games) for s, a in enumerate(names)
    ]
    if not ScriptedRows.accepts(agents):
        bad = next(a for a in agents if not ScriptedRows.accepts([a]))
        raise ConfigError(
            "others",
            type(bad).__name__,
            "scripted donor strategies (agentsim agents: fixed_fraction, defector, "
            "cooperator, image_scoring, standing, trace_average, random); other agents "
            "play through make_gym_env",
        )
    return agents
