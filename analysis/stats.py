"""Small statistics shared by the analysis modules: t-intervals of means and of series of
means, Wilson intervals, and side changes of one line against another.

Pure standard library, so every statistic but the ordinal model runs without scipy.

Example:
    >>> [round(x, 4) for x in mean_ci([1.0, 2.0, 3.0])["ci95"]]
    [-0.4841, 4.4841]
    >>> [round(x, 4) for x in wilson(81, 100)]
    [0.7222, 0.8749]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from statistics import NormalDist
from typing import Any

__all__ = ["Series", "line_crossings", "mean_ci", "series_ci", "t_quantile", "wilson"]

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
