"""Small statistics shared by the analysis modules: t-intervals of means and of series of
means, Wilson intervals, side changes of one line against another, and Cohen's kappa with a
bootstrap interval over items.

Pure standard library (the kappa bootstrap uses numpy), so every statistic but the ordinal
model runs without scipy.

Example:
    >>> [round(x, 4) for x in mean_ci([1.0, 2.0, 3.0])["ci95"]]
    [-0.4841, 4.4841]
    >>> [round(x, 4) for x in wilson(81, 100)]
    [0.7222, 0.8749]
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Mapping, Sequence
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

__all__ = [
    "KAPPA_WEIGHTS",
    "Series",
    "cohen_kappa",
    "kappa_ci",
    "line_crossings",
    "mean_ci",
    "series_ci",
    "t_quantile",
    "wilson",
]

#: Parallel lists over iterations: ``iteration``, ``mean``, ``se``, ``n``, ``ci95``.
Series = dict[str, list[Any]]


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
    import numpy as np

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
