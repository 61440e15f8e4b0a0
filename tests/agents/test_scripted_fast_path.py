"""Batch decisions with cached per-depth constants give the plain rules' results bit for bit.

The references below are the rules as first written (a validity mask per call, the
standing chain walked entry by entry); the strategies now look up weights and outcome
tables built once per depth, and must agree on every float, NaN and signed zero.
"""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentsim.agents.scripted.donor import ImageScoring, Standing, TraceAverage, TraceBatch

# -- references: the rules before the per-call constants were cached ---------------------


def _valid(batch):
    return np.arange(batch.fraction.shape[1])[None, :] < batch.length[:, None]


def reference_trace_average(s, batch):
    depth = batch.fraction.shape[1]
    weights = s.decay ** np.arange(depth) * _valid(batch)
    total = weights.sum(axis=1)
    shown = np.clip(batch.fraction, 0.0, 1.0)
    mean = (weights * shown).sum(axis=1) / np.where(total > 0, total, 1.0)
    low, high = min(s.floor, s.cap), max(s.floor, s.cap)
    return np.where(total > 0, np.clip(mean + s.bonus, low, high), s.initial)


def reference_image_scoring(s, batch, good=None):
    if good is None:
        good = (
            batch.fraction[:, 0] >= s.threshold
            if batch.fraction.shape[1]
            else np.ones(len(batch.length), dtype=bool)
        )
    out = np.where(good, s.generosity, -s.punish)
    return np.where(batch.length > 0, out, s.initial)


def reference_standing(s, batch):
    valid = _valid(batch)
    next_good = np.ones(len(batch.length), dtype=bool)
    for k in range(batch.fraction.shape[1] - 1, -1, -1):
        good_k = (batch.fraction[:, k] >= s.threshold) | ~next_good
        next_good = np.where(valid[:, k], good_k, True)
    return reference_image_scoring(s, batch, next_good)


def _same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


# -- random batches: every depth regime, odd lengths, special values, both layouts -------

SPECIAL = [0.0, -0.0, 1.0, -1.0, 0.3, 0.25, np.nan, np.inf, -np.inf]
PARAM = st.sampled_from([0.0, -0.0, 0.3, 1.0]) | st.floats(0.0, 1.0)


@st.composite
def batches(draw):
    """A TraceBatch of any depth (0 .. 12, and 64: the config's maximum)."""
    depth = draw(st.sampled_from([0, 1, 2, 3, 4, 6, 7, 8, 9, 12, 64]))
    rows = draw(st.sampled_from([0, 1, 2, 5, 40, 333]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    fraction = rng.uniform(-1.5, 1.5, (rows, depth))
    if draw(st.booleans()):
        fraction = np.round(fraction, 1)  # values exactly at thresholds
    special = rng.random((rows, depth)) < draw(st.sampled_from([0.0, 0.2]))
    fraction[special] = rng.choice(SPECIAL, special.sum())
    # Lengths outside 0..depth are not produced by the env, but must behave as before.
    low, high = draw(st.sampled_from([(0, depth + 1), (-2, depth + 3)]))
    length = rng.integers(low, high, rows)
    if draw(st.booleans()):  # the rules path hands strategies entry-major views
        fraction = np.asfortranarray(fraction)
    return TraceBatch(length, fraction)


@settings(max_examples=300, deadline=None)
@given(
    batch=batches(),
    initial=PARAM,
    decay=PARAM,
    bonus=st.sampled_from([-0.0, 0.0, 0.1]) | st.floats(-0.5, 0.5),
    floor=PARAM,
    cap=PARAM,
)
@example(
    batch=TraceBatch(np.array([0, 3, 8, 9]), np.asfortranarray(np.full((4, 9), 0.1))),
    initial=0.5,
    decay=0.9,
    bonus=0.0,
    floor=0.0,
    cap=1.0,
)
def test_trace_average_matches_the_plain_rule_bit_for_bit(batch, initial, decay, bonus, floor, cap):
    s = TraceAverage(initial=initial, decay=decay, bonus=bonus, floor=floor, cap=cap)
    want = reference_trace_average(s, batch)
    assert _same(s.decide_batch(batch), want)
    assert _same(s.decide_batch(batch), want)  # again, from the cached weights


@settings(max_examples=300, deadline=None)
@given(batch=batches(), threshold=PARAM, generosity=PARAM, initial=PARAM, punish=PARAM)
@example(
    batch=TraceBatch(np.array([-1, 0, 1, 3, 4]), np.zeros((5, 3))),
    threshold=0.0,
    generosity=0.6,
    initial=0.5,
    punish=0.0,
)
def test_discriminators_match_the_plain_rules_bit_for_bit(
    batch, threshold, generosity, initial, punish
):
    params = {"threshold": threshold, "generosity": generosity, "initial": initial}
    for s, reference in (
        (Standing(**params, punish=punish), reference_standing),
        (ImageScoring(**params, punish=punish), reference_image_scoring),
    ):
        want = reference(s, batch)
        assert _same(s.decide_batch(batch), want)
        assert _same(s.decide_batch(batch), want)  # again, from the cached table


def _chain_batch():
    frac = np.array([[0.0, 0.9, 0.2], [0.5, 0.0, 0.0], [0.1, 0.1, 0.1]])
    return TraceBatch(np.array([2, 3, 1]), np.asfortranarray(frac))


def test_changing_a_parameter_rebuilds_the_cached_constants():
    batch = _chain_batch()
    average, standing, image = TraceAverage(), Standing(threshold=0.3), ImageScoring()
    for s in (average, standing, image):
        s.decide_batch(batch)  # fill the caches
    average.decay = 0.9
    standing.threshold = 0.05
    standing.punish = 0.4
    image.generosity = 0.2
    assert _same(average.decide_batch(batch), reference_trace_average(average, batch))
    assert _same(standing.decide_batch(batch), reference_standing(standing, batch))
    assert _same(image.decide_batch(batch), reference_image_scoring(image, batch))


def test_decisions_are_fresh_arrays_the_caller_may_change():
    batch = _chain_batch()
    for s in (TraceAverage(), Standing(), ImageScoring()):
        first = s.decide_batch(batch)
        first[:] = 7.0
        assert not (s.decide_batch(batch) == 7.0).any()


def test_a_standing_subclass_with_its_own_rule_is_not_read_from_the_table():
    class Strict(Standing):
        """Reads the fractions themselves, not only which reach the threshold."""

        def good(self, batch):
            return batch.fraction[:, 0] > 0.75

    batch = TraceBatch(np.array([1, 3]), np.array([[0.5, 0.0, 0.0], [0.9, 0.0, 0.0]]))
    assert Strict(generosity=0.6).decide_batch(batch).tolist() == [0.0, 0.6]
    assert Standing(generosity=0.6).decide_batch(batch).tolist() == [0.6, 0.6]
