"""Scripted debaters: the Agent contract, their update rules, and whole offline debates."""

import itertools
import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentsim.agents.base import Agent, Decision
from agentsim.agents.scripted.debate import (
    AGREEMENT_BANK,
    DEBATERS,
    SERIOUSNESS_BANK,
    BoundedConfidence,
    DeGroot,
    DriftToPrior,
    Stubborn,
)
from agentsim.core.errors import ConfigError
from agentsim.envs.debate import catalogue
from agentsim.envs.debate.env import RECORD_FIELDS, DebateEnv
from agentsim.envs.debate.study import STUDY
from agentsim.games import debate as rules
from agentsim.runtime.runner import run_episode
from analysis import debate as debate_stats


def observe(
    *,
    phase=1,
    iteration=0,
    role="democrat",
    topic="racism",
    stated=(0.0, 0.0, 0.0),
    mask=(0, 0, 0),
    me=0,
    extra="protocol: taubenfeld\nscale: 0-10",
):
    return {
        "phase": phase,
        "iteration": np.array([iteration], dtype=np.int64),
        "role": role,
        "topic": topic,
        "stated": np.array(stated, dtype=np.float32),
        "stated_mask": np.array(mask, dtype=np.int8),
        "self_index": me,
        "extra": extra,
    }


def play(env, agents, seed):
    env.reset(seed=seed)
    for i, a in enumerate(env.possible_agents):
        agents[a].reset(seed=seed + i)
    records = list(env.pop_records())
    for agent in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else agents[agent].act(obs).action)
        records.extend(env.pop_records())
    return records


def trajectories(records):
    """{agent: [score at iteration 0, 1, ...]} from survey records."""
    out = {}
    for r in records:
        if r["type"] == "survey":
            out.setdefault(r["agent"], []).append(r["score"])
    return out


# -- the Agent contract ------------------------------------------------------------------


@pytest.mark.parametrize("cls", DEBATERS)
def test_every_debater_is_an_agent_with_json_params(cls):
    agent = cls()
    assert isinstance(agent, Agent)
    assert agent.name == cls.kind
    params = agent.params()
    json.dumps(params)
    assert cls(**params).params() == params
    agent.reset(seed=0)
    decision = agent.act(observe())
    assert isinstance(decision, Decision) and isinstance(decision.action, str)
    assert decision.parse_status == "scripted"


@pytest.mark.parametrize("cls", DEBATERS)
def test_survey_reply_parses_to_the_attitude_and_utterance_carries_it(cls):
    agent = cls(initial=6.25)
    agent.reset(seed=1)
    reply = agent.act(observe(phase=1)).action
    assert rules.parse_survey(reply, 0, 10) == 6.25
    text, stated = rules.parse_attitude_marker(agent.act(observe(phase=0)).action)
    assert stated == 6.25
    assert text in {s.format(topic="racism", Topic="Racism") for s in SERIOUSNESS_BANK[3]}


def test_templates_follow_the_seed():
    def said(seed):
        agent = DeGroot(initial=9.0)
        agent.reset(seed=seed)
        return [agent.act(observe(phase=0)).action for _ in range(8)]

    assert said(3) == said(3)
    assert len({s for seed in range(4) for s in said(seed)}) > 1


def test_bad_parameters_name_kind_and_key():
    with pytest.raises(ConfigError, match=r"degroot\.self_weight"):
        DeGroot(self_weight=1.5)
    with pytest.raises(ConfigError, match=r"bounded_confidence\.model.*hk, deffuant"):
        BoundedConfidence(model="voter")
    with pytest.raises(ConfigError, match=r"bounded_confidence\.mu"):
        BoundedConfidence(mu=0.9)
    with pytest.raises(ConfigError, match=r"drift_to_prior\.anchor\+drift"):
        DriftToPrior(anchor=0.7, drift=0.5)


# -- initial attitudes -------------------------------------------------------------------


