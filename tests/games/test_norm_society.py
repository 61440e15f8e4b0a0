"""The trait-vector norm society (agentsim.games.norm_society): formulas, network measures,
reproduction, and the modelling-notes oracles of the scripted society."""

import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from agentsim.core.errors import ConfigError
from agentsim.games import norm_society as ns

W = 0.35
unit = st.floats(0.0, 1.0, allow_nan=False)


def edge_lists(max_nodes=12, max_edges=30):
    """(n, edges (m, 2)) with self loops and duplicates allowed."""
    return st.integers(1, max_nodes).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=max_edges),
        )
    )


def edge_array(pairs):
    return np.array(pairs, dtype=np.int64).reshape(-1, 2)


# -- the observer's formulas ------------------------------------------------------------------


def test_fitness_is_the_gaussian_of_the_squared_distance():
    got = ns.fitness(np.array([0.0, 0.1225, 0.245]))  # 0, w^2 and 2 w^2
    assert got.tolist() == pytest.approx([1.0, math.exp(-0.5), math.exp(-1.0)])
    assert ns.fitness(np.array([0.02]), width=0.1)[0] == pytest.approx(math.exp(-1.0))


def test_behaviour_scores_map_distance_to_one_to_seven_on_the_last_axis():
    norm = np.array([0.3, 0.3, 0.3])
    b = np.array([[[0.3, 0.3, 0.3], [1.0, 0.3, 0.3]], [[0.3, 0.3, 0.0], [0.3, 1.0, 1.0]]])
    got = ns.behaviour_scores(b, norm)
    assert got.shape == (2, 2)
    dist2 = [[0.0, 0.49], [0.09, 0.98]]
    want = [[1 + 6 * math.exp(-x / (2 * W * W)) for x in row] for row in dist2]
    assert got.tolist() == [pytest.approx(row) for row in want]


def test_observer_scores_mix_behaviour_and_statement_distances_by_hand():
    norm = np.array([0.5, 0.5])
    behaviours = np.array([[[0.5, 0.9], [0.5, 0.1]]])  # both at squared distance 0.16
    statements = np.array([[0.8, 0.5]])  # squared distance 0.09
    scores, advice = ns.observer_scores(behaviours, statements, norm, statement_weight=0.25)
    dist2 = 0.75 * 0.16 + 0.25 * 0.09
    assert scores[0] == pytest.approx(1 + 6 * math.exp(-dist2 / (2 * W * W)))
    assert advice.tolist() == [[0.0, 0.0]]  # the mean behaviour (0.5, 0.5) is on the norm


def test_observer_scores_without_behaviours_use_the_statement_alone():
    norm = np.array([0.2, 0.2])
    statements = np.array([[0.2, 0.2], [0.9, 0.0], [0.2, 0.45]])
    scores, advice = ns.observer_scores(np.zeros((3, 0, 2)), statements, norm)
    assert scores.tolist() == pytest.approx(ns.behaviour_scores(statements, norm).tolist())
    # advice = clip((norm - statement) / 0.5, -1, 1)
    np.testing.assert_allclose(advice, [[0.0, 0.0], [-1.0, 0.4], [0.0, -0.5]], atol=1e-12)


def test_observer_advice_is_clipped_and_signed():
    b = np.array([[[0.0, 1.0, 0.45]]])
    _, advice = ns.observer_scores(b, b[:, 0], np.array([1.0, 0.0, 0.5]))
    np.testing.assert_allclose(advice, [[1.0, -1.0, 0.1]], atol=1e-12)


def test_observer_noise_needs_an_rng_and_stays_in_range():
    b, s, r = np.full((50, 2, 3), 0.5), np.full((50, 3), 0.5), np.full(3, 0.5)
    with pytest.raises(ValueError, match="rng"):
        ns.observer_scores(b, s, r, noise=0.5)
    scores, _ = ns.observer_scores(b, s, r, noise=2.0, rng=np.random.default_rng(0))
    again, _ = ns.observer_scores(b, s, r, noise=2.0, rng=np.random.default_rng(0))
    assert scores.tolist() == again.tolist()
    assert scores.min() >= 1.0 and scores.max() == 7.0 and scores.min() < 6.0


def test_observer_scores_refuse_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        ns.observer_scores(np.zeros((2, 1, 3)), np.zeros((2, 2)), np.zeros(3))


