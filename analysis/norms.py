"""Norm-violation statistics of norm-society runs (``norm_society_v0``).

The scenario approximately reproduces Li, Sun, Cheng & Qiu 2024, "Agent Alignment in Evolving
Social Norms" (EvolutionaryAgent, arXiv:2401.04620): one episode is one step (generation), eras
of steps share a norm, and an observer scores every agent 1-7 against it. Every function here is
pure and reads records as ``events.jsonl`` holds them; a run with ``record=summary`` still has
its ``generation_end`` records, which carry the per-step statistics.

* Fitness F = (mean score - 1) / 6, the observer's fitness in [0, 1] (score = 1 + 6 f).
* Adaptation after a norm change at g0 (Li et al. 2024, Fig. 3): drop F(g0-1) - F(g0); lag =
  steps until F regains ``threshold`` x the pre-change mean, None when censored; dip = that mean
  minus the lowest F after g0 (:func:`adaptation_lag`).
* Spread of the new norm: A(t), the share of agents adhering (score >= 5) t steps after the
  change, and t50 = min{t : A(t) >= 0.5} (Centola & Macy 2007 for the network reading).
* Network measures: numeric assortativity of scores (Newman 2003, Phys. Rev. E 67:026126) and
  the clustering of violators, recomputed with networkx from the ``network`` record where the
  run did not log them.
* Observer agreement of two judges on the same items: Cohen's kappa (Cohen 1960; weighted,
  Cohen 1968) on 1-7 scores and on labels, with a bootstrap interval over items.
* Across runs the seed is the unit: per-step means with t-intervals (Student 1908), median lag
  and t50 with censored values counted as longer than every observed one.

Example:
    >>> adaptation_lag({1: 1.0, 2: 1.0, 3: 0.5, 4: 0.95}, 3, window=2)
    (1, 0.5)
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

# The observers (judges, agreement, network) and the across-seeds part live in
# analysis.norms_judges and analysis.norms_across; their names are importable here.
from analysis.norms_across import censored_median as censored_median
from analysis.norms_across import runs_statistics as runs_statistics
from analysis.norms_across import summarise_runs as summarise_runs
from analysis.norms_across import text_runs as text_runs
from analysis.norms_judges import ADHERES_AT as ADHERES_AT
from analysis.norms_judges import LABELS as LABELS
from analysis.norms_judges import SCALE as SCALE
from analysis.norms_judges import VIOLATES_AT as VIOLATES_AT
from analysis.norms_judges import _of_type
from analysis.norms_judges import agreement as agreement
from analysis.norms_judges import generation_of as generation_of
from analysis.norms_judges import judge_id as judge_id
from analysis.norms_judges import judge_scores as judge_scores
from analysis.norms_judges import judges as judges
from analysis.norms_judges import label_of as label_of
from analysis.norms_judges import network_measures as network_measures
from analysis.norms_judges import paired_judgements as paired_judgements
from analysis.norms_judges import parse_failures as parse_failures
from analysis.norms_judges import rounded_score as rounded_score
from analysis.norms_judges import score_assortativity as score_assortativity
from analysis.norms_judges import violator_clustering as violator_clustering

Record = Mapping[str, Any]

ENV_ID = "norm_society_v0"
STEP_COLUMNS = (
    "generation", "era", "year", "mean_score", "best_score", "violation_rate", "adherence_rate",
    "diversity", "norm_distance", "assortativity", "violator_clustering",
)  # fmt: skip
_READ = frozenset(
    (
        "generation_start",
        "generation_end",
        "norms",
        "network",
        "behaviour",
        "statement",
        "judgement",
    )
)
#: The per-step values averaged across runs (``fitness`` is derived from ``mean_score``).
SERIES = ("fitness", *STEP_COLUMNS[3:])


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


# ---------------------------------------------------------------- per step


def step_table(records: Sequence[Record], judge: str | None = None) -> list[dict[str, Any]]:
    """One row per step from ``generation_end`` (the last one of a step wins), with ``fitness``.

    Where the run has ``behaviour`` records, a step's violation rate is recounted from them
    (``violation_source`` says which). A statistic the record lacks (the key absent, not None)
    is recomputed: assortativity and violator clustering from the ``network`` record and the
    ``judge``'s scores (:func:`network_measures`), diversity from ``statement`` records.
    """
    ends = {generation_of(r): r for r in _of_type(records, "generation_end")}
    behaviour = violation_rates(records)
    recomputed: dict[int, dict[str, float | None]] | None = None
    diversity = None
    rows = []
    for g in sorted(k for k in ends if k is not None):
        end = ends[g]
        row: dict[str, Any] = {c: end.get(c) for c in STEP_COLUMNS}
        row["generation"] = g
        row["violation_source"] = "behaviour" if g in behaviour else "generation_end"
        row["violation_rate"] = behaviour.get(g, row["violation_rate"])
        if "assortativity" not in end or "violator_clustering" not in end:
            recomputed = network_measures(records, judge) if recomputed is None else recomputed
            for key in ("assortativity", "violator_clustering"):
                row[key] = end[key] if key in end else recomputed.get(g, {}).get(key)
        if "diversity" not in end:
            diversity = statement_diversity(records) if diversity is None else diversity
            row["diversity"] = diversity.get(g)
        score = row["mean_score"]
        row["fitness"] = None if score is None else (float(score) - 1.0) / 6.0
        rows.append(row)
    return rows


def violation_rates(records: Iterable[Record]) -> dict[int, float]:
    """Per step: the share of ``behaviour`` records labelled "violates"."""
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for r in _of_type(records, "behaviour"):
        g = generation_of(r)
        if g is not None:
            counts[g][0] += r.get("label") == "violates"
            counts[g][1] += 1
    return {g: k / n for g, (k, n) in sorted(counts.items())}


def statement_diversity(records: Iterable[Record]) -> dict[int, float]:
    """Per step: the mean over dimensions of the (population) SD of the statement vectors."""
    by_step: dict[int, list[list[float]]] = defaultdict(list)
    for r in _of_type(records, "statement"):
        g = generation_of(r)
        if g is not None:
            by_step[g].append([float(x) for x in r["vector"]])
    return {
        g: statistics.fmean(statistics.pstdev(col) for col in zip(*vs, strict=True))
        for g, vs in sorted(by_step.items())
    }


# ---------------------------------------------------------------- eras and adaptation


def eras(records: Sequence[Record]) -> list[dict[str, Any]]:
    """The eras in order: first step, name, year, norm and its change from the previous era.

    From ``norms`` records (one on each era's first step); without them, from the ``era`` field
    of ``generation_end`` changing (norm and change are then None).
    """
    out: list[dict[str, Any]] = []
    for r in sorted(_of_type(records, "norms"), key=lambda r: generation_of(r) or 0):
        prev = out[-1]["norm"] if out else None
        norm = [float(x) for x in r["norm"]]
        change = None if prev is None else math.dist(prev, norm)
        out.append(
            {"generation": generation_of(r), "era": r["era"], "year": r["year"], "norm": norm,
             "schedule": r.get("schedule"), "change": change}
        )  # fmt: skip
    if out:
        return out
    for r in sorted(_of_type(records, "generation_end"), key=lambda r: generation_of(r) or 0):
        if not out or r.get("era") != out[-1]["era"]:
            out.append(
                {"generation": generation_of(r), "era": r.get("era"), "year": r.get("year"),
                 "norm": None, "schedule": None, "change": None}
            )  # fmt: skip
    return out


def adaptation_lag(
    series: Mapping[int, float],
    g0: int,
    window: int = 10,
    threshold: float = 0.9,
    end: int | None = None,
) -> tuple[int | None, float | None]:
    """Steps until fitness recovers after a norm change at ``g0``, and the dip.

    F_pre = mean of F over the ``window`` steps before g0 (fewer if the series has fewer);
    lag = min{g >= g0 : F(g) >= threshold * F_pre} - g0, None when censored (no such step
    before ``end``, exclusive, or the end of the series); dip = F_pre - min_{g0 <= g < end} F(g).
    Both are None without a step before g0; the dip is None without one from g0 on.

    Example:
        >>> adaptation_lag({1: 0.8, 2: 0.8, 3: 0.2, 4: 0.3, 5: 0.5, 6: 0.75}, 3)
        (3, 0.6000000000000001)
    """
    pre = [series[g] for g in range(g0 - window, g0) if g in series]
    if not pre:
        return None, None
    target = threshold * statistics.fmean(pre)
    post = sorted(g for g in series if g >= g0 and (end is None or g < end))
    lag = next((g - g0 for g in post if series[g] >= target), None)
    dip = statistics.fmean(pre) - min(series[g] for g in post) if post else None
    return lag, dip


def adherence(records: Sequence[Record], judge: str | None = None) -> dict[int, float]:
    """A(g): share of agents adhering (score >= 5) per step.

    From the ``judge``'s ``judgement`` records (default: the run's primary judge, see
    :func:`judges`), else ``generation_end.adherence_rate`` for steps without them.
    """
    out = {
        g: float(r["adherence_rate"])
        for r in _of_type(records, "generation_end")
        if (g := generation_of(r)) is not None and r.get("adherence_rate") is not None
    }
    for g, scores in judge_scores(records, judge).items():
        out[g] = sum(s >= ADHERES_AT for s in scores.values()) / len(scores)
    return dict(sorted(out.items()))


def t50(shares: Sequence[float | None], level: float = 0.5) -> int | None:
    """min{t : A(t) >= level}, None if never reached (censored).

    Example:
        >>> t50([0.1, 0.3, 0.5, 0.4]), t50([0.1, 0.2])
        (2, None)
    """
    return next((t for t, a in enumerate(shares) if a is not None and a >= level), None)


def boundary_effects(
    records: Sequence[Record],
    window: int = 10,
    threshold: float = 0.9,
    judge: str | None = None,
    rows: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Per norm change (every era but the first): drop, lag, dip, A(t) and t50.

    The pre-change window stays inside the previous era (at most ``window`` steps) and the lag
    and A(t) run until the next change, so one era's recovery is not credited to the next norm.
    ``rows`` is the run's :func:`step_table`, when already computed.
    """
    rows = step_table(records, judge) if rows is None else rows
    fit = {r["generation"]: r["fitness"] for r in rows if r["fitness"] is not None}
    share = adherence(records, judge)
    last = max(fit, default=0)
    starts = [e["generation"] for e in eras(records) if e["generation"] is not None]
    out = []
    for i, era in enumerate(eras(records)[1:], start=1):
        g0, prev = era["generation"], starts[i - 1]
        end = starts[i + 1] if i + 1 < len(starts) else last + 1
        lag, dip = adaptation_lag(fit, g0, min(window, g0 - prev), threshold, end)
        spread = [share.get(g) for g in range(g0, end)]
        drop = fit[g0 - 1] - fit[g0] if g0 - 1 in fit and g0 in fit else None
        out.append(
            {"generation": g0, "era": era["era"], "norm_change": era["change"], "drop": drop,
             "lag": lag, "censored": lag is None, "dip": dip, "steps_observed": end - g0,
             "adherence": spread, "t50": t50(spread)}
        )  # fmt: skip
    return out


