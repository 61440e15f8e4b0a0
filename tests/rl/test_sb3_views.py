"""Stable-Baselines3 trains on the single-agent view and the SuperSuit multi-agent env."""

from typing import Any, ClassVar

import numpy as np
import pytest
from gymnasium import spaces
from pettingzoo import ParallelEnv

import agentsim
from agentsim.core.errors import ConfigError

sb3 = pytest.importorskip("stable_baselines3")
pytest.importorskip("supersuit")
torch = pytest.importorskip("torch")

from stable_baselines3.common.env_checker import check_env  # noqa: E402

from agentsim.envs.multiagent import SB3ReadyParallelEnv, sb3_vec_env  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _norm_view():
    return agentsim.make_gym_env(
        "norm_society_v0",
        others=lambda seat: agentsim.make_agent("evolutionary", env="norm_society_v0"),
        n_agents=4,
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda: agentsim.make_gym_env("donor_game_v0", agents=4),
        lambda: agentsim.make_gym_env("donor_game_v0", punishment="costly", agents=4),
        _norm_view,
    ],
    ids=["donor", "donor-costly", "norm-society"],
)
def test_sb3_checker_passes_and_ppo_trains_on_the_gym_view(make):
    check_env(make(), warn=False)
    model = sb3.PPO("MultiInputPolicy", make(), n_steps=32, batch_size=32, seed=0, device="cpu")
    model.learn(64)
    obs, _ = make().reset(seed=1)
    assert make().action_space.contains(model.predict(obs, deterministic=True)[0])


def _weights(seed: int) -> np.ndarray:
    venv = sb3_vec_env("donor_game_v0", copies=2, agents=4)
    model = sb3.PPO(
        "MultiInputPolicy", venv, n_steps=32, batch_size=64, n_epochs=2, seed=seed, device="cpu"
    )
    model.learn(256)
    return torch.cat([p.detach().flatten() for p in model.policy.parameters()]).numpy()


def test_shared_parameter_ppo_on_the_donor_game_is_deterministic_with_a_seed():
    first = _weights(0)
    assert np.array_equal(first, _weights(0))
    assert not np.array_equal(first, _weights(1))


def test_the_vec_env_has_a_slot_per_seat_and_copy_with_lifted_observations():
    venv = sb3_vec_env("donor_game_v0", copies=3, agents=4)
    assert venv.num_envs == 12
    assert venv.observation_space["own_resources"].shape == (1,)
    venv.seed(5)
    first = venv.reset()
    venv.seed(5)
    assert np.array_equal(first["partner"], venv.reset()["partner"])
    assert first["own_resources"].shape == (12, 1)


def test_the_vec_env_refuses_an_aec_env_and_no_copies():
    with pytest.raises(ConfigError, match="env_id"):
        sb3_vec_env("debate_v0")
    with pytest.raises(ConfigError, match="copies"):
        sb3_vec_env("donor_game_v0", copies=0)


class _Leaving(ParallelEnv):  # type: ignore[misc]
    """Seat ``b`` leaves after round 1; the episode ends after round 3."""

    metadata: ClassVar[dict[str, Any]] = {"name": "leaving"}
    possible_agents: ClassVar[list[str]] = ["a", "b"]
    render_mode = None

    def observation_space(self, agent):
        return spaces.Dict({"x": spaces.Box(0.0, 9.0, shape=()), "n": spaces.Discrete(4)})

    def action_space(self, agent):
        return spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        self.agents, self.t = list(self.possible_agents), 0
        return self._obs(), {a: {} for a in self.agents}

    def step(self, actions):
        assert set(actions) == set(self.agents)  # no action for a seat that left
        self.t += 1
        done = {a: self.t == 3 or (a == "b" and self.t == 1) for a in self.agents}
        rewards = dict.fromkeys(self.agents, 1.0)
        obs = self._obs()
        infos = {a: {} for a in self.agents}
        self.agents = [a for a in self.agents if not done[a]]
        return obs, rewards, done, dict.fromkeys(done, False), infos

    def _obs(self):
        return {a: {"x": np.array(float(self.t), np.float32), "n": 1} for a in self.agents}


def test_a_seat_that_left_gets_zero_observations_until_the_episode_ends():
    env = SB3ReadyParallelEnv(_Leaving(), black_death=True)
    env.reset()
    env.step({"a": 0, "b": 0})
    obs, rewards, terms, _, _ = env.step({"a": 0, "b": 1})
    assert env.agents == ["a", "b"]
    assert obs["b"]["x"].tolist() == [0.0] and obs["b"]["n"] == 0
    assert (rewards["b"], terms["b"], obs["a"]["x"].tolist()) == (0.0, False, [2.0])
    _, _, terms, _, _ = env.step({"a": 0, "b": 1})
    assert terms == {"a": True, "b": True} and env.agents == []


def test_a_leaving_seat_trains_through_supersuit_with_black_death():
    import supersuit as ss

    vec = ss.pettingzoo_env_to_vec_env_v1(SB3ReadyParallelEnv(_Leaving(), black_death=True))
    vec.reset(seed=0)
    for _ in range(7):  # over two episodes (it resets itself)
        obs, *_ = vec.step(np.array([0, 1]))
    assert obs["x"].shape == (2, 1)
