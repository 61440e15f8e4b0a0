"""Bootstrap intervals, mean differences and Hedges' g on hand-computed examples and properties."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.stats import (
    Interval,
    bootstrap_ci,
    describe,
    describe_many,
    hedges_g,
    mean_difference_ci,
)

values = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False), min_size=2, max_size=30
)


def _close_inside(x, ci):
    tol = 1e-9 * max(1.0, abs(x))
    return ci.low - tol <= x <= ci.high + tol


def test_two_values_give_the_hand_computed_percentiles():
    # Resample means of [0, 1] are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4.
    assert bootstrap_ci([0.0, 1.0]) == Interval(0.0, 1.0)
    # The 30% and 70% quantiles both fall on 0.5.
    assert bootstrap_ci([1.0, 0.0], level=0.4) == Interval(0.5, 0.5)


def test_fewer_than_two_values_give_no_interval():
    assert bootstrap_ci([3.0]) is None
    assert bootstrap_ci([]) is None


def test_constant_values_give_zero_width():
    assert bootstrap_ci([2.5, 2.5, 2.5]) == Interval(2.5, 2.5)


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="finite"):
        bootstrap_ci([1.0, float("nan")])
    with pytest.raises(ValueError, match="level"):
        bootstrap_ci([1.0, 2.0], level=1.5)
    with pytest.raises(ValueError, match="one number"):
        bootstrap_ci([1.0, 2.0], statistic=lambda s, axis=-1: s)


def test_a_statistic_without_axis_is_called_per_resample():
    data = [5.0, 1.0, 4.0, 2.0, 3.0]
    by_axis = bootstrap_ci(data, statistic=np.median)
    per_sample = bootstrap_ci(data, statistic=lambda s: float(np.median(s)))
    assert by_axis == per_sample


def test_interval_is_json_ready():
    assert json.loads(json.dumps(bootstrap_ci([0.0, 1.0]))) == [0.0, 1.0]


@settings(max_examples=60, deadline=None)
@given(values)
def test_interval_contains_the_sample_mean(xs):
    assert _close_inside(float(np.mean(xs)), bootstrap_ci(xs, resamples=500))


@settings(max_examples=60, deadline=None)
@given(values, st.randoms(use_true_random=False))
def test_interval_does_not_depend_on_run_order(xs, rnd):
    shuffled = list(xs)
    rnd.shuffle(shuffled)
    assert bootstrap_ci(shuffled, resamples=300) == bootstrap_ci(xs, resamples=300)


def test_same_seed_same_interval_other_seed_other_interval():
    data = list(np.random.default_rng(3).normal(size=20))
    assert bootstrap_ci(data, seed=1) == bootstrap_ci(data, seed=1)
    assert bootstrap_ci(data, seed=1) != bootstrap_ci(data, seed=2)


def test_hedges_g_hand_computed():
    # means 5 and 2, both SDs 1: d = 3; m = 4, J = Gamma(2) / (sqrt(2) Gamma(1.5)) = 0.797885;
    # var(d) = 6/9 + 9/12 = 1.416667, se(g) = J * 1.190238 = 0.949670, half = 1.861333.
    g, ci = hedges_g([4.0, 5.0, 6.0], [1.0, 2.0, 3.0])
    assert g == pytest.approx(2.393654, abs=1e-6)
    assert ci.low == pytest.approx(2.393654 - 1.861333, abs=1e-5)
    assert ci.high == pytest.approx(2.393654 + 1.861333, abs=1e-5)


def test_hedges_g_correction_approaches_the_usual_approximation():
    rng = np.random.default_rng(0)
    a, b = rng.normal(1, 1, 30), rng.normal(0, 1, 40)
    g, _ = hedges_g(a, b)
    pooled = math.sqrt((29 * a.var(ddof=1) + 39 * b.var(ddof=1)) / 68)
    d = (a.mean() - b.mean()) / pooled
    assert g == pytest.approx(d * (1 - 3 / (4 * 70 - 9)), rel=1e-4)  # Hedges & Olkin approx.


def test_hedges_g_undefined_cases():
    assert hedges_g([1.0], [1.0, 2.0]) == (None, None)
    assert hedges_g([1.0, 1.0], [1.0, 1.0]) == (None, None)


@settings(max_examples=40, deadline=None)
@given(values, values)
def test_hedges_g_is_antisymmetric_and_its_interval_contains_it(a, b):
    g, ci = hedges_g(a, b)
    if g is None:
        return
    back, _ = hedges_g(b, a)
    assert back == pytest.approx(-g, rel=1e-9, abs=1e-9)
    assert ci.low <= g <= ci.high


def test_mean_difference_hand_computed():
    # b's resample mean is always 5; a's is 0, 0.5, 1: the difference spans -5 .. -4.
    diff, ci = mean_difference_ci([0.0, 1.0], [5.0, 5.0])
    assert diff == -4.5
    assert ci == Interval(-5.0, -4.0)


def test_mean_difference_small_groups():
    assert mean_difference_ci([], [1.0, 2.0]) == (None, None)
    assert mean_difference_ci([3.0], [1.0, 2.0]) == (1.5, None)


@settings(max_examples=40, deadline=None)
@given(values, values, st.randoms(use_true_random=False))
def test_mean_difference_contains_itself_and_ignores_order(a, b, rnd):
    diff, ci = mean_difference_ci(a, b, resamples=300)
    assert _close_inside(diff, ci)
    a2, b2 = list(a), list(b)
    rnd.shuffle(a2)
    rnd.shuffle(b2)
    assert mean_difference_ci(a2, b2, resamples=300)[1] == ci


def test_describe_one_value_and_several():
    assert describe([2.0]) == {"mean": 2.0, "ci95": None, "t_ci95": None, "n": 1}
    cell = describe([1.0, 2.0, 3.0])
    assert cell["mean"] == 2.0 and cell["n"] == 3
    assert [round(x, 4) for x in cell["t_ci95"]] == [-0.4841, 4.4841]  # t = 4.302653
    assert cell["ci95"].low >= 1.0 and cell["ci95"].high <= 3.0


def test_mean_fast_path_matches_resampling_by_index():
    data = list(np.random.default_rng(5).exponential(size=15))
    fast = bootstrap_ci(data)
    slow = bootstrap_ci(data, statistic=lambda s: float(np.mean(s)))
    assert fast.low == pytest.approx(slow.low, rel=1e-12)
    assert fast.high == pytest.approx(slow.high, rel=1e-12)


def test_groups_of_equal_size_do_not_share_resamples():
    # Shared resamples would make a - b exactly 0 in every resample: a zero-width interval.
    diff, ci = mean_difference_ci([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    assert diff == 0.0
    assert ci.low < 0 < ci.high


def test_describe_many_matches_describe_one_by_one():
    rng = np.random.default_rng(2)
    groups = [rng.normal(size=n).tolist() for n in (5, 1, 5, 0, 12)]
    many = describe_many(groups)
    for group, cell in zip(groups, many, strict=True):
        one = describe(group)
        assert cell["n"] == one["n"] and cell["mean"] == pytest.approx(one["mean"])
        if one["ci95"] is None:
            assert cell["ci95"] is None
        else:
            assert cell["ci95"] == pytest.approx(one["ci95"], rel=1e-9)
