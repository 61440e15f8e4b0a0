"""Scripted persuader and persuadee (Salvi et al. 2024 stand-ins), on hand-made observations."""

import json
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentsim.agents.base import Agent, Decision
from agentsim.agents.scripted.persuasion import AGENTS, Persuadee, Persuader
from agentsim.core.errors import ConfigError
from agentsim.games import persuasion as pm

PROFILE = {"gender": "Female", "age": "34", "ethnicity": "Asian", "education": "Master's degree",
           "employment": "Employed full-time", "political_affiliation": "Independent"}  # fmt: skip
PROPOSITION = "Should the United States stop minting the one-cent coin?"


def obs(*, mode, side, role, persona, iteration=0, transcript="", **extra):
    """A debate_v0 observation; ``mode`` is its phase (0 speak, 1 survey), ``extra`` the rest."""
    lines = [f"side: {side}"] + [f"{k}: {v}" for k, v in extra.items()]
    return {
        "phase": mode,
        "iteration": np.array([iteration]),
        "role": role,
        "persona": persona,
        "topic": PROPOSITION,
        "question": "How much do you agree with the proposition, from 1 to 5?",
        "transcript": transcript,
        "stated": np.zeros(2, dtype=np.float32),
        "stated_mask": np.zeros(2, dtype=np.int8),
        "self_index": 0 if role == "persuader" else 1,
        "extra": "\n".join(lines),
    }


def speak(side="pro", **kw):
    kw.setdefault("opponent", "llm")  # debate_v0 names the condition to the persuader
    return obs(mode=0, side=side, role="persuader", persona="Bo Li: a debater", **kw)


def survey_persuadee(side="con", iteration=0, transcript="", **kw):
    persona = "Al Ray: a retired nurse"
    return obs(mode=1, side=side, role="persuadee", persona=persona, iteration=iteration,
               transcript=transcript, **kw)  # fmt: skip


def score(reply: str) -> int:
    return int(re.search(r"\d+", reply).group())


def persuader_lines(strengths):
    return "\n".join(f"Bo Li (persuader): An argument. [strength: {s:.2f}]" for s in strengths)


def test_both_kinds_follow_the_agent_protocol_and_round_trip_their_params():
    for cls in AGENTS:
        agent = cls()
        assert isinstance(agent, Agent) and agent.name == cls.kind
        assert cls(**json.loads(json.dumps(agent.params()))).params() == agent.params()
    assert {cls.kind for cls in AGENTS} == {"persuader", "persuadee"}


# -- persuader ---------------------------------------------------------------------------------


@pytest.mark.parametrize("opponent", ["human", "llm"])
@pytest.mark.parametrize("phase", ["opening", "rebuttal", "conclusion"])
@pytest.mark.parametrize("side", ["pro", "con"])
def test_persuader_utterances_argue_their_side_and_carry_one_strength(opponent, phase, side):
    agent = Persuader(opponent=opponent)
    agent.reset(seed=0)
    decision = agent.act(speak(side=side, phase=phase))
    assert isinstance(decision, Decision) and "\n" not in decision.action
    (marked,) = pm.parse_strengths(decision.action)
    assert marked == pytest.approx(decision.extra["strength"], abs=0.005)
    assert decision.extra["personalised"] is False


def test_persuader_strength_follows_its_type_and_personalisation_with_the_same_draw():
    def strength(opponent, **extra):
        agent = Persuader(opponent=opponent)
        agent.reset(seed=42)
        return agent.act(speak(**extra)).extra["strength"]

    demo = json.dumps(PROFILE)
    p = pm.PersuasionParams()
    base = strength("human")
    assert strength("llm") - base == pytest.approx(p.strength_mean_llm - p.strength_mean_human)
    assert strength("llm", demographics=demo) - strength("llm") == pytest.approx(
        p.personalisation_gain_llm
    )
    assert strength("human", demographics=demo) == pytest.approx(base)  # default gain 0


def test_personalised_persuader_addresses_the_background_and_ignores_bad_json():
    agent = Persuader(opponent="llm")
    agent.reset(seed=1)
    decision = agent.act(speak(demographics=json.dumps(PROFILE)))
    assert decision.extra["personalised"] is True
    assert "34" in decision.action and "Employed full-time" in decision.action
    plain = agent.act(speak(demographics="{broken"))
    assert plain.extra["personalised"] is False and "background" not in plain.action


def test_persuader_is_seeded_and_continues_its_stream_on_reset_none():
    a, b = Persuader(), Persuader()
    a.reset(seed=5)
    b.reset(seed=5)
    first = [a.act(speak()).action for _ in range(3)]
    assert first == [b.act(speak()).action for _ in range(3)]
    a.reset(seed=None)
    a.reset(seed=5)
    assert a.act(speak()).action == first[0]
    b.reset(seed=None)
    assert b.act(speak()).action not in first  # the stream goes on


