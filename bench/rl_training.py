"""SB3 PPO training throughput on donor_game_v0 vs PettingZoo's rps_v2, in the same run.

Measures training steps/s (SB3's ``num_timesteps``: one step = one policy decision, i.e.
one slot of the vec env) of ``PPO.learn`` with the same PPO settings on:

1. ``rps_v2`` (PettingZoo classic, 2 seats) through SuperSuit (``pettingzoo_env_to_vec_env_v1``
   + ``concat_vec_envs_v1``), ``MlpPolicy``: the baseline.
2. ``donor_game_v0`` (12 seats, default config) through
   :func:`agentsim.envs.multiagent.sb3_vec_env` (the same SuperSuit path, lifted ``Dict``
   observations), ``MultiInputPolicy``, shared parameters.
3. ``donor_game_v0``'s single-learner view (:func:`agentsim.make_gym_env`, 11 scripted
   ``trace_average`` seats, idle rounds played inside) in a ``DummyVecEnv``.

Every setup has the same number of vec-env slots (48: 24 rps games, 4 donor games of 12
seats, 48 single-learner views), so PPO's batched policy calls cost the same per step.
Each figure is the best of interleaved timed rollouts (PPO collection plus update), as a
ratio to the baseline. torch uses one thread (small nets).

Run:  python bench/rl_training.py [--quick]
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable
from typing import Any

SLOTS = 48  # vec-env slots (policy decisions per vec-env step) of every setup
N_STEPS = 64  # PPO rollout length per slot


def _rps_venv() -> Any:
    import supersuit as ss
    from pettingzoo.classic import rps_v2

    vec = ss.pettingzoo_env_to_vec_env_v1(rps_v2.parallel_env())
    return ss.concat_vec_envs_v1(vec, SLOTS // 2, num_cpus=0, base_class="stable_baselines3")


def _donor_multi_venv() -> Any:
    from agentsim.envs.multiagent import sb3_vec_env

    return sb3_vec_env("donor_game_v0", copies=SLOTS // 12)


def _donor_view_venv() -> Any:
    from stable_baselines3.common.vec_env import DummyVecEnv

    import agentsim

    return DummyVecEnv([lambda: agentsim.make_gym_env("donor_game_v0")] * SLOTS)


SETUPS: dict[str, tuple[Callable[[], Any], str]] = {
    "rps_v2, SuperSuit (baseline)": (_rps_venv, "MlpPolicy"),
    "donor_game_v0, SuperSuit shared policy": (_donor_multi_venv, "MultiInputPolicy"),
    "donor_game_v0, single-learner gym view": (_donor_view_venv, "MultiInputPolicy"),
}


def _model(make: Callable[[], Any], policy: str) -> Any:
    """A PPO model on a fresh vec env, after one warm-up rollout (first-call costs)."""
    from stable_baselines3 import PPO

    venv = make()
    model = PPO(policy, venv, n_steps=N_STEPS, batch_size=256, n_epochs=4, device="cpu")
    model.learn(N_STEPS * venv.num_envs)
    return model


def _rollout_steps_per_s(model: Any) -> float:
    """Training steps/s of one more rollout plus its update."""
    steps = N_STEPS * model.env.num_envs
    t0 = time.perf_counter()
    model.learn(steps, reset_num_timesteps=False)
    return float(steps / (time.perf_counter() - t0))


def run(quick: bool = False) -> str:
    """Measure every setup; a markdown section starting ``## RL training throughput``."""
    import stable_baselines3
    import supersuit
    import torch

    torch.set_num_threads(1)
    rollouts = 1 if quick else 5
    models = {name: _model(make, policy) for name, (make, policy) in SETUPS.items()}
    samples: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(rollouts):  # interleaved, so a busy spell on the machine hits every setup
        for name, model in models.items():
            samples[name].append(_rollout_steps_per_s(model))
    rates = {name: max(values) for name, values in samples.items()}
    base = next(iter(rates.values()))
    lines = [
        "## RL training throughput",
        "",
        f"SB3 {stable_baselines3.__version__} PPO (n_steps={N_STEPS}/slot, batch 256, 4 epochs), "
        f"SuperSuit {supersuit.__version__}, torch {torch.__version__} on 1 thread, "
        f"{SLOTS} vec-env slots each, best of {rollouts} interleaved rollouts after a warm-up; "
        f"Python {platform.python_version()} on {platform.machine()}.",
        "",
        "| setup | training steps/s | vs rps_v2 |",
        "|---|---:|---:|",
    ]
    lines += [f"| {name} | {rate:,.0f} | {rate / base:.2f}x |" for name, rate in rates.items()]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one timed rollout per setup")
    print(run(quick=parser.parse_args().quick))
