"""A native AEC view of any agentsim ``ParallelEnv``: agents act in turn.

:func:`aec_env` plays exactly like PettingZoo's generic conversion
(``pettingzoo.utils.conversions.parallel_to_aec``): every live agent acts in turn, in the
order of the parallel env's ``agents``; actions are buffered and the parallel ``step`` runs
when the last agent of the cycle acts; ``observe``, ``last``, ``rewards``,
``_cumulative_rewards``, ``terminations``, ``truncations`` and ``infos`` follow the same
rules, and agents that are done are stepped out with ``None`` one by one (in the order of
their names) after the step that ended them. The same seeds and actions give the same
trajectories (``tests/envs/test_aec_view.py`` checks it).

What it leaves out is the cost: no ``OrderEnforcingWrapper`` (every attribute read through
``__getattr__``) and no agent selector object, so a turn costs a few dictionary reads. Calls
before ``reset()`` raise ``AttributeError``, as any AEC env's do.

Example:
    >>> import agentsim, numpy as np
    >>> env = agentsim.make_env("donor_game_v0", api="aec", agents=4, rounds=2)
    >>> env.reset(seed=0)
    >>> for agent in env.agent_iter():
    ...     obs, reward, termination, truncation, info = env.last()
    ...     env.step(None if termination or truncation else np.array([1.0]))
    >>> env.unwrapped.final_resources.mean(axis=1).tolist()  # every donor gives everything
    [30.0, 30.0]
"""

from __future__ import annotations

from typing import Any

from pettingzoo import AECEnv, ParallelEnv


# pettingzoo ships no type information, so AECEnv is Any to mypy.
class ParallelAEC(AECEnv[str, Any, Any]):  # type: ignore[misc]
    """The AEC view of one parallel env (see the module docstring); build it with aec_env."""

    def __init__(self, parallel_env: ParallelEnv[str, Any, Any]) -> None:
        self.env = parallel_env
        self.metadata = {**parallel_env.metadata, "is_parallelizable": True}
        self.render_mode = getattr(parallel_env, "render_mode", None)
        self.possible_agents = parallel_env.possible_agents
        if hasattr(parallel_env, "state_space"):
            self.state_space = parallel_env.state_space
        # Bound once: performance_benchmark-style loops ask for a space every turn.
        self.observation_space = parallel_env.observation_space
        self.action_space = parallel_env.action_space

    @property
    def unwrapped(self) -> Any:
        return self.env.unwrapped

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        self._observations, infos = self.env.reset(seed=seed, options=options)
        self.agents = list(self.env.agents)
        self._actions: dict[str, Any] = dict.fromkeys(self.agents)
        self._begin_cycle(self.agents)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.rewards = dict.fromkeys(self.agents, 0)
        self.infos = _per_agent_infos(infos, self.agents)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0)

    def _begin_cycle(self, order: list[str]) -> None:
        self._order = list(order)
        self._turn = 0
        self._last_turn = len(order) - 1
        if order:
            self.agent_selection = order[0]

    def observe(self, agent: str) -> Any:
        return self._observations[agent]

    def last(self, observe: bool = True) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        agent = self.agent_selection
        return (
            self._observations[agent] if observe else None,
            self._cumulative_rewards[agent],
            self.terminations[agent],
            self.truncations[agent],
            self.infos[agent],
        )

    def step(self, action: Any) -> None:
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            del self._actions[agent]
            self._was_dead_step(action)  # a ValueError unless the action is None
            return
        self._actions[agent] = action
        if self._turn >= self._last_turn:
            self._play_cycle()
            return
        if self._turn == 0:
            self._clear_rewards()
        self._turn += 1
        self.agent_selection = self._order[self._turn]

    def _play_cycle(self) -> None:
        """The parallel step, once every live agent has acted (parallel_to_aec's rules)."""
        observations, rewards, terminations, truncations, infos = self.env.step(self._actions)
        # Copies: the dead-agent steps below delete from them, and the env may keep its own.
        self._observations = dict(observations)
        self.terminations = dict(terminations)
        self.truncations = dict(truncations)
        self.infos = dict(infos)
        self.rewards = dict(rewards)
        self._cumulative_rewards = dict(rewards)
        live = self.env.agents
        known = set(live)
        # Agents that left this step stay until stepped with None, in the order of their names.
        gone = sorted((a for a in self._observations if a not in known), key=str)
        self.agents = [*live, *gone]
        if live:
            self._begin_cycle(live)
        self._deads_step_first()

    def state(self) -> Any:
        return self.env.state()

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        self.env.close()

    def __str__(self) -> str:
        return str(self.env)


def _per_agent_infos(infos: dict[str, Any], agents: list[str]) -> dict[str, Any]:
    """Reset infos keyed by agent, as parallel_to_aec fixes them up (without its warnings)."""
    if not infos:
        return {agent: {} for agent in agents}
    if set(infos) != set(agents):
        return {agent: infos.copy() for agent in agents}
    return dict(infos)


def aec_env(parallel_env: Any) -> Any:
    """The AEC view of ``parallel_env`` (an AEC env is returned unchanged).

    Use it wherever ``pettingzoo.utils.conversions.parallel_to_aec`` would be used: the
    same turns, observations, rewards and flags, at a fraction of the cost per turn.
    """
    if isinstance(parallel_env, AECEnv):
        return parallel_env
    if not isinstance(parallel_env, ParallelEnv):
        raise TypeError(
            f"aec_env takes a PettingZoo ParallelEnv or AECEnv, got {type(parallel_env).__name__}"
        )
    return ParallelAEC(parallel_env)
