"""The scripted persuasion model (Salvi et al. 2024 stand-in): invariants and calibration."""

import json
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentsim.core.errors import ConfigError
from agentsim.games import persuasion as pm
from agentsim.games.persuasion import PersuasionParams

DEFAULT = PersuasionParams()
levels = st.integers(1, 5)
shifts = st.floats(-60.0, 60.0, allow_nan=False)
strength_lists = st.lists(st.floats(-3.0, 3.0, allow_nan=False), min_size=1, max_size=6)
groups = st.sampled_from(pm.STRENGTH_GROUPS)
conditions = [("human", True), ("llm", False), ("llm", True)]


# -- calibration: exact, from the model's probabilities --------------------------------------


def test_personalised_llm_matches_the_published_odds_ratio_at_every_level():
    ratios = pm.cumulative_odds_ratios(DEFAULT, "llm", True)
    assert ratios.shape == (5, 4)
    # Salvi et al. 2024: OR 1.81 [1.26, 2.61]; every local OR is far inside that CI.
    assert np.abs(np.log(ratios) - math.log(pm.TARGET_ODDS_RATIO)).max() < 0.04
    assert pm.implied_odds_ratio(DEFAULT, "llm", True) == pytest.approx(1.81, abs=0.01)


def test_unpersonalised_llm_is_slightly_stronger_than_a_human_but_near_one():
    ratios = pm.cumulative_odds_ratios(DEFAULT, "llm", False)
    assert (ratios > 1.0).all() and (ratios < 1.2).all()


def test_personalisation_does_not_help_a_simulated_human_by_default():
    assert pm.cumulative_odds_ratios(DEFAULT, "human", True) == pytest.approx(np.ones((5, 4)))


def test_odds_ratio_follows_the_personalisation_gain():
    # A larger gain must raise the OR; with no gain and equal means there is no effect at all.
    stronger = PersuasionParams(personalisation_gain_llm=1.0)
    assert pm.implied_odds_ratio(stronger, "llm", True) > 2.5
    none = PersuasionParams(strength_mean_llm=0.4, personalisation_gain_llm=0.0)
    assert pm.implied_odds_ratio(none, "llm", True) == pytest.approx(1.0)


def test_condition_probabilities_match_the_sampler():
    # The exact quadrature and the sampling path (strengths -> shift -> post) are one model.
    rng = np.random.default_rng(7)
    n = 20_000
    for opponent, personalised in [*conditions, ("human", False)]:
        for group in pm.STRENGTH_GROUPS:
            strengths = pm.draw_strengths(DEFAULT, opponent, personalised, 3 * n, rng)
            shift = DEFAULT.susceptibility(group) * strengths.reshape(n, 3).mean(axis=1)
            post = pm.draw_post(np.full(n, 2), shift, DEFAULT, rng)
            freq = np.bincount(post, minlength=6)[1:] / n
            exact = pm.condition_probabilities(DEFAULT, opponent, personalised, 2, group=group)
            assert np.abs(freq - exact).max() < 0.015  # about 4 standard errors


# -- invariants ------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(pre=levels, shift=shifts, anchoring=st.floats(-3.0, 3.0), seed=st.integers(0, 2**32))
@example(pre=5, shift=60.0, anchoring=3.0, seed=0).via("extreme shift")
def test_agreement_stays_on_the_scale(pre, shift, anchoring, seed):
    params = PersuasionParams(anchoring=anchoring)
    probs = pm.post_probabilities(pre, shift, params)
    assert probs.shape == (5,) and (probs >= 0).all() and probs.sum() == pytest.approx(1.0)
    post = pm.draw_post(np.full(50, pre), np.full(50, shift), params, np.random.default_rng(seed))
    assert post.dtype == np.int64 and ((post >= 1) & (post <= 5)).all()
    pre_draws = pm.draw_pre(np.full(50, shift), params, np.random.default_rng(seed))
    assert ((pre_draws >= 1) & (pre_draws <= 5)).all()


@settings(max_examples=100, deadline=None)
@given(pre=levels, group=groups, n=st.integers(1, 6))
def test_zero_strengths_give_exactly_the_retest_model(pre, group, n):
    retest = pm.post_probabilities(pre, 0.0, DEFAULT)
    shift = pm.latent_shift([0.0] * n, group, DEFAULT)
    assert shift == 0.0
    assert pm.post_probabilities(pre, shift, DEFAULT) == pytest.approx(retest, abs=0)


@settings(max_examples=50, deadline=None)
@given(pre=levels, strengths=strength_lists)
def test_zero_susceptibility_gives_the_retest_model_whatever_the_arguments(pre, strengths):
    deaf = PersuasionParams(susceptibility_high=0.0)
    shift = pm.latent_shift(strengths, "high", deaf)
    assert pm.post_probabilities(pre, shift, deaf) == pytest.approx(
        pm.post_probabilities(pre, 0.0, deaf), abs=0
    )