@pytest.mark.parametrize("role", ["republican", "democrat", "default"])
def test_initial_attitude_is_the_roles_reference_rating(role):
    agent = Stubborn(initial_sd=0.0)
    agent.reset(seed=0)
    agent.act(observe(role=role, topic="Illegal Immigration"))
    assert agent.attitude == rules.TOPIC_PRIORS["illegal immigration"][role]


def test_unknown_topic_or_role_starts_at_the_midpoint_of_the_scale():
    agent = Stubborn(initial_sd=0.0)
    agent.reset(seed=0)
    agent.act(observe(topic="taxes"))
    assert agent.attitude == 5.0
    agent.reset(seed=0)
    salvi = "protocol: salvi\nscale: 1-5\nside: pro"
    reply = agent.act(observe(role="persuadee", topic="Pennies should go.", extra=salvi))
    assert agent.attitude == 3.0 and reply.action == "My rating: 3.00"
    text, _ = rules.parse_attitude_marker(agent.act(observe(phase=0, extra=salvi)).action)
    assert text in AGREEMENT_BANK[2]


def start(agent, seed, **kw):
    agent.reset(seed=seed)
    agent.act(observe(**kw))
    return agent.attitude


@pytest.mark.parametrize("cls", DEBATERS)
def test_start_is_jittered_around_the_reference_rating_and_follows_the_seed(cls):
    ref = rules.TOPIC_PRIORS["racism"]["republican"]
    starts = [start(cls(), seed, role="republican") for seed in range(200)]
    assert starts == [start(cls(), seed, role="republican") for seed in range(200)]
    assert len(set(starts)) == 200  # repetitions differ: standard errors are not 0
    assert np.mean(starts) == pytest.approx(ref, abs=0.15)
    assert np.std(starts) == pytest.approx(0.5, abs=0.1)  # initial_sd on the 0-10 scale
    wide = [start(cls(initial_sd=2.0), seed, role="republican") for seed in range(200)]
    assert np.std(wide) == pytest.approx(2.0, abs=0.3)


def test_start_jitter_scales_to_the_survey_scale_and_is_clipped_to_it():
    salvi = "protocol: salvi\nscale: 1-5\nside: pro"
    starts = [start(Stubborn(), s, role="persuadee", topic="X?", extra=salvi) for s in range(300)]
    assert np.std(starts) == pytest.approx(0.5 * 4 / 10, abs=0.04)
    dem = [start(Stubborn(initial_sd=3.0), s, topic="climate change") for s in range(100)]
    assert max(dem) == 10.0 and min(dem) >= 0.0  # 9.5 plus jitter, clipped


def test_an_explicit_initial_is_used_exactly_and_reset_none_continues_the_stream():
    assert {start(Stubborn(initial=3.25), seed) for seed in range(20)} == {3.25}
    agent = Stubborn()
    first = start(agent, 7)
    agent.reset(seed=None)
    agent.act(observe())
    assert agent.attitude != first  # the stream went on instead of restarting
    assert start(agent, 7) == first


# -- update rules ------------------------------------------------------------------------


def heard(agent, stated, mask, iteration=1, me=0, **kw):
    agent.reset(seed=0)
    agent.act(observe(iteration=0, me=me, **kw))
    agent.act(observe(iteration=iteration, stated=stated, mask=mask, me=me, **kw))
    return agent.attitude


def test_degroot_moves_to_the_weighted_mean_of_known_others():
    got = heard(DeGroot(initial=2.0, self_weight=0.5), (9.0, 4.0, 8.0), (1, 1, 1))
    assert got == pytest.approx(0.5 * 2.0 + 0.5 * 6.0)
    # Its own stated value and unknown seats are ignored.
    assert heard(DeGroot(initial=2.0), (9.0, 4.0, 8.0), (1, 0, 1), me=2) == pytest.approx(
        0.5 * 2.0 + 0.5 * 9.0
    )


def test_hk_ignores_statements_beyond_epsilon():
    agent = BoundedConfidence(model="hk", epsilon=2.0, initial=5.0)
    assert heard(agent, (0.0, 6.0, 9.5), (0, 1, 1)) == pytest.approx((5.0 + 6.0) / 2)


