"""Cooperation statistics of donor-game runs (Vallinder & Hughes 2024, arXiv:2412.10270).

The single-run functions take the list of records of one run
(``agentsim.core.records.load_records``) and return plain dicts keyed by generation; they
register as sections of ``agentsim report``. The across-runs functions
(:func:`donor_across_statistics`, registered as the ``donor`` section of
``analysis.across``) take the tables of ``analysis.runs.Runs`` and give, per condition,
means with bootstrap intervals across seeds: the per-generation trend and its slope,
per-round donation curves, the initial-cooperation threshold, selection and kind composition.

Example:
    >>> recs = [{"type": "generation_end", "generation": 1, "mean_final_resources": 30.0,
    ...          "mean_donation_fraction": {"1_1": 0.5, "1_2": 0.25}}]
    >>> mean_final_resources(recs), mean_donation_by_generation(recs)
    ({1: 30.0}, {1: 0.375})
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.across import fmt_number
from analysis.stats import Interval, describe, describe_many

if TYPE_CHECKING:
    from analysis.across import RunsLike, Table

Record = Mapping[str, Any]


def _of_type(records: Iterable[Record], record_type: str) -> list[Record]:
    return [r for r in records if r["type"] == record_type]


def mean_final_resources(records: Iterable[Record]) -> dict[int, float]:
    """Mean over agents and games of final resources, per generation (the paper's main metric)."""
    return {
        r["generation"]: float(r["mean_final_resources"])
        for r in _of_type(records, "generation_end")
        if r.get("mean_final_resources") is not None  # absent where the env adds no statistic
    }


def donation_fractions(records: Iterable[Record]) -> dict[int, dict[str, float]]:
    """Each member's mean donation fraction per generation (rows of the paper's Fig. 6 heatmap)."""
    return {
        r["generation"]: dict(r["mean_donation_fraction"])
        for r in _of_type(records, "generation_end")
        if r.get("mean_donation_fraction") is not None
    }


def mean_donation_by_generation(records: Iterable[Record]) -> dict[int, float]:
    """Population mean donation fraction per generation."""
    return {g: _mean(list(f.values())) for g, f in donation_fractions(records).items()}


def donation_trend(records: Iterable[Record]) -> float | None:
    """Least-squares slope of the mean donation fraction per generation (paper: %/generation)."""
    series = mean_donation_by_generation(records)
    if len(series) < 2:
        return None
    xs, ys = list(series), list(series.values())
    mx, my = _mean(xs), _mean(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx


def selection_differential(records: Sequence[Record]) -> dict[int, float | None]:
    """(mean donation of survivors - mean of the removed) / mean donation of the generation.

    Positive values mean selection favoured cooperators. ``None`` where undefined.
    """
    fractions = donation_fractions(records)
    out: dict[int, float | None] = {}
    for sel in _of_type(records, "selection"):
        f = fractions.get(sel["generation"], {})
        kept = [f[m] for m in sel["survivors"] if m in f]
        gone = [f[m] for m in sel["removed"] if m in f]
        overall = _mean(list(f.values()))
        ok = kept and gone and overall > 0
        out[sel["generation"]] = (_mean(kept) - _mean(gone)) / overall if ok else None
    return out


def punishment_frequency(records: Iterable[Record]) -> dict[int, float]:
    """Share of donor decisions that punished, per generation."""
    return {
        r["generation"]: r.get("punishments", 0) / r["donor_decisions"]
        for r in _of_type(records, "generation_end")
        if r.get("donor_decisions")
    }


def reciprocity_correlation(records: Iterable[Record]) -> dict[str, Any]:
    """Pearson correlation of each donation with the recipient's last shown donation.

    The indirect-reciprocity signal: donors that condition on the trace give more
    to recipients who gave more. Uses ``transfer`` records (``record=full`` runs);
    punishments count as a donation of 0. Returns overall and per-generation r and n.
    """
    pairs: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for t in _of_type(records, "transfer"):
        if t["shown_fraction"] is None:
            continue
        given = 0.0 if t["kind"] == "punish" else float(t["fraction"])
        pairs[t["generation"]].append((max(float(t["shown_fraction"]), 0.0), given))
    everything = [p for ps in pairs.values() for p in ps]
    return {
        "overall": {"r": pearson(everything), "n": len(everything)},
        "by_generation": {g: {"r": pearson(ps), "n": len(ps)} for g, ps in sorted(pairs.items())},
    }


def pearson(pairs: Sequence[tuple[float, float]]) -> float | None:
    """Pearson r of (x, y) pairs; None with fewer than 3 pairs or zero variance."""
    if len(pairs) < 3:
        return None
    xs, ys = [p[0] for p in pairs], [p[1] for p in pairs]
    mx, my = _mean(xs), _mean(ys)
    sxy = sum((x - mx) * (y - my) for x, y in pairs)
    sxx, syy = sum((x - mx) ** 2 for x in xs), sum((y - my) ** 2 for y in ys)
    return sxy / math.sqrt(sxx * syy) if sxx > 0 and syy > 0 else None


def across_seeds(per_run: Sequence[Mapping[int, float]]) -> dict[int, dict[str, float]]:
    """Mean, standard error and n per generation across runs (the paper's shaded curves)."""
    by_gen: dict[int, list[float]] = defaultdict(list)
    for run in per_run:
        for g, v in run.items():
            by_gen[g].append(float(v))
    out = {}
    for g, vs in sorted(by_gen.items()):
        m = _mean(vs)
        se = (
            math.sqrt(sum((v - m) ** 2 for v in vs) / (len(vs) - 1) / len(vs))
            if len(vs) > 1
            else 0.0
        )
        out[g] = {"mean": m, "se": se, "n": float(len(vs))}
    return out


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def statistics(records: Sequence[Record]) -> dict[str, Any]:
    """All cooperation statistics of one donor-game run, JSON-ready."""
    return {
        "mean_final_resources": mean_final_resources(records),
        "mean_donation_fraction": mean_donation_by_generation(records),
        "donation_trend_per_generation": donation_trend(records),
        "selection_differential": selection_differential(records),
        "punishment_frequency": punishment_frequency(records),
        "reciprocity_correlation": reciprocity_correlation(records),
        "donation_fractions": donation_fractions(records),
    }


def donation_by_round(records: Iterable[Record]) -> dict[int, dict[int, float]]:
    """Mean fraction given per round index within each generation (the paper's donations per
    round), games pooled; a punishment gives 0. From ``transfer`` records (``record=full``).

    Example:
        >>> t = {"type": "transfer", "generation": 1, "round": 0, "kind": "donate"}
        >>> donation_by_round([{**t, "fraction": 0.5}, {**t, "fraction": 0.3, "kind": "punish"}])
        {1: {0: 0.25}}
    """
    given: dict[int, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
    for t in _of_type(records, "transfer"):
        value = 0.0 if t["kind"] == "punish" else float(t["fraction"])
        given[t["generation"]][t["round"]].append(value)
    return {
        g: {r: _mean(v) for r, v in sorted(rounds.items())} for g, rounds in sorted(given.items())
    }


def kind_composition(records: Iterable[Record]) -> dict[int, dict[str, int]]:
    """Members per strategy kind in each generation, from ``generation_start`` kinds."""
    return {
        r["generation"]: dict(sorted(Counter(r["kinds"].values()).items()))
        for r in _of_type(records, "generation_start")
        if isinstance(r.get("kinds"), Mapping)
    }


def survivor_differential(records: Sequence[Record]) -> dict[int, dict[str, float | None]]:
    """Selection on donation per generation: S = mean donation fraction of the survivors minus
    the population's (the breeder's selection differential, Falconer & Mackay 1996), beside the
    survivors', removed and population means. Positive S: selection favoured donors.
    """
    fractions = donation_fractions(records)
    out: dict[int, dict[str, float | None]] = {}
    for sel in _of_type(records, "selection"):
        f = fractions.get(sel["generation"], {})
        kept = [f[m] for m in sel["survivors"] if m in f]
        gone = [f[m] for m in sel["removed"] if m in f]
        population = _mean(list(f.values())) if f else None
        survivors = _mean(kept) if kept else None
        differential = None
        if survivors is not None and population is not None:
            differential = survivors - population
        out[sel["generation"]] = {
            "population": population,
            "survivors": survivors,
            "removed": _mean(gone) if gone else None,
            "differential": differential,
        }
    return out


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


def text_section(s: Mapping[str, Any]) -> str:
    """The per-generation table and the run-level statistics as text."""
    lines = [
        f"{'gen':>4} {'mean final res':>15} {'mean donation':>14} "
        f"{'sel. diff':>10} {'punish freq':>12} {'recip. r':>9}"
    ]
    recip = s["reciprocity_correlation"]["by_generation"]
    for g, res in s["mean_final_resources"].items():
        lines.append(
            f"{g:>4} {res:>15.2f} {_fmt(s['mean_donation_fraction'].get(g)):>14} "
            f"{_fmt(s['selection_differential'].get(g)):>10} "
            f"{_fmt(s['punishment_frequency'].get(g)):>12} "
            f"{_fmt(recip.get(g, {}).get('r')):>9}"
        )
    overall = s["reciprocity_correlation"]["overall"]
    lines += [
        "",
        f"donation trend: {_fmt(s['donation_trend_per_generation'], '+.4f')} per generation",
        f"reciprocity (donation vs recipient's last shown donation): r = {_fmt(overall['r'])} "
        f"(n = {overall['n']})",
    ]
    return "\n".join(lines)


def rounds_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """The ``donation_by_round`` report section: ``{"by_generation": {g: {round: mean}}}``."""
    return {"by_generation": donation_by_round(records)}


def rounds_text(s: Mapping[str, Any]) -> str:
    """Mean fraction given by round (columns) in each generation (rows)."""
    by_gen = s["by_generation"]
    rounds = sorted({r for row in by_gen.values() for r in row})
    lines = ["donation by round (mean fraction given; games pooled, punish = 0)"]
    lines.append(f"{'gen':>4} " + " ".join(f"{'r' + str(r):>5}" for r in rounds))
    for g, row in by_gen.items():
        lines.append(f"{g:>4} " + " ".join(f"{_fmt(row.get(r), '.2f'):>5}" for r in rounds))
    return "\n".join(lines)


def composition_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """The ``kind_composition`` report section: ``{"by_generation": {g: {kind: members}}}``."""
    return {"by_generation": kind_composition(records)}


def composition_text(s: Mapping[str, Any]) -> str:
    """Members per strategy kind in each generation."""
    lines = ["strategy kinds per generation (members)"]
    for g, kinds in s["by_generation"].items():
        lines.append(f"{g:>4} " + ", ".join(f"{k} {n}" for k, n in kinds.items()))
    return "\n".join(lines)


def selection_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """The ``selection`` report section: ``{"by_generation": survivor_differential(...)}``."""
    return {"by_generation": survivor_differential(records)}


def selection_text(s: Mapping[str, Any]) -> str:
    """Mean donation fraction of the population, survivors and removed, and S per generation."""
    lines = [
        "selection on donation (S = survivors' mean donation fraction - population's)",
        f"{'gen':>4} {'population':>11} {'survivors':>10} {'removed':>8} {'S':>8}",
    ]
    for g, row in s["by_generation"].items():
        lines.append(
            f"{g:>4} {_fmt(row['population']):>11} {_fmt(row['survivors']):>10} "
            f"{_fmt(row['removed']):>8} {_fmt(row['differential'], '+.3f'):>8}"
        )
    return "\n".join(lines)


# ---- across runs (seeds and conditions) ----------------------------------------------------
# Inputs are tables of analysis.runs (one row per generation or record, columns as numpy
# arrays); the unit of every interval is the run (seed).


def donor_across_statistics(runs: RunsLike) -> dict[str, Any]:
    """The donor game over many runs, per condition, JSON-ready (the ``donor`` across section).

    Returns:
        ``{"trend", "donation_by_round", "initial_cooperation", "selection", "composition"}``,
        each keyed by condition: see :func:`generation_trend`, :func:`round_curves`,
        :func:`initial_cooperation`, :func:`selection_by_generation` and
        :func:`composition_by_generation`. Per-round curves, selection and composition need
        ``record=full`` runs; without their records those parts are empty.
    """
    gens = runs.series("generations")
    return {
        "trend": generation_trend(gens),
        "donation_by_round": round_curves(
            runs.records("transfer", ["generation", "round", "kind", "fraction"])
        ),
        "initial_cooperation": initial_cooperation(gens),
        "selection": selection_by_generation(
            runs.records("generation_end", ["generation", "mean_donation_fraction"]),
            runs.records("selection", ["generation", "survivors", "removed"]),
        ),
        "composition": composition_by_generation(
            runs.records("generation_start", ["generation", "kinds"])
        ),
    }


def generation_trend(gens: Table) -> dict[str, Any]:
    """The paper's per-generation trend (Vallinder & Hughes 2024, Figs. 2-5), per condition.

    Args:
        gens: ``Runs.series("generations")``: ``run``, ``condition``, ``generation``,
            ``mean_final_resources``, ``mean_donation_fraction`` per run and generation.

    Returns:
        ``{condition: {"by_generation": [{"generation", "mean_final_resources": cell,
        "mean_donation_fraction": cell}], "resources_slope": cell, "donation_slope": cell}}``,
        a cell being ``analysis.across.describe`` (mean, bootstrap 95% CI, t CI, n) across
        runs; a slope is each run's least-squares change per generation (runs with 2 or more
        generations).
    """
    out: dict[str, Any] = {}
    for cond, rows in _by_condition(gens).items():
        per_gen = []
        fields = [f for f in _TREND_FIELDS if f in rows]
        numbers = sorted(set(rows["generation"].tolist()))
        groups = [_finite(rows[f][rows["generation"] == g]) for g in numbers for f in fields]
        cells = iter(describe_many(groups))
        for g in numbers:
            per_gen.append({"generation": int(g), **{f: next(cells) for f in fields}})
        slopes = {f: _run_slopes(rows, f) for f in _TREND_FIELDS if f in rows}
        out[cond] = {
            "by_generation": per_gen,
            "resources_slope": describe(slopes.get("mean_final_resources", [])),
            "donation_slope": describe(slopes.get("mean_donation_fraction", [])),
        }
    return out


_TREND_FIELDS = ("mean_final_resources", "mean_donation_fraction")


def _run_slopes(rows: Table, field: str) -> list[float]:
    """Each run's least-squares slope of ``field`` on generation (runs with 2+ generations),
    from per-run sums, so a 1,000-run sweep takes no loop over runs."""
    y = rows[field].astype(float)
    ok = np.isfinite(y)
    run = _codes(rows["run"][ok])[0]
    x, y = rows["generation"][ok].astype(float), y[ok]
    n, sx, sy = (np.bincount(run, w) for w in (None, x, y))
    sxx, sxy = np.bincount(run, x * x), np.bincount(run, x * y)
    spread = n * sxx - sx * sx
    fit = spread > 1e-9 * np.maximum(n * sxx, 1.0)  # two or more distinct generations
    return ((n * sxy - sx * sy)[fit] / spread[fit]).tolist()  # type: ignore[no-any-return]


def _finite(values: np.ndarray) -> list[float]:
    x = values.astype(float)
    return x[np.isfinite(x)].tolist()  # type: ignore[no-any-return]


def least_squares_slope(
    x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray
) -> float | None:
    """Least-squares slope of y on x; None with fewer than 2 distinct x.

    Example:
        >>> least_squares_slope([1, 2, 3], [10.0, 20.0, 60.0])
        25.0
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if np.unique(xs).size < 2:
        return None
    dx = xs - xs.mean()
    return float((dx * (ys - ys.mean())).sum() / (dx * dx).sum())


def round_curves(transfers: Table) -> dict[str, list[dict[str, Any]]]:
    """Per-round donation curves per generation across runs (Vallinder & Hughes 2024).

    Each run's mean fraction given at (generation, round), games pooled and a punishment
    counting 0, then across runs per condition. Vectorised over records (a 1,000-run sweep
    has over a million transfers).

    Args:
        transfers: ``Runs.records("transfer", ["generation", "round", "kind", "fraction"])``.

    Returns:
        ``{condition: [{"generation", "round", **describe(run means)}]}``, sorted.
    """
    if len(transfers["run"]) == 0:
        return {}
    given = np.where(transfers["kind"] == "punish", 0.0, transfers["fraction"].astype(float))
    run, first = _codes(transfers["run"])
    gen, rnd = (transfers[k].astype(np.int64) for k in ("generation", "round"))
    g0, r0 = int(gen.min()), int(rnd.min())
    n_gen, n_rnd = int(gen.max()) - g0 + 1, int(rnd.max()) - r0 + 1
    cells, inverse = np.unique(((run * n_gen) + gen - g0) * n_rnd + rnd - r0, return_inverse=True)
    means = np.bincount(inverse.ravel(), given) / np.bincount(inverse.ravel())
    cell_run, at = np.divmod(cells, n_gen * n_rnd)  # cells of one (gen, round) share `at`
    cell_cond = transfers["condition"][first][cell_run]
    places, groups = [], []
    for cond in _unique(cell_cond):
        mine = cell_cond == cond
        for a in np.unique(at[mine]).tolist():
            places.append((str(cond), g0 + a // n_rnd, r0 + a % n_rnd))
            groups.append(means[mine & (at == a)])
    out: dict[str, list[dict[str, Any]]] = {}
    for (cond, g, r), cell in zip(places, describe_many(groups), strict=True):
        out.setdefault(cond, []).append({"generation": g, "round": r, **cell})
    return out


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of values in first-seen order, and each code's first row.

    Records come in runs of one value (a run's records together), so only the first value of
    each stretch is looked up; any order still gives the right codes.
    """
    if len(values) == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))
    index: dict[Any, int] = {}
    stretch = [index.setdefault(v, len(index)) for v in values[starts].tolist()]
    codes = np.repeat(np.array(stretch, dtype=np.int64), np.diff(np.append(starts, len(values))))
    return codes, np.unique(codes, return_index=True)[1]


def initial_cooperation(gens: Table) -> dict[str, Any]:
    """The initial-cooperation threshold analysis across runs, per condition.

    Vallinder & Hughes 2024 observe that Claude runs succeeded when the first
    generation's mean donation fraction was at least ~50%. Per run: ``initial`` = generation-1
    mean donation fraction, ``final`` = last generation's mean final resources, ``improved`` =
    final above the first generation's. Reported: Pearson r of final on initial with the
    Fisher-z 95% interval (None below 4 runs), and the best-splitting threshold of initial
    donation (the midpoint that minimises the squared error of ``final`` around each side's
    mean, a regression stump) with each side's runs, mean final resources and share improved.

    Returns:
        ``{condition: {"n", "r", "r_ci95", "threshold", "below", "above", "runs": [{"run",
        "initial_donation", "final_resources", "improved"}]}}``.
    """
    out: dict[str, Any] = {}
    for cond, rows in _by_condition(gens).items():
        points = _run_endpoints(rows)
        x = np.array([p["initial_donation"] for p in points], dtype=float)
        y = np.array([p["final_resources"] for p in points], dtype=float)
        r = pearson(list(zip(x.tolist(), y.tolist(), strict=True)))
        out[cond] = {
            "n": len(points),
            "r": r,
            "r_ci95": fisher_ci(r, len(points)),
            **best_split(x, y, np.array([p["improved"] for p in points], dtype=bool)),
            "runs": points,
        }
    return out


def _run_endpoints(rows: Table) -> list[dict[str, Any]]:
    points = []
    for run in _unique(rows["run"]):
        at = rows["run"] == run
        order = np.argsort(rows["generation"][at], kind="stable")
        res = rows["mean_final_resources"][at].astype(float)[order]
        don = rows["mean_donation_fraction"][at].astype(float)[order]
        if res.size == 0 or not (np.isfinite(res[[0, -1]]).all() and np.isfinite(don[0])):
            continue
        points.append(
            {
                "run": str(run),
                "initial_donation": float(don[0]),
                "final_resources": float(res[-1]),
                "improved": bool(res[-1] > res[0]),
            }
        )
    return points


def fisher_ci(r: float | None, n: int, level: float = 0.95) -> Interval | None:
    """Fisher-z interval of a Pearson r of n pairs (Fisher 1921); None if n < 4 or |r| = 1.

    Example:
        >>> [round(v, 4) for v in fisher_ci(0.5, 28)]
        [0.156, 0.7358]
    """
    if r is None or n < 4 or abs(r) >= 1:
        return None
    half = NormalDist().inv_cdf(0.5 + level / 2) / math.sqrt(n - 3)
    z = math.atanh(r)
    return Interval(math.tanh(z - half), math.tanh(z + half))


def best_split(x: np.ndarray, y: np.ndarray, improved: np.ndarray) -> dict[str, Any]:
    """The threshold on x that best splits y (least total squared error around each side's
    mean; ties go to the lowest threshold), and each side's n, mean y and share improved.
    "below" is x < threshold, "above" x >= threshold.

    Returns:
        ``{"threshold": None, "below": None, "above": None}`` when x has one distinct value.

    Example:
        >>> x, y = np.array([0.44, 0.47, 0.5, 0.53]), np.array([5.0, 7.0, 900.0, 1100.0])
        >>> best_split(x, y, y > 10)["threshold"]
        0.485
    """
    order = np.argsort(x, kind="stable")
    xs, ys, ok = x[order], y[order], improved[order]
    n = xs.size
    cuts = [k for k in range(1, n) if xs[k] > xs[k - 1]]
    if not cuts:
        return {"threshold": None, "below": None, "above": None}
    csum, csq = np.cumsum(ys), np.cumsum(ys * ys)

    def sse(k: int) -> float:  # squared error of both sides when the first k go below
        left = csq[k - 1] - csum[k - 1] ** 2 / k
        right = (csq[-1] - csq[k - 1]) - (csum[-1] - csum[k - 1]) ** 2 / (n - k)
        return float(left + right)

    k = min(cuts, key=lambda c: (sse(c), c))
    side = {"below": slice(0, k), "above": slice(k, n)}
    return {
        "threshold": _midpoint(float(xs[k - 1]), float(xs[k])),
        **{
            name: {
                "n": int(ys[s].size),
                "mean_final_resources": float(ys[s].mean()),
                "improved": float(ok[s].mean()),
            }
            for name, s in side.items()
        },
    }


def _midpoint(lo: float, hi: float) -> float:
    # Below means x < threshold: the midpoint must lie above lo (it may not, for lo and hi
    # one float apart).
    mid = lo + (hi - lo) / 2
    return mid if lo < mid <= hi else hi


def selection_by_generation(ends: Table, selections: Table) -> dict[str, list[dict[str, Any]]]:
    """Selection on donation per generation across runs: S (survivors' mean donation fraction
    minus the population's) and the paper's (survivors - removed) / population.

    Args:
        ends: ``Runs.records("generation_end", ["generation", "mean_donation_fraction"])``.
        selections: ``Runs.records("selection", ["generation", "survivors", "removed"])``.

    Returns:
        ``{condition: [{"generation", "differential": cell, "normalised": cell}]}``.
    """
    fractions = {
        (str(run), int(g)): _json(f)
        for run, g, f in zip(
            ends["run"], ends["generation"], ends["mean_donation_fraction"], strict=True
        )
    }
    out: dict[str, list[dict[str, Any]]] = {}
    for cond, at in _condition_masks(selections).items():
        by_gen: dict[int, dict[str, list[float]]] = {}
        for run, g, kept, gone in zip(
            *(selections[k][at] for k in ("run", "generation", "survivors", "removed")),
            strict=True,
        ):
            f = fractions.get((str(run), int(g)), {})
            recs = [{"type": "generation_end", "generation": 0, "mean_donation_fraction": f}]
            recs.append({"type": "selection", "generation": 0} | _sel(kept, gone))
            cell = by_gen.setdefault(int(g), {"differential": [], "normalised": []})
            _append(cell["differential"], survivor_differential(recs)[0]["differential"])
            _append(cell["normalised"], selection_differential(recs)[0])
        out[cond] = [
            {"generation": g, **{k: describe(v) for k, v in cells.items()}}
            for g, cells in sorted(by_gen.items())
        ]
    return out


def _sel(kept: Any, gone: Any) -> dict[str, Any]:
    return {"survivors": _json(kept) or [], "removed": _json(gone) or []}


def _append(values: list[float], value: float | None) -> None:
    if value is not None:
        values.append(value)


def composition_by_generation(starts: Table) -> dict[str, list[dict[str, Any]]]:
    """Share of each strategy kind per generation across runs (a kind a run lacks counts 0).

    Args:
        starts: ``Runs.records("generation_start", ["generation", "kinds"])``.

    Returns:
        ``{condition: [{"generation", "kinds": {kind: cell of shares}}]}``.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for cond, at in _condition_masks(starts).items():
        shares: dict[int, list[Counter[str]]] = defaultdict(list)
        for g, kinds in zip(starts["generation"][at], starts["kinds"][at], strict=True):
            counts = Counter(str(k) for k in (_json(kinds) or {}).values())
            total = sum(counts.values()) or 1
            shares[int(g)].append(Counter({k: n / total for k, n in counts.items()}))
        names = sorted({k for runs in shares.values() for c in runs for k in c})
        out[cond] = [
            {"generation": g, "kinds": {k: describe([c[k] for c in runs]) for k in names}}
            for g, runs in sorted(shares.items())
        ]
    return out


def _json(value: Any) -> Any:
    # Runs.records gives object and list fields as JSON text; hand-made tables may not.
    return json.loads(value) if isinstance(value, str) else value


def _condition_masks(table: Table) -> dict[str, np.ndarray]:
    conds = table["condition"].astype(str)
    return {str(c): conds == c for c in _unique(conds)}


def _by_condition(table: Table) -> dict[str, Table]:
    return {c: {k: v[at] for k, v in table.items()} for c, at in _condition_masks(table).items()}


def _unique(values: Iterable[Any]) -> list[Any]:
    return list(dict.fromkeys(values))


def donor_across_text(s: Mapping[str, Any]) -> str:
    """The donor section over many runs as plain text."""
    lines = ["donor game across runs (mean [bootstrap 95% CI] n; unit = run)"]
    for cond in _unique(c for part in s.values() for c in part):
        lines += ["", f"-- condition {cond or '(all runs)'}"]
        lines += _trend_text(s["trend"].get(cond))
        lines += _threshold_text(s["initial_cooperation"].get(cond))
        lines += _selection_across_text(s["selection"].get(cond, []))
        lines += _composition_across_text(s["composition"].get(cond, []))
        lines += _rounds_across_text(s["donation_by_round"].get(cond, []))
    return "\n".join(lines)


def _trend_text(trend: Mapping[str, Any] | None) -> list[str]:
    if not trend:
        return []
    lines = ["per-generation trend:"]
    lines.append(f"{'gen':>4} {'mean final resources':>40} {'mean donation':>34}")
    for row in trend["by_generation"]:
        res, don = row.get("mean_final_resources"), row.get("mean_donation_fraction")
        lines.append(f"{row['generation']:>4} {_cell(res):>40} {_cell(don):>34}")
    lines.append(f"slope per generation: resources {_cell(trend['resources_slope'])}")
    lines.append(f"                      donation  {_cell(trend['donation_slope'])}")
    return lines


def _cell(c: Mapping[str, Any] | None) -> str:
    if not c or c["mean"] is None:
        return "-"
    ci = c["ci95"]
    shown = "no CI" if ci is None else f"{fmt_number(ci[0])}, {fmt_number(ci[1])}"
    return f"{fmt_number(c['mean'])} [{shown}] n={c['n']}"


def _threshold_text(t: Mapping[str, Any] | None) -> list[str]:
    if not t:
        return []
    ci = t["r_ci95"]
    lines = [
        f"initial cooperation: r(final resources, gen-1 donation) = {_fmt(t['r'])} "
        f"[{'no CI' if ci is None else f'{ci[0]:.3f}, {ci[1]:.3f}'}] n={t['n']}"
    ]
    if t["threshold"] is not None:
        lines.append(f"  best split at gen-1 donation {t['threshold']:.3f}:")
        for side in ("below", "above"):
            v = t[side]
            lines.append(
                f"    {side}: {v['n']} runs, mean final resources "
                f"{fmt_number(v['mean_final_resources'])}, improved {100 * v['improved']:.0f}%"
            )
    return lines


def _selection_across_text(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["selection differential S (survivors - population) | (surv. - removed) / pop."]
    for row in rows:
        lines.append(
            f"{row['generation']:>4} {_cell(row['differential']):>34} {_cell(row['normalised'])}"
        )
    return lines if rows else []


def _composition_across_text(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = ["strategy kinds (mean share per run)"]
    for row in rows:
        shares = ", ".join(f"{k} {c['mean']:.2f}" for k, c in row["kinds"].items())
        lines.append(f"{row['generation']:>4} {shares}")
    return lines if rows else []


def _rounds_across_text(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    by_gen: dict[int, dict[int, float]] = defaultdict(dict)
    for row in rows:
        by_gen[row["generation"]][row["round"]] = row["mean"]
    rounds = sorted({r for row in by_gen.values() for r in row})
    lines = ["donation by round (mean over runs of each run's mean fraction given)"]
    lines.append(f"{'gen':>4} " + " ".join(f"{'r' + str(r):>5}" for r in rounds))
    for g, means in sorted(by_gen.items()):
        lines.append(f"{g:>4} " + " ".join(f"{_fmt(means.get(r), '.2f'):>5}" for r in rounds))
    return lines if rows else []


def _register() -> None:
    from analysis.across import AcrossSection, register_across
    from analysis.report import Section, register_section

    env = "donor_game_v0"
    register_section(env, Section("cooperation", statistics, text_section))
    register_section(env, Section("donation_by_round", rounds_statistics, rounds_text))
    register_section(env, Section("kind_composition", composition_statistics, composition_text))
    register_section(env, Section("selection", selection_statistics, selection_text))
    register_across(env, AcrossSection("donor", donor_across_statistics, donor_across_text))


_register()
