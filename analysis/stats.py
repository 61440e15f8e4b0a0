"""Small statistics shared by the analysis modules: t-intervals of means and of series of
means, Wilson intervals, side changes of one line against another, Cohen's kappa with a
bootstrap interval over items, and the across-seeds statistics: percentile bootstrap
intervals, mean differences and Hedges' g.

Standard library and numpy, so every statistic but the ordinal model runs without scipy.

Example:
    >>> [round(x, 4) for x in mean_ci([1.0, 2.0, 3.0])["ci95"]]
    [-0.4841, 4.4841]
    >>> [round(x, 4) for x in wilson(81, 100)]
    [0.7222, 0.8749]
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from statistics import NormalDist
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "KAPPA_WEIGHTS",
    "Interval",
    "Series",
    "bootstrap_ci",
    "cohen_kappa",
    "describe",
    "describe_many",
    "hedges_g",
    "kappa_ci",
    "line_crossings",
    "mean_ci",
    "mean_difference_ci",
    "series_ci",
    "t_quantile",
    "wilson",
]

#: Parallel lists over iterations: ``iteration``, ``mean``, ``se``, ``n``, ``ci95``.
Series = dict[str, list[Any]]


@functools.lru_cache(maxsize=1024)  # bisection over the exact CDF: worth keeping per df
def t_quantile(df: int, level: float = 0.95) -> float:
    """Two-sided Student-t critical value: P(|T_df| <= t) = level.

    Exact for integer df through the closed-form CDF (Abramowitz & Stegun 26.7.3-4), inverted by
    bisection, so no scipy is needed; df > 10,000 uses the normal quantile (error < 1e-4).

    Example:
        >>> round(t_quantile(2), 6), round(t_quantile(1), 3)
        (4.302653, 12.706)
    """
    if df < 1:
        raise ValueError(f"df must be >= 1, got {df}")
    if df > 10_000:
        return NormalDist().inv_cdf(0.5 + level / 2)
    lo, hi = 0.0, 1.0
    while _t_central(hi, df) < level:
        lo, hi = hi, hi * 2
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_central(mid, df) < level else (lo, mid)
    return (lo + hi) / 2


def _t_central(t: float, df: int) -> float:
    """P(|T| <= t) for integer df (Abramowitz & Stegun 26.7.3 odd df, 26.7.4 even df)."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df % 2 == 0:
        term, total = 1.0, 1.0
        for k in range(df // 2 - 1):
            term *= (2 * k + 1) / (2 * k + 2) * c2
            total += term
        return s * total
    if df == 1:
        return 2 * theta / math.pi
    term = total = math.cos(theta)
    for k in range(1, (df - 1) // 2):
        term *= (2 * k) / (2 * k + 1) * c2
        total += term
    return 2 / math.pi * (theta + s * total)


def mean_ci(values: Sequence[float], level: float = 0.95) -> dict[str, Any]:
    """Mean, standard error (sample SD / sqrt n), n and t-interval of independent values.

    n = 0 gives mean None; n = 1 gives the value with se and ci95 None ("n=1, no CI").
    """
    n = len(values)
    if n == 0:
        return {"mean": None, "se": None, "n": 0, "ci95": None}
    m = sum(values) / n
    if n == 1:
        return {"mean": m, "se": None, "n": 1, "ci95": None}
    se = math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1) / n)
    half = t_quantile(n - 1, level) * se
    return {"mean": m, "se": se, "n": n, "ci95": [m - half, m + half]}


def wilson(k: int, n: int, level: float = 0.95) -> list[float] | None:
    """Wilson score interval of k successes in n trials (None when n = 0).

    Example:
        >>> [round(x, 4) for x in wilson(81, 100)]
        [0.7222, 0.8749]
    """
    if n == 0:
        return None
    z = NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return [max(0.0, centre - half), min(1.0, centre + half)]