@given(hnp.arrays(np.float64, st.integers(0, 20), elements=st.floats(1.0, 7.0)))
@example(np.array([3.0, 3.0000001, 4.9999999, 5.0]))
def test_labels_follow_the_thresholds(scores):
    got = ns.labels(scores)
    assert got.dtype == np.int8
    for score, label in zip(scores, got, strict=True):
        assert label == (2 if score >= 5 else 0 if score <= 3 else 1)
    assert ns.LABELS[0] == "violates" and ns.LABELS[2] == "adheres"


def test_shifted_norm_jumps_at_the_shift_step():
    assert ns.shifted_norm(0, 3, 2).tolist() == [0.3, 0.3]
    assert ns.shifted_norm(2, 3, 2).tolist() == [0.3, 0.3]
    assert ns.shifted_norm(3, 3, 2).tolist() == [0.7, 0.7]
    assert ns.shifted_norm(9, 3, 1, before=0.1, after=0.2).tolist() == [0.2]


# -- networks ---------------------------------------------------------------------------------


@given(edge_lists())
def test_csr_from_edges_is_the_symmetric_simple_graph(case):
    n, pairs = case
    indptr, indices = ns.csr_from_edges(n, edge_array(pairs))
    want = {
        i: sorted(({v for u, v in pairs if u == i} | {u for u, v in pairs if v == i}) - {i})
        for i in range(n)
    }
    assert len(indptr) == n + 1 and indptr[0] == 0
    for i in range(n):
        assert indices[indptr[i] : indptr[i + 1]].tolist() == want[i]


def test_csr_from_edges_refuses_bad_edges():
    with pytest.raises(ValueError, match="outside"):
        ns.csr_from_edges(3, np.array([[0, 3]]))
    with pytest.raises(ValueError, match="shape"):
        ns.csr_from_edges(3, np.array([[0, 1, 2]]))


@given(edge_lists(), st.integers(1, 3), st.integers(0, 2**32 - 1))
@example((5, [(0, 1)]), 2, 0)  # trailing nodes without neighbours (reduceat's edge case)
@example((4, []), 1, 0)
def test_neighbour_means_match_a_loop(case, d, seed):
    n, pairs = case
    values = np.random.default_rng(seed).random((n, d))
    indptr, indices = ns.csr_from_edges(n, edge_array(pairs))
    means, has = ns.neighbour_means(values, indptr, indices)
    for i in range(n):
        nbrs = indices[indptr[i] : indptr[i + 1]]
        assert has[i] == (len(nbrs) > 0)
        want = values[nbrs].mean(axis=0) if len(nbrs) else np.full(d, 0.5)
        assert means[i] == pytest.approx(want)


def test_conform_moves_only_agents_with_neighbours():
    z = np.array([[0.0, 1.0], [0.4, 0.4]])
    mean = np.array([[1.0, 0.0], [0.0, 0.0]])
    got = ns.conform(z, mean, np.array([True, False]), 0.3)
    assert got.tolist() == [pytest.approx([0.3, 0.7]), [0.4, 0.4]]


@given(st.integers(0, 2**32 - 1), st.integers(1, 20))
def test_nearest_option_is_the_euclidean_argmin(seed, n):
    rng = np.random.default_rng(seed)
    vectors, options = rng.random((n, 5)), rng.random((n, 4, 5))
    got = ns.nearest_option(vectors, options)
    for i in range(n):
        assert got[i] == min(range(4), key=lambda k: np.linalg.norm(options[i, k] - vectors[i]))


def _nx_assortativity(graph, values):
    nx.set_node_attributes(graph, {i: float(v) for i, v in enumerate(values)}, "x")
    return nx.numeric_assortativity_coefficient(graph, "x")


@pytest.mark.parametrize("seed", range(6))
def test_numeric_assortativity_equals_networkx_on_random_graphs(seed):
    rng = np.random.default_rng(seed)
    graph = nx.gnp_random_graph(30, 0.15, seed=seed)
    values = rng.integers(1, 8, size=30).astype(float)  # observer scores are few distinct values
    edges = np.array(graph.edges())
    duplicated = np.concatenate([edges, edges[:5, ::-1]])  # a repeated edge counts once
    got = ns.numeric_assortativity(values, duplicated)
    assert got == pytest.approx(_nx_assortativity(graph, values), abs=1e-9)


