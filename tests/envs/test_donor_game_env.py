"""donor_game_v0 beyond PettingZoo's checks: determinism, observations, rewards, records."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agentsim
from agentsim.agents.scripted.donor import ImageScoring, RandomDonor, Standing, TraceAverage


def _play(seed, plan, **config):
    """A whole episode with a fixed action plan; returns everything observable."""
    env = agentsim.make_env("donor_game_v0", **config)
    obs, infos = env.reset(seed=seed)
    trajectory = []
    step = 0
    while env.agents:
        actions = {
            a: np.array([plan[(step + i) % len(plan)]], dtype=np.float32)
            for i, a in enumerate(env.agents)
        }
        obs, rew, term, trunc, infos = env.step(actions)
        for a, o in obs.items():
            assert env.observation_space(a).contains(o), (a, o)
        trajectory.append(
            (
                {a: {k: np.asarray(v).tolist() for k, v in o.items()} for a, o in obs.items()},
                rew,
                term,
                trunc,
                infos,
                env.pop_records(),
            )
        )
        step += 1
    return trajectory, env.final_resources.tolist()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    plan=st.lists(st.floats(-1, 1, allow_nan=False), min_size=1, max_size=8),
    punish=st.booleans(),
    pairing=st.sampled_from(["paper", "released_code"]),
)
def test_whole_episodes_are_deterministic_and_observations_stay_in_space(
    seed, plan, punish, pairing
):
    config = {
        "agents": 6,
        "rounds": 5,
        "punishment": "costly" if punish else "off",
        "pairing": pairing,
    }
    assert _play(seed, plan, **config) == _play(seed, plan, **config)


def test_different_seeds_seat_agents_differently():
    a, _ = _play(1, [0.5])
    b, _ = _play(2, [0.5])
    assert a != b


def test_rewards_are_changes_in_own_resources_and_sum_to_the_return():
    env = agentsim.make_env("donor_game_v0", agents=4, rounds=3, games=1)
    env.reset(seed=0)
    total = dict.fromkeys(env.possible_agents, 0.0)
    while env.agents:
        _obs, rew, *_ = env.step({a: np.array([0.5], dtype=np.float32) for a in env.agents})
        for a, r in rew.items():
            total[a] += r
    for i, a in enumerate(env.possible_agents):
        assert total[a] == pytest.approx(env.final_resources[0][i] - 10.0)


def test_only_donors_act_and_see_their_recipient():
    env = agentsim.make_env("donor_game_v0")
    obs, infos = env.reset(seed=3)
    acting = [a for a in env.agents if infos[a]["acting"]]
    assert len(acting) == 6
    for a in acting:
        partner = env.possible_agents[obs[a]["partner"]]
        assert not infos[partner]["acting"]
        assert obs[partner]["partner"] == obs[a]["self"]


def test_stepping_a_finished_episode_says_reset():
    env = agentsim.make_env("donor_game_v0", agents=2, rounds=1, games=1)
    env.reset(seed=0)
    env.step({a: np.array([0.0]) for a in env.agents})
    with pytest.raises(RuntimeError, match=r"reset\(\)"):
        env.step({})


def test_costly_punishment_records_punish_transfers():
    env = agentsim.make_env("donor_game_v0", agents=2, rounds=1, games=1, punishment="costly")
    env.reset(seed=0)
    env.step({a: np.array([-0.5], dtype=np.float32) for a in env.agents})
    (record,) = env.pop_records()
    assert record["kind"] == "punish" and record["amount"] == 5.0
    assert env.punishments.sum() == 1


@pytest.mark.parametrize("strategy", [ImageScoring(), Standing(), TraceAverage(), RandomDonor()])
def test_scripted_decisions_are_in_the_action_space(strategy):
    env = agentsim.make_env("donor_game_v0", punishment="costly")
    obs, _infos = env.reset(seed=0)
    strategy.reset(seed=0)
    while env.agents:
        actions = {}
        for a in env.agents:
            action = strategy.act(obs[a]).action
            assert env.action_space(a).contains(action)
            actions[a] = action
        obs, *_ = env.step(actions)


def test_a_donor_sees_its_recipients_own_chain():
    env = agentsim.make_env("donor_game_v0", agents=6, rounds=6, games=1)
    obs, infos = env.reset(seed=5)
    last_action = {}  # seat -> (round, fraction, recipient) of its latest donation
    rnd = 0
    while env.agents:
        for a in env.agents:
            if infos[a]["acting"]:
                o, partner = obs[a], obs[a]["partner"]
                if partner in last_action:
                    assert o["trace_length"] >= 1
                    assert o["trace_donor"][0] == partner
                    got = (o["trace_round"][0], o["trace_fraction"][0], o["trace_recipient"][0])
                    assert got == pytest.approx(last_action[partner])
                else:
                    assert o["trace_length"] == 0
        actions = {a: np.array([0.1 * (i + 1)], dtype=np.float32) for i, a in enumerate(env.agents)}
        acting = {a: infos[a]["acting"] for a in env.agents}
        partners = {a: obs[a]["partner"] for a in env.agents}
        obs, _, _, _, infos = env.step(actions)
        for i, a in enumerate(env.possible_agents):
            if acting.get(a):
                last_action[i] = (rnd, float(actions[a][0]), partners[a])
        rnd += 1


def test_non_finite_actions_are_rejected():
    env = agentsim.make_env("donor_game_v0", agents=2, rounds=1, games=1)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="finite"):
        env.step({a: np.array([np.nan], dtype=np.float32) for a in env.agents})