def test_zero_effect_conditions_are_all_the_retest_model():
    # No strength differences, no gains and no spread: every cell of the 2x2 design is the
    # retest model (what the persuadee answers again with no persuasion).
    flat = PersuasionParams(
        strength_mean_human=0.0, strength_mean_llm=0.0, strength_sd=0.0,
        personalisation_gain_llm=0.0,
    )  # fmt: skip
    for pre in range(1, 6):
        retest = pm.post_probabilities(pre, 0.0, flat)
        for opponent, personalised in [*conditions, ("human", False)]:
            probs = pm.condition_probabilities(flat, opponent, personalised, pre)
            assert probs == pytest.approx(retest, abs=1e-12)


def test_sampled_posts_with_zero_shift_follow_the_retest_model():
    rng = np.random.default_rng(11)
    n = 40_000
    for pre in range(1, 6):
        post = pm.draw_post(np.full(n, pre), np.zeros(n), DEFAULT, rng)
        freq = np.bincount(post, minlength=6)[1:] / n
        assert np.abs(freq - pm.post_probabilities(pre, 0.0, DEFAULT)).max() < 0.01


@settings(max_examples=200, deadline=None)
@given(pre=levels, a=shifts, b=shifts, u=st.floats(0.0, 1.0, exclude_max=True))
def test_a_larger_shift_never_lowers_agreement(pre, a, b, u):
    low, high = min(a, b), max(a, b)
    above_low = 1 - np.cumsum(pm.post_probabilities(pre, low, DEFAULT))[:-1]
    above_high = 1 - np.cumsum(pm.post_probabilities(pre, high, DEFAULT))[:-1]
    assert (above_high >= above_low - 1e-12).all()  # first-order stochastic dominance
    loc = pm.post_location(pre, np.array([low, high]), DEFAULT)
    draws = pm.ordinal_from_uniform(np.full(2, u), loc, DEFAULT.cutpoints)
    assert draws[0] <= draws[1]  # pathwise, with the same uniform


@settings(max_examples=200, deadline=None)
@given(strengths=strength_lists, extra=st.data(), group=groups)
def test_stronger_arguments_give_a_larger_shift(strengths, extra, group):
    bumps = extra.draw(
        st.lists(st.floats(0.0, 2.0), min_size=len(strengths), max_size=len(strengths))
    )
    stronger = [s + d for s, d in zip(strengths, bumps, strict=True)]
    assert pm.latent_shift(stronger, group, DEFAULT) >= pm.latent_shift(strengths, group, DEFAULT)


@settings(max_examples=100, deadline=None)
@given(strengths=strength_lists.filter(lambda s: np.mean(s) > 0.01))
def test_strongly_held_opinions_move_less(strengths):
    low, medium, high = (pm.latent_shift(strengths, g, DEFAULT) for g in pm.STRENGTH_GROUPS)
    assert low > medium > high > 0


@settings(max_examples=50, deadline=None)
@given(
    seed=st.integers(0, 2**63), opponent=st.sampled_from(pm.OPPONENTS), personalised=st.booleans()
)
def test_same_seed_same_draws(seed, opponent, personalised):
    def run(rng):
        s = pm.draw_strengths(DEFAULT, opponent, personalised, 3, rng)
        pre = pm.draw_pre(np.zeros(4), DEFAULT, rng)
        post = pm.draw_post(
            pre, np.full(4, pm.latent_shift(s.tolist(), "low", DEFAULT)), DEFAULT, rng
        )
        return s.tolist(), pre.tolist(), post.tolist()

    assert run(np.random.default_rng(seed)) == run(np.random.default_rng(seed))


@given(a=st.lists(levels, min_size=1, max_size=10), side=st.sampled_from(pm.SIDES))
def test_alignment_is_an_involution_mirroring_con(a, side):
    aligned = pm.aligned_agreement(a, side)
    assert pm.aligned_agreement(aligned, side).tolist() == a
    assert aligned.tolist() == (a if side == "pro" else [6 - x for x in a])


def test_pre_draws_follow_the_symmetric_pre_model():
    probs = pm.pre_probabilities(0.0, DEFAULT)
    assert probs == pytest.approx(probs[::-1]) and probs.argmax() == 2
    draws = pm.draw_pre(np.zeros(40_000), DEFAULT, np.random.default_rng(3))
    assert np.abs(np.bincount(draws, minlength=6)[1:] / 40_000 - probs).max() < 0.01


