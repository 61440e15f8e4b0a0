"""``make_gym_env``: a single-agent Gymnasium view of any parallel agentsim env.

One seat learns; every other seat is played by the given agents. The view is ready
for Stable-Baselines3 (``check_env`` passes, ``PPO("MultiInputPolicy", env)`` trains):

* 0-d ``Box(shape=())`` fields become ``Box(shape=(1,))`` (:func:`lift_space`,
  :func:`lift_observation`); SB3 rejects 0-d arrays.
* ``Text`` fields of a ``Dict`` observation are left out (no SB3 policy reads text).
* The learner is asked only when it acts: rounds where ``infos[learner]["acting"]``
  is False (e.g. a donor-game recipient) are played inside ``step``/``reset`` (the
  others act; the learner sends a fixed in-space no-op, which the env ignores), and
  their rewards are added to the next reward returned, so an episode's summed rewards
  equal the parallel env's return for the seat.
* ``reset(seed=s)`` resets the env with ``s`` and each other seat's agent with the seed
  ``agentsim.run_episode`` gives that seat (:func:`seat_seed`), so the view plays the
  episode ``run_episode`` plays with the learner's seat scripted.
* When the observation holds an ``action_mask``, :meth:`SingleAgentView.action_masks`
  returns it (sb3-contrib ``MaskablePPO``'s convention).

Example:
    >>> import agentsim
    >>> env = make_gym_env("donor_game_v0", others=lambda seat: agentsim.make_agent("defector"))
    >>> obs, info = env.reset(seed=0)
    >>> obs["own_resources"].shape
    (1,)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from gymnasium import Env, spaces

from agentsim.agents.base import decide_sync
from agentsim.core.errors import ConfigError
from agentsim.core.seeding import seat_seed
from agentsim.envs.registry import make_env

OthersSpec = Mapping[str, Any] | Callable[[str], Any]


def lift_space(space: spaces.Space[Any]) -> spaces.Space[Any]:
    """``space`` with every 0-d ``Box`` made ``Box(shape=(1,))`` (same bounds and dtype).

    Recurses through ``Dict`` and ``Tuple``; other spaces come back unchanged (the same
    object when nothing inside needs lifting).

    Example:
        >>> lift_space(spaces.Dict({"x": spaces.Box(0.0, 1.0, shape=())})).spaces["x"].shape
        (1,)
    """
    if isinstance(space, spaces.Box) and space.shape == ():
        low, high = space.low.reshape(1), space.high.reshape(1)
        return spaces.Box(low, high, shape=(1,), dtype=space.dtype)
    if isinstance(space, spaces.Dict):
        lifted = {k: lift_space(s) for k, s in space.spaces.items()}
        if all(lifted[k] is s for k, s in space.spaces.items()):
            return space
        return spaces.Dict(lifted)
    if isinstance(space, spaces.Tuple):
        parts = tuple(lift_space(s) for s in space.spaces)
        if all(p is s for p, s in zip(parts, space.spaces, strict=True)):
            return space
        return spaces.Tuple(parts)
    return space


def lift_observation(obs: Any, space: spaces.Space[Any] | None = None) -> Any:
    """The value matching :func:`lift_space`: 0-d arrays of ``Box`` fields get shape ``(1,)``.

    With ``space`` (the original, unlifted space) exactly the 0-d ``Box`` fields are
    lifted. Without it, every 0-d numpy array and numpy float scalar is lifted (agentsim
    envs give ``Discrete`` values as Python ints, which stay as they are). Arrays are
    reshaped, not copied.

    Example:
        >>> lift_observation({"x": np.array(0.5), "n": 3})
        {'x': array([0.5]), 'n': 3}
    """
    if space is None:
        return _lift_any(obs)
    if isinstance(space, spaces.Box) and space.shape == ():
        return np.asarray(obs, dtype=space.dtype).reshape(1)
    if isinstance(space, spaces.Dict):
        return {k: lift_observation(obs[k], s) for k, s in space.spaces.items() if k in obs}
    if isinstance(space, spaces.Tuple):
        return tuple(lift_observation(o, s) for o, s in zip(obs, space.spaces, strict=True))
    return obs


def _lift_any(obs: Any) -> Any:
    if isinstance(obs, np.ndarray):
        return obs.reshape(1) if obs.ndim == 0 else obs
    if isinstance(obs, np.floating):
        return np.asarray(obs).reshape(1)
    if isinstance(obs, dict):
        return {k: _lift_any(v) for k, v in obs.items()}
    if isinstance(obs, tuple):
        return tuple(_lift_any(v) for v in obs)
    return obs


def without_text(space: spaces.Space[Any]) -> spaces.Space[Any]:
    """A ``Dict`` space without its ``Text`` fields (other spaces unchanged)."""
    if not isinstance(space, spaces.Dict):
        return space
    kept = {k: s for k, s in space.spaces.items() if not isinstance(s, spaces.Text)}
    if len(kept) == len(space.spaces):
        return space
    if not kept:
        raise ConfigError("observation", "only text fields", ["at least one non-text field"])
    return spaces.Dict(kept)


def check_others(others: OthersSpec, seats: list[str]) -> None:
    """ConfigError unless a mapping ``others`` has an agent for every one of ``seats``."""
    if isinstance(others, Mapping):
        missing = [a for a in seats if a not in others]
        if missing:
            raise ConfigError(
                "others", f"no agent for {', '.join(missing)}", f"an agent for each of {seats}"
            )


def _noop(space: spaces.Space[Any]) -> Any:
    """A fixed in-space action the learner sends when it does not act (the env ignores it)."""
    if isinstance(space, spaces.Box):
        return np.clip(np.zeros(space.shape), space.low, space.high).astype(space.dtype)
    if isinstance(space, spaces.Discrete):
        return int(space.start)
    if isinstance(space, spaces.MultiDiscrete):
        return np.array(space.start, dtype=space.dtype)
    if isinstance(space, spaces.MultiBinary):
        return np.zeros(space.shape, dtype=space.dtype)
    return None  # left out of the step's actions


class SingleAgentView(Env[Any, Any]):
    """A Gymnasium env: ``learner``'s seat of a PettingZoo ``ParallelEnv`` (see module doc)."""

    def __init__(
        self, env: Any, learner: str, others: OthersSpec, render_mode: str | None = None
    ) -> None:
        if learner not in env.possible_agents:
            raise ConfigError("learner", learner, env.possible_agents)
        self.parallel_env = env
        self.learner = learner
        seats = [a for a in env.possible_agents if a != learner]
        check_others(others, seats)
        self.others = {a: (others[a] if isinstance(others, Mapping) else others(a)) for a in seats}
        self._raw_space = without_text(env.observation_space(learner))
        self.observation_space = lift_space(self._raw_space)
        self.action_space = env.action_space(learner)
        self._noop = _noop(self.action_space)
        self.metadata = {"render_modes": list(env.metadata.get("render_modes", []))}
        self.render_mode = render_mode
        self._obs: dict[str, Any] = {}
        self._infos: dict[str, Any] = {}
        # How the episode ended before the learner acted (reported at its one step), and
        # whether step() has reported the end (stepping on needs a reset).
        self._ended_early: tuple[bool, bool] | None = None
        self._over = True
        self._pending = 0.0  # rewards of rounds played without the learner, not yet returned

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self._obs, self._infos = self.parallel_env.reset(seed=seed, options=options)
        seats = self.parallel_env.possible_agents
        for seat, agent in self.others.items():
            agent.reset(seed=seat_seed(seed, seats.index(seat)))
        self._pending, self._over = 0.0, False
        terminated, truncated = self._skip_idle_rounds()
        self._ended_early = (terminated, truncated) if terminated or truncated else None
        return self._observation(), dict(self._infos[self.learner])

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        me = self.learner
        if self._over:
            raise RuntimeError(f"{self._env_name()}: no episode is running; call reset() first")
        if self._ended_early is not None:  # the episode ended before the learner ever acted
            (terminated, truncated), self._ended_early = self._ended_early, None
        else:
            terminated, truncated = self._play_round(action)
            if not (terminated or truncated):
                terminated, truncated = self._skip_idle_rounds()
        reward, self._pending = self._pending, 0.0
        self._over = terminated or truncated
        return self._observation(), reward, terminated, truncated, dict(self._infos[me])

    def action_masks(self) -> np.ndarray:
        """The learner's current action mask (bool), for sb3-contrib ``MaskablePPO``."""
        obs = self._obs.get(self.learner)
        if isinstance(obs, Mapping) and "action_mask" in obs:
            return np.asarray(obs["action_mask"], dtype=bool)
        mask_of = getattr(self.parallel_env, "action_mask", None)
        if callable(mask_of):
            return np.asarray(mask_of(self.learner), dtype=bool)
        raise AttributeError(f"{self._env_name()} exposes no action mask")

    def render(self) -> Any:
        return self.parallel_env.render() if self.render_mode else None

    def close(self) -> None:
        self.parallel_env.close()

    # -- rounds ----------------------------------------------------------------------------

    def _acting(self) -> bool:
        return bool(self._infos.get(self.learner, {}).get("acting", True))

    def _skip_idle_rounds(self) -> tuple[bool, bool]:
        """Play rounds in which the learner does not act, until it acts or the episode ends."""
        while not self._acting():
            terminated, truncated = self._play_round(self._noop)
            if terminated or truncated:
                return terminated, truncated
        return False, False

    def _play_round(self, action: Any) -> tuple[bool, bool]:
        env, me = self.parallel_env, self.learner
        actions = {} if action is None else {me: action}
        for a, agent in self.others.items():
            if a in env.agents and self._infos.get(a, {}).get("acting", True):
                actions[a] = decide_sync(agent, self._obs[a]).action
        self._obs, rewards, terms, truncs, self._infos = env.step(actions)
        self._pending += float(rewards.get(me, 0.0))
        return bool(terms.get(me, True)), bool(truncs.get(me, False))

    def _observation(self) -> Any:
        return lift_observation(self._obs[self.learner], self._raw_space)

    def _env_name(self) -> str:
        return str(self.parallel_env.metadata.get("name", type(self.parallel_env).__name__))


