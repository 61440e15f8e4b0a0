"""PettingZoo's own conformance checks, for every registered environment."""

import warnings

import pytest
from pettingzoo import ParallelEnv
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test, seed_test
from pettingzoo.utils.conversions import aec_to_parallel, parallel_to_aec

import agentsim

# Advisory warnings PettingZoo prints for any Dict observation space; everything else fails.
DICT_ADVICE = (
    r"Observation is not a NumPy array",
    r"Observation space for each agent probably should be",
    r"Action space for each agent probably should be",
)

ENV_VARIANTS = [(env_id, {}) for env_id in agentsim.list_envs()] + [
    ("donor_game_v0", {"punishment": "costly"}),
    ("debate_v0", {"protocol": "salvi", "personalised": True}),
    ("donor_game_v0", {"pairing": "released_code", "trace_depth": 1, "agents": 4, "rounds": 5}),
]


@pytest.fixture(autouse=True)
def _warnings_are_errors():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for message in DICT_ADVICE:
            warnings.filterwarnings("ignore", message=message)
        yield


def _ids(variant):
    return f"{variant[0]}-{'-'.join(f'{k}={v}' for k, v in variant[1].items()) or 'default'}"


@pytest.mark.parametrize("variant", ENV_VARIANTS, ids=[_ids(v) for v in ENV_VARIANTS])
def test_pettingzoo_api(variant):
    env_id, config = variant
    env = agentsim.make_env(env_id, **config)
    if isinstance(env, ParallelEnv):
        parallel_api_test(env, num_cycles=200)
        # parallel_api_test does not check observation bounds; the AEC conversion does.
        api_test(parallel_to_aec(agentsim.make_env(env_id, **config)), num_cycles=200)
        parallel_seed_test(lambda: agentsim.make_env(env_id, **config), num_cycles=50)
    else:
        api_test(env, num_cycles=200)
        if env.metadata.get("is_parallelizable", False):  # turn-based envs cannot be
            parallel_api_test(aec_to_parallel(agentsim.make_env(env_id, **config)), num_cycles=200)
        seed_test(lambda: agentsim.make_env(env_id, **config), num_cycles=50)


def test_unknown_env_id_names_the_allowed_ids():
    with pytest.raises(ValueError, match="donor_game_v0"):
        agentsim.make_env("donor_game_v9")


def test_bad_config_value_is_a_value_error_naming_the_key():
    with pytest.raises(ValueError, match="pairing"):
        agentsim.make_env("donor_game_v0", pairing="nope")
    with pytest.raises(ValueError, match="unknown key 'agent'"):
        agentsim.make_env("donor_game_v0", agent=12)
