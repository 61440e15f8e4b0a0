"""The trait-vector norm society (offline stand-in for Li et al. 2024, arXiv:2401.04620).

Agents carry trait vectors z in [0, 1]^d and live under an era's norm vector r. A rule
observer scores conduct by its squared distance to the norm,
``score = 1 + 6 * exp(-dist2 / (2 * width^2))`` (1..7); the fittest share survives and each
child is a uniform crossover of two random survivors plus per-element Gaussian mutation,
taking a removed member's place (a node of the social network). Conformity pulls an agent
toward its neighbours' mean behaviour (z <- (1-k) z + k mean), the DeGroot (1974) update.

Random mutation here gives the classical trade-off (a higher rate adapts faster after a
norm shift but settles at a lower, noisier fitness: mutation load), the opposite of Li et
al.'s LLM result, where guided rewrites raise fitness with the rate.

Network measures: numeric assortativity (Newman 2003, Phys. Rev. E 67:026126) and the
clustering of violators. Everything works on whole populations as numpy arrays; the module
knows nothing of PettingZoo, Gymnasium, networkx or LLMs.

Example:
    >>> rng = np.random.default_rng(0)
    >>> out = simulate(20, 5, 30, rate=0.2, norm=lambda step: np.full(5, 0.3), rng=rng)
    >>> bool(out["mean_fitness"][-1] > out["mean_fitness"][0])
    True
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from agentsim.core.config import check_number
from agentsim.core.errors import ConfigError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LABELS = ("violates", "partly", "adheres")
#: Scores at or above this are "adheres"; at or below VIOLATES_AT, "violates".
ADHERES_AT = 5.0
VIOLATES_AT = 3.0
#: Scale of the rule observer's advice: a gap of half the unit interval is full strength.
ADVICE_SCALE = 0.5
#: Stand-in neighbour mean of a node without neighbours (the centre of the trait space).
NO_NEIGHBOUR_MEAN = 0.5


def fitness(dist2: npt.ArrayLike, width: float = 0.35) -> FloatArray:
    """Gaussian fitness ``exp(-dist2 / (2 width^2))`` of squared distances to the norm.

    Example:
        >>> fitness(np.array([0.0, 2 * 0.35**2])).round(4).tolist()
        [1.0, 0.3679]
    """
    return np.exp(-np.asarray(dist2, dtype=np.float64) / (2.0 * width * width))


def behaviour_scores(
    behaviours: npt.ArrayLike, norm: npt.ArrayLike, *, width: float = 0.35
) -> FloatArray:
    """Each behaviour's own 1..7 score (no statement, no noise): ``1 + 6 f(||b - r||^2)``.

    Args:
        behaviours: shape ``(..., d)``.
        norm: shape ``(d,)``.
        width: the fitness width.

    Returns:
        Scores of shape ``(...)``.

    Example:
        >>> behaviour_scores(np.array([[0.3, 0.3], [0.3, 0.65]]), np.array([0.3, 0.3])).round(3)
        array([7.   , 4.639])
    """
    b = np.asarray(behaviours, dtype=np.float64)
    dist2 = ((b - np.asarray(norm, dtype=np.float64)) ** 2).sum(axis=-1)
    return 1.0 + 6.0 * fitness(dist2, width)


def observer_scores(
    behaviours: npt.ArrayLike,
    statements: npt.ArrayLike,
    norm: npt.ArrayLike,
    *,
    width: float = 0.35,
    statement_weight: float = 0.5,
    noise: float = 0.0,
    rng: np.random.Generator | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The rule observer's scores and advice for a step's behaviours and statements.

    ``dist2 = (1-w) mean_s ||b_s - r||^2 + w ||s - r||^2`` (``w = 1`` without behaviours);
    ``score = clip(1 + 6 f(dist2) + N(0, noise^2), 1, 7)``; the advice is the signed
    per-dimension direction toward the norm, ``clip((r - mean_s b_s) / 0.5, -1, 1)`` (from
    the statement when there are no behaviours).

    Args:
        behaviours: shape ``(n, S, d)``; ``S`` may be 0.
        statements: shape ``(n, d)``.
        norm: shape ``(d,)``.
        width: the fitness width.
        statement_weight: ``w``, the statement's share of the distance.
        noise: sd of the observer's score noise.
        rng: draws the noise; required when ``noise > 0``.

    Returns:
        ``(scores (n,), advice (n, d))``.

    Raises:
        ValueError: ``noise > 0`` without ``rng``, or shapes that do not match.

    Example:
        >>> b = np.array([[[0.3, 0.3], [0.3, 0.3]]]); s = np.array([[0.3, 0.65]])
        >>> scores, advice = observer_scores(b, s, np.array([0.3, 0.3]))
        >>> scores.round(3).tolist(), advice.tolist()
        ([5.673], [[0.0, 0.0]])
    """
    b = np.asarray(behaviours, dtype=np.float64)
    s = np.asarray(statements, dtype=np.float64)
    r = np.asarray(norm, dtype=np.float64)
    if b.ndim != 3 or s.shape != (b.shape[0], b.shape[2]) or r.shape != (b.shape[2],):
        raise ValueError(f"shapes {b.shape}, {s.shape}, {r.shape}: want (n,S,d), (n,d), (d,)")
    if noise > 0 and rng is None:
        raise ValueError("observer noise > 0 needs an rng (a numpy Generator)")
    statement_dist2 = ((s - r) ** 2).sum(axis=-1)
    if b.shape[1] == 0:
        dist2, centre = statement_dist2, s
    else:
        behaviour_dist2 = ((b - r) ** 2).sum(axis=-1).mean(axis=1)
        dist2 = (1.0 - statement_weight) * behaviour_dist2 + statement_weight * statement_dist2
        centre = b.mean(axis=1)
    scores = 1.0 + 6.0 * fitness(dist2, width)
    if noise > 0 and rng is not None:
        scores = scores + rng.normal(0.0, noise, size=scores.shape)
    advice = np.clip((r - centre) / ADVICE_SCALE, -1.0, 1.0)
    return np.clip(scores, 1.0, 7.0), advice