def test_numeric_assortativity_oracles():
    bipartite = nx.complete_bipartite_graph(4, 6)
    sides = np.array([0.0] * 4 + [1.0] * 6)
    assert ns.numeric_assortativity(sides, np.array(bipartite.edges())) == pytest.approx(-1.0)
    cliques = nx.disjoint_union(nx.complete_graph(5), nx.complete_graph(7))
    labels = np.array([2.0] * 5 + [6.0] * 7)
    assert ns.numeric_assortativity(labels, np.array(cliques.edges())) == pytest.approx(1.0)


def test_numeric_assortativity_is_none_when_undefined():
    assert ns.numeric_assortativity(np.array([1.0, 2.0]), np.zeros((0, 2))) is None
    assert ns.numeric_assortativity(np.full(3, 4.0), np.array([[0, 1], [1, 2]])) is None


def test_violator_clustering_by_hand():
    # path 0-1-2-3-4; violators 0, 1, 4: pairs from violators: 0->1, 1->0, 1->2, 4->3
    indptr, indices = ns.csr_from_edges(5, np.array([[0, 1], [1, 2], [2, 3], [3, 4]]))
    violates = np.array([True, True, False, False, True])
    assert ns.violator_clustering(violates, indptr, indices) == pytest.approx((2 / 4) / (3 / 5))


def test_violator_clustering_on_a_complete_graph_is_below_one():
    n, v = 10, 4
    indptr, indices = ns.csr_from_edges(n, np.array(list(nx.complete_graph(n).edges())))
    got = ns.violator_clustering(np.arange(n) < v, indptr, indices)
    assert got == pytest.approx(((v - 1) / (n - 1)) / (v / n))


def test_violator_clustering_is_none_without_violators_with_neighbours():
    indptr, indices = ns.csr_from_edges(3, np.array([[1, 2]]))
    assert ns.violator_clustering(np.zeros(3, dtype=bool), indptr, indices) is None
    assert ns.violator_clustering(np.array([True, False, False]), indptr, indices) is None


# -- reproduction -----------------------------------------------------------------------------


@settings(max_examples=60)
@given(st.integers(2, 30), st.integers(1, 6), st.sampled_from([0.2, 0.5, 0.8]), st.integers(0, 999))
def test_reproduce_keeps_survivors_and_builds_children_from_two_parents(n, d, p, seed):
    assume(round(p * n) >= 1)
    rng = np.random.default_rng(seed)
    traits, scores = rng.random((n, d)), rng.integers(1, 4, size=n).astype(float)  # ties
    new, parents, replaced = ns.reproduce(traits, scores, p, 0.0, 0.1, rng)
    n_keep = round(p * n)
    assert new.shape == (n, d) and len(replaced) == n - n_keep == len(parents)
    kept = np.setdiff1d(np.arange(n), replaced)
    assert np.array_equal(new[kept], traits[kept])  # survivors unchanged on their positions
    if len(replaced):
        assert scores[kept].min() >= scores[replaced].max()  # the top share survives
    assert not np.isin(parents, replaced).any()  # parents are survivors
    if n_keep >= 2:
        assert (parents[:, 0] != parents[:, 1]).all()
    a, b = traits[parents[:, 0]], traits[parents[:, 1]]
    child = new[replaced]
    assert ((child == a) | (child == b)).all()  # rate 0: every element from a parent


def test_reproduce_breaks_ties_at_random():
    traits, scores = np.arange(8.0)[:, None], np.ones(8)
    kept = {
        tuple(ns.reproduce(traits, scores, 0.5, 0.0, 0.1, np.random.default_rng(s))[2])
        for s in range(20)
    }
    assert len(kept) > 5


def test_reproduce_mutates_at_the_rate():
    rng = np.random.default_rng(7)
    n, d, rate = 2000, 5, 0.3
    traits = np.full((n, d), 0.5)  # every parent identical: a changed element mutated
    new, _, replaced = ns.reproduce(traits, rng.random(n), 0.5, rate, 0.1, rng)
    hits = int((new[replaced] != 0.5).sum())
    trials = len(replaced) * d
    bound = 4 * math.sqrt(trials * rate * (1 - rate))  # 4 binomial sds
    assert abs(hits - trials * rate) < bound
    assert new.min() >= 0.0 and new.max() <= 1.0


