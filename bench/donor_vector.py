"""The donor game's vectorised training env vs gymnasium's SyncVectorEnv over the single env.

:class:`agentsim.envs.donor_vector.DonorVectorEnv` plays ``num_envs`` games of
``donor_game_v0`` as one batch of arrays (one learner seat per game, the other seats
scripted); ``gymnasium.vector.SyncVectorEnv`` over ``make_gym_env("donor_game_v0")``
plays the same games one env at a time through the dict API. Both get the same random
actions and seeds (their trajectories are identical: ``tests/envs/test_donor_vector.py``,
and checked here on the first steps); measured in the same process, interleaved, as env
steps/s (learner decisions; ``num_envs`` per vector step).

Run:  python bench/donor_vector.py [--quick]
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv

import agentsim
from agentsim.envs.donor_vector import DonorVectorEnv

TITLE = "## Donor vector env"
POPULATION = ("trace_average", "image_scoring", "standing", "defector")


def _others(seat: str) -> Any:
    return agentsim.make_agent(POPULATION[int(seat.split("_")[1]) % len(POPULATION)])


def _sync(num_envs: int) -> SyncVectorEnv:
    make = [
        (lambda: agentsim.make_gym_env("donor_game_v0", learner="agent_0", others=_others))
        for _ in range(num_envs)
    ]
    return SyncVectorEnv(make, autoreset_mode=AutoresetMode.NEXT_STEP)


def _steps_per_s(envs: Any, num_envs: int, seconds: float) -> float:
    rng = np.random.default_rng(0)
    actions = rng.uniform(0, 1, (64, num_envs, 1)).astype(np.float32)
    envs.reset(seed=0)
    steps, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for k in range(64):
            envs.step(actions[k])
        steps += 64
    return steps * num_envs / (time.perf_counter() - start)


def _same_first_steps(num_envs: int, steps: int = 30) -> bool:
    """Both envs give the same observations and rewards for the same seeds and actions."""
    slow, fast = _sync(num_envs), DonorVectorEnv(num_envs, learner="agent_0", others=_others)
    rng = np.random.default_rng(1)
    a, b = slow.reset(seed=3)[0], fast.reset(seed=3)[0]
    same = all(np.array_equal(a[k], b[k]) for k in a)
    for _ in range(steps):
        act = rng.uniform(0, 1, (num_envs, 1)).astype(np.float32)
        x, y = slow.step(act), fast.step(act)
        same &= all(np.array_equal(x[0][k], y[0][k]) for k in x[0])
        same &= bool(np.array_equal(x[1], y[1]) and np.array_equal(x[2], y[2]))
    return same


def _best(fn: Callable[[], float], repeats: int) -> float:
    return max(fn() for _ in range(repeats))


def run(quick: bool = False) -> str:
    """The section for bench/RESULTS.md (``quick``: short timings)."""
    seconds, repeats = (0.3, 1) if quick else (2.0, 3)
    lines = [
        TITLE,
        "",
        "Env steps/s (learner decisions) of `DonorVectorEnv` vs `gymnasium.vector."
        'SyncVectorEnv` over `make_gym_env("donor_game_v0")` (12 agents, 2 games of 12 '
        "rounds; the 11 other seats: trace_average, image_scoring, standing, defector), "
        f"random actions, best of {repeats} x {seconds:g} s, interleaved in one process. "
        "Each learner step also plays the round in which the learner is a recipient.",
        "",
        "| num_envs | SyncVectorEnv steps/s | DonorVectorEnv steps/s | **ratio** | "
        "same trajectories |",
        "|---:|---:|---:|---:|---|",
    ]
    for num_envs in (16, 64, 256):
        sync, fast = _sync(num_envs), DonorVectorEnv(num_envs, others=_others)
        rates = {"sync": 0.0, "fast": 0.0}
        for _ in range(repeats):
            rates["sync"] = max(rates["sync"], _steps_per_s(sync, num_envs, seconds))
            rates["fast"] = max(rates["fast"], _steps_per_s(fast, num_envs, seconds))
        same = "yes" if _same_first_steps(min(num_envs, 16)) else "**NO**"
        lines.append(
            f"| {num_envs} | {rates['sync']:,.0f} | {rates['fast']:,.0f} | "
            f"**{rates['fast'] / rates['sync']:.1f}x** | {same} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv[1:]), end="")
