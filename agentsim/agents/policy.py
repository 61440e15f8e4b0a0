"""``PolicyAgent``: a trained policy (e.g. a Stable-Baselines3 model) as an :class:`Agent`.

Any object with ``predict(observation, deterministic=...) -> (action, state)`` works,
so a policy trained on :func:`agentsim.make_gym_env` or
:func:`agentsim.envs.multiagent.sb3_vec_env` joins a population (``run_episode``) or a
debate seat. It is not a registered agent kind (a model is no JSON parameter): for
``agentsim run``, register a factory that loads the model in the process that runs it,
e.g. ``agentsim.register_agent("ppo", lambda name=None: PolicyAgent(PPO.load(path)))``
then ``agentsim.cli.main(["run", ..., "--set", "population=ppo:2,defector:4"])``.
The env's raw observation is converted to the training layout first: 0-d ``Box`` fields
lifted to shape ``(1,)`` (as :func:`agentsim.envs.gym_view.lift_observation` does) and
fields the policy's observation space does not have (e.g. text) left out.

Example:
    >>> import numpy as np
    >>> class Half:
    ...     def predict(self, obs, deterministic=True):
    ...         return np.array([0.5], dtype=np.float32), None
    >>> PolicyAgent(Half(), name="ppo").act({"own_resources": np.array(10.0)}).action
    array([0.5], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np
from gymnasium import spaces

from agentsim.agents.base import Decision


class Predictor(Protocol):
    """What :class:`PolicyAgent` needs of a policy (an SB3 model has it)."""

    def predict(self, observation: Any, deterministic: bool = ...) -> tuple[Any, Any]:
        """The action for one observation, and the recurrent state (ignored)."""
        ...


class PolicyAgent:
    """An agent that acts with ``policy.predict`` (see module docstring).

    Args:
        policy: the trained policy; its ``observation_space`` (when it has one) picks
            the observation fields passed on.
        name: the agent's name in records.
        deterministic: ``predict``'s flag (the policy's mode, not a sample). With False,
            SB3 samples from torch's global generator, which ``reset(seed=...)`` does not
            seed (no global RNG here): such episodes do not repeat for a seed.
    """

    def __init__(self, policy: Predictor, name: str = "policy", deterministic: bool = True) -> None:
        self.policy = policy
        self.name = name
        self.deterministic = deterministic
        space = getattr(policy, "observation_space", None)
        self._keys = set(space.spaces) if isinstance(space, spaces.Dict) else None
        # The Box fields of shape (1,): a scalar there (a Python float, a 0-d array) is
        # lifted whatever its type, as SB3 refuses shape () for them.
        self._boxes = (
            {k for k, s in space.spaces.items() if isinstance(s, spaces.Box) and s.shape == (1,)}
            if isinstance(space, spaces.Dict)
            else set()
        )

    def reset(self, *, seed: int | None = None) -> None:
        """Nothing to reset: a trained policy is fixed (``seed`` is ignored)."""

    def act(self, observation: Any) -> Decision:
        """The policy's action for one raw env observation."""
        obs = _lift(observation)
        if self._keys is not None and isinstance(obs, Mapping):
            obs = {
                k: np.reshape(v, 1) if k in self._boxes and np.ndim(v) == 0 else v
                for k, v in obs.items()
                if k in self._keys
            }
        action, _ = self.policy.predict(obs, deterministic=self.deterministic)
        return Decision(action=action)


def _lift(obs: Any) -> Any:
    """0-d arrays and numpy float scalars as shape ``(1,)`` (``lift_observation`` without a
    space; agents sit below envs in the layers, so this cannot import it)."""
    if isinstance(obs, np.ndarray):
        return obs.reshape(1) if obs.ndim == 0 else obs
    if isinstance(obs, np.floating):
        return np.asarray(obs).reshape(1)
    if isinstance(obs, Mapping):
        return {k: _lift(v) for k, v in obs.items()}
    if isinstance(obs, tuple):
        return tuple(_lift(v) for v in obs)
    return obs
