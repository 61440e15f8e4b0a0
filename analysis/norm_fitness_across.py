"""Norm-society fitness per step across runs (seeds), with the era boundaries.

Li et al. 2024 (EvolutionaryAgent, arXiv:2401.04620, Fig. 3) plot the population's fitness
per step with the norm changes marked. Per run, a step's fitness is F = (mean score - 1) / 6
from its ``generation_end`` record (the last one of a step wins, as in
:func:`analysis.norms.step_table`), and the norm changes are :func:`analysis.norms.eras` after
the first; across runs, per condition and step, the mean of F with a percentile bootstrap 95%
interval and the t-interval (:func:`analysis.stats.describe`). Only ``generation_end`` and
``norms`` records are read, so ``record=summary`` runs count too.

Example:
    >>> from analysis.runs import load_runs  # doctest: +SKIP
    >>> norm_fitness_statistics(load_runs("runs/norms"))["conditions"][""]["runs"]  # doctest: +SKIP
    3
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from analysis._records_across import records_by_run, run_conditions
from analysis.norms import ENV_ID, eras
from analysis.stats import describe_many

if TYPE_CHECKING:
    from analysis.across import RunsLike

SECTION = "fitness_by_step"
_WANTED = {
    "norms": ("era", "year", "norm", "schedule", "generation", "episode"),
    "generation_end": ("generation", "episode", "era", "year", "mean_score"),
}


def run_fitness(records: Sequence[Mapping[str, Any]]) -> dict[int, float]:
    """One run's fitness per step, F = (mean score - 1) / 6 (steps without a score left out).

    Example:
        >>> run_fitness([{"type": "generation_end", "generation": 2, "mean_score": 4.0}])
        {2: 0.5}
    """
    scores = {
        int(r["generation"]): r.get("mean_score")
        for r in records
        if r["type"] == "generation_end" and isinstance(r.get("generation"), int)
    }
    return {g: (float(s) - 1.0) / 6.0 for g, s in sorted(scores.items()) if s is not None}


def norm_fitness_statistics(runs: RunsLike) -> dict[str, Any]:
    """Fitness per step across runs and the norm changes, per condition.

    Returns:
        ``{"conditions": {condition: {"runs", "steps": [{"generation", "mean", "ci95",
        "t_ci95", "n"}], "boundaries": [{"generation", "era", "runs"}]}}}``: a boundary is
        the first step of an era after the first, with the number of runs that had it.
    """
    conditions = run_conditions(runs)
    fitness: dict[str, dict[int, list[float]]] = {}
    changes: dict[str, Counter[tuple[int, str]]] = {}
    count: Counter[str] = Counter()
    for run, records in records_by_run(runs, _WANTED, json_fields={"norm"}).items():
        cond = conditions.get(run, "")
        count[cond] += 1
        for g, f in run_fitness(records).items():
            fitness.setdefault(cond, {}).setdefault(g, []).append(f)
        changes.setdefault(cond, Counter()).update(
            (e["generation"], str(e["era"])) for e in eras(records)[1:] if e["generation"]
        )
    return {
        "conditions": {c: _condition(fitness.get(c, {}), changes[c], n) for c, n in count.items()}
    }


def _condition(
    by_step: Mapping[int, list[float]], changes: Counter[tuple[int, str]], runs: int
) -> dict[str, Any]:
    steps = sorted(by_step)
    cells = describe_many([by_step[g] for g in steps])
    return {
        "runs": runs,
        "steps": [{"generation": g, **cell} for g, cell in zip(steps, cells, strict=True)],
        "boundaries": [
            {"generation": g, "era": era, "runs": n} for (g, era), n in sorted(changes.items())
        ],
    }


def norm_fitness_text(stats: Mapping[str, Any]) -> str:
    """Per condition: the norm changes, and fitness at each era's first and last step."""
    from analysis.across import fmt_number

    lines = ["norm-society fitness F = (score-1)/6 across runs (mean, bootstrap 95% CI)"]
    for cond, c in stats["conditions"].items():
        marks = ", ".join(f"step {b['generation']} ({b['era']})" for b in c["boundaries"])
        lines.append(f"  {cond or 'all runs'} ({c['runs']} runs); norm changes: {marks or 'none'}")
        shown = _era_ends([r["generation"] for r in c["steps"]], c["boundaries"])
        for row in (r for r in c["steps"] if r["generation"] in shown):
            ci = row["ci95"]
            interval = "" if ci is None else f" [{fmt_number(ci[0])}, {fmt_number(ci[1])}]"
            lines.append(f"    step {row['generation']:>4}: {fmt_number(row['mean'])}{interval}")
    return "\n".join(lines)


def _era_ends(steps: Sequence[int], boundaries: Sequence[Mapping[str, Any]]) -> set[int]:
    # The steps either side of each norm change, and the first and last.
    starts = {int(b["generation"]) for b in boundaries}
    return {g for g in steps if g in starts or g + 1 in starts} | set(steps[:1]) | set(steps[-1:])


def _register() -> None:
    from analysis.across import AcrossSection, register_across

    register_across(ENV_ID, AcrossSection(SECTION, norm_fitness_statistics, norm_fitness_text))


_register()