def test_reproduce_clips_mutations_to_the_unit_interval():
    traits = np.array([[0.0, 1.0]] * 40)
    new, _, _ = ns.reproduce(traits, np.arange(40.0), 0.5, 1.0, 5.0, np.random.default_rng(1))
    assert new.min() == 0.0 and new.max() == 1.0


def test_reproduce_with_one_survivor_copies_it():
    traits = np.array([[0.1], [0.9], [0.5]])
    new, parents, _ = ns.reproduce(
        traits, np.array([1.0, 3.0, 2.0]), 0.3, 0.0, 0.1, np.random.default_rng(0)
    )
    assert new.ravel().tolist() == [0.9, 0.9, 0.9] and (parents == 1).all()


def test_nobody_surviving_is_refused():
    with pytest.raises(ConfigError, match="survival_fraction"):
        ns.reproduce(np.zeros((3, 1)), np.zeros(3), 0.1, 0.0, 0.1, np.random.default_rng(0))


# -- the society: oracles of modelling-notes §3 ---------------------------------------------

SHIFT = 61  # the first step under the new norm (steps are 1-based): 60 steps before it
G0 = SHIFT - 1  # its index in the per-step arrays


def shift_norm(g):
    return ns.shifted_norm(g, SHIFT, 5)


def lag(fit, g0=G0):
    """Steps after g0 until fitness is back to 0.9 x its mean over the 10 steps before (or None)."""
    pre = fit[g0 - 10 : g0].mean()
    back = np.flatnonzero(fit[g0:] >= 0.9 * pre)
    return int(back[0]) if len(back) else None


def society(seed, n=20, steps=160, **kw):
    kw.setdefault("noise", 0.0)  # the notes' oracles select on trait fitness itself
    return ns.simulate(n, 5, steps, norm=shift_norm, rng=np.random.default_rng(seed), **kw)


def mean_lag(seeds=10, steps=160, **kw):
    """Mean lag over seeds, a censored run counted as the whole post-shift horizon."""
    lags = [lag(society(s, steps=steps, **kw)["mean_fitness"]) for s in range(seeds)]
    return np.mean([steps - G0 if x is None else x for x in lags])


def test_simulate_is_deterministic_and_reports_every_stat():
    a = society(3, steps=20, rate=0.5, noise=0.1, conformity=0.2, observer_noise=0.3)
    b = society(3, steps=20, rate=0.5, noise=0.1, conformity=0.2, observer_noise=0.3)
    assert set(a) == set(ns.STATS)
    for key in ns.STATS:
        assert a[key].shape == (20,) and np.array_equal(a[key], b[key])


def test_a_population_on_the_norm_scores_seven_and_nobody_violates():
    out = ns.simulate(
        6,
        5,
        3,
        rate=0.0,
        norm=lambda g: np.full(5, 0.3),
        noise=0.0,
        traits=np.full((6, 5), 0.3),
        rng=np.random.default_rng(0),
    )
    assert out["mean_score"].tolist() == [7.0] * 3 and out["violation_rate"].tolist() == [0] * 3
    assert out["adherence_rate"].tolist() == [1.0] * 3 and out["diversity"].tolist() == [0] * 3


def test_m0_is_exact_for_an_identical_population():
    start = np.tile(np.array([0.2, 0.4, 0.3, 0.5, 0.1]), (20, 1))
    out = society(0, steps=80, rate=0.0, noise=0.1, traits=start)
    fit = out["mean_fitness"]
    before = ns.fitness(((start[0] - 0.3) ** 2).sum())
    after = ns.fitness(((start[0] - 0.7) ** 2).sum())
    # exact: one value before the shift, one after (the mean of 20 equal numbers may differ
    # from the number in the last bit, but it is the same sum every step)
    assert len(set(fit[:G0])) == 1 and len(set(fit[G0:])) == 1
    assert fit[0] == pytest.approx(before, abs=1e-15) and fit[-1] == pytest.approx(after, abs=1e-15)
    assert (out["sd_fitness"] < 1e-15).all() and (out["diversity"] < 1e-15).all()


