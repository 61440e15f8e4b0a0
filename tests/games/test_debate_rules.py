"""Properties and exact oracles of the pure debate rules (modelling notes §1)."""

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from agentsim.games import debate as rules

attitudes = st.floats(0.0, 10.0, allow_nan=False)


def opinion_vectors(min_size=2, max_size=8):
    return st.lists(attitudes, min_size=min_size, max_size=max_size).map(np.array)


@st.composite
def positive_stochastic(draw, n=None):
    """A row-stochastic matrix with all entries >= 0.05: irreducible and aperiodic."""
    n = n or draw(st.integers(2, 6))
    raw = draw(arrays(np.float64, (n, n), elements=st.floats(0.05, 1.0)))
    return raw / raw.sum(axis=1, keepdims=True)


# -- schedules ---------------------------------------------------------------------------


@given(k=st.integers(2, 8), iterations=st.integers(1, 30))
def test_taubenfeld_plan_surveys_everyone_around_every_round_robin_utterance(k, iterations):
    speakers = [(s, "debate") for s in rules.round_robin(k, iterations)]
    plan = rules.turn_plan(speakers, k, survey_every_utterance=True)
    speaks = [t for t in plan if t.kind == "speak"]
    assert [t.seat for t in speaks] == [i % k for i in range(iterations)]
    assert [t.iteration for t in speaks] == list(range(iterations))
    assert len(plan) == k * (iterations + 1) + iterations
    block = k + 1
    for n in range(iterations + 1):
        surveys = plan[n * block : n * block + k]
        assert [(t.kind, t.seat, t.iteration) for t in surveys] == [
            ("survey", s, n) for s in range(k)
        ]


@pytest.mark.parametrize("pro", [0, 1])
def test_salvi_plan_pro_first_in_each_phase_surveys_only_before_and_after(pro):
    plan = rules.turn_plan(rules.salvi_speakers(pro), 2, survey_every_utterance=False)
    got = [(t.kind, t.seat, t.iteration, t.phase) for t in plan]
    con = 1 - pro
    assert got == [
        ("survey", 0, 0, ""),
        ("survey", 1, 0, ""),
        ("speak", pro, 0, "opening"),
        ("speak", con, 1, "opening"),
        ("speak", pro, 2, "rebuttal"),
        ("speak", con, 3, "rebuttal"),
        ("speak", pro, 4, "conclusion"),
        ("speak", con, 5, "conclusion"),
        ("survey", 0, 6, ""),
        ("survey", 1, 6, ""),
    ]


# -- DeGroot -----------------------------------------------------------------------------


def test_degroot_two_agent_oracle():
    w = np.array([[0.7, 0.3], [0.2, 0.8]])
    x = np.array([0.0, 10.0])
    np.testing.assert_allclose(rules.stationary_weights(w), [0.4, 0.6])
    assert rules.degroot_consensus(w, x) == pytest.approx(6.0)
    for t in range(1, 30):
        x = rules.degroot_step(w, x)
        assert x[1] - x[0] == pytest.approx(10 * 0.5**t, rel=1e-9, abs=1e-12)
    np.testing.assert_allclose(x, [6.0, 6.0], atol=1e-7)


@settings(max_examples=100, deadline=None)
@given(w=positive_stochastic(), data=st.data())
def test_degroot_reaches_the_left_eigenvector_weighted_mean(w, data):
    x0 = data.draw(opinion_vectors(len(w), len(w)))
    x = x0
    for _ in range(600):
        x = rules.degroot_step(w, x)
    np.testing.assert_allclose(x, rules.degroot_consensus(w, x0), atol=1e-6)
    pi = rules.stationary_weights(w)
    np.testing.assert_allclose(pi @ w, pi, atol=1e-9)


@given(x0=opinion_vectors(3, 3))
def test_doubly_stochastic_degroot_keeps_the_mean(x0):
    w = np.array([[0.5, 0.3, 0.2], [0.2, 0.5, 0.3], [0.3, 0.2, 0.5]])
    x = x0
    for _ in range(20):
        x = rules.degroot_step(w, x)
        assert x.mean() == pytest.approx(x0.mean(), abs=1e-9)


def test_periodic_degroot_oscillates_forever():
    w = np.array([[0.0, 1.0], [1.0, 0.0]])
    x = np.array([0.0, 10.0])
    for _ in range(1001):
        x = rules.degroot_step(w, x)
    assert x.tolist() == [10.0, 0.0]


def test_stubborn_node_pulls_everyone_to_its_opinion():
    w = np.array([[0.5, 0.25, 0.25], [0.3, 0.4, 0.3], [0.0, 0.0, 1.0]])
    x = np.array([0.0, 5.0, 8.0])
    for _ in range(200):
        x = rules.degroot_step(w, x)
    np.testing.assert_allclose(x, 8.0, atol=1e-9)


# -- Friedkin-Johnsen --------------------------------------------------------------------


