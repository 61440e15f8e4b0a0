"""Cooperation statistics of donor-game runs across seeds and conditions (Vallinder & Hughes
2024, arXiv:2412.10270).

:func:`donor_across_statistics` (registered by :mod:`analysis.cooperation` as the ``donor``
section of ``analysis.across``) takes the tables of ``analysis.runs.Runs`` and gives, per
condition, means with bootstrap intervals across seeds: the per-generation trend and its slope,
per-round donation curves, the initial-cooperation threshold, selection and kind composition.
Its text (``donor_across_text``) is in :mod:`analysis.cooperation`, beside the single-run text;
every public name here is also importable from there.

Example:
    >>> least_squares_slope([1, 2], [0.0, 1.0])
    1.0
"""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.stats import Interval, describe, describe_many

if TYPE_CHECKING:
    from analysis.across import RunsLike, Table

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
    from analysis.cooperation import pearson  # late: analysis.cooperation imports this module

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
    # late: analysis.cooperation imports this module
    from analysis.cooperation import selection_differential, survivor_differential

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