def series_ci(per_t: Mapping[int, list[float]], horizon: int) -> Series:
    """:func:`mean_ci` of the values at each iteration 0..horizon, as parallel lists."""
    cells = [mean_ci(per_t.get(t, [])) for t in range(horizon + 1)]
    out: Series = {"iteration": list(range(horizon + 1))}
    for name in ("mean", "se", "n", "ci95"):
        out[name] = [c[name] for c in cells]
    return out


def line_crossings(
    line: Sequence[float | None], reference: Sequence[float | None]
) -> dict[str, Any]:
    """Whether ``line`` changes side of ``reference`` (touching without crossing does not count).

    Returns ``initial_side`` ("above"/"below" at the first iteration where they differ, None if
    never), ``crossed`` and the ``iterations`` at which the side changed.

    Example:
        >>> line_crossings([2.0, 4.0, 5.0, 7.0], [5.0, 5.0, 5.0, 6.0])
        {'initial_side': 'below', 'crossed': True, 'iterations': [3]}
    """
    side, first, flips = 0, None, []
    for t, (a, b) in enumerate(zip(line, reference, strict=True)):
        if a is None or b is None or a == b:
            continue
        now = 1 if a > b else -1
        if side == 0:
            side, first = now, ("above" if now > 0 else "below")
        elif now != side:
            side = now
            flips.append(t)
    return {"initial_side": first, "crossed": bool(flips), "iterations": flips}


#: The disagreement weights of :func:`cohen_kappa`: None (unweighted), "linear", "quadratic".
KAPPA_WEIGHTS = (None, "linear", "quadratic")


def cohen_kappa(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
    weights: str | None = None,
) -> float | None:
    """Cohen's kappa of two raters' labels of the same items (Cohen 1960; weighted: Cohen 1968).

    kappa = 1 - sum(w*O) / sum(w*E), with O the table of joint proportions, E the outer product
    of its margins and w the disagreement weights over the positions i, j in ``labels``: 1 off
    the diagonal (unweighted, the same as (p_o - p_e) / (1 - p_e)), |i - j| ("linear") or
    (i - j)^2 ("quadratic"). Pass the *full* label list (1..7 for 1-7 scores): labels inferred
    from the data drop unused middle categories and shift the weights. None when there are no
    items or the denominator is 0 (both raters constant on one label).

    Raises:
        ValueError: unequal lengths, a value not in ``labels``, or unknown ``weights``.

    Example:
        >>> round(cohen_kappa([1, 1, 2, 2, 4, 4, 5], [1, 2, 2, 4, 4, 5, 5], range(1, 6),
        ...                   "linear"), 4)
        0.6667
    """
    table, labels = _joint_counts(a, b, labels)
    n = len(a)
    if n == 0:
        return None
    w = _kappa_weights(len(labels), weights)
    rows = [sum(r) / n for r in table]
    cols = [sum(c) / n for c in zip(*table, strict=True)]
    observed = sum(
        w[i][j] * table[i][j] / n for i in range(len(labels)) for j in range(len(labels))
    )
    expected = sum(
        w[i][j] * rows[i] * cols[j] for i in range(len(labels)) for j in range(len(labels))
    )
    return None if expected == 0 else 1 - observed / expected


def _joint_counts(
    a: Sequence[Hashable], b: Sequence[Hashable], labels: Sequence[Hashable] | None
) -> tuple[list[list[int]], list[Hashable]]:
    if len(a) != len(b):
        raise ValueError(f"the raters judged {len(a)} and {len(b)} items; they must be equal")
    full = list(labels) if labels is not None else sorted(set(a) | set(b), key=_order)
    index = {label: i for i, label in enumerate(full)}
    table = [[0] * len(full) for _ in full]
    for x, y in zip(a, b, strict=True):
        if x not in index or y not in index:
            bad = x if x not in index else y
            raise ValueError(f"label {bad!r} is not one of the labels {full}")
        table[index[x]][index[y]] += 1
    return table, full


