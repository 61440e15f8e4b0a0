"""The single-agent Gymnasium view and the AEC path of the runner."""

import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.utils.conversions import parallel_to_aec

import agentsim
from agentsim.agents.scripted.donor import Cooperator


@pytest.mark.parametrize("config", [{}, {"punishment": "costly", "agents": 4}])
def test_gym_view_passes_gymnasiums_checker(config):
    env = agentsim.make_gym_env("donor_game_v0", **config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)


def test_gym_view_episode_matches_the_parallel_env():
    env = agentsim.make_gym_env(
        "donor_game_v0", learner="agent_3", others=lambda seat: agentsim.make_agent("cooperator")
    )
    env.reset(seed=4)
    total, done, steps = 0.0, False, 0
    while not done:
        _, reward, terminated, truncated, _ = env.step(np.array([1.0], dtype=np.float32))
        total += reward
        done = terminated or truncated
        steps += 1
    assert steps == 12  # the learner is asked only in its own (donor) rounds
    parallel = agentsim.make_env("donor_game_v0")
    result = agentsim.run_episode(
        parallel, {a: Cooperator() for a in parallel.possible_agents}, seed=4
    )
    assert total == pytest.approx(result.returns["agent_3"])


def test_unknown_learner_is_a_config_error():
    with pytest.raises(ValueError, match="learner"):
        agentsim.make_gym_env("donor_game_v0", learner="agent_99")


def test_runner_plays_aec_envs_with_the_same_outcome():
    def play(env):
        agents = {a: agentsim.make_agent("trace_average") for a in env.possible_agents}
        return agentsim.run_episode(env, agents, seed=11)

    parallel = play(agentsim.make_env("donor_game_v0"))
    aec = play(parallel_to_aec(agentsim.make_env("donor_game_v0")))
    assert aec.returns == pytest.approx(parallel.returns)
    assert [r for r in aec.records if r["type"] == "transfer"] == [
        r for r in parallel.records if r["type"] == "transfer"
    ]
