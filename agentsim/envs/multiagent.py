"""Shared-parameter multi-agent RL on agentsim's PettingZoo envs (SuperSuit + SB3).

:func:`sb3_vec_env` turns ``copies`` copies of a parallel env into one Stable-Baselines3
``VecEnv`` with one slot per seat and copy, so a single policy (parameter sharing)
learns from every seat at once (Terry et al. 2021, "PettingZoo", arXiv:2009.14471;
SuperSuit: Terry et al. 2020, arXiv:2008.08932). Needs the ``rl`` extra
(``pip install 'agentsim[rl]'``: torch CPU build, stable-baselines3, supersuit).

Every seat must have the same spaces. Observations are made SB3-ready first by
:class:`SB3ReadyParallelEnv` (0-d ``Box`` fields lifted to shape ``(1,)``, text fields
left out), and seats that leave mid-episode get zero observations and rewards
(as SuperSuit's ``black_death_v3``, which takes ``Box`` observations only). SuperSuit
3.11's ``ConcatVecEnv`` has no ``seed``, which SB3 calls for ``PPO(..., seed=s)``; the
returned env seeds its copies itself at the next reset (copy i gets ``seed + i``), with
no patch of SuperSuit's classes.

In rounds where a seat does not act (``infos[seat]["acting"]`` False) its action is
sampled and ignored by the env, as in the multi-agent API; the observation's
``is_donor``-style fields let the shared policy tell those rounds apart.

Example:
    >>> from stable_baselines3 import PPO                         # doctest: +SKIP
    >>> venv = sb3_vec_env("donor_game_v0", copies=4, agents=4)    # doctest: +SKIP
    >>> PPO("MultiInputPolicy", venv, n_steps=64, seed=0).learn(512)  # doctest: +SKIP
"""

from __future__ import annotations

from functools import cache
from typing import Any

import numpy as np
from gymnasium import spaces
from pettingzoo.utils.wrappers import BaseParallelWrapper

from agentsim.core.errors import ConfigError
from agentsim.envs.gym_view import lift_observation, lift_space, without_text
from agentsim.envs.registry import make_env


class SB3ReadyParallelEnv(BaseParallelWrapper):  # type: ignore[misc]
    """A parallel env whose observations have no 0-d ``Box`` and no text fields.

    With ``black_death``, a seat that leaves before the episode ends stays listed in
    ``agents`` with zero observations and rewards (its actions are dropped) until every
    seat is done, as SuperSuit's ``black_death_v3`` does for ``Box`` observations (which
    it requires; this one works for ``Dict`` ones).

    Example:
        >>> env = SB3ReadyParallelEnv(make_env("donor_game_v0", agents=4))
        >>> env.observation_space("agent_0")["own_resources"].shape
        (1,)
    """

    def __init__(self, env: Any, black_death: bool = False) -> None:
        super().__init__(env)
        self.black_death = black_death
        self._raw = {a: without_text(env.observation_space(a)) for a in env.possible_agents}
        self._lifted = {a: lift_space(s) for a, s in self._raw.items()}

    @property
    def agents(self) -> list[str]:
        """The live seats (every seat while any is live, with ``black_death``)."""
        live: list[str] = self.env.agents
        return list(self.env.possible_agents) if self.black_death and live else live

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        return self._lifted[agent]

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        obs, infos = self.env.reset(seed=seed, options=options)
        return self._lift(obs), infos

    def step(self, actions: dict[str, Any]) -> tuple[Any, Any, Any, Any, Any]:
        live = set(self.env.agents)
        actions = {a: act for a, act in actions.items() if a in live}
        obs, rewards, terms, truncs, infos = self.env.step(actions)
        obs = self._lift(obs)
        if self.black_death:
            over = not self.env.agents
            for a in self.env.possible_agents:
                if a not in obs:  # left earlier: a zero observation until the episode ends
                    obs[a] = _zeros(self._lifted[a])
                    rewards[a], terms[a], truncs[a], infos[a] = 0.0, over, False, {}
        return obs, rewards, terms, truncs, infos

    def _lift(self, obs: dict[str, Any]) -> dict[str, Any]:
        return {a: lift_observation(o, self._raw[a]) for a, o in obs.items()}


def _zeros(space: spaces.Space[Any]) -> Any:
    """An all-zero value of ``space`` (``Discrete``: its ``start``)."""
    if isinstance(space, spaces.Dict):
        return {k: _zeros(s) for k, s in space.spaces.items()}
    if isinstance(space, spaces.Tuple):
        return tuple(_zeros(s) for s in space.spaces)
    if isinstance(space, spaces.Discrete):
        return int(space.start)
    return np.zeros(space.shape, dtype=space.dtype)


def sb3_vec_env(env_id: str, copies: int = 4, black_death: bool = True, **config: Any) -> Any:
    """An SB3 ``VecEnv`` of ``copies`` copies of ``env_id``, one slot per seat and copy.

    Args:
        env_id: a registered parallel env whose seats share their spaces
            (``donor_game_v0``, ``norm_society_v0``).
        copies: how many copies of the env step together (``num_envs = copies * seats``).
        black_death: give seats that left zero observations and rewards (needed when
            seats leave before the episode ends; harmless otherwise).
        **config: the env's config.

    Raises:
        ConfigError: for ``copies < 1`` or an env that is not a parallel env.
    """
    if copies < 1:
        raise ConfigError("copies", copies, "an integer >= 1")
    import supersuit as ss
    from pettingzoo import AECEnv

    env = make_env(env_id, **config)
    if isinstance(env, AECEnv):
        raise ConfigError("env_id", env_id, "a parallel env (e.g. donor_game_v0)")
    env = SB3ReadyParallelEnv(env, black_death=black_death)
    vec = ss.pettingzoo_env_to_vec_env_v1(env)
    vec = ss.concat_vec_envs_v1(vec, copies, num_cpus=0, base_class="gymnasium")
    return _seeded_wrapper()(vec)


@cache
def _seeded_wrapper() -> type:
    """SuperSuit's SB3 wrapper with ``seed`` (SB3 calls it; SuperSuit 3.11 lacks it)."""
    from supersuit.vector.sb3_vector_wrapper import SB3VecEnvWrapper

    class SeededSB3VecEnv(SB3VecEnvWrapper):  # type: ignore[misc]
        """Keeps the seed SB3 sets and passes it to the next reset of every copy."""

        _next_seed: int | None = None

        def seed(self, seed: int | None = None) -> list[int | None]:
            self._next_seed = seed
            return [None if seed is None else seed + i for i in range(self.num_envs)]

        def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
            seed = self._next_seed if seed is None else seed
            self._next_seed = None
            observations, self.reset_infos = self.venv.reset(seed=seed, options=options)
            return observations

    return SeededSB3VecEnv
