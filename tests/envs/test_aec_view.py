"""The native AEC view (agentsim.envs.aec) against PettingZoo's parallel_to_aec."""

import warnings

import numpy as np
import pytest
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.test import api_test, seed_test
from pettingzoo.utils.conversions import parallel_to_aec

import agentsim
from agentsim.envs.aec import ParallelAEC, aec_env

# Advisory warnings PettingZoo prints for any Dict observation space; everything else fails.
DICT_ADVICE = (
    r"Observation is not a NumPy array",
    r"Observation space for each agent probably should be",
    r"Action space for each agent probably should be",
)

PARALLEL_VARIANTS = [
    (env_id, {})
    for env_id in agentsim.list_envs()
    if isinstance(agentsim.make_env(env_id), ParallelEnv)
] + [
    ("donor_game_v0", {"punishment": "costly"}),
    ("donor_game_v0", {"pairing": "released_code", "trace_depth": 1, "agents": 4, "rounds": 5}),
]


def _ids(variant):
    return f"{variant[0]}-{'-'.join(f'{k}={v}' for k, v in variant[1].items()) or 'default'}"


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for message in DICT_ADVICE:
            warnings.filterwarnings("ignore", message=message)
        yield


@pytest.mark.parametrize("variant", PARALLEL_VARIANTS, ids=[_ids(v) for v in PARALLEL_VARIANTS])
def test_native_view_passes_pettingzoo_api_and_seed_tests(variant):
    env_id, config = variant
    env = agentsim.make_env(env_id, api="aec", **config)
    assert isinstance(env, ParallelAEC)
    api_test(env, num_cycles=200)
    seed_test(lambda: agentsim.make_env(env_id, api="aec", **config), num_cycles=50)


def _same(a, b, where):
    if isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}/{key}")
    elif isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray) and a.dtype == b.dtype, where
        np.testing.assert_array_equal(a, b, err_msg=where)
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


def _play(env, seed, episodes):
    """Every turn's agent, last() and the public dicts, with seeded random actions."""
    rng = np.random.default_rng(seed)
    trace = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        for agent in env.agent_iter():
            obs, reward, termination, truncation, info = env.last()
            trace.append(
                (
                    agent,
                    obs,
                    reward,
                    termination,
                    truncation,
                    info,
                    list(env.agents),
                    dict(env.rewards),
                    dict(env.terminations),
                    dict(env.truncations),
                )
            )
            if termination or truncation:
                env.step(None)
            else:
                space = env.action_space(agent)
                space.seed(int(rng.integers(2**31)))
                env.step(space.sample())
        trace.append(("end", list(env.agents)))
    return trace


@pytest.mark.parametrize("variant", PARALLEL_VARIANTS, ids=[_ids(v) for v in PARALLEL_VARIANTS])
def test_native_view_plays_exactly_like_parallel_to_aec(variant):
    env_id, config = variant
    native = _play(agentsim.make_env(env_id, api="aec", **config), seed=3, episodes=2)
    generic = _play(parallel_to_aec(agentsim.make_env(env_id, **config)), seed=3, episodes=2)
    assert len(native) == len(generic)
    assert any(turn[3] for turn in native[:-1])  # the episodes end: done agents step out
    for i, (ours, theirs) in enumerate(zip(native, generic, strict=True)):
        assert len(ours) == len(theirs)
        for j, (x, y) in enumerate(zip(ours, theirs, strict=True)):
            _same(x, y, f"turn {i} item {j}")


class _Leaving(ParallelEnv):
    """Three agents; agent "b" terminates after the first step, the rest after the third."""

    metadata = {"name": "leaving_v0", "is_parallelizable": True}  # noqa: RUF012

    def __init__(self):
        from gymnasium import spaces

        self.possible_agents = ["c", "b", "a"]
        self._space = spaces.Discrete(2)
        self.render_mode = None

    def observation_space(self, agent):
        return self._space

    def action_space(self, agent):
        return self._space

    def reset(self, seed=None, options=None):
        self.agents = list(self.possible_agents)
        self.t = 0
        return {a: 0 for a in self.agents}, {a: {} for a in self.agents}

    def step(self, actions):
        self.t += 1
        acted = sorted(actions)
        done = {a: self.t >= 3 or a == "b" for a in self.agents}
        obs = {a: self.t for a in self.agents}
        rewards = {a: float(self.t + i) for i, a in enumerate(self.agents)}
        infos = {a: {"acted": acted} for a in self.agents}
        self.agents = [a for a in self.agents if not done[a]]
        return obs, rewards, done, dict.fromkeys(done, False), infos