def test_friedkin_johnsen_oracle_by_iteration_and_solve():
    w, lam, x0 = np.full((2, 2), 0.5), np.array([0.5, 0.5]), np.array([0.0, 10.0])
    np.testing.assert_allclose(rules.friedkin_johnsen_limit(w, lam, x0), [2.5, 7.5])
    x = x0
    for _ in range(200):
        x = rules.friedkin_johnsen_step(w, x, x0, lam)
    np.testing.assert_allclose(x, [2.5, 7.5])


def test_friedkin_johnsen_without_prejudice_is_singular():
    with pytest.raises(ValueError, match="singular"):
        rules.friedkin_johnsen_limit(np.full((2, 2), 0.5), np.ones(2), np.array([0.0, 10.0]))


# -- Hegselmann-Krause -------------------------------------------------------------------


def test_hk_wide_confidence_reaches_the_exact_mean_in_one_round():
    assert rules.hk_step(np.array([1.0, 2.0, 4.0, 9.0]), 8.0).tolist() == [4.0] * 4


@pytest.mark.parametrize(
    ("n", "sizes"), [(12, [3, 3, 3, 3]), (13, [3, 3, 1, 3, 3]), (17, [3, 3, 5, 3, 3])]
)
def test_hk_equally_spaced_integers_freeze_into_known_clusters(n, sizes):
    x, rounds, converged = rules.hk_run(np.arange(n, dtype=float), 1.0)
    assert converged
    assert [len(c) for c in rules.clusters(x)] == sizes
    if n == 12:
        assert rounds == 11
    centres = [np.mean(c) for c in rules.clusters(x)]
    assert all(b - a > 1.0 for a, b in itertools.pairwise(centres))


@settings(max_examples=100, deadline=None)
@given(x0=opinion_vectors(2, 30), eps=st.floats(0.1, 10.0))
def test_hk_keeps_order_and_the_hull(x0, eps):
    order = np.argsort(x0, kind="stable")
    x = x0
    for _ in range(5):
        nxt = rules.hk_step(x, eps)
        assert nxt.min() >= x.min() - 1e-12 and nxt.max() <= x.max() + 1e-12
        assert np.all(np.diff(nxt[order]) >= -1e-12)
        x = nxt


@settings(max_examples=50, deadline=None)
@given(x0=opinion_vectors(2, 20), eps=st.floats(0.1, 5.0))
def test_hk_fixed_point_clusters_are_more_than_eps_apart(x0, eps):
    x, _, converged = rules.hk_run(x0, eps, max_rounds=2000)
    assert converged
    centres = [c[0] for c in rules.clusters(x, tol=1e-9)]
    assert all(b - a > eps for a, b in itertools.pairwise(centres))


# -- Deffuant-Weisbuch -------------------------------------------------------------------


@given(xi=attitudes, xj=attitudes, eps=st.floats(0.0, 11.0), mu=st.floats(0.01, 0.5))
@example(xi=2.0, xj=5.0, eps=3.0, mu=0.5).via("gap exactly eps: no move")
def test_deffuant_meeting_conserves_the_pair_sum_and_shrinks_the_gap(xi, xj, eps, mu):
    ni, nj = rules.deffuant_meet(xi, xj, eps, mu)
    assert ni + nj == pytest.approx(xi + xj, abs=1e-12)
    if abs(xi - xj) >= eps:
        assert (ni, nj) == (xi, xj)
    else:
        assert abs(nj - ni) == pytest.approx((1 - 2 * mu) * abs(xj - xi), abs=1e-12)


def test_deffuant_half_step_meets_at_the_midpoint():
    assert rules.deffuant_meet(2.0, 4.0, 3.0, 0.5) == (3.0, 3.0)


@settings(max_examples=30, deadline=None)
@given(x0=opinion_vectors(3, 20), seed=st.integers(0, 2**32 - 1))
def test_deffuant_run_conserves_the_mean(x0, seed):
    x = rules.deffuant_run(x0, 4.0, 0.3, 200, np.random.default_rng(seed))
    assert x.sum() == pytest.approx(x0.sum(), abs=1e-9)


# -- drift toward a prior ----------------------------------------------------------------

UNIFORM3 = np.full((3, 3), 1 / 3)
X0 = np.array([1.0, 5.5, 9.0])


@pytest.mark.parametrize(
    ("anchor", "drift", "expected"),
    [(0.2, 0.2, [5.0, 5.9, 6.6]), (0.15, 0.05, [4.875, 5.55, 6.075])],
)
def test_prior_drift_limit_oracle(anchor, drift, expected):
    limit = rules.prior_drift_limit(UNIFORM3, X0, 6.5, anchor=anchor, drift=drift)
    np.testing.assert_allclose(limit, expected)
    x = X0
    for _ in range(400):
        x = rules.prior_drift_step(UNIFORM3, x, X0, 6.5, anchor=anchor, drift=drift)
    np.testing.assert_allclose(x, expected)


