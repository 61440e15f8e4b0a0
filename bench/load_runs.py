"""``analysis.load_runs`` (DuckDB over the JSONL) against a plain-Python loader, same process.

Generates N real donor-game runs (12 agents, 3 generations, ``run.record=full``; seeds
0..N-1) in process through ``agentsim run``, cached under ``bench/out/load_runs/`` so a rerun
reuses them, then times two ways of computing the same sweep summary:

  (a) ``load_runs`` + the per-generation mean of ``mean_final_resources`` across runs
      (``Runs.series("generations")``) + the mean donation fraction per (generation, round)
      from the ``transfer`` records (``Runs.sql``, kind ``donate``);
  (b) a plain-Python loader: ``json.loads`` of every line of every ``events.jsonl`` (and of
      every ``summary.json``), then the same means in Python.

Both must give the same numbers (checked, to 1e-9); the section reports seconds and the ratio.

Run:  python bench/load_runs.py [--quick] [--runs N]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

CACHE = Path(__file__).parent / "out" / "load_runs"
SETTINGS = ("env.agents=12", "run.generations=3", "run.record=full")


def generate(n: int, cache: Path = CACHE) -> list[Path]:
    """The run directories of seeds 0..n-1, generating those not already cached."""
    from agentsim import cli

    runs = []
    for seed in range(n):
        out = cache / f"seed{seed:05d}"
        run = _cached_run(out)
        if run is None:
            argv = ["run", "donor-game", "--seed", str(seed), "--out", str(out), "--quiet"]
            for setting in SETTINGS:
                argv += ["--set", setting]
            with contextlib.redirect_stdout(io.StringIO()):
                if cli.main(argv) != 0:
                    raise RuntimeError(f"agentsim run failed for seed {seed}")
            run = _cached_run(out)
            assert run is not None, out
        runs.append(run)
    return runs


def _cached_run(out: Path) -> Path | None:
    # A complete run only (a killed generation leaves a directory without summary.json).
    for child in sorted(out.glob("*/summary.json")) if out.is_dir() else ():
        if json.loads(child.read_text()).get("status") == "completed":
            return child.parent
    return None


GENERATION_SQL = """
    SELECT generation, (record->>'$.round')::BIGINT AS round,
           avg((record->>'$.fraction')::DOUBLE) AS mean
    FROM events WHERE type = 'transfer' AND record->>'$.kind' = 'donate'
    GROUP BY ALL ORDER BY ALL"""


def with_load_runs(source, aggregate_in_sql: bool = False) -> dict:
    """(a): the two summaries through ``analysis.load_runs``."""
    from analysis.runs import load_runs

    runs = load_runs(source)
    gens = runs.series("generations")
    resources = _group_means(gens["generation"], gens["mean_final_resources"])
    if aggregate_in_sql:
        t = runs.sql(GENERATION_SQL)
        keys = zip(t["generation"].tolist(), t["round"].tolist(), strict=True)
        rounds = dict(zip(keys, t["mean"].tolist(), strict=True))
    else:
        t = runs.records("transfer", ["generation", "round", "kind", "fraction"])
        donate = t["kind"] == "donate"
        keys = t["generation"][donate] * 1_000_000 + t["round"][donate]
        rounds = {
            (int(k) // 1_000_000, int(k) % 1_000_000): m
            for k, m in _group_means(keys, t["fraction"][donate]).items()
        }
    return {"resources": resources, "rounds": rounds}


def _group_means(keys, values) -> dict:
    uniq, inverse = np.unique(np.asarray(keys), return_inverse=True)
    sums = np.bincount(inverse, weights=np.asarray(values, dtype=np.float64))
    counts = np.bincount(inverse)
    return {int(k): float(s / c) for k, s, c in zip(uniq, sums, counts, strict=True)}


def with_plain_python(paths: list[Path]) -> dict:
    """(b): ``json.loads`` of every line of every ``events.jsonl``, sums in dicts."""
    resources = defaultdict(list)
    sums, counts = defaultdict(float), defaultdict(int)
    for path in paths:
        with open(path / "events.jsonl", encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                kind = record["type"]
                if kind == "transfer" and record["kind"] == "donate":
                    key = (record["generation"], record["round"])
                    sums[key] += record["fraction"]
                    counts[key] += 1
                elif kind == "generation_end":
                    resources[record["generation"]].append(record["mean_final_resources"])
    return {
        "resources": {g: sum(v) / len(v) for g, v in sorted(resources.items())},
        "rounds": {k: sums[k] / counts[k] for k in sorted(sums)},
    }


def _max_difference(a: dict, b: dict) -> float:
    worst = 0.0
    for part in ("resources", "rounds"):
        if a[part].keys() != b[part].keys():
            raise AssertionError(f"{part}: different keys {sorted(a[part])} vs {sorted(b[part])}")
        worst = max([worst, *(abs(a[part][k] - b[part][k]) for k in a[part])])
    if worst > 1e-9:
        raise AssertionError(f"load_runs and the plain loader differ by {worst}")
    return worst


def _interleaved(variants: dict, repeats: int) -> dict[str, tuple[float, dict]]:
    """Best seconds and result of each variant, timed round-robin (the machine is shared:
    interleaving spreads other jobs' load over all variants alike)."""
    best = dict.fromkeys(variants, (math.inf, {}))
    for _ in range(repeats):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            result = fn()
            best[name] = (min(best[name][0], time.perf_counter() - t0), result)
    return best


def run(quick: bool = False, n: int | None = None) -> str:
    """Generate (or reuse) the runs, time both loaders, check they agree: a markdown section."""
    import duckdb

    n = n or (100 if quick else 1000)
    t0 = time.perf_counter()
    paths = generate(n)
    made = time.perf_counter() - t0
    size = sum((p / "events.jsonl").stat().st_size for p in paths)
    lines = sum((p / "events.jsonl").read_bytes().count(b"\n") for p in paths)
    repeats = 2 if quick else 3
    from analysis.runs import load_runs

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        load_runs(paths).export_parquet(tmp)
        export_s = time.perf_counter() - t0
        timed = _interleaved(
            {
                "plain": lambda: with_plain_python(paths),
                "table": lambda: with_load_runs(paths),
                "sql": lambda: with_load_runs(paths, aggregate_in_sql=True),
                "parquet": lambda: with_load_runs(tmp),
            },
            repeats,
        )
    plain_s, plain = timed["plain"]
    worst = max(_max_difference(plain, result) for _, result in timed.values())
    rows = [
        ("plain Python: json.loads every line", plain_s),
        ("load_runs + series + records('transfer') + numpy", timed["table"][0]),
        ("load_runs + series + sql (mean in DuckDB)", timed["sql"][0]),
        ("load_runs(Parquet export) + series + records + numpy", timed["parquet"][0]),
    ]
    out = [
        "## load_runs vs a plain-Python loader",
        "",
        f"{n} donor-game runs ({', '.join(SETTINGS)}; seeds 0..{n - 1}): {lines:,} records,"
        f" {size / 1e6:,.0f} MB of events.jsonl ({made:.0f} s to generate or find them in"
        f" `{CACHE.relative_to(CACHE.parent.parent.parent)}`). Machine: {platform.machine()},"
        f" `nproc` {os.cpu_count()}, Python {platform.python_version()}, duckdb"
        f" {duckdb.__version__}. Per-generation mean of mean_final_resources across runs and"
        " mean donation fraction per (generation, round); seconds are the best of"
        f" {repeats} rounds, the four timed in turn in each, each from a new `load_runs`"
        " (the OS file cache is warm).",
        "",
        "| loader | seconds | speed-up vs plain Python |",
        "|---|---:|---:|",
        *(f"| {name} | {s:.2f} | {plain_s / s:.1f}x |" for name, s in rows),
        "",
        f"Parquet export (once): {export_s:.2f} s. All four give the same numbers (largest"
        f" difference {worst:.1e}; {len(plain['rounds'])} (generation, round) means).",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 runs instead of 1,000")
    parser.add_argument("--runs", type=int, help="how many runs (default 1,000; 100 quick)")
    args = parser.parse_args()
    print(run(args.quick, args.runs))