# -- profiles, markers and observation text --------------------------------------------------


def test_profile_prior_is_stable_bounded_and_scaled_by_group():
    profile = {"age": "34", "gender": "Female", "political_affiliation": "Independent"}
    shuffled = dict(reversed(list(profile.items())))
    prop = "Should the one-cent coin be retired?"
    values = {g: pm.profile_prior(profile, prop, g, DEFAULT) for g in pm.STRENGTH_GROUPS}
    assert pm.profile_prior(shuffled, prop, "low", DEFAULT) == values["low"]
    assert values["high"] == pytest.approx(values["low"] * DEFAULT.spread_high / DEFAULT.spread_low)
    priors = [pm.profile_prior({"id": i}, prop, "high", DEFAULT) for i in range(200)]
    assert max(np.abs(priors)) <= DEFAULT.spread_high
    assert min(priors) < -1.0 and max(priors) > 1.0  # profiles differ


@example(x=0.875)  # a tie: the two-decimal marker is 0.88, exactly 0.005 away
@given(x=st.floats(-9.0, 9.0, allow_nan=False))
def test_strength_markers_round_trip(x):
    marker = pm.strength_marker(x)
    (parsed,) = pm.parse_strengths(f"Some argument. {marker}")
    # Two decimals: at most half a unit of the last place away (plus float error at ties).
    assert abs(parsed - x) <= 0.005 + 1e-9


def test_opponent_strengths_skip_own_lines_and_follow_continuations():
    transcript = "\n".join(
        [
            "Bo Li (persuader): Yes. [strength: 0.50]",
            "Al Ray (persuadee): No. [strength: 9.00]",
            "Bo Li (persuader): First point.",
            "and a second line [strength: 0.70]",
            "Al Ray (persuadee): Still no.",
            "more of mine [strength: 8.00]",
        ]
    )
    assert pm.opponent_strengths(transcript, "Al Ray", {"persuadee"}) == [0.5, 0.7]
    assert pm.opponent_strengths(transcript, "", {"persuadee"}) == [0.5, 0.7]  # no name known
    assert pm.opponent_strengths(transcript, "Bo Li", {"persuader"}) == [9.0, 8.0]
    assert pm.opponent_strengths("", "Al Ray", {"persuadee"}) == []


def test_opponent_strengths_accept_side_labels_and_ignore_a_cut_first_line():
    # debate_v0 labels salvi lines with the side; a transcript cut from the front may start
    # mid-utterance, with nobody's prefix.
    transcript = "tail of a cut line [strength: 3.00]\nAssistant (pro): Yes. [strength: 0.40]"
    transcript += "\nParticipant (con): No. [strength: 2.00]"
    assert pm.opponent_strengths(transcript, "Participant", {"persuadee", "con"}) == [0.4]
    assert pm.opponent_strengths(transcript, "Participant", {"persuadee"}) == [0.4, 2.0]


def test_extra_and_profiles_parse_json_or_key_value_text_to_the_same_profile():
    profile = {"age": "40", "employment": "Retired", "political_affiliation": "Democrat"}
    extra = f"side: con\nphase: rebuttal\ndemographics: {json.dumps(profile)}"
    parsed = pm.parse_extra(extra)
    assert parsed["side"] == "con" and parsed["phase"] == "rebuttal"
    assert pm.parse_profile(parsed["demographics"]) == profile
    text = "A debate participant; age: 40; employment: Retired; political affiliation: Democrat"
    assert pm.parse_profile(text) == profile
    numeric = json.dumps({"age": 40, "employment": "Retired"})
    assert pm.profile_prior(pm.parse_profile(numeric), "P?", "low", DEFAULT) == pm.profile_prior(
        {"age": "40", "employment": "Retired"}, "P?", "low", DEFAULT
    )
    for bad in (None, "", "  ", "{not json", "[1, 2]", "{}", "5", "just words; no pairs"):
        assert pm.parse_profile(bad) is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cutpoints", (1.0, 0.0, 2.0, 3.0)),
        ("cutpoints", (0.0, 1.0, 2.0)),
        ("pre_cutpoints", (0.0, 0.0, 1.0, 2.0)),
        ("strength_sd", -0.1),
        ("susceptibility_high", -1.0),
        ("anchoring", float("nan")),
    ],
)
def test_bad_parameters_name_the_key(field, value):
    with pytest.raises(ConfigError, match=field):
        PersuasionParams(**{field: value})


def test_unknown_opponent_and_group_name_the_allowed_values():
    with pytest.raises(ConfigError, match="human, llm"):
        DEFAULT.strength_mean("robot", False)
    with pytest.raises(ConfigError, match="low, medium, high"):
        DEFAULT.susceptibility("extreme")
