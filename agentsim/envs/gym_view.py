"""``make_gym_env``: a single-agent Gymnasium view of any parallel agentsim env.

One seat learns; every other seat is played by the given agents. In rounds where
the learner does not act (``infos[learner]["acting"] is False``, e.g. a donor-game
recipient), its action is still checked by the env, then ignored, as in the
multi-agent view; the other seats that do not act are not asked and send no action.

Example:
    >>> import agentsim
    >>> env = make_gym_env("donor_game_v0", others=lambda seat: agentsim.make_agent("defector"))
    >>> obs, info = env.reset(seed=0)
    >>> obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import gymnasium as gym

from agentsim.agents.base import decide_sync
from agentsim.core.errors import ConfigError
from agentsim.envs.registry import make_env

OthersSpec = Mapping[str, Any] | Callable[[str], Any]


class SingleAgentView(gym.Env[Any, Any]):
    """A Gymnasium env: ``learner``'s seat of a PettingZoo ``ParallelEnv``."""

    def __init__(
        self, env: Any, learner: str, others: OthersSpec, render_mode: str | None = None
    ) -> None:
        if learner not in env.possible_agents:
            raise ConfigError("learner", learner, env.possible_agents)
        self.parallel_env = env
        self.learner = learner
        self.others = {
            a: (others[a] if isinstance(others, Mapping) else others(a))
            for a in env.possible_agents
            if a != learner
        }
        self.observation_space = env.observation_space(learner)
        self.action_space = env.action_space(learner)
        self.metadata = {"render_modes": list(env.metadata.get("render_modes", []))}
        self.render_mode = render_mode
        self._obs: dict[str, Any] = {}
        self._infos: dict[str, Any] = {}

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        self._obs, self._infos = self.parallel_env.reset(seed=seed, options=options)
        for i, agent in enumerate(self.others.values()):
            agent.reset(seed=None if seed is None else seed + 1 + i)
        return self._obs[self.learner], dict(self._infos[self.learner])

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        env = self.parallel_env
        actions = {self.learner: action}
        for a, agent in self.others.items():
            if a in env.agents and self._infos.get(a, {}).get("acting", True):
                actions[a] = decide_sync(agent, self._obs[a]).action
        self._obs, rewards, terms, truncs, self._infos = env.step(actions)
        me = self.learner
        return (
            self._obs[me],
            float(rewards[me]),
            bool(terms[me]),
            bool(truncs[me]),
            dict(self._infos[me]),
        )

    def render(self) -> Any:
        return self.parallel_env.render() if self.render_mode else None

    def close(self) -> None:
        self.parallel_env.close()


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
    """
    env = make_env(env_id, render_mode=render_mode, **config)
    if others is None:
        from agentsim.agents.registry import make_agent

        def others(seat: str) -> Any:
            return make_agent("trace_average", name=seat)

    return SingleAgentView(env, learner or env.possible_agents[0], others, render_mode)
