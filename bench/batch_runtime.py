"""Scripted populations end to end through the runtime: the batch path vs PettingZoo's.

``agentsim run`` plays an episode whose every agent is batch-capable through the study's
vectorised episode (``Study.batch``); ``AGENTSIM_BATCH=off`` forces the PettingZoo path
(per-agent ``act`` calls and observation dicts). Both paths write the same run directory
byte for byte (``tests/runtime/test_batch_path.py``); this measures what each costs, in
the same process, interleaved, through :func:`agentsim.runtime.loop.run_experiment`
(records, selection, reproduction, checkpoints and the summary included):

* donor game: donor decisions/s at 100 and 1,000 agents (``record=summary``, and
  ``record=full``, which writes every decision with its observation);
* norm society: agent-steps/s (one agent acting in one round) at 100 and 1,000 agents.

Run:  python bench/batch_runtime.py [--quick]
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Callable

from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import BATCH_VARIABLE, run_experiment
from agentsim.runtime.rundir import RunDir

TITLE = "## Batch runtime path"
DONOR_MIX = "trace_average:{a},image_scoring:{b},standing:{b},defector:{c}"


def _timed(experiment: str, overrides: list[str], mode: str) -> float:
    """Seconds for one run (the summary written) with the batch path ``mode``."""
    config = make_config(experiment, 0, overrides)
    before = os.environ.get(BATCH_VARIABLE)
    os.environ[BATCH_VARIABLE] = mode
    try:
        with tempfile.TemporaryDirectory() as tmp:
            run = RunDir.create(tmp, "bench", config.to_json())
            start = time.perf_counter()
            asyncio.run(run_experiment(run, config))
            return time.perf_counter() - start
    finally:
        if before is None:
            os.environ.pop(BATCH_VARIABLE)
        else:
            os.environ[BATCH_VARIABLE] = before


def _best(fn: Callable[[], float], repeats: int) -> float:
    return min(fn() for _ in range(repeats))


def _donor_overrides(agents: int, generations: int, record: str) -> list[str]:
    quarter = agents // 4
    mix = DONOR_MIX.format(a=agents - 3 * quarter, b=quarter, c=quarter)
    return [f"agents={agents}", f"generations={generations}", f"record={record}",
            f"population={mix}"]  # fmt: skip


def donor_rows(quick: bool) -> list[dict[str, object]]:
    """Donor decisions/s of both paths (interleaved, best of the repeats)."""
    repeats = 1 if quick else 3
    rows = []
    for agents, record, generations in (
        (100, "summary", 4 if quick else 40),
        (1000, "summary", 2 if quick else 10),
        (100, "full", 2 if quick else 10),
        (1000, "full", 1 if quick else 3),
    ):
        overrides = _donor_overrides(agents, generations, record)
        decisions = generations * (agents // 2) * 12 * 2
        # The PettingZoo path is slow at 1,000 agents with summaries only: fewer generations.
        slow_gens = (
            max(1, generations // 5) if (agents, record) == (1000, "summary") else generations
        )
        slow_overrides = _donor_overrides(agents, slow_gens, record)
        slow_decisions = slow_gens * (agents // 2) * 12 * 2
        times = {"off": float("inf"), "auto": float("inf")}
        for _ in range(repeats):
            times["off"] = min(times["off"], _timed("donor-game", slow_overrides, "off"))
            times["auto"] = min(times["auto"], _timed("donor-game", overrides, "auto"))
        rows.append(
            {
                "agents": agents,
                "record": record,
                "pettingzoo": slow_decisions / times["off"],
                "batch": decisions / times["auto"],
            }
        )
    return rows


def episode_only(agents: int, repeats: int) -> float:
    """Donor decisions/s of the batch episode alone (no loop, records or checkpoints)."""
    import agentsim
    from agentsim.envs.donor_batch import play_batch
    from agentsim.evolution.population import parse_population

    quarter = agents // 4
    mix = DONOR_MIX.format(a=agents - 3 * quarter, b=quarter, c=quarter)
    members = parse_population(mix, env="donor_game_v0")
    seats = {f"agent_{i}": m.build("donor_game_v0") for i, m in enumerate(members)}
    env = agentsim.make_env("donor_game_v0", agents=agents)
    best = float("inf")
    for seed in range(repeats):
        start = time.perf_counter()
        steps = play_batch(env, seats, seed=seed, options={}, record=False, reset=print)
        for _ in steps or ():
            pass
        best = min(best, time.perf_counter() - start)
    return (agents // 2) * 24 / best


def norm_rows(quick: bool) -> list[dict[str, object]]:
    """Norm society agent-steps/s of both paths."""
    repeats = 1 if quick else 3
    rows = []
    for agents, steps in ((100, 3 if quick else 20), (1000, 2 if quick else 6)):
        overrides = [f"episodes={steps}", f"n_agents={agents}", "record=summary",
                     f"population=evolutionary[conformity=0.1]:{agents}",
                     "network=small_world"]  # fmt: skip
        per_step = agents * (3 + 2)  # 3 situation rounds, questionnaire, feedback
        times = {"off": float("inf"), "auto": float("inf")}
        for _ in range(repeats):
            for mode in ("off", "auto"):
                times[mode] = min(times[mode], _timed("norm-society", overrides, mode))
        rows.append(
            {
                "agents": agents,
                "pettingzoo": steps * per_step / times["off"],
                "batch": steps * per_step / times["auto"],
            }
        )
    return rows


def run(quick: bool = False) -> str:
    """The section for bench/RESULTS.md (``quick``: a smoke run with short runs)."""
    donor = donor_rows(quick)
    norm = norm_rows(quick)
    lines = [
        TITLE,
        "",
        "End to end through `run_experiment` (records, selection, reproduction, a checkpoint "
        "per generation, the summary), both paths in this process, interleaved, best of "
        f"{1 if quick else 3}. PettingZoo path: `AGENTSIM_BATCH=off`. Donor population: "
        "1/4 trace_average, 1/4 image_scoring, 1/4 standing, 1/4 defector; 2 games of 12 "
        "rounds per generation.",
        "",
        "| donor game | record | PettingZoo path decisions/s | batch path decisions/s "
        "| **batch / PettingZoo** |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in donor:
        ratio = float(r["batch"]) / float(r["pettingzoo"])  # type: ignore[arg-type]
        lines.append(
            f"| {r['agents']:,} agents | {r['record']} | {r['pettingzoo']:,.0f} | "
            f"{r['batch']:,.0f} | **{ratio:.1f}x** |"
        )
    lines += [
        "",
        f"The batch episode alone (1,000 agents, same mix, no loop): "
        f"{episode_only(1000, 5 if quick else 30):,.0f} decisions/s; the rest of a "
        "generation (building agents, selection, reproduction, records, a checkpoint with "
        "two fsyncs) is what the end-to-end figures add.",
        "",
        "| norm society (evolutionary, small world) | PettingZoo path agent-steps/s | "
        "batch path agent-steps/s | **batch / PettingZoo** |",
        "|---:|---:|---:|---:|",
    ]
    for r in norm:
        ratio = float(r["batch"]) / float(r["pettingzoo"])  # type: ignore[arg-type]
        lines.append(
            f"| {r['agents']:,} agents | {r['pettingzoo']:,.0f} | {r['batch']:,.0f} | "
            f"**{ratio:.1f}x** |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv[1:]), end="")