@pytest.mark.parametrize("opponent", ["human", "llm"])
def test_persuader_plays_the_opponent_the_env_names_unless_given_one(opponent):
    def said(agent, **extra):
        agent.reset(seed=3)
        return agent.act(speak(**extra))

    followed = said(Persuader(), opponent=opponent)
    assert followed.extra["opponent"] == opponent
    pinned = said(Persuader(opponent=opponent))
    assert followed.extra["strength"] == pinned.extra["strength"]
    assert followed.action == pinned.action  # same style and strength as the explicit kind
    other = "llm" if opponent == "human" else "human"
    assert said(Persuader(opponent=other), opponent=opponent).extra["opponent"] == other
    assert Persuader().params() == {"opponent": None}


@pytest.mark.parametrize("named", [None, "robot"])
def test_persuader_without_an_opponent_anywhere_fails_loudly(named):
    observation = speak(opponent=named)
    if named is None:
        observation["extra"] = "side: pro\nphase: opening"
    with pytest.raises(ValueError, match="opponent: human"):
        Persuader().act(observation)


def test_persuader_survey_reply_states_its_side():
    agent = Persuader()
    assert score(agent.act(obs(mode=1, side="pro", role="r", persona="P: x")).action) == 4
    assert score(agent.act(obs(mode=1, side="con", role="r", persona="P: x")).action) == 2


def test_missing_side_and_bad_parameters_fail_loudly():
    bad = speak()
    bad["extra"] = "phase: opening"
    with pytest.raises(ValueError, match="side: pro"):
        Persuader().act(bad)
    with pytest.raises(ConfigError, match="human, llm"):
        Persuader(opponent="robot")
    with pytest.raises(ConfigError, match="low, medium, high"):
        Persuadee(group="extreme")
    with pytest.raises(ConfigError, match=r"persuadee\.prior"):
        Persuadee(prior=float("inf"))


# -- persuadee ---------------------------------------------------------------------------------


def run_persuadee(seed, strengths, *, side="con", group=None, prior=None, **extra):
    agent = Persuadee(prior=prior, group=group)
    agent.reset(seed=seed)
    pre = agent.act(survey_persuadee(side=side, **extra))
    post = agent.act(
        survey_persuadee(side=side, iteration=6, transcript=persuader_lines(strengths), **extra)
    )
    return score(pre.action), score(post.action), post


def test_persuadee_repeats_its_pre_answer_until_it_hears_an_argument():
    agent = Persuadee()
    agent.reset(seed=3)
    pre = score(agent.act(survey_persuadee()).action)
    own = "Al Ray (persuadee): I disagree. [strength: 9.00]"
    later = agent.act(survey_persuadee(iteration=6, transcript=own))
    assert score(later.action) == pre and later.extra["arguments"] == 0


def test_overwhelming_arguments_bring_the_persuadee_to_the_opponents_side():
    for seed in range(20):
        _, post_con, _ = run_persuadee(seed, [40.0] * 3, side="con")  # opponent argues pro
        _, post_pro, _ = run_persuadee(seed, [40.0] * 3, side="pro")  # opponent argues con
        assert (post_con, post_pro) == (5, 1)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    side=st.sampled_from(["pro", "con"]),
    strengths=st.lists(st.floats(-2.0, 2.0), min_size=1, max_size=3),
    bump=st.floats(0.0, 3.0),
)
def test_stronger_arguments_never_move_the_persuadee_away_from_the_opponent(
    seed, side, strengths, bump
):
    opponent = "con" if side == "pro" else "pro"
    pre, weak, _ = run_persuadee(seed, strengths, side=side)
    pre2, strong, _ = run_persuadee(seed, [s + bump for s in strengths], side=side)
    assert pre == pre2 and 1 <= weak <= 5 and 1 <= strong <= 5
    assert pm.aligned_agreement(strong, opponent) >= pm.aligned_agreement(weak, opponent)


def test_persuadee_with_zero_strength_arguments_answers_from_the_retest_model():
    # Zero effect: over many persuadees, P(aligned post | aligned pre) is the retest model.
    params = pm.PersuasionParams()
    counts = np.zeros((6, 6))
    for seed in range(6000):
        pre, post, _ = run_persuadee(seed, [0.0] * 3, side="con", prior=0.0)
        counts[pre, post] += 1  # the opponent argues pro: aligned == raw
    for pre in range(1, 6):
        n = counts[pre].sum()
        assert n > 200
        expected = pm.post_probabilities(pre, 0.0, params)
        assert np.abs(counts[pre, 1:] / n - expected).max() < 4 * np.sqrt(0.25 / n)