def test_deffuant_moves_mu_toward_close_statements_only():
    agent = BoundedConfidence(model="deffuant", epsilon=2.0, mu=0.25, initial=5.0)
    assert heard(agent, (0.0, 6.0, 9.5), (0, 1, 1)) == pytest.approx(5.25)


def test_drift_to_prior_follows_the_rule_with_the_default_roles_prior():
    agent = DriftToPrior(anchor=0.1, drift=0.2, self_weight=None, initial_sd=0.0)
    got = heard(agent, (0.0, 4.0, 8.0), (0, 1, 1), role="republican")
    b, x0 = rules.TOPIC_PRIORS["racism"]["default"], rules.TOPIC_PRIORS["racism"]["republican"]
    assert agent.target == b
    assert got == pytest.approx(0.7 * (x0 + 4.0 + 8.0) / 3 + 0.1 * x0 + 0.2 * b)


def test_drift_to_prior_defaults_let_the_drift_dominate_and_damp_listening():
    agent = DriftToPrior(initial_sd=0.0)
    assert (agent.anchor, agent.drift, agent.self_weight) == (0.1, 0.2, 0.95)
    got = heard(agent, (0.0, 4.0, 8.0), (0, 1, 1), role="republican")
    b, x0 = rules.TOPIC_PRIORS["racism"]["default"], rules.TOPIC_PRIORS["racism"]["republican"]
    assert got == pytest.approx(0.7 * (0.95 * x0 + 0.05 * 6.0) + 0.1 * x0 + 0.2 * b)


def test_stubborn_never_moves():
    assert heard(Stubborn(initial=1.0), (10.0, 10.0, 10.0), (1, 1, 1)) == 1.0


def test_one_update_per_new_utterance_count():
    agent = DeGroot(initial=0.0, self_weight=0.5)
    agent.reset(seed=0)
    agent.act(observe(iteration=0))
    for phase in (1, 1, 0):  # repeated observations at one iteration: one update
        agent.act(observe(phase=phase, iteration=1, stated=(0, 8, 8), mask=(0, 1, 1)))
    assert agent.attitude == 4.0


@settings(max_examples=50, deadline=None)
@given(
    stated=st.lists(st.floats(0, 10), min_size=3, max_size=3),
    initial=st.floats(0, 10),
    eps=st.floats(0, 10),
)
def test_every_debater_stays_on_the_scale(stated, initial, eps):
    for agent in (
        DeGroot(initial=initial),
        BoundedConfidence(epsilon=eps, initial=initial),
        BoundedConfidence(model="deffuant", epsilon=eps, initial=initial),
        DriftToPrior(initial=initial, prior=12.0),
    ):
        x = heard(agent, stated, (1, 1, 1), me=1)
        assert 0.0 <= x <= 10.0


# -- whole offline debates ---------------------------------------------------------------


