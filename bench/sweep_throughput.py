"""Sweep throughput: cells/s of one small donor-game sweep on each backend, in one run.

The same sweep (seeds x two multipliers, scripted agents) runs on the local backend with
one worker (in-process, the baseline), the local backend with two worker processes, and a
local Ray cluster with two CPUs; the table gives cells/s and the ratio to one worker
measured here. Worker start-up is part of each figure (spawned processes import agentsim);
Ray's cluster start is measured apart, since a real cluster is started once for many
sweeps. Every backend's cells must have the same ``summary.json`` as the baseline's.

Run:  python bench/sweep_throughput.py [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from agentsim.runtime import sweep


def _settings(quick: bool) -> tuple[str, list[str]]:
    # About a second of CPU per cell in full: enough work for the workers to pay for their
    # start-up; --quick cells are so small that start-up dominates.
    seeds = "0..3" if quick else "0..7"
    size = (
        ["run.generations=3", "env.agents=12"] if quick else ["run.generations=30", "env.agents=24"]
    )
    return seeds, ["env.multiplier=2,3", *size, "env.rounds=6" if not quick else "env.rounds=4"]


def _timed_sweep(parent: Path, quick: bool, **backend: Any) -> tuple[float, dict[str, str]]:
    """Seconds for the whole sweep, and its cells' summaries."""
    seeds, sets = _settings(quick)
    plan, _ = sweep.plan("donor-game", seeds, sets)
    path = sweep.create(parent, plan)
    start = time.perf_counter()
    outcomes = sweep.run_cells(sweep.tasks(path, plan), **backend)
    seconds = time.perf_counter() - start
    assert all(o.status == "completed" for o in outcomes), outcomes
    summaries = {c.cell: (path / c.cell / "summary.json").read_text() for c in plan.cells}
    return seconds, summaries


def _on_ray(parent: Path, quick: bool) -> tuple[float, float, dict[str, str]] | None:
    """Cluster start seconds, sweep seconds and summaries on Ray (None without Ray)."""
    try:
        import ray
    except ImportError:
        return None
    start = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    boot = time.perf_counter() - start
    try:  # run_cells uses the cluster it finds running and leaves it to us
        seconds, summaries = _timed_sweep(parent, quick, backend="ray", workers=2)
    finally:
        ray.shutdown()
    return boot, seconds, summaries


def _row(name: str, cells: int, seconds: float, base_s: float, note: str) -> str:
    return f"| {name} | {cells / seconds:.2f} | {base_s / seconds:.2f}x | {note} |"


def run(quick: bool = False) -> str:
    """Measure every backend on the same sweep; a markdown section."""
    with tempfile.TemporaryDirectory() as tmp:
        parent = Path(tmp)
        base_s, base = _timed_sweep(parent / "w1", quick, workers=1)
        cells = len(base)
        two_s, two = _timed_sweep(parent / "w2", quick, workers=2)
        on_ray = _on_ray(parent / "ray", quick)

    def same(summaries: dict[str, str]) -> str:
        return "identical" if summaries == base else "DIFFERENT"

    rows = [
        _row("local, workers=1 (baseline)", cells, base_s, base_s, "-"),
        _row("local, workers=2", cells, two_s, base_s, same(two)),
    ]
    if on_ray is None:
        rows.append("| ray, 2 CPUs | - | - | not measured: pip install 'agentsim[ray]' |")
    else:
        boot, ray_s, summaries = on_ray
        note = f"{same(summaries)}; cluster start {boot:.1f} s not included"
        rows.append(_row("ray, 2 CPUs", cells, ray_s, base_s, note))
    seeds, sets = _settings(quick)
    return "\n".join(
        [
            "## Sweep throughput",
            "",
            f"donor-game sweep, {cells} cells (seeds {seeds} x env.multiplier=2,3; "
            f"{', '.join(sets[1:])}; scripted agents); {os.cpu_count()} CPUs "
            f"({platform.machine()}). Worker start-up is included.",
            "",
            "| backend | cells/s | vs workers=1 | cells vs baseline |",
            "|---|---|---|---|",
            *rows,
        ]
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller sweep")
    print(run(parser.parse_args().quick))