def test_personalised_llm_persuades_more_than_a_human_in_a_scripted_2x2():
    def mean_aligned_shift(opponent, personalised, seeds=range(1500)):
        shifts = []
        for seed in seeds:
            persuader, persuadee = Persuader(opponent=opponent), Persuadee()
            persuader.reset(seed=seed)
            persuadee.reset(seed=10_000 + seed)
            pre = score(persuadee.act(survey_persuadee()).action)
            extra = {"demographics": json.dumps(PROFILE)} if personalised else {}
            lines = [
                "Bo Li (persuader): " + persuader.act(speak(phase=ph, **extra)).action
                for ph in ("opening", "rebuttal", "conclusion")
            ]
            post = score(
                persuadee.act(survey_persuadee(iteration=6, transcript="\n".join(lines))).action
            )
            shifts.append(post - pre)  # persuadee argues con, so the opponent is pro: aligned
        return float(np.mean(shifts))

    human = mean_aligned_shift("human", False)
    assert mean_aligned_shift("llm", True) - human > 0.15
    assert abs(mean_aligned_shift("human", True) - human) < 1e-12  # same seeds, gain 0


def test_group_moderates_the_shift_and_is_read_from_extra():
    shifts = {
        g: run_persuadee(1, [0.6] * 3, strength=g)[2].extra["shift"] for g in pm.STRENGTH_GROUPS
    }
    assert shifts["low"] > shifts["medium"] > shifts["high"] > 0
    fixed = run_persuadee(1, [0.6] * 3, group="high", strength="low")[2].extra["shift"]
    assert fixed == pytest.approx(shifts["high"])  # the parameter wins over extra


def test_pre_answer_comes_from_prior_or_profile_and_is_seeded():
    assert {run_persuadee(s, [], prior=10.0)[0] for s in range(10)} == {5}
    assert {run_persuadee(s, [], prior=-10.0)[0] for s in range(10)} == {1}
    profile = json.dumps(PROFILE)
    same = [run_persuadee(7, [], profile=profile)[0] for _ in range(2)]
    assert same[0] == same[1]
    prior = pm.profile_prior(PROFILE, PROPOSITION, "medium", pm.PersuasionParams())
    explicit = [run_persuadee(s, [], prior=prior)[0] for s in range(30)]
    from_profile = [run_persuadee(s, [], profile=profile)[0] for s in range(30)]
    assert explicit == from_profile


def test_persuadee_reads_debate_v0_side_labels_and_its_persona_profile():
    # As debate_v0 renders salvi: "Name (side): text" lines, the profile in the persona, and
    # "persuadee_demographics: k: v; ..." for a personalised persuader.
    text = "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in PROFILE.items())
    persona = "Participant: A debate participant; " + text
    lines = "Assistant (pro): Yes. [strength: 40.00]\nParticipant (con): No. [strength: 40.00]"
    agent = Persuadee()
    agent.reset(seed=2)
    pre = agent.act(obs(mode=1, side="con", role="persuadee", persona=persona))
    post = agent.act(obs(mode=1, side="con", role="persuadee", persona=persona, transcript=lines))
    assert post.extra["arguments"] == 1 and score(post.action) == 5
    prior = pm.profile_prior(PROFILE, PROPOSITION, "medium", pm.PersuasionParams())
    with_prior = Persuadee(prior=prior)
    with_prior.reset(seed=2)
    assert with_prior.act(survey_persuadee()).action == pre.action
    persuader = Persuader()
    persuader.reset(seed=2)
    said = persuader.act(speak(persuadee_demographics=text))
    assert said.extra["personalised"] is True and "Independent" in said.action


def test_persuadee_speaks_its_side_without_strength_markers():
    agent = Persuadee()
    for side in ("pro", "con"):
        o = obs(mode=0, side=side, role="persuadee", persona="Al Ray: x")
        text = agent.act(o).action
        assert text and pm.parse_strengths(text) == []
    assert "yes" in agent.act(obs(mode=0, side="pro", role="p", persona="A: x")).action
    assert "no" in agent.act(obs(mode=0, side="con", role="p", persona="A: x")).action


@pytest.mark.parametrize("opponent", ["human", "llm"])
def test_in_debate_v0_the_default_persuader_argues_as_the_envs_opponent(opponent):
    from agentsim.envs.debate.env import DebateEnv
    from agentsim.runtime.runner import run_episode

    env = DebateEnv(protocol="salvi", opponent=opponent)  # `--set opponent=...`
    agents = {"debater_0": Persuader(), "debater_1": Persuadee()}
    p = pm.PersuasionParams()
    strengths = []
    for seed in range(20):
        records = run_episode(env, agents, seed=seed).records
        said = [r for r in records if r["type"] == "utterance" and r["role"] == "persuader"]
        opening = next(r["text"] for r in said if r["phase"] == "opening")
        assert opening.startswith("There are three strong reasons") is (opponent == "llm")
        strengths += [s for r in said for s in pm.parse_strengths(r["text"])]
    mean = p.strength_mean_llm if opponent == "llm" else p.strength_mean_human
    other = p.strength_mean_human if opponent == "llm" else p.strength_mean_llm
    assert abs(np.mean(strengths) - mean) < abs(np.mean(strengths) - other)