def test_offline_debate_with_three_drifters_contracts_toward_the_prior():
    """With no anchoring (s = 0), e = x - b obeys e' = a W e with stale stated values.

    Everyone updates once per utterance from values at most one round robin (k
    utterances) old, so after survey T every |e| <= a^(1 + floor((T-2)/k)) max|e(0)|
    (modelling notes §1.5; survey replies carry 2 decimals, markers 3).
    """
    env = DebateEnv(topic="racism", iterations=9)
    drift = 0.3
    agents = {a: DriftToPrior(anchor=0.0, drift=drift) for a in env.possible_agents}
    records = play(env, agents, seed=11)
    for r in records:
        assert all(f in r for f in RECORD_FIELDS[r["type"]])
    traj = trajectories(records)
    b = rules.TOPIC_PRIORS["racism"]["default"]
    e0 = max(abs(t[0] - b) for t in traj.values())
    a, k, T = 1.0 - drift, 3, 9
    for agent, t in traj.items():
        assert len(t) == T + 1 and all(isinstance(x, float) for x in t)
        assert abs(t[-1] - b) <= a ** (1 + (T - 2) // k) * e0 + 0.01, agent
    for partisan in ("debater_0", "debater_1"):
        assert abs(traj[partisan][-1] - b) < 0.5 * abs(traj[partisan][0] - b)


def test_offline_debate_partisans_approach_the_default_agent():
    env = DebateEnv(topic="gun_violence", iterations=9)
    agents = {a: DriftToPrior() for a in env.possible_agents}
    for seed in range(3):
        traj = trajectories(play(env, agents, seed=seed))
        default = traj["debater_2"]
        for partisan in ("debater_0", "debater_1"):
            gap = [abs(p - d) for p, d in zip(traj[partisan], default, strict=True)]
            assert gap[-1] < 0.5 * gap[0]


@pytest.mark.parametrize("topic", sorted(catalogue.load_topics(None)))
def test_default_population_partisans_approach_the_default_line_without_crossing(topic):
    """Taubenfeld et al. 2024: the partisans' mean lines never cross the Default agent's; they
    drift toward it (the model's inherent bias), and the Default agent barely moves."""
    assert STUDY.default_population == "drift_to_prior:3"
    env = DebateEnv(topic=topic)  # Republican, Democrat, Default; 9 iterations
    agents = {a: DriftToPrior() for a in env.possible_agents}
    records = [r for seed in range(40) for r in run_episode(env, agents, seed=seed).records]
    (cond,) = debate_stats.summarise(records)["conditions"].values()
    assert cond["episodes"] == 40
    for role in ("republican", "democrat"):
        assert not cond["crossings"][role]["crossed"], role
        gap = cond["gap_to_default"][role]["by_iteration"]["mean"]
        assert all(b <= a for a, b in itertools.pairwise(gap)), (role, gap)
        assert gap[-1] < 0.5 * gap[0]
    default = cond["trajectories"]["default"]["mean"]
    assert max(abs(x - default[0]) for x in default) < 0.5


def test_offline_debate_with_mixed_kinds_is_reproducible_and_follows_the_schema():
    env = DebateEnv(topic="climate_change", iterations=6)

    def make():
        return {
            "debater_0": DeGroot(),
            "debater_1": BoundedConfidence(model="deffuant", epsilon=8.0),
            "debater_2": DriftToPrior(),
        }

    first = play(env, make(), seed=4)
    assert first == play(env, make(), seed=4)
    for r in first:
        assert all(f in r for f in RECORD_FIELDS[r["type"]])
        json.dumps(r, allow_nan=False)
    said = [r for r in first if r["type"] == "utterance"]
    assert all(r["stated"] is not None and "attitude" not in r["text"] for r in said)
    assert all(r["parse_status"] == "ok" for r in first if r["type"] == "survey")
    assert first != play(env, make(), seed=5)
    traj = trajectories(first)
    assert traj["debater_0"][0] == pytest.approx(
        rules.TOPIC_PRIORS["climate change"]["republican"], abs=2.0
    )
    assert traj["debater_0"][-1] > traj["debater_0"][0]  # DeGroot moved toward the others


def test_scripted_debaters_run_the_salvi_protocol(tmp_path):
    props = tmp_path / "p.json"
    props.write_text(json.dumps({"propositions": [{"id": "a", "text": "X.", "strength": "low"}]}))
    demo = tmp_path / "d.json"
    demo.write_text(json.dumps({"profiles": [{"gender": "male", "age": "40"}]}))
    env = DebateEnv(protocol="salvi", propositions_file=str(props), demographics_file=str(demo))
    agents = {"debater_0": Stubborn(initial=5.0), "debater_1": DeGroot(initial=1.0)}
    for seed in range(4):
        records = play(env, agents, seed=seed)
        traj = trajectories(records)
        assert traj["debater_0"] == [5.0, 5.0]
        # The persuadee updates at each of its turns after the persuader has spoken and at
        # the final survey: 3 times on the pro side (it opens), 4 times on the con side.
        updates = 3 if records[0]["sides"]["debater_1"] == "pro" else 4
        assert traj["debater_1"] == [1.0, 5.0 - 4.0 * 0.5**updates]