def _order(label: Hashable) -> tuple[int, Any]:
    # Numbers sort by value, anything else by its text, so mixed label sets still sort.
    return (0, label) if isinstance(label, int | float) else (1, str(label))


def _kappa_weights(k: int, weights: str | None) -> list[list[float]]:
    if weights not in KAPPA_WEIGHTS:
        raise ValueError(f"weights must be one of {KAPPA_WEIGHTS}, got {weights!r}")
    power = {None: 0, "linear": 1, "quadratic": 2}[weights]
    return [[float(i != j) * abs(i - j) ** power for j in range(k)] for i in range(k)]


def kappa_ci(
    a: Sequence[Hashable],
    b: Sequence[Hashable],
    labels: Sequence[Hashable] | None = None,
    weights: str | None = None,
    *,
    rng: np.random.Generator | int = 0,
    n_boot: int = 2000,
    level: float = 0.95,
) -> dict[str, Any]:
    """:func:`cohen_kappa` with a percentile bootstrap interval over items.

    Resampling n items with replacement is drawing the joint table's counts from a multinomial
    over its cells (probabilities O), which is how it is computed, so the cost does not grow with
    n. Resamples whose kappa is undefined are left out and counted in ``undefined``; ``ci95`` is
    None with fewer than 2 items or when every resample is undefined.

    Returns:
        ``{"kappa", "n", "ci95", "n_boot", "undefined"}``.

    Example:
        >>> out = kappa_ci([1, 2, 3, 1, 2, 3], [1, 2, 3, 1, 2, 2], rng=7)
        >>> round(out["kappa"], 4), out["n"], len(out["ci95"])
        (0.75, 6, 2)
    """
    table, labels = _joint_counts(a, b, labels)
    n, k = len(a), len(labels)
    out: dict[str, Any] = {"kappa": cohen_kappa(a, b, labels, weights), "n": n, "ci95": None}
    out.update(n_boot=n_boot, undefined=0)
    if n < 2:
        return out
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    cells = np.asarray(table, dtype=float).ravel() / n
    boot = gen.multinomial(n, cells, size=n_boot).reshape(n_boot, k, k) / n
    w = np.asarray(_kappa_weights(k, weights))
    expected = np.einsum("bi,bj,ij->b", boot.sum(axis=2), boot.sum(axis=1), w)
    observed = np.einsum("bij,ij->b", boot, w)
    ok = expected > 0
    out["undefined"] = int(n_boot - ok.sum())
    if ok.any():
        kappas = 1 - observed[ok] / expected[ok]
        lo, hi = np.quantile(kappas, [(1 - level) / 2, (1 + level) / 2])
        out["ci95"] = [float(lo), float(hi)]
    return out


class Interval(NamedTuple):
    """A confidence interval; a tuple, so ``json.dumps`` writes it as ``[low, high]``."""

    low: float
    high: float


#: ``statistic(samples, axis=-1)`` of a 2-d array of resamples (numpy reductions), or
#: ``statistic(values)`` of one 1-d array (anything else, called once per resample).
Statistic = Callable[..., Any]


