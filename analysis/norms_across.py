"""Norm-society statistics across runs (seeds; the seed is the unit), for :mod:`analysis.norms`.

Per-step and per-era means with t-intervals (Student 1908); per norm change the median lag and
t50 with censored values counted as longer than every observed one (Li et al. 2024,
EvolutionaryAgent, arXiv:2401.04620, Fig. 3). Every name here is also importable from
:mod:`analysis.norms`.

Example:
    >>> censored_median([1, 3, None])
    3.0
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agentsim.core.records import load_records
from analysis.stats import mean_ci

Record = Mapping[str, Any]


def censored_median(values: Sequence[float | None]) -> float | None:
    """Median with None (censored) ranked above every observed value; None if it is censored.

    Example:
        >>> censored_median([2, None, 4]), censored_median([2, None, None]), censored_median([])
        (4.0, None, None)
    """
    if not values:
        return None
    m = statistics.median([math.inf if v is None else float(v) for v in values])
    return None if math.isinf(m) else m


def summarise_runs(
    runs: Sequence[Sequence[Record]], window: int = 10, threshold: float = 0.9
) -> dict[str, Any]:
    """Statistics across runs (seeds; the seed is the unit): per-step and per-era means with
    t-intervals, and per norm change the median lag and t50 with their censored fractions."""
    from analysis.norms import summarise  # late: analysis.norms imports this module

    per_run = [summarise(r, window, threshold) for r in runs]
    return {
        "runs": len(runs),
        "steps": _across_steps([s["steps"] for s in per_run]),
        "eras": _across_eras([s["eras"] for s in per_run]),
        "boundaries": _across_boundaries([s["boundaries"] for s in per_run]),
        "agreement": _across_agreement([s["agreement"] for s in per_run]),
        "judges": _summed_failures([s["judges"] for s in per_run]),
    }


def _across_steps(tables: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    from analysis.norms import SERIES  # late: analysis.norms imports this module

    by_step: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for table in tables:
        for row in table:
            by_step[row["generation"]].append(row)
    return [
        {"generation": g, **{k: mean_ci([r[k] for r in rows if r.get(k) is not None])
                             for k in SERIES}}
        for g, rows in sorted(by_step.items())
    ]  # fmt: skip


def _across_eras(tables: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    by_era: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for table in tables:
        for i, row in enumerate(table):
            by_era[i].append(row)
    return [
        {"era": rows[0]["era"], "fitness": mean_ci([r["fitness"] for r in rows
                                                    if r["fitness"] is not None]),
         "violation_rate": mean_ci([r["violation_rate"] for r in rows
                                    if r["violation_rate"] is not None])}
        for _, rows in sorted(by_era.items())
    ]  # fmt: skip


def _across_boundaries(tables: Sequence[Sequence[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    by_step: dict[int, list[Mapping[str, Any]]] = defaultdict(list)
    for table in tables:
        for row in table:
            by_step[row["generation"]].append(row)
    out = []
    for g, rows in sorted(by_step.items()):
        lags, t50s = [r["lag"] for r in rows], [r["t50"] for r in rows]
        out.append(
            {"generation": g, "era": rows[0]["era"], "runs": len(rows),
             "drop": mean_ci([r["drop"] for r in rows if r["drop"] is not None]),
             "dip": mean_ci([r["dip"] for r in rows if r["dip"] is not None]),
             "median_lag": censored_median(lags),
             "lag_censored": sum(v is None for v in lags) / len(rows),
             "median_t50": censored_median(t50s),
             "t50_censored": sum(v is None for v in t50s) / len(rows)}
        )  # fmt: skip
    return out


def _across_agreement(cells: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for pair in dict.fromkeys(p for c in cells for p in c):
        got = [c[pair] for c in cells if pair in c]
        out[pair] = {"runs": len(got), "items": sum(c["items"] for c in got)}
        for key in ("unweighted", "linear", "quadratic", "labels"):
            out[pair][key] = mean_ci([c[key]["kappa"] for c in got if c[key]["kappa"] is not None])
    return out


def _summed_failures(cells: Sequence[Mapping[str, Mapping[str, int]]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for cell in cells:
        for judge, got in cell.items():
            mine = out.setdefault(judge, {"judgements": 0, "fallback": 0})
            for key in mine:
                mine[key] += got[key]
    return out


def runs_statistics(run_dirs: Iterable[str | Path]) -> dict[str, Any]:
    """:func:`summarise_runs` of run directories (each with its ``events.jsonl``)."""
    return summarise_runs([load_records(Path(d) / "events.jsonl") for d in run_dirs])


def text_runs(stats: Mapping[str, Any]) -> str:
    """Several runs: fitness and violation per step and era with 95% CIs over seeds, and per
    norm change the mean drop, median lag and t50 with their censored fractions."""
    from analysis.norms import _ci, _f, _judge_lines  # late: analysis.norms imports this module

    lines = [f"{stats['runs']} runs; fitness F = (score-1)/6; mean [95% CI] over seeds"]
    for r in stats["steps"]:
        lines.append(
            f"  step {r['generation']:>3}: F {_ci(r['fitness'])}; "
            f"violation {_ci(r['violation_rate'])}"
        )
    for e in stats["eras"]:
        lines.append(f"  era {e['era']}: F {_ci(e['fitness'])}")
    for b in stats["boundaries"]:
        lines.append(
            f"  change at step {b['generation']} ({b['era']}): drop {_ci(b['drop'])}; median lag "
            f"{_f(b['median_lag'], '.1f')} (censored {b['lag_censored']:.0%}); median t50 "
            f"{_f(b['median_t50'], '.1f')} (censored {b['t50_censored']:.0%})"
        )
    return "\n".join(lines + _judge_lines({**stats, "network": None}))