# ---------------------------------------------------------------- one run


def era_table(
    records: Sequence[Record],
    judge: str | None = None,
    rows: Sequence[Mapping[str, Any]] | None = None,
) -> list[dict[str, Any]]:
    """Per era: first step, steps, mean fitness, mean violation rate and final adherence."""
    rows = step_table(records, judge) if rows is None else rows
    starts = eras(records)
    out = []
    for i, era in enumerate(starts):
        end = starts[i + 1]["generation"] if i + 1 < len(starts) else math.inf
        inside = [r for r in rows if era["generation"] <= r["generation"] < end]
        out.append(
            {"era": era["era"], "generation": era["generation"], "steps": len(inside),
             "fitness": _mean([r["fitness"] for r in inside if r["fitness"] is not None]),
             "violation_rate": _mean(
                 [r["violation_rate"] for r in inside if r["violation_rate"] is not None]),
             "final_adherence": inside[-1]["adherence_rate"] if inside else None}
        )  # fmt: skip
    return out


def summarise(
    records: Iterable[Record], window: int = 10, threshold: float = 0.9, rng: int = 0
) -> dict[str, Any]:
    """Every norm statistic of one run, JSON-ready (the report section's statistics)."""
    records = [r for r in records if r.get("type") in _READ]  # decisions outnumber the rest
    rows = step_table(records)
    return {
        "steps": rows,
        "eras": era_table(records, rows=rows),
        "boundaries": boundary_effects(records, window, threshold, rows=rows),
        "network": _network_header(records),
        "judges": parse_failures(records),
        "agreement": agreement(records, rng=rng),
    }


