"""The SB3-ready single-agent view: lifted spaces, idle rounds played inside, masks."""

from typing import Any, ClassVar

import numpy as np
import pytest
from gymnasium import spaces
from gymnasium.utils.env_checker import check_env
from pettingzoo import ParallelEnv

import agentsim
from agentsim.agents.scripted.donor import Cooperator
from agentsim.core.errors import ConfigError
from agentsim.envs.gym_view import SingleAgentView, lift_observation, lift_space


def test_lift_space_gives_every_0d_box_shape_1_with_its_bounds_and_dtype():
    inner = spaces.Box(-2, 5, shape=(), dtype=np.int64)
    space = spaces.Dict(
        {
            "x": spaces.Box(0.0, 1.0, shape=(), dtype=np.float64),
            "t": spaces.Tuple((inner, spaces.Discrete(3))),
            "v": spaces.Box(0.0, 1.0, shape=(2,)),
        }
    )
    lifted = lift_space(space)
    x, t = lifted["x"], lifted["t"]
    assert (x.shape, x.dtype, x.low.tolist(), x.high.tolist()) == ((1,), np.float64, [0], [1])
    assert (t[0].shape, t[0].dtype, t[0].low.tolist(), t[0].high.tolist()) == (
        (1,),
        np.int64,
        [-2],
        [5],
    )
    assert t[1] is space["t"][1] and lifted["v"] is space["v"]


def test_lift_space_returns_spaces_without_0d_boxes_unchanged():
    space = spaces.Dict({"a": spaces.Discrete(2), "b": spaces.Box(0, 1, (3,))})
    assert lift_space(space) is space


def test_lifted_donor_observations_lie_in_the_lifted_space():
    env = agentsim.make_env("donor_game_v0", agents=4)
    raw = env.observation_space("agent_0")
    obs, _ = env.reset(seed=1)
    for value in obs.values():
        assert lift_space(raw).contains(lift_observation(value, raw))
        assert lift_space(raw).contains(lift_observation(value))
    assert not lift_space(raw).contains(obs["agent_0"])  # the 0-d fields are really lifted


def test_the_learner_is_asked_only_when_it_acts_and_gets_every_rounds_reward():
    env = agentsim.make_gym_env(
        "donor_game_v0", learner="agent_3", others=lambda seat: agentsim.make_agent("cooperator")
    )
    _, info = env.reset(seed=4)
    total, done, steps, infos = 0.0, False, 0, [info]
    while not done:
        _, reward, terminated, truncated, info = env.step(np.array([1.0], dtype=np.float32))
        total, done, steps = total + reward, terminated or truncated, steps + 1
        infos.append(info)
    assert steps == 12  # donor in half of the 24 rounds
    assert all(i["acting"] for i in infos[:-1])
    parallel = agentsim.make_env("donor_game_v0")
    result = agentsim.run_episode(
        parallel, {a: Cooperator() for a in parallel.possible_agents}, seed=4
    )
    assert total == pytest.approx(result.returns["agent_3"])


@pytest.mark.parametrize("config", [{}, {"punishment": "costly", "agents": 4}])
def test_gymnasiums_checker_passes_on_the_lifted_view(config):
    check_env(agentsim.make_gym_env("donor_game_v0", **config), skip_render_check=True)


def test_a_turn_based_text_env_has_no_single_learner_view():
    with pytest.raises(ConfigError, match="debate_v0 is turn-based"):
        agentsim.make_gym_env("debate_v0")


class _Toy(ParallelEnv):  # type: ignore[misc]
    """Two seats, 3 rounds; ``a`` acts in the rounds of ``acts``; reward 1 per round."""

    metadata: ClassVar[dict[str, Any]] = {"name": "toy"}

    def __init__(self, acts: tuple[int, ...], masked: bool = False) -> None:
        self.possible_agents = ["a", "b"]
        self.acts, self.masked = acts, masked
        self.seen: list[dict[str, Any]] = []

    def observation_space(self, agent):
        fields = {"t": spaces.Box(0, 3, shape=(), dtype=np.int64), "note": spaces.Text(5)}
        if self.masked:
            fields["action_mask"] = spaces.MultiBinary(3)
        return spaces.Dict(fields)

    def action_space(self, agent):
        return spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        self.agents, self.t = list(self.possible_agents), 0
        return self._obs(), self._infos()

    def step(self, actions):
        self.seen.append(dict(actions))
        self.t += 1
        done = self.t == 3
        obs, infos = self._obs(), self._infos()
        if done:
            self.agents = []
        ones = dict.fromkeys(self.possible_agents, 1.0)
        return obs, ones, dict.fromkeys(ones, done), dict.fromkeys(ones, False), infos

    def _obs(self):
        mask = np.array([1, 0, self.t % 2], dtype=np.int8)
        fields = {"t": np.array(self.t), "note": "hi"}
        return {a: {**fields, "action_mask": mask} if self.masked else fields for a in "ab"}

    def _infos(self):
        return {"a": {"acting": self.t in self.acts}, "b": {}}


class _Second:
    name = "second"

    def reset(self, *, seed=None):
        pass

    def act(self, observation):
        return agentsim.Decision(action=2)


