"""Who survives a generation.

Example:
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> select_survivors(np.array([5.0, 1.0, 9.0, 3.0]), 2, "top", rng).tolist()
    [0, 2]
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from agentsim.core.config import check_choice

SELECTION_METHODS = ("top", "random", "proportional")


def select_survivors(
    scores: npt.ArrayLike, n_survivors: int, method: str, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Indices (sorted) of the ``n_survivors`` members that survive.

    Methods:
        top: the highest scores (the paper's "top 50%"); ties are broken at random.
        random: a uniform random subset (a neutral-drift control).
        proportional: sampled without replacement with probability proportional to
            score (shifted to be non-negative; uniform when all scores are equal).
    """
    check_choice("selection", method, SELECTION_METHODS)
    s = np.asarray(scores, dtype=np.float64)
    n = len(s)
    if not 0 <= n_survivors <= n:
        raise ValueError(f"n_survivors={n_survivors} must be in [0, {n}]")
    if method == "top":
        chosen = np.lexsort((rng.permutation(n), -s))[:n_survivors]
    elif method == "random":
        chosen = rng.choice(n, size=n_survivors, replace=False)
    else:
        weights = s - s.min()
        p = weights / weights.sum() if weights.sum() > 0 else None
        nonzero = n if p is None else int(np.count_nonzero(p))
        if p is not None and nonzero < n_survivors:  # too few positive weights: add the rest
            p = (weights + 1e-12) / (weights + 1e-12).sum()
        chosen = rng.choice(n, size=n_survivors, replace=False, p=p)
    return np.sort(np.asarray(chosen, dtype=np.int64))
