"""Donor-game throughput, measured against PettingZoo's own rps_v2 in the same process.

Measures:
  1. PettingZoo API: env steps/s and agent-decisions/s of donor_game_v0 (12 agents,
     default config) vs ``pettingzoo.classic.rps_v2.parallel_env`` (2 agents), both
     driven by a loop that only builds action dicts (no policy cost).
  2. Vectorised rules path: the whole population per round as arrays
     (``agentsim.games.donor`` + scripted strategies' ``decide_batch``).
  3. End to end: a 1,000-agent scripted population for 100 generations through
     ``agentsim run`` machinery (records at the ``summary`` level).

Run:  python bench/donor_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time

import numpy as np

from agentsim.agents.scripted.donor import ImageScoring, Standing, TraceAverage, TraceBatch
from agentsim.envs.registry import make_env
from agentsim.games import donor
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir


def _best_of(fn, repeats=3):
    return max(fn() for _ in range(repeats))


def pettingzoo_steps_per_s(env, actions, seconds):
    """Steps/s of a ParallelEnv driven with fixed actions, resetting at episode end."""
    env.reset(seed=0)
    steps, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for _ in range(100):
            if not env.agents:
                env.reset()
            env.step({a: actions[a] for a in env.agents})
        steps += 100
    return steps / (time.perf_counter() - t0)


def api_comparison(seconds):
    from pettingzoo.classic import rps_v2

    rps = rps_v2.parallel_env()
    donor_env = make_env("donor_game_v0")
    rps_actions = dict.fromkeys(rps.possible_agents, 1)
    donor_actions = {a: np.array([0.5], dtype=np.float32) for a in donor_env.possible_agents}
    rps_sps = _best_of(lambda: pettingzoo_steps_per_s(rps, rps_actions, seconds))
    donor_sps = _best_of(lambda: pettingzoo_steps_per_s(donor_env, donor_actions, seconds))
    return {
        "rps_v2 steps/s": rps_sps,
        "rps_v2 agent-decisions/s (2 per step)": 2 * rps_sps,
        "donor_game_v0 steps/s": donor_sps,
        "donor_game_v0 agent-actions/s (12 per step)": 12 * donor_sps,
        "donor_game_v0 donor-decisions/s (6 per step)": 6 * donor_sps,
        "ratio actions/s vs rps_v2": 12 * donor_sps / (2 * rps_sps),
        "ratio donor-decisions/s vs rps_v2": 6 * donor_sps / (2 * rps_sps),
    }


def vectorised_decisions_per_s(n_agents, seconds):
    """Donor decisions/s of whole-population rounds: scripted policies + rules as arrays."""
    cfg = donor.DonorGameConfig(agents=n_agents)
    strategies = [TraceAverage(), ImageScoring(), Standing()]
    kind = np.arange(n_agents) % len(strategies)
    rounds = [donor.round_pairs(cfg, 0, r) for r in range(cfg.rounds)]
    # Kinds are fixed within a generation and the schedule is static: group donors by
    # strategy once per round, outside the timed loop.
    groups = [
        [
            (strategies[k], np.flatnonzero(kind[d] == k), r[kind[d] == k])
            for k in range(len(strategies))
        ]
        for d, r in rounds
    ]
    decisions, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        state = donor.new_state(cfg)
        for r, (donors, recipients) in enumerate(rounds):
            actions = np.empty(len(donors))
            for strategy, where, their_recipients in groups[r]:
                actions[where] = strategy.decide_batch(
                    TraceBatch(
                        state.chain_len[their_recipients], state.chain[their_recipients, :, 3]
                    )
                )
            donor.resolve_round(cfg, state, donors, recipients, actions, round_index=r)
            decisions += len(donors)
    return decisions / (time.perf_counter() - t0)


def end_to_end(n_agents, generations):
    pop = f"trace_average:{n_agents // 2},image_scoring:{n_agents // 4},defector:{n_agents // 4}"
    config = make_config(
        "donor-game",
        0,
        [f"agents={n_agents}", f"generations={generations}", f"population={pop}", "record=summary"],
    )
    with tempfile.TemporaryDirectory() as tmp:
        run = RunDir.create(tmp, "bench", config.to_json())
        t0 = time.perf_counter()
        summary = asyncio.run(run_experiment(run, config))
        elapsed = time.perf_counter() - t0
    decisions = generations * 2 * 12 * n_agents // 2
    return {
        "agents": n_agents,
        "generations": generations,
        "seconds": elapsed,
        "donor-decisions/s": decisions / elapsed,
        "final mean resources": summary["final_mean_resources"],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="short timings (smoke run)")
    args = parser.parse_args()
    seconds = 0.3 if args.quick else 2.0
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, "
        f"python {platform.python_version()}, numpy {np.__version__}"
    )
    print("\n[1] PettingZoo API, 12 agents, default config vs rps_v2")
    for k, v in api_comparison(seconds).items():
        print(f"  {k:48s} {v:14,.2f}")
    print("\n[2] vectorised rules path (whole population per round)")
    for n in (1_000, 10_000, 100_000):
        print(
            f"  {n:>7,} agents: {vectorised_decisions_per_s(n, seconds):14,.0f} donor-decisions/s"
        )
    print("\n[3] end to end, scripted population through run_experiment (record=summary)")
    gens = 10 if args.quick else 100
    for k, v in end_to_end(1_000, gens).items():
        print(f"  {k:48s} {v:14,.2f}" if isinstance(v, float) else f"  {k:48s} {v:>14}")


if __name__ == "__main__":
    main()