def labels(scores: npt.ArrayLike) -> npt.NDArray[np.int8]:
    """Index into :data:`LABELS`: 2 (adheres) if score >= 5, 0 (violates) if <= 3, else 1.

    Example:
        >>> [LABELS[i] for i in labels(np.array([1.0, 3.0, 3.5, 5.0, 7.0]))]
        ['violates', 'violates', 'partly', 'adheres', 'adheres']
    """
    s = np.asarray(scores, dtype=np.float64)
    out = np.ones(s.shape, dtype=np.int8)
    out[s >= ADHERES_AT] = 2
    out[s <= VIOLATES_AT] = 0
    return out


def csr_from_edges(n: int, edges: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Undirected edge list ``(m, 2)`` -> CSR ``(indptr (n+1,), indices)``.

    Both orientations are stored; self loops and duplicate edges are dropped; each node's
    neighbours are sorted.

    Raises:
        ValueError: an edge list that is not ``(m, 2)`` or names a node outside ``0..n-1``.

    Example:
        >>> indptr, indices = csr_from_edges(4, np.array([[0, 1], [1, 0], [1, 2], [3, 3]]))
        >>> indptr.tolist(), indices.tolist()
        ([0, 1, 3, 4, 4], [1, 0, 2, 1])
    """
    e = np.asarray(edges, dtype=np.int64)
    e = e.reshape(0, 2) if e.size == 0 else e
    if e.ndim != 2 or e.shape[1] != 2:
        raise ValueError(f"edges must have shape (m, 2), got {e.shape}")
    if e.size and (e.min() < 0 or e.max() >= n):
        raise ValueError(f"edges name nodes outside 0..{n - 1}")
    e = e[e[:, 0] != e[:, 1]]
    both = np.unique(np.concatenate([e, e[:, ::-1]]), axis=0)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(both[:, 0], minlength=n), out=indptr[1:])
    return indptr, np.ascontiguousarray(both[:, 1])


def neighbour_means(
    values: npt.ArrayLike, indptr: npt.ArrayLike, indices: npt.ArrayLike
) -> tuple[FloatArray, BoolArray]:
    """Mean of each node's neighbours' rows of ``values`` ``(n, d)``.

    Returns:
        ``(means (n, d), has_neighbours (n,))``; a node without neighbours gets 0.5.

    Example:
        >>> indptr, indices = csr_from_edges(3, np.array([[0, 1], [0, 2]]))
        >>> means, has = neighbour_means(np.array([[0.0], [0.2], [0.6]]), indptr, indices)
        >>> means.round(2).ravel().tolist(), has.tolist()
        ([0.4, 0.0, 0.0], [True, True, True])
    """
    v = np.asarray(values, dtype=np.float64)
    ptr = np.asarray(indptr, dtype=np.int64)
    degree = np.diff(ptr)
    has = degree > 0
    means = np.full(v.shape, NO_NEIGHBOUR_MEAN)
    if has.any():
        # reduceat sums a[start_k:start_k+1]; only non-empty rows are passed, so every
        # start is strictly below the next one and inside the gathered array.
        sums = np.add.reduceat(v[np.asarray(indices, dtype=np.int64)], ptr[:-1][has], axis=0)
        means[has] = sums / degree[has, None]
    return means, has


def complete_neighbour_means(values: npt.ArrayLike) -> tuple[FloatArray, BoolArray]:
    """:func:`neighbour_means` on a complete graph: everyone else's mean, in O(n d).

    Example:
        >>> means, has = complete_neighbour_means(np.array([[0.0], [0.3], [0.6]]))
        >>> means.round(2).ravel().tolist(), has.tolist()
        ([0.45, 0.3, 0.15], [True, True, True])
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n < 2:
        return np.full(v.shape, NO_NEIGHBOUR_MEAN), np.zeros(n, dtype=bool)
    return (v.sum(axis=0) - v) / (n - 1), np.ones(n, dtype=bool)


def conform(
    traits: npt.ArrayLike, neighbour_mean: npt.ArrayLike, has: npt.ArrayLike, k: float
) -> FloatArray:
    """DeGroot step toward the neighbours: ``(1-k) z + k mean`` where ``has``, else ``z``.

    Example:
        >>> conform(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]), np.array([True, False]),
        ...         0.25).ravel().tolist()
        [0.25, 1.0]
    """
    z = np.asarray(traits, dtype=np.float64)
    moved = (1.0 - k) * z + k * np.asarray(neighbour_mean, dtype=np.float64)
    return np.where(np.asarray(has, dtype=bool)[:, None], moved, z)


def nearest_option(vectors: npt.ArrayLike, options: npt.ArrayLike) -> IntArray:
    """Index of the option nearest (Euclidean) to each vector: ``(n, d), (n, k, d) -> (n,)``.

    Example:
        >>> opts = np.array([[[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]]])
        >>> nearest_option(np.array([[0.9, 0.2]]), opts).tolist()
        [3]
    """
    v = np.asarray(vectors, dtype=np.float64)
    dist2 = ((np.asarray(options, dtype=np.float64) - v[:, None, :]) ** 2).sum(axis=-1)
    return np.asarray(dist2.argmin(axis=1), dtype=np.int64)


def numeric_assortativity(values: npt.ArrayLike, edges: npt.ArrayLike) -> float | None:
    """Newman's (2003) numeric assortativity of node ``values`` over an undirected graph.

    The Pearson correlation of the values at the two ends of every edge, over both
    orientations (duplicates counted once; a self loop once, as networkx counts it).

    Returns:
        The coefficient in [-1, 1], or None with no edges or when the ends' values do not vary.

    Example:
        >>> numeric_assortativity(np.array([0.0, 1.0, 0.0, 1.0]), np.array([[0, 1], [2, 3]]))
        -1.0
    """
    x = np.asarray(values, dtype=np.float64)
    e = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    e = np.unique(np.sort(e, axis=1), axis=0)
    loops = e[:, 0] == e[:, 1]
    ends = np.concatenate([e, e[~loops][:, ::-1]])
    if len(ends) == 0:
        return None
    a, b = x[ends[:, 0]], x[ends[:, 1]]
    da, db = a - a.mean(), b - b.mean()
    denom = float(np.sqrt((da * da).sum() * (db * db).sum()))
    if denom == 0.0:
        return None
    return float(np.clip((da * db).sum() / denom, -1.0, 1.0))


def violator_clustering(
    violates: npt.ArrayLike, indptr: npt.ArrayLike, indices: npt.ArrayLike
) -> float | None:
    """How much violators cluster: ``P(neighbour violates | agent violates) / share violating``.

    The conditional probability is pooled over the (violator, neighbour) pairs of the
    violators that have neighbours; the share is over all agents. 1 means no clustering.

    Returns:
        The ratio, or None when no violator has a neighbour.

    Example:
        >>> indptr, indices = csr_from_edges(4, np.array([[0, 1], [2, 3]]))
        >>> violator_clustering(np.array([True, True, False, False]), indptr, indices)
        2.0
    """
    v = np.asarray(violates, dtype=bool)
    ptr = np.asarray(indptr, dtype=np.int64)
    degree = np.diff(ptr)
    rows = np.repeat(np.arange(len(v)), degree)
    from_violator = v[rows]
    pairs = int(from_violator.sum())
    if pairs == 0:
        return None
    both = int((from_violator & v[np.asarray(indices, dtype=np.int64)]).sum())
    return (both / pairs) / float(v.mean())


def shifted_norm(
    step: int, shift_step: int, d: int, before: float = 0.3, after: float = 0.7
) -> FloatArray:
    """A norm that jumps from ``before * 1`` to ``after * 1`` at ``shift_step``.

    Example:
        >>> shifted_norm(10, 11, 2).tolist(), shifted_norm(11, 11, 2).tolist()
        ([0.3, 0.3], [0.7, 0.7])
    """
    return np.full(d, before if step < shift_step else after, dtype=np.float64)


def survivor_count(n: int, survival_fraction: float) -> int:
    """How many of ``n`` survive: ``round(survival_fraction * n)``, as the evolution loop.

    Raises:
        ConfigError: when no one would survive.

    Example:
        >>> survivor_count(10, 0.5), survivor_count(3, 0.5)
        (5, 2)
    """
    keep = round(survival_fraction * n)
    if not 1 <= keep <= n:
        raise ConfigError("survival_fraction", survival_fraction, f"a share keeping 1..{n} of {n}")
    return keep


def reproduce(
    traits: npt.ArrayLike,
    scores: npt.ArrayLike,
    survival_fraction: float,
    rate: float,
    sigma: float,
    rng: np.random.Generator,
) -> tuple[FloatArray, IntArray, IntArray]:
    """One round of selection and reproduction on a population's trait vectors.

    The top ``survival_fraction`` by score survive (ties broken at random) and keep their
    positions; each removed member's position gets a child of two distinct random survivors
    (one if only one survives): each element from either parent with probability 0.5, then
    with probability ``rate`` perturbed by N(0, sigma^2) and clipped to [0, 1].

    Args:
        traits: ``(n, d)``.
        scores: ``(n,)``, higher is fitter.
        survival_fraction: share that survives (``round(p n)`` must be 1..n).
        rate: per-element mutation probability m.
        sigma: sd of a mutation.
        rng: all draws.

    Returns:
        ``(new_traits (n, d), parents (n_new, 2), replaced (n_new,))``: child ``i`` sits at
        position ``replaced[i]`` and its parents are the positions ``parents[i]``.

    Example:
        >>> z = np.array([[0.0, 0.0], [1.0, 1.0], [0.5, 0.5], [0.2, 0.2]])
        >>> new, parents, replaced = reproduce(z, np.array([4.0, 3.0, 2.0, 1.0]), 0.5, 0.0,
        ...                                    0.1, np.random.default_rng(0))
        >>> replaced.tolist(), np.sort(parents, axis=1).tolist()
        ([2, 3], [[0, 1], [0, 1]])
    """
    z = np.asarray(traits, dtype=np.float64)
    s = np.asarray(scores, dtype=np.float64)
    n, d = z.shape
    n_keep = survivor_count(n, survival_fraction)
    order = np.lexsort((rng.permutation(n), -s))
    keep, replaced = order[:n_keep], np.sort(order[n_keep:])
    n_new = n - n_keep
    first = rng.integers(0, n_keep, size=n_new)
    second = first.copy()
    if n_keep >= 2:  # a second draw from the others: two distinct parents
        second = rng.integers(0, n_keep - 1, size=n_new)
        second += second >= first
    parents = np.asarray(keep[np.stack([first, second], axis=1)], dtype=np.int64)
    pick = rng.random((n_new, d)) < 0.5
    child = np.where(pick, z[parents[:, 0]], z[parents[:, 1]])
    hit = rng.random((n_new, d)) < rate
    mutated = np.clip(child + rng.normal(0.0, sigma, size=(n_new, d)), 0.0, 1.0)
    new = z.copy()
    new[replaced] = np.where(hit, mutated, child)
    return new, parents, np.asarray(replaced, dtype=np.int64)


STATS = (
    "mean_score",
    "best_score",
    "sd_score",
    "mean_fitness",
    "best_fitness",
    "sd_fitness",
    "diversity",
    "norm_distance",
    "violation_rate",
    "adherence_rate",
)


def simulate(
    n: int,
    d: int,
    steps: int,
    *,
    rate: float,
    norm: Callable[[int], npt.ArrayLike],
    rng: np.random.Generator,
    conformity: float = 0.0,
    survival_fraction: float = 0.5,
    sigma: float = 0.1,
    width: float = 0.35,
    indptr: npt.ArrayLike | None = None,
    indices: npt.ArrayLike | None = None,
    noise: float = 0.1,
    situations: int = 3,
    statement_weight: float = 0.5,
    observer_noise: float = 0.0,
    traits: npt.ArrayLike | None = None,
) -> dict[str, FloatArray]:
    """Run the scripted society for ``steps`` steps, the env's scripted rules on arrays.

    Each step (generation ``g = 1..steps``, norm ``r = norm(g)``) has ``situations`` rounds:
    from the second round on every agent with neighbours conforms toward their mean
    behaviour of the previous round (strength ``conformity``); its behaviour is
    ``clip(z + N(0, noise^2), 0, 1)``. The statement is the trait vector after the last
    round; the rule observer scores both (:func:`observer_scores`), then :func:`reproduce`.

    Args:
        n: agents; d: dimensions; steps: generations.
        rate: per-element mutation probability m.
        norm: the norm vector of a (1-based) step, e.g. ``lambda g: shifted_norm(g, 11, d)``.
        rng: every draw (initial traits, behaviour noise, observer noise, reproduction).
        conformity: k, the pull toward neighbours per round.
        survival_fraction, sigma: as in :func:`reproduce`.
        width, statement_weight, observer_noise: as in :func:`observer_scores`.
        indptr, indices: the network as CSR (:func:`csr_from_edges`); None: complete graph.
        noise: sd of behaviour around the traits.
        situations: rounds per step (>= 1).
        traits: the initial ``(n, d)`` traits; default U(0, 1)^d per agent.

    Returns:
        Per-step arrays ``(steps,)`` named in :data:`STATS`: observer scores (mean, best,
        sd), trait fitness ``f(||z - r||^2)`` at scoring time (mean, best, sd), diversity
        (mean per-dimension sd of the traits), mean ``||z - r||``, the share of behaviours
        whose own score is <= 3, and the share of agents scoring >= 5.
    """
    check_number("n", n, low=1, integer=True)
    check_number("situations", situations, low=1, integer=True)
    for key, value in (("rate", rate), ("conformity", conformity)):
        check_number(key, value, low=0.0, high=1.0)
    z = rng.random((n, d)) if traits is None else np.array(traits, dtype=np.float64)
    if z.shape != (n, d):
        raise ValueError(f"traits must have shape ({n}, {d}), got {z.shape}")
    out = {key: np.empty(steps) for key in STATS}
    for i in range(steps):
        r = np.asarray(norm(i + 1), dtype=np.float64)
        z, behaviours = _live_step(z, rng, conformity, indptr, indices, noise, situations)
        scores, _ = observer_scores(
            behaviours,
            z,
            r,
            width=width,
            statement_weight=statement_weight,
            noise=observer_noise,
            rng=rng,
        )
        _record(out, i, z, behaviours, scores, r, width)
        z, _, _ = reproduce(z, scores, survival_fraction, rate, sigma, rng)
    return out


def _live_step(
    z: FloatArray,
    rng: np.random.Generator,
    conformity: float,
    indptr: npt.ArrayLike | None,
    indices: npt.ArrayLike | None,
    noise: float,
    situations: int,
) -> tuple[FloatArray, FloatArray]:
    n, d = z.shape
    behaviours = np.empty((n, situations, d))
    for s in range(situations):
        if s > 0 and conformity > 0:
            means, has = _neighbour_view(behaviours[:, s - 1], indptr, indices)
            z = conform(z, means, has, conformity)
        behaviours[:, s] = z if noise == 0 else np.clip(z + rng.normal(0.0, noise, (n, d)), 0, 1)
    return z, behaviours


def _neighbour_view(
    values: FloatArray, indptr: npt.ArrayLike | None, indices: npt.ArrayLike | None
) -> tuple[FloatArray, BoolArray]:
    if indptr is not None and indices is not None:
        return neighbour_means(values, indptr, indices)
    return complete_neighbour_means(values)


def _record(
    out: dict[str, FloatArray],
    i: int,
    z: FloatArray,
    behaviours: FloatArray,
    scores: FloatArray,
    r: FloatArray,
    width: float,
) -> None:
    dist2 = ((z - r) ** 2).sum(axis=1)
    f = fitness(dist2, width)
    own = labels(behaviour_scores(behaviours, r, width=width))
    values = {
        "mean_score": scores.mean(),
        "best_score": scores.max(),
        "sd_score": scores.std(),
        "mean_fitness": f.mean(),
        "best_fitness": f.max(),
        "sd_fitness": f.std(),
        "diversity": z.std(axis=0).mean(),
        "norm_distance": np.sqrt(dist2).mean(),
        "violation_rate": (own == 0).mean(),
        "adherence_rate": (scores >= ADHERES_AT).mean(),
    }
    for key, value in values.items():
        out[key][i] = value
