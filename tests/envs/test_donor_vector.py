"""DonorVectorEnv: gymnasium's vector conventions, and the same trajectories as
SyncVectorEnv over make_gym_env for the same seeds and actions."""

import gymnasium
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import agentsim
from agentsim.core.errors import ConfigError
from agentsim.envs.donor_vector import DonorVectorEnv

POPULATIONS = {
    "discriminators": ("trace_average", "image_scoring", "standing", "defector"),
    "punishers": ("image_scoring[punish]", "standing[punish]", "cooperator", "trace_average"),
    "random": ("random", "trace_average", "fixed_fraction"),
}
CONFIGS = {
    "default": ("discriminators", {}),
    "punishment": ("punishers", {"punishment": "costly", "agents": 8}),
    "released-code-3-games": (
        "discriminators",
        {"pairing": "released_code", "games": 3, "rounds": 5, "agents": 6},
    ),
    "learner-may-never-act": ("discriminators", {"agents": 4, "rounds": 1, "games": 1}),
    "no-traces": ("random", {"trace_depth": 0, "agents": 6, "rounds": 4}),
    "deep-traces-random": ("random", {"trace_depth": 5, "agents": 10, "rounds": 9}),
}


def _factory(population):
    def others(seat):
        kind = population[int(seat.split("_")[1]) % len(population)]
        if kind.endswith("[punish]"):
            return agentsim.make_agent(kind.removesuffix("[punish]"), punish=0.4)
        return agentsim.make_agent(kind)

    return others


def _pair(name, num_envs, learner="agent_1"):
    population, config = CONFIGS[name]
    single = [
        (lambda: agentsim.make_gym_env(
            "donor_game_v0", learner=learner, others=_factory(POPULATIONS[population]), **config
        ))
        for _ in range(num_envs)
    ]  # fmt: skip
    sync = SyncVectorEnv(single, autoreset_mode=AutoresetMode.NEXT_STEP)
    fast = DonorVectorEnv(num_envs, learner=learner, others=_factory(POPULATIONS[population]),
                          **config)  # fmt: skip
    return sync, fast


def _assert_same(a, b, what):
    assert a.keys() == b.keys(), what
    for key in a:
        x, y = np.asarray(a[key]), np.asarray(b[key])
        assert x.dtype == y.dtype and x.shape == y.shape, (what, key, x.dtype, y.dtype)
        assert x.tobytes() == y.tobytes(), (what, key, x, y)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_trajectories_equal_sync_vector_env_over_make_gym_env(name):
    sync, fast = _pair(name, num_envs=5)
    assert fast.single_observation_space == sync.single_observation_space
    assert fast.observation_space == sync.observation_space
    assert fast.action_space == sync.action_space
    rng = np.random.default_rng(3)
    for reset_seed in (11, None):
        obs_s, info_s = sync.reset(seed=reset_seed)
        obs_f, info_f = fast.reset(seed=reset_seed)
        _assert_same(obs_s, obs_f, "reset")
        assert (info_s["acting"] == info_f["acting"]).all()
        ended = 0
        for t in range(60):
            actions = rng.uniform(-1.3, 1.3, (5, 1)).astype(np.float32)
            out_s, out_f = sync.step(actions), fast.step(actions)
            _assert_same(out_s[0], out_f[0], f"step {t} observation")
            for i, what in ((1, "reward"), (2, "terminated"), (3, "truncated")):
                assert out_s[i].dtype == out_f[i].dtype, what
                assert out_s[i].tobytes() == out_f[i].tobytes(), (t, what, out_s[i], out_f[i])
            assert (out_s[4]["acting"] == out_f[4]["acting"]).all(), t
            assert fast.observation_space.contains(out_f[0])
            ended += int(out_f[2].sum())
        assert ended > 0  # autoreset was exercised


def test_the_single_observation_space_is_make_gym_envs():
    for config in ({}, {"punishment": "costly", "trace_depth": 1, "agents": 6}):
        envs = DonorVectorEnv(3, **config)
        view = agentsim.make_gym_env("donor_game_v0", **config)
        assert envs.single_observation_space == view.observation_space
        assert envs.single_action_space == view.action_space
        assert envs.action_space.shape == (3, 1)
        assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
        assert isinstance(envs, gymnasium.vector.VectorEnv)


def test_seeds_make_runs_repeatable_and_games_differ():
    a, b = DonorVectorEnv(8), DonorVectorEnv(8)
    obs_a, _ = a.reset(seed=5)
    obs_b, _ = b.reset(seed=[5 + i for i in range(8)])
    _assert_same(obs_a, obs_b, "int seed = list of seed + i")
    actions = np.full((8, 1), 0.5, np.float32)
    for _ in range(5):
        _assert_same(a.step(actions)[0], b.step(actions)[0], "same seeds")
    assert len(set(map(tuple, a._seat_of.tolist()))) > 1  # games are seated differently
    c = DonorVectorEnv(8)
    obs_c, _ = c.reset(seed=6)
    assert not all(np.array_equal(obs_c[k], obs_a[k]) for k in obs_a)


def test_a_reset_mask_resets_only_those_games():
    envs = DonorVectorEnv(4)
    envs.reset(seed=0)
    for _ in range(3):
        envs.step(np.ones((4, 1), np.float32))
    before = envs._cursor.copy()
    envs.reset(seed=1, options={"reset_mask": np.array([True, False, True, False])})
    assert envs._cursor[1] == before[1] and envs._cursor[3] == before[3]
    assert envs._cursor[0] <= 1 and envs._cursor[2] <= 1


def test_other_seats_must_be_scripted_donor_strategies():
    class Mirror:
        name = "mirror"

        def reset(self, *, seed=None):
            pass

        def act(self, obs):
            return agentsim.Decision(action=np.ones(1, np.float32))

    with pytest.raises(ConfigError, match="others"):
        DonorVectorEnv(2, agents=4, others=lambda seat: Mirror())


def test_a_non_finite_learner_action_is_refused_naming_the_game():
    envs = DonorVectorEnv(3, agents=4)
    envs.reset(seed=0)
    with pytest.raises(ValueError, match="game 1"):
        envs.step(np.array([[0.5], [np.nan], [0.5]], np.float32))


def test_games_seeded_s_plus_i_give_their_random_seats_distinct_seeds():
    from agentsim.agents.scripted.donor import RandomDonor

    seen = []

    class Noted(RandomDonor):
        def reset(self, *, seed=None):
            seen.append(seed)
            super().reset(seed=seed)

    envs = DonorVectorEnv(4, agents=6, others=lambda seat: Noted())
    envs.reset(seed=0)
    assert len(seen) == 4 * 5 and None not in seen
    assert len(set(seen)) == len(seen)  # no two seats of any games share a random stream


def test_stepping_before_the_first_full_reset_is_refused():
    envs = DonorVectorEnv(3, learner="agent_2", agents=4)
    with pytest.raises(RuntimeError, match="reset"):
        envs.step(np.ones((3, 1), np.float32))
    with pytest.raises(RuntimeError, match="every game"):
        envs.reset(seed=0, options={"reset_mask": np.array([True, False, False])})
    envs.reset(seed=0)
    envs.step(np.ones((3, 1), np.float32))


def test_render_and_close_behave_as_sync_vector_envs():
    sync, fast = _pair("default", num_envs=3)
    sync.reset(seed=0)
    fast.reset(seed=0)
    assert fast.render() == sync.render() == (None, None, None)
    fast.close()
    fast.close()  # closing twice is harmless
    assert fast.closed