def test_prior_drift_without_anchor_converges_geometrically_to_the_prior():
    x = X0
    for t in range(1, 25):
        x = rules.prior_drift_step(UNIFORM3, x, X0, 6.5, anchor=0.0, drift=0.3)
        np.testing.assert_allclose(x - 6.5, 0.7**t * (X0.mean() - 6.5), atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(w=positive_stochastic(), data=st.data(), drift=st.floats(0.01, 1.0), b=attitudes)
def test_prior_drift_error_contracts_by_a_each_round(w, data, drift, b):
    x0 = data.draw(opinion_vectors(len(w), len(w)))
    x, a = x0, 1.0 - drift
    for t in range(1, 15):
        x = rules.prior_drift_step(w, x, x0, b, anchor=0.0, drift=drift)
        assert np.abs(x - b).max() <= a**t * np.abs(x0 - b).max() + 1e-9
        lo, hi = min(x0.min(), b), max(x0.max(), b)
        assert lo - 1e-9 <= x.min() and x.max() <= hi + 1e-9


@settings(max_examples=100, deadline=None)
@given(x0=opinion_vectors(2, 6), anchor=st.floats(0.0, 0.5), drift=st.floats(0.0, 0.5), b=attitudes)
def test_uniform_prior_drift_keeps_gaps_at_anchor_times_initial(x0, anchor, drift, b):
    n = len(x0)
    w = np.full((n, n), 1 / n)
    x = x0
    for _ in range(6):
        x = rules.prior_drift_step(w, x, x0, b, anchor=anchor, drift=drift)
        np.testing.assert_allclose(x - x[0], anchor * (x0 - x0[0]), atol=1e-9)


# -- listeners match the round rules -----------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(x=opinion_vectors(2, 6), w_self=st.floats(0.0, 1.0), eps=st.floats(0.0, 10.0))
def test_listeners_equal_one_row_of_the_round_rules(x, w_self, eps):
    n = len(x)
    for i in range(n):
        others = np.delete(x, i).tolist()
        degroot = rules.degroot_step(rules.uniform_trust(n, w_self), x)[i]
        assert rules.degroot_listen(x[i], others, w_self) == pytest.approx(degroot, abs=1e-9)
        assert rules.hk_listen(x[i], others, eps) == pytest.approx(rules.hk_step(x, eps)[i])
        drift = rules.prior_drift_step(np.full((n, n), 1 / n), x, x, 6.5, anchor=0.1, drift=0.2)
        got = rules.drift_listen(x[i], x[i], others, 6.5, anchor=0.1, drift=0.2)
        assert got == pytest.approx(drift[i], abs=1e-9)


def test_listeners_without_speakers_keep_their_attitude():
    assert rules.degroot_listen(3.0, [], 0.5) == 3.0
    assert rules.hk_listen(3.0, [], 1.0) == 3.0
    assert rules.deffuant_listen(3.0, [], 1.0, 0.3) == 3.0


def test_deffuant_listener_moves_only_toward_close_statements():
    assert rules.deffuant_listen(5.0, [6.0, 9.5], 2.0, 0.5) == 5.5


# -- survey replies and markers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lo", "hi", "expected"),
    [
        ("7", 0, 10, 7.0),
        ("I'd rate it 7 out of 10.", 0, 10, 7.0),
        ("On a scale from 0 to 10, I would say 8.", 0, 10, 8.0),
        ("0-10: 3", 0, 10, 3.0),
        ("0\u201310 scale: 2", 0, 10, 2.0),
        ("3/10", 0, 10, 3.0),
        ("10 out of 10", 0, 10, 10.0),
        ("Rating: 6.5", 0, 10, 6.5),
        ("In 2024 I'd give it a 4", 0, 10, 4.0),
        ("Between 1 and 5, I pick 4.", 1, 5, 4.0),
        ("15", 0, 10, None),
        ("no idea", 0, 10, None),
        ("", 1, 5, None),
    ],
)
def test_parse_survey(text, lo, hi, expected):
    assert rules.parse_survey(text, lo, hi) == expected


@given(x=st.floats(0.0, 10.0).map(lambda v: round(v, 2)))
def test_parse_survey_reads_any_number_on_the_scale(x):
    assert rules.parse_survey(f"My rating: {x:.2f}", 0, 10) == pytest.approx(x)


@given(x=attitudes, before=st.text(alphabet="abc .,!", max_size=20))
def test_attitude_marker_round_trips_to_three_decimals(x, before):
    text, value = rules.parse_attitude_marker(f"{before} {rules.attitude_marker(x)}")
    assert value == pytest.approx(round(x, 3), abs=1e-9)
    assert text == before.strip()
    assert "attitude" not in text


def test_text_without_marker_has_no_stated_attitude():
    assert rules.parse_attitude_marker("  plain words ") == ("plain words", None)


def test_extra_round_trips_and_scale_parses():
    fields = {"protocol": "salvi", "scale": "1-5", "persuadee_demographics": "age: 30; x: y"}
    assert rules.parse_extra(rules.format_extra(fields)) == fields
    assert rules.parse_scale("1-5") == (1.0, 5.0)
    assert rules.parse_scale("five") is None


@given(x=st.floats(-5, 15), lo=st.just(0.0), hi=st.just(10.0))
def test_stance_level_is_a_valid_band(x, lo, hi):
    level = rules.stance_level(x, lo, hi)
    assert 0 <= level <= 4
    if 0 <= x < 2:
        assert level == 0
    if x >= 8:
        assert level == 4