def test_m0_from_random_traits_freezes_once_the_population_is_identical():
    out = society(1, steps=100, rate=0.0)
    fixed = np.flatnonzero(out["diversity"] < 1e-15)  # identical traits (up to the mean's rounding)
    assert len(fixed) and fixed[0] < G0  # converged before the shift
    fit = out["mean_fitness"]
    assert len(set(fit[fixed[0] : G0])) == 1 and len(set(fit[G0:])) == 1
    assert fit[G0] < fit[G0 - 1] and lag(fit) is None  # the jump hurts, nothing adapts


def test_higher_mutation_adapts_faster_but_settles_lower():
    pre = {
        m: np.mean([society(s, steps=G0, rate=m)["mean_fitness"][-10:].mean() for s in range(10)])
        for m in (0.05, 1.0)
    }
    assert pre[0.05] > pre[1.0] + 0.05  # notes: 0.988 vs 0.883
    assert mean_lag(rate=1.0) < mean_lag(rate=0.05) - 10  # notes: 17.3 vs 48.2


def test_larger_populations_reach_better_best_fitness_early():
    def best_at_10(n):
        return np.mean([society(s, n=n, steps=10, rate=0.2)["best_fitness"][-1] for s in range(10)])

    assert best_at_10(100) > best_at_10(10) + 0.08  # notes: 0.98 vs 0.82


def test_stronger_conformity_lengthens_the_lag():
    assert mean_lag(rate=0.2, conformity=0.3) > mean_lag(rate=0.2) + 10  # notes: 46.6 vs 26.5


def test_a_complete_csr_network_matches_the_built_in_complete_graph():
    indptr, indices = ns.csr_from_edges(12, np.array(list(nx.complete_graph(12).edges())))
    kw = {"n": 12, "steps": 8, "rate": 0.3, "conformity": 0.4, "noise": 0.1}
    a = society(5, **kw)
    b = society(5, indptr=indptr, indices=indices, **kw)
    assert a["mean_fitness"] == pytest.approx(b["mean_fitness"], abs=1e-9)


@pytest.mark.parametrize("n", [1, 2, 9])
def test_complete_neighbour_means_are_the_csr_means_of_a_complete_graph(n):
    values = np.random.default_rng(n).random((n, 3))
    edges = np.array(list(nx.complete_graph(n).edges()), dtype=np.int64).reshape(-1, 2)
    indptr, indices = ns.csr_from_edges(n, edges)
    fast, has = ns.complete_neighbour_means(values)
    slow, has_slow = ns.neighbour_means(values, indptr, indices)
    assert fast == pytest.approx(slow) and has.tolist() == has_slow.tolist()


def test_conformity_on_a_network_pulls_along_edges_by_hand():
    # paths 0-1-2 and 3-4-5; round 2 pulls each agent toward its neighbours' round-1 behaviour
    start = np.repeat(np.array([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])[:, None], 5, axis=1)
    indptr, indices = ns.csr_from_edges(6, np.array([[0, 1], [1, 2], [3, 4], [4, 5]]))
    out = ns.simulate(
        6,
        5,
        1,
        rate=0.0,
        conformity=0.9,
        noise=0.0,
        situations=2,
        traits=start,
        indptr=indptr,
        indices=indices,
        norm=lambda g: np.zeros(5),
        rng=np.random.default_rng(0),
    )
    after = np.array([0.18, 0.2, 0.22, 0.78, 0.8, 0.82])  # e.g. agent 0: 0.1 * 0 + 0.9 * 0.2
    assert out["mean_fitness"][0] == pytest.approx(ns.fitness(5 * after**2).mean())
    assert out["diversity"][0] == pytest.approx(after.std())


@pytest.mark.parametrize(
    ("kw", "key"),
    [
        ({"situations": 0}, "situations"),
        ({"rate": 1.5}, "rate"),
        ({"conformity": -0.1}, "conformity"),
        ({"n": 0}, "n"),
    ],
)
def test_simulate_refuses_bad_settings(kw, key):
    args = {"n": 4, "rate": 0.1} | kw
    with pytest.raises(ConfigError, match=key):
        ns.simulate(d=2, steps=1, norm=lambda g: np.zeros(2), rng=np.random.default_rng(0), **args)


def test_simulate_refuses_traits_of_the_wrong_shape():
    with pytest.raises(ValueError, match="traits"):
        ns.simulate(
            4,
            2,
            1,
            rate=0.1,
            norm=lambda g: np.zeros(2),
            traits=np.zeros((3, 2)),
            rng=np.random.default_rng(0),
        )