def test_agents_leaving_mid_episode_step_out_as_in_parallel_to_aec():
    native = _play(aec_env(_Leaving()), seed=0, episodes=2)
    generic = _play(parallel_to_aec(_Leaving()), seed=0, episodes=2)
    assert [turn[0] for turn in native] == [turn[0] for turn in generic]
    assert native == generic
    # "b" steps out with None right after the first cycle, before the next one starts.
    assert [turn[0] for turn in native[:5]] == ["c", "b", "a", "b", "c"]


def test_a_done_agent_must_step_with_none():
    env = aec_env(_Leaving())
    env.reset()
    for _ in range(3):
        env.step(1)
    assert env.agent_selection == "b" and env.terminations["b"]
    with pytest.raises(ValueError, match="None"):
        env.step(1)


def test_unwrapped_and_records_reach_the_parallel_env():
    env = agentsim.make_env("donor_game_v0", api="aec", agents=4, rounds=2)
    env.reset(seed=0)
    for _ in range(4):
        env.step(np.array([0.5], dtype=np.float32))
    assert env.unwrapped is env.env
    assert len(env.unwrapped.pop_records()) == 2  # one round: two donors


def test_make_env_aec_api():
    assert isinstance(agentsim.make_env("debate_v0", api="aec"), AECEnv)  # AEC env unchanged
    assert not isinstance(agentsim.make_env("debate_v0", api="aec"), ParallelAEC)
    with pytest.raises(ValueError, match="api"):
        agentsim.make_env("donor_game_v0", api="gym")
    with pytest.raises(TypeError, match="ParallelEnv"):
        aec_env(object())


# -- the donor game's fast paths (what makes its AEC view and parallel steps cheap) -----------


@pytest.mark.parametrize("punishment", ["off", "costly"])
def test_donor_action_space_samples_exactly_as_gymnasium_box(punishment):
    from gymnasium import spaces

    ours = agentsim.make_env("donor_game_v0", punishment=punishment).action_space("agent_0")
    box = spaces.Box(ours.low[0], 1.0, shape=(1,), dtype=np.float32)
    assert ours == box and repr(ours) == repr(box)
    for seed in range(20):
        ours.seed(seed)
        box.seed(seed)
        for _ in range(20):
            a, b = ours.sample(), box.sample()
            assert a.dtype == b.dtype == np.float32 and a.shape == b.shape == (1,)
            assert a.tolist() == b.tolist() and ours.contains(a)


@pytest.mark.parametrize("punishment", ["off", "costly"])
def test_donor_step_fast_path_gives_what_the_checked_path_gives(punishment):
    """Float (1,) arrays for every agent in seat order take the array path; the same values
    as Python floats, or in another order, take the checked path: identical results."""
    envs = [agentsim.make_env("donor_game_v0", punishment=punishment) for _ in range(3)]
    outs = [env.reset(seed=5) for env in envs]
    rng = np.random.default_rng(0)
    while envs[0].agents:
        values = rng.uniform(-1.3, 1.3, len(envs[0].agents))
        names = envs[0].agents
        arrays = {a: np.array([v], dtype=np.float32) for a, v in zip(names, values, strict=True)}
        floats = {a: float(x[0]) for a, x in arrays.items()}
        outs = [
            envs[0].step(arrays),
            envs[1].step(dict(reversed(list(arrays.items())))),
            envs[2].step(floats),
        ]
        for other in outs[1:]:
            for got, want in zip(other, outs[0], strict=True):
                _same(got, want, "step")
        records = [env.pop_records() for env in envs]
        assert records[0] == records[1] == records[2]
    assert envs[0].final_resources.tolist() == envs[2].final_resources.tolist()


def test_donor_observations_are_fresh_every_step():
    """Agents may keep observations: a later step must not change what an earlier one gave."""
    env = agentsim.make_env("donor_game_v0")

    def plain(observations):
        return {a: {k: np.array(v).tolist() for k, v in o.items()} for a, o in observations.items()}

    obs, _ = env.reset(seed=1)
    kept, snapshot = [obs], [plain(obs)]
    while env.agents:
        obs, *_ = env.step({a: np.array([0.7], dtype=np.float32) for a in env.agents})
        kept.append(obs)
        snapshot.append(plain(obs))
    env.reset(seed=2)
    while env.agents:
        env.step({a: np.array([0.1], dtype=np.float32) for a in env.agents})
    assert [plain(obs) for obs in kept] == snapshot