def bootstrap_ci(
    values: Sequence[float] | np.ndarray,
    statistic: Statistic = np.mean,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> Interval | None:
    """Percentile bootstrap interval of ``statistic`` over independent values (Efron 1979).

    The unit is the seed: pass one value per run. The values are sorted before resampling, so
    the interval depends on the values and not on their (run) order. Fewer than 2 values give
    None: no interval rather than a zero-width one (constant data do give zero width). At
    fewer than ~20 values the percentile interval under-covers (about 84% at 5 values for a
    nominal 95%); :func:`mean_ci`'s t-interval is the better choice there.

    Raises:
        ValueError: a value that is not finite, or ``level`` outside (0, 1).

    Example:
        >>> bootstrap_ci([1.0, 2.0, 3.0, 4.0], resamples=4000)
        Interval(low=1.5, high=3.5)
        >>> bootstrap_ci([5.0]) is None
        True
    """
    x = _finite_sorted(values)
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if x.size < 2:
        return None
    return _percentiles(_resampled(x, statistic, (seed, 0), resamples), level)


def mean_difference_ci(
    a: Sequence[float] | np.ndarray,
    b: Sequence[float] | np.ndarray,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float | None, Interval | None]:
    """mean(a) - mean(b) with a percentile bootstrap interval (each group resampled alone).

    Returns:
        ``(difference, interval)``: difference None if a group is empty, interval None if a
        group has fewer than 2 values.

    Example:
        >>> diff, ci = mean_difference_ci([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
        >>> diff, ci.low <= diff <= ci.high
        (3.0, True)
    """
    xa, xb = _finite_sorted(a), _finite_sorted(b)
    if xa.size == 0 or xb.size == 0:
        return None, None
    diff = float(xa.mean() - xb.mean())
    if xa.size < 2 or xb.size < 2:
        return diff, None
    # Two streams: groups of equal size must not share their resamples.
    ma = _resampled(xa, np.mean, (seed, 0), resamples)
    mb = _resampled(xb, np.mean, (seed, 1), resamples)
    return diff, _percentiles(ma - mb, level)


def hedges_g(
    a: Sequence[float] | np.ndarray, b: Sequence[float] | np.ndarray, level: float = 0.95
) -> tuple[float | None, Interval | None]:
    """Hedges' g of a against b: the bias-corrected standardised mean difference.

    g = J * (mean(a) - mean(b)) / s_pooled, with J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)),
    m = n_a + n_b - 2 (the exact correction, Hedges 1981), and the normal-approximation
    interval g +- z * sqrt(J^2 * ((n_a + n_b) / (n_a n_b) + d^2 / (2 (n_a + n_b))))
    (Hedges & Olkin 1985; Borenstein et al. 2009, eq. 4.20-4.24).

    Returns:
        ``(g, interval)``; both None when a group has fewer than 2 values or the pooled
        standard deviation is 0 (g undefined).

    Example:
        >>> g, ci = hedges_g([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
        >>> round(g, 4), [round(x, 4) for x in ci]
        (2.3937, [0.5323, 4.255])
    """
    xa, xb = _finite_sorted(a), _finite_sorted(b)
    na, nb = xa.size, xb.size
    if na < 2 or nb < 2:
        return None, None
    m = na + nb - 2
    pooled = math.sqrt(((na - 1) * xa.var(ddof=1) + (nb - 1) * xb.var(ddof=1)) / m)
    if pooled == 0:
        return None, None
    d = float(xa.mean() - xb.mean()) / pooled
    j = math.exp(math.lgamma(m / 2) - math.lgamma((m - 1) / 2)) / math.sqrt(m / 2)
    se = j * math.sqrt((na + nb) / (na * nb) + d * d / (2 * (na + nb)))
    z = NormalDist().inv_cdf(0.5 + level / 2)
    g = j * d
    return g, Interval(g - z * se, g + z * se)


def _finite_sorted(values: Sequence[float] | np.ndarray) -> np.ndarray:
    x = np.sort(np.asarray(values, dtype=float).ravel())
    if not np.isfinite(x).all():
        raise ValueError("bootstrap values must be finite numbers (drop missing values first)")
    return x


def _resampled(
    x: np.ndarray, statistic: Statistic, stream: tuple[int, int], resamples: int
) -> np.ndarray:
    """``statistic`` of each resample of x; resample b draws ``_draws(...)[b]`` (by index)."""
    if statistic is np.mean:  # the common case: one matrix product over resample counts
        return _counts(x.size, resamples, stream) @ x / x.size  # type: ignore[no-any-return]
    samples = x[_draws(x.size, resamples, stream)]
    try:
        out = np.asarray(statistic(samples, axis=-1), dtype=float)
    except TypeError:  # a plain function of one sample, without numpy's axis argument
        out = np.asarray([statistic(s) for s in samples], dtype=float)
    if out.shape != (resamples,):
        raise ValueError(f"statistic must reduce a sample to one number, got shape {out.shape}")
    return out


def _draws(n: int, resamples: int, stream: tuple[int, int]) -> np.ndarray:
    # Seeded from (seed, stream), so every statistic of one seed sees the same resamples.
    return np.random.default_rng(stream).integers(0, n, size=(resamples, n))


def _counts(n: int, resamples: int, stream: tuple[int, int]) -> np.ndarray:
    """How often each value is drawn in each resample (resamples x n, read-only)."""
    if n * resamples <= _CACHED_COUNTS:
        return _cached_counts(n, resamples, stream)
    return _count_draws(n, resamples, stream)


#: Count matrices up to this many cells (8 MB) are cached: across-runs tables compute many
#: intervals over the same number of runs, which then share one matrix.
_CACHED_COUNTS = 1_000_000


@functools.lru_cache(maxsize=8)
def _cached_counts(n: int, resamples: int, stream: tuple[int, int]) -> np.ndarray:
    out = _count_draws(n, resamples, stream)
    out.flags.writeable = False
    return out


def _count_draws(n: int, resamples: int, stream: tuple[int, int]) -> np.ndarray:
    draws = _draws(n, resamples, stream) + n * np.arange(resamples)[:, None]
    return np.bincount(draws.ravel(), minlength=n * resamples).reshape(resamples, n).astype(float)


def _percentiles(stats: np.ndarray, level: float) -> Interval:
    lo, hi = np.quantile(stats, [(1 - level) / 2, (1 + level) / 2])
    return Interval(float(lo), float(hi))


def describe(
    values: Sequence[float] | np.ndarray, *, resamples: int = 2000, seed: int = 0
) -> dict[str, Any]:
    """Mean, bootstrap 95% interval, t-interval and n of one value per run (JSON-ready).

    The unit is the run (seed); ``ci95`` (:func:`bootstrap_ci` of the mean) and ``t_ci95``
    (:func:`mean_ci`) are None below 2 values.

    Example:
        >>> describe([2.0])
        {'mean': 2.0, 'ci95': None, 't_ci95': None, 'n': 1}
    """
    return describe_many([values], resamples=resamples, seed=seed)[0]


def describe_many(
    groups: Sequence[Sequence[float] | np.ndarray], *, resamples: int = 2000, seed: int = 0
) -> list[dict[str, Any]]:
    """:func:`describe` of each group, the bootstrap done as one matrix product per group size.

    A sweep's tables ask for hundreds of intervals over the same number of runs (every
    generation and round of every condition); they share one matrix of resample counts.
    """
    xs = [_finite_sorted(g) for g in groups]
    cis: list[Interval | None] = [None] * len(xs)
    by_size: dict[int, list[int]] = {}
    for i, x in enumerate(xs):
        by_size.setdefault(x.size, []).append(i)
    for n, rows in by_size.items():
        if n < 2:
            continue
        means = np.stack([xs[i] for i in rows]) @ _counts(n, resamples, (seed, 0)).T / n
        lo, hi = np.quantile(means, [0.025, 0.975], axis=1)
        for j, i in enumerate(rows):
            cis[i] = Interval(float(lo[j]), float(hi[j]))
    return [_described(x, ci) for x, ci in zip(xs, cis, strict=True)]


def _described(x: np.ndarray, ci: Interval | None) -> dict[str, Any]:
    t = mean_ci(x.tolist())
    t_ci = Interval(*t["ci95"]) if t["ci95"] is not None else None
    return {"mean": t["mean"], "ci95": ci, "t_ci95": t_ci, "n": int(x.size)}
