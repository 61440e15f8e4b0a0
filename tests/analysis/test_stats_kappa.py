"""Cohen's kappa and its bootstrap interval against the oracles of Cohen 1960 / 1968."""

import doctest

import numpy as np
import pytest

import analysis.stats
from analysis.stats import cohen_kappa, kappa_ci

SCALE = list(range(1, 8))
J1 = [1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1, 4, 4]
J2 = [1, 3, 3, 5, 5, 7, 7, 6, 6, 4, 4, 2, 2, 1, 3, 5]


def _from_table(table):
    """Two raters' labels whose joint counts are ``table`` (rows: rater a, columns: rater b)."""
    a, b = [], []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            a += [i] * count
            b += [j] * count
    return a, b


def test_two_by_two_table_gives_the_textbook_kappa():
    # p_o = 35/50 = 0.7; p_e = 0.5*0.6 + 0.5*0.4 = 0.5; kappa = 0.2/0.5 = 0.4.
    a, b = _from_table([[20, 5], [10, 15]])
    assert cohen_kappa(a, b) == pytest.approx(0.4)


@pytest.mark.parametrize(
    ("weights", "expected"), [(None, 0.418182), ("linear", 0.768116), ("quadratic", 0.929825)]
)
def test_seven_point_scores_match_the_oracles(weights, expected):
    assert cohen_kappa(J1, J2, SCALE, weights) == pytest.approx(expected, abs=1e-6)


def test_inferred_labels_drop_unused_middle_categories():
    a, b = [1, 1, 2, 2, 4, 4, 5], [1, 2, 2, 4, 4, 5, 5]
    assert cohen_kappa(a, b, range(1, 6), "linear") == pytest.approx(2 / 3, abs=1e-4)
    assert cohen_kappa(a, b, None, "linear") == pytest.approx(0.6441, abs=1e-4)


def test_unweighted_kappa_does_not_depend_on_unused_labels():
    assert cohen_kappa(J1, J2, SCALE) == pytest.approx(cohen_kappa(J1, J2, [*SCALE, 8, 9]))


def test_perfect_agreement_is_one_and_string_labels_work():
    labels = ["violates", "partly", "adheres"]
    a = ["adheres", "partly", "violates", "adheres"]
    assert cohen_kappa(a, a, labels) == 1.0
    assert cohen_kappa(a, a, labels, "quadratic") == 1.0


def test_constant_raters_give_none_not_nan():
    assert cohen_kappa([4, 4, 4], [4, 4, 4], SCALE) is None
    assert cohen_kappa([4, 4, 4], [4, 4, 4], SCALE, "quadratic") is None
    assert cohen_kappa([], [], SCALE) is None


def test_constant_raters_on_different_labels_agree_no_better_than_chance():
    assert cohen_kappa([3, 3], [5, 5], SCALE) == 0.0


def test_misuse_is_a_clear_error():
    with pytest.raises(ValueError, match="3 and 2 items"):
        cohen_kappa([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="label 8 is not one of"):
        cohen_kappa([1, 8], [1, 2], SCALE)
    with pytest.raises(ValueError, match="weights must be one of"):
        cohen_kappa([1, 2], [1, 2], SCALE, "cubic")


def test_matches_sklearn_when_installed():
    metrics = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(3)
    a = rng.integers(1, 8, 60).tolist()
    b = np.clip(np.array(a) + rng.integers(-2, 3, 60), 1, 7).tolist()
    for weights in (None, "linear", "quadratic"):
        ours = cohen_kappa(a, b, SCALE, weights)
        theirs = metrics.cohen_kappa_score(a, b, labels=SCALE, weights=weights)
        assert ours == pytest.approx(theirs)


def test_bootstrap_interval_is_seeded_and_brackets_the_estimate():
    first = kappa_ci(J1, J2, SCALE, "linear", rng=11, n_boot=500)
    again = kappa_ci(J1, J2, SCALE, "linear", rng=np.random.default_rng(11), n_boot=500)
    assert first == again
    assert first["kappa"] == pytest.approx(0.768116, abs=1e-6)
    lo, hi = first["ci95"]
    assert lo < first["kappa"] < hi <= 1.0
    assert first["n"] == 16 and first["n_boot"] == 500


def test_bootstrap_equals_resampling_items():
    # The multinomial over the joint table's cells is the item bootstrap: the same mean and
    # spread as resampling item indices directly (3,000 resamples each; tolerance ~4 SE).
    ours = []
    rng = np.random.default_rng(5)
    for _ in range(3000):
        idx = rng.integers(0, len(J1), len(J1))
        k = cohen_kappa([J1[i] for i in idx], [J2[i] for i in idx], SCALE, "linear")
        ours.append(k)
    direct = np.array([k for k in ours if k is not None])
    out = kappa_ci(J1, J2, SCALE, "linear", rng=5, n_boot=3000)
    lo, hi = np.quantile(direct, [0.025, 0.975])
    assert out["ci95"][0] == pytest.approx(lo, abs=0.04)
    assert out["ci95"][1] == pytest.approx(hi, abs=0.04)


def test_bootstrap_of_constant_raters_and_tiny_samples_has_no_interval():
    same = kappa_ci([4] * 5, [4] * 5, SCALE, rng=0, n_boot=50)
    assert same["kappa"] is None and same["ci95"] is None and same["undefined"] == 50
    assert kappa_ci([4], [5], SCALE, rng=0)["ci95"] is None


def test_docstring_examples_run():
    assert doctest.testmod(analysis.stats).failed == 0
