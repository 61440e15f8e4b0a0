"""PolicyAgent: a trained policy plays a seat through run_episode."""

import numpy as np
import pytest
from gymnasium import spaces

import agentsim
from agentsim.agents.base import Agent
from agentsim.agents.policy import PolicyAgent


class _Recorder:
    """A predictor that remembers what it was shown and donates ``fraction``."""

    def __init__(self, fraction: float, space=None) -> None:
        self.fraction, self.seen = fraction, []
        if space is not None:
            self.observation_space = space

    def predict(self, obs, deterministic=True):
        self.seen.append((obs, deterministic))
        return np.array([self.fraction], dtype=np.float32), None


def test_a_policy_agent_is_an_agent_and_passes_the_lifted_fields_of_its_space():
    space = spaces.Dict({"own_resources": spaces.Box(0, 9, (1,)), "round": spaces.Discrete(3)})
    policy = _Recorder(0.5, space)
    agent = PolicyAgent(policy, name="ppo", deterministic=False)
    assert isinstance(agent, Agent) and agent.name == "ppo"
    decision = agent.act({"own_resources": np.array(2.0), "round": 1, "feedback": "text"})
    assert decision.action.tolist() == [0.5]
    ((obs, deterministic),) = policy.seen
    assert sorted(obs) == ["own_resources", "round"] and not deterministic
    assert obs["own_resources"].shape == (1,)


def test_a_policy_agent_plays_its_seat_in_a_donor_population():
    env = agentsim.make_env("donor_game_v0", agents=4)
    agents = {a: agentsim.make_agent("image_scoring") for a in env.possible_agents}
    agents["agent_0"] = PolicyAgent(_Recorder(0.9), name="ppo")
    result = agentsim.run_episode(env, agents, seed=2)
    mine = [
        r["fraction"] for r in result.records if r["type"] == "transfer" and r["donor"] == "agent_0"
    ]
    assert len(mine) == 12 and mine == pytest.approx([0.9] * 12)


def test_a_trained_sb3_model_joins_a_population():
    sb3 = pytest.importorskip("stable_baselines3")
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    view = agentsim.make_gym_env("donor_game_v0", learner="agent_1", agents=4)
    model = sb3.PPO("MultiInputPolicy", view, n_steps=32, batch_size=32, seed=1, device="cpu")
    model.learn(32)
    env = agentsim.make_env("donor_game_v0", agents=4)
    agents = {a: agentsim.make_agent("trace_average") for a in env.possible_agents}
    agents["agent_1"] = PolicyAgent(model)
    result = agentsim.run_episode(env, agents, seed=3)
    obs, _ = view.reset(seed=3)  # the same first observation in the lifted layout
    expected = float(model.predict(obs, deterministic=True)[0][0])
    first = next(r for r in result.records if r["type"] == "transfer" and r["donor"] == "agent_1")
    assert 0.0 < expected < 1.0  # unclipped, so the comparison tells layouts apart
    assert first["fraction"] == pytest.approx(expected, abs=1e-6)


def test_python_scalars_in_box_fields_of_shape_1_are_lifted_for_the_policy():
    # SB3 refuses shape () for a Box of shape (1,); an env may give a Python number there.
    space = spaces.Dict({"own_resources": spaces.Box(0, 9, (1,)), "round": spaces.Discrete(3)})
    policy = _Recorder(0.5, space)
    PolicyAgent(policy).act({"own_resources": 2.0, "round": 1})
    ((obs, _),) = policy.seen
    assert np.shape(obs["own_resources"]) == (1,) and obs["own_resources"][0] == 2.0
    assert obs["round"] == 1  # a Discrete field stays a scalar