def _network_header(records: Sequence[Record]) -> dict[str, Any] | None:
    net = next(iter(_of_type(records, "network")), None)
    if net is None:
        return None
    return {"kind": net["kind"], "nodes": net["nodes"], "edges": len(net["edges"])}


# ---------------------------------------------------------------- text


def _f(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def _ci(cell: Mapping[str, Any]) -> str:
    if cell.get("mean") is None:
        return "-"
    ci = cell.get("ci95")
    return f"{cell['mean']:.3f}" + (
        " (n=1, no CI)" if ci is None else f" [{ci[0]:.3f}, {ci[1]:.3f}]"
    )


def text_section(stats: Mapping[str, Any]) -> str:
    """One run: the per-step table, the norm changes, the network, the judges and agreement."""
    lines = [
        f"{'step':>4} {'era':>6} {'year':>5} {'fitness':>8} {'mean':>6} {'best':>6} "
        f"{'violate':>8} {'adhere':>7} {'divers':>7} {'assort':>7} {'v.clust':>7}"
    ]
    for r in stats["steps"]:
        lines.append(
            f"{r['generation']:>4} {r['era']!s:>6} {r['year']!s:>5} {_f(r['fitness']):>8} "
            f"{_f(r['mean_score'], '.2f'):>6} {_f(r['best_score'], '.2f'):>6} "
            f"{_f(r['violation_rate']):>8} {_f(r['adherence_rate']):>7} "
            f"{_f(r['diversity']):>7} {_f(r['assortativity']):>7} "
            f"{_f(r['violator_clustering'], '.2f'):>7}"
        )
    lines += ["", "norm changes (fitness F = (score-1)/6):"]
    for b in stats["boundaries"]:
        lag = "censored" if b["lag"] is None else f"{b['lag']} steps"
        lines.append(
            f"  step {b['generation']} ({b['era']}): drop {_f(b['drop'])}, dip {_f(b['dip'])}, "
            f"lag {lag}, t50 {'-' if b['t50'] is None else b['t50']}"
        )
    return "\n".join(lines + _judge_lines(stats))


def _judge_lines(stats: Mapping[str, Any]) -> list[str]:
    lines = []
    net = stats.get("network")
    if net:
        lines.append(f"network: {net['kind']}, {net['nodes']} nodes, {net['edges']} edges")
    for judge, got in stats["judges"].items():
        lines.append(f"judge {judge}: {got['judgements']} judgements, {got['fallback']} fallback")
    for pair, cell in stats["agreement"].items():
        kappas = "; ".join(
            f"{k} {_kappa(cell[k])}" for k in ("unweighted", "linear", "quadratic", "labels")
        )
        lines.append(f"agreement {pair} on {cell['items']} items: kappa {kappas}")
    return lines


def _kappa(cell: Mapping[str, Any]) -> str:
    # One run: kappa_ci's bootstrap interval; several runs: mean_ci over the runs' kappas.
    if "kappa" not in cell:
        return _ci(cell)
    if cell["kappa"] is None or cell["ci95"] is None:
        return _f(cell["kappa"]) + " (no CI)"
    return _ci({"mean": cell["kappa"], "ci95": cell["ci95"]})


def _register() -> None:
    from analysis.report import Section, register_section

    register_section(ENV_ID, Section("norms", summarise, text_section))


_register()
