"""web_shop_v0's ``observation="features"`` mode: Stable-Baselines3 conformance and training,
deterministic and bounded features, action masks."""

import contextlib
import io
import json
import os
import subprocess
import sys
import warnings

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gymnasium_check_env

from agentsim.core.errors import ConfigError, UserError
from agentsim.envs.web_shop import GYM_ID
from agentsim.envs.web_shop.aec import WebShopAEC
from agentsim.envs.web_shop.env import MAX_ACTIONS, WebShopEnv
from agentsim.envs.web_shop.features import PAGE_TYPES, bag_of_words, page_type, slot_text

sb3 = pytest.importorskip("stable_baselines3")
from stable_baselines3.common.env_checker import check_env as sb3_check_env  # noqa: E402

FEATURES = {"action_mode": "discrete", "observation": "features"}

# Runs a fixed episode and prints its observations' arrays (as lists) as JSON; the test
# compares processes whose string hashing is salted differently.
ROLLOUT = """
import json
from agentsim.envs.web_shop.env import WebShopEnv
env = WebShopEnv(action_mode="discrete", observation="features", max_steps=4)
obs, _ = env.reset(seed=3)
trace = [obs]
for slot in (2, 5, 0):
    obs, *_ = env.step(slot)
    trace.append(obs)
print(json.dumps([{k: v.tolist() for k, v in o.items()} for o in trace], sort_keys=True))
"""


def features_env(**config):
    return WebShopEnv(**FEATURES, **config)


def test_sb3_check_env_passes_in_features_mode_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # SB3 warns about spaces its policies mishandle
        sb3_check_env(features_env(max_steps=5), warn=True)


def test_sb3_check_env_still_rejects_the_text_observation():
    # The reason this mode exists: the text fields are not arrays.
    with pytest.raises(AssertionError, match="numpy array"):
        sb3_check_env(WebShopEnv(action_mode="discrete"), warn=True)


def test_gymnasium_check_env_passes_in_features_mode():
    env = gymnasium.make(GYM_ID, max_steps=5, **FEATURES).unwrapped
    gymnasium_check_env(env, skip_render_check=True)
    assert all(
        isinstance(s, gymnasium.spaces.Box | gymnasium.spaces.MultiBinary)
        for s in env.observation_space.spaces.values()
    )


def test_ppo_multi_input_policy_trains_on_the_features_env():
    from stable_baselines3 import PPO

    env = features_env(max_steps=3)
    model = PPO("MultiInputPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=0)
    model.learn(total_timesteps=192)
    obs, _ = env.reset(seed=1)
    action, _ = model.predict(obs, deterministic=True)
    assert env.action_space.contains(int(action))
    assert model.num_timesteps >= 192


def _rollout_in_subprocess(hash_seed):
    run_env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    out = subprocess.run(
        [sys.executable, "-c", ROLLOUT], capture_output=True, text=True, env=run_env, check=True
    )
    return json.loads(out.stdout)


def test_features_are_the_same_in_every_process():
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(ROLLOUT, {})  # the same script, in this process
    ours = json.loads(printed.getvalue())
    assert _rollout_in_subprocess(1) == ours
    assert _rollout_in_subprocess(2) == ours
    assert any(sum(o["slots"]) > 0 for o in ours)  # not trivially equal: features are set


def test_features_stay_in_their_bounds_over_random_episodes():
    env = features_env(max_steps=8, split="all")
    rng = np.random.default_rng(0)
    for episode in range(6):
        obs, _ = env.reset(seed=episode)
        done = False
        while not done:
            assert env.observation_space.contains(obs)
            assert obs["page"].sum() == 1.0
            # Slots beyond the available actions are zero; available slots encode something.
            slots = obs["slots"].reshape(MAX_ACTIONS, -1)
            n = int(obs["action_mask"].sum())
            assert not slots[n:].any() and slots[:n].any(axis=1).all()
            obs, _r, terminated, truncated, _info = env.step(int(rng.integers(n)))
            done = terminated or truncated


def test_action_masks_match_the_mask_and_the_action_strings():
    env = features_env(max_steps=5)
    obs, info = env.reset(seed=0)
    mask = env.action_masks()
    assert mask.dtype == np.bool_ and mask.shape == (MAX_ACTIONS,)
    assert np.array_equal(mask, obs["action_mask"].astype(bool))
    assert int(mask.sum()) == len(info["action_strings"]) > 0


def test_a_masked_out_slot_is_an_error_observation_like_any_invalid_action():
    env = features_env(max_steps=10, max_errors=2)
    obs, _ = env.reset(seed=0, options={"item": "China_1"})
    masked = int(np.flatnonzero(~env.action_masks())[0])
    after, reward, terminated, truncated, info = env.step(masked)
    assert info["action_error"] == "unsupported"
    assert (reward, terminated, truncated) == (0.0, False, False)
    for key in ("page", "slots", "action_mask", "objective"):  # the page stays
        assert np.array_equal(after[key], obs[key])
    assert not np.array_equal(after["previous_action"], obs["previous_action"])  # the hint
    _obs, _reward, terminated, truncated, info = env.step(masked)
    assert info["action_error"] == "unsupported" and truncated and not terminated


def test_text_mode_has_no_action_masks():
    with pytest.raises(UserError, match="action_mode='discrete'"):
        WebShopEnv().action_masks()


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"observation": "features"}, "observation"),  # text actions cannot use the slots
        ({"observation": "pixels"}, "observation"),
        ({**FEATURES, "feature_dims": 2}, "feature_dims"),
    ],
)
def test_bad_feature_settings_are_config_errors(config, key):
    with pytest.raises(ConfigError) as err:
        WebShopEnv(**config)
    assert err.value.key == key


def test_the_aec_env_refuses_the_features_observation():
    # Only the single-agent env encodes features; the AEC env must not observe text silently.
    with pytest.raises(ConfigError) as err:
        WebShopAEC(**FEATURES)
    assert err.value.key == "observation"


def test_default_observation_is_unchanged_text():
    env = WebShopEnv(action_mode="discrete")
    obs, _ = env.reset(seed=0)
    assert isinstance(obs["text"], str) and "slots" not in obs


def test_page_types_and_bag_of_words():
    env = features_env(max_steps=5)
    obs, info = env.reset(seed=0, options={"item": "China_1"})  # an S1 item starts at home
    assert PAGE_TYPES[int(obs["page"].argmax())] == "home"
    assert page_type(env.core.session.page) == "home"
    # The slot that types the user's request shares most of its words with the objective.
    typed = info["action_strings"].index(next(a for a in info["action_strings"] if "type" in a))
    home = info["action_strings"].index("click [3]")
    assert slot_text("click [3]", env.core.session.page) == "click link Home"
    assert obs["slot_overlap"][typed] > 0.5 and obs["slot_overlap"][home] == 0.0
    # Case, punctuation, word order and plurals do not matter.
    assert np.array_equal(bag_of_words("Red SHOES!", 16), bag_of_words("shoe red", 16))
    assert bag_of_words("", 16).sum() == 0.0


def test_maskable_ppo_uses_action_masks_and_picks_only_available_slots():
    contrib = pytest.importorskip("sb3_contrib")
    env = features_env(max_steps=3)
    model = contrib.MaskablePPO("MultiInputPolicy", env, n_steps=64, batch_size=32, seed=0)
    model.learn(total_timesteps=128)
    for seed in range(5):
        obs, _ = env.reset(seed=seed)
        slot, _ = model.predict(obs, action_masks=env.action_masks())
        _obs, _reward, _terminated, _truncated, info = env.step(int(slot))
        assert info["action_error"] != "unsupported"