def test_idle_rounds_are_played_inside_with_a_no_op_and_their_rewards_summed():
    toy = _Toy(acts=(1,))
    env = SingleAgentView(toy, "a", {"b": _Second()})
    obs, info = env.reset(seed=0)
    assert info["acting"] and obs["t"].tolist() == [1] and "note" not in obs
    obs, reward, terminated, _, _ = env.step(1)
    assert terminated and reward == 3.0  # rounds 0 (before its turn), 1 and 2
    assert toy.seen == [{"a": 0, "b": 2}, {"a": 1, "b": 2}, {"a": 0, "b": 2}]


def test_an_episode_in_which_the_learner_never_acts_ends_at_its_first_step():
    env = SingleAgentView(_Toy(acts=()), "a", {"b": _Second()})
    env.reset(seed=0)
    _, reward, terminated, truncated, _ = env.step(1)
    assert (reward, terminated, truncated) == (3.0, True, False)


def test_action_masks_come_from_the_observation():
    env = SingleAgentView(_Toy(acts=(0, 1, 2), masked=True), "a", {"b": _Second()})
    env.reset(seed=0)
    assert env.action_masks().tolist() == [True, False, False]
    env.step(0)
    assert env.action_masks().tolist() == [True, False, True]
    unmasked = SingleAgentView(_Toy(acts=(0,)), "a", {"b": _Second()})
    unmasked.reset(seed=0)
    with pytest.raises(AttributeError, match="no action mask"):
        unmasked.action_masks()


def test_doctests():
    import doctest

    from agentsim.agents import policy
    from agentsim.envs import gym_view, multiagent

    for module in (gym_view, policy, multiagent):
        assert doctest.testmod(module).failed == 0


class _SeedRecorder:
    """An agent that only notes the seeds it is reset with (it always donates half)."""

    def __init__(self, seen):
        self.seen = seen

    def reset(self, *, seed=None):
        self.seen.append(seed)

    def act(self, observation):
        return agentsim.Decision(action=np.array([0.5], dtype=np.float32))


def test_copies_seeded_s_and_s_plus_1_give_their_other_seats_distinct_seeds():
    seen = {0: [], 1: []}
    for seed, out in seen.items():
        view = agentsim.make_gym_env(
            "donor_game_v0", agents=6, others=lambda s, o=out: _SeedRecorder(o)
        )
        view.reset(seed=seed)
    assert len(seen[0]) == len(seen[1]) == 5
    assert not set(seen[0]) & set(seen[1])  # SyncVectorEnv seeds copy i with s + i


@pytest.mark.parametrize("config", [{}, {"punishment": "costly", "agents": 8, "rounds": 6}])
def test_the_view_plays_run_episodes_episode_with_random_others_for_the_same_seed(config):
    def others(seat):
        return agentsim.make_agent("random")

    view = agentsim.make_gym_env("donor_game_v0", learner="agent_2", others=others, **config)
    parallel = agentsim.make_env("donor_game_v0", **config)
    for seed in (3, 8):
        view.reset(seed=seed)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = view.step(np.array([0.5], np.float32))
            total, done = total + reward, terminated or truncated
        agents = {a: others(a) for a in parallel.possible_agents}
        agents["agent_2"] = agentsim.make_agent("fixed_fraction", fraction=0.5)
        result = agentsim.run_episode(parallel, agents, seed=seed)
        assert total == pytest.approx(result.returns["agent_2"], rel=1e-12)


class _Truncated(_Toy):
    """The toy, cut off (truncated, not terminated) after its 3 rounds."""

    def step(self, actions):
        obs, rewards, terms, truncs, infos = super().step(actions)
        return obs, rewards, truncs, terms, infos


def test_an_episode_truncated_before_the_learner_acts_reports_truncation():
    env = SingleAgentView(_Truncated(acts=()), "a", {"b": _Second()})
    env.reset(seed=0)
    _, reward, terminated, truncated, _ = env.step(1)
    assert (reward, terminated, truncated) == (3.0, False, True)


@pytest.mark.parametrize("acts", [(0, 1, 2), ()])
def test_stepping_an_ended_episode_asks_for_a_reset(acts):
    env = SingleAgentView(_Toy(acts=acts), "a", {"b": _Second()})
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)  # before the first reset
    env.reset(seed=0)
    done = False
    while not done:
        _, _, terminated, truncated, _ = env.step(0)
        done = terminated or truncated
    with pytest.raises(RuntimeError, match="call reset"):
        env.step(0)
    env.reset(seed=1)
    env.step(0)  # a reset starts a new episode


def test_a_mapping_of_others_missing_a_seat_is_a_config_error_naming_it():
    from agentsim.envs.donor_vector import DonorVectorEnv

    others = {"agent_1": agentsim.make_agent("defector")}
    with pytest.raises(ConfigError, match="no agent for agent_2, agent_3"):
        agentsim.make_gym_env("donor_game_v0", agents=4, others=others)
    with pytest.raises(ConfigError, match="no agent for agent_2, agent_3"):
        DonorVectorEnv(2, agents=4, others=others)