def make_gym_env(
    env_id: str,
    learner: str | None = None,
    others: OthersSpec | None = None,
    render_mode: str | None = None,
    **config: Any,
) -> SingleAgentView:
    """Gymnasium env for one learning seat (default: the first) of a parallel env.

    Args:
        env_id: a registered parallel env, e.g. ``donor_game_v0``.
        learner: the learning seat (default ``possible_agents[0]``).
        others: agents for the other seats, as a mapping seat -> agent or a factory
            ``seat -> agent`` (default: each seat plays ``trace_average``).
        render_mode: passed to the env.
        **config: the env's config.

    Raises:
        ConfigError: for an env with no single-learner view (an AEC env such as
            ``debate_v0``, whose actions are text) or an unknown learner.
    """
    env = make_env(env_id, render_mode=render_mode, **config)
    _check_parallel(env_id, env)
    if others is None:
        from agentsim.agents.registry import make_agent

        def others(seat: str) -> Any:
            return make_agent("trace_average", name=seat)

    return SingleAgentView(env, learner or env.possible_agents[0], others, render_mode)


def _check_parallel(env_id: str, env: Any) -> None:
    """ConfigError for an env with no single-learner view (an AEC env, e.g. ``debate_v0``)."""
    from pettingzoo import AECEnv

    if isinstance(env, AECEnv):
        text = isinstance(env.action_space(env.possible_agents[0]), spaces.Text)
        raise ConfigError(
            "env_id",
            env_id,
            "a parallel env (e.g. donor_game_v0, norm_society_v0); "
            f"{env_id} is turn-based (AEC){' with text actions' if text else ''}, so it has "
            "no single-learner Gymnasium view (play it with agents through "
            "agentsim.run_episode)",
        )
