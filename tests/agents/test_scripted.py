"""Scripted donor strategies: their rules, batch == single decisions, mutation, and the contract."""

import numpy as np
import pytest

from agentsim.agents.base import Agent, Decision
from agentsim.agents.registry import agent_kinds, make_agent
from agentsim.agents.scripted.donor import (
    STRATEGIES,
    ImageScoring,
    Standing,
    TraceAverage,
    TraceBatch,
)
from agentsim.core.errors import ConfigError


def batch(*traces):
    depth = 3
    frac = np.zeros((len(traces), depth))
    for i, t in enumerate(traces):
        frac[i, : len(t)] = t
    return TraceBatch(np.array([len(t) for t in traces], dtype=np.int64), frac)


def test_image_scoring_helps_the_good_and_refuses_the_bad():
    s = ImageScoring(threshold=0.3, generosity=0.6, initial=0.5)
    assert s.decide_batch(batch([], [0.4], [0.1, 0.9])).tolist() == [0.5, 0.6, 0.0]


def test_image_scoring_punishes_when_asked():
    s = ImageScoring(threshold=0.3, generosity=0.6, punish=0.2)
    assert s.decide_batch(batch([0.0])).tolist() == [-0.2]


def test_standing_forgives_justified_defection():
    s = Standing(threshold=0.3, generosity=0.6)
    # Defected against a defector (justified) -> good; against a cooperator -> bad;
    # defected against someone who had justly defected -> bad.
    out = s.decide_batch(batch([0.0, 0.0], [0.0, 0.9], [0.0, 0.0, 0.0]))
    assert out.tolist() == [0.6, 0.0, 0.0]


def test_trace_average_weights_recent_entries_and_clips():
    s = TraceAverage(initial=0.5, decay=0.5, bonus=0.0, floor=0.1, cap=0.8)
    out = s.decide_batch(batch([], [0.6, 0.0], [1.0, 1.0, 1.0], [0.0]))
    assert out.tolist() == pytest.approx([0.5, 0.4, 0.8, 0.1])


@pytest.mark.parametrize("cls", STRATEGIES)
def test_batch_and_single_decisions_agree(cls):
    traces = batch([], [0.2], [0.9, 0.1], [0.5, 0.0, 1.0], [-0.3, 0.7])
    a, b = cls(), cls()
    a.reset(seed=1)
    b.reset(seed=1)
    together = a.decide_batch(traces)
    one_by_one = [
        b.act(
            {
                "is_donor": 1,
                "trace_length": int(traces.length[i]),
                "trace_fraction": traces.fraction[i],
            }
        ).action[0]
        for i in range(5)
    ]
    assert together.astype(np.float32).tolist() == pytest.approx(one_by_one)


@pytest.mark.parametrize("cls", STRATEGIES)
def test_every_strategy_honours_the_agent_contract(cls):
    agent = make_agent(cls.kind, name="1_1")
    assert isinstance(agent, Agent) and agent.name == "1_1"
    agent.reset(seed=0)
    decision = agent.act({"is_donor": 0, "trace_length": 0, "trace_fraction": np.zeros(3)})
    assert isinstance(decision, Decision) and decision.parse_status == "scripted"


def test_mutation_is_seeded_and_stays_in_bounds():
    s = TraceAverage()
    a = s.mutated_params(np.random.default_rng(5), 0.5)
    b = s.mutated_params(np.random.default_rng(5), 0.5)
    assert a == b and a != s.params()
    for key, (low, high) in TraceAverage.BOUNDS.items():
        assert low <= a[key] <= high


@pytest.mark.parametrize("cls", [ImageScoring, Standing])
def test_mutation_never_invents_punishment_but_varies_its_strength(cls):
    # A non-punisher's children must not punish: the env may have punishment off, where
    # their punishments would be recorded as decisions the env never carried out.
    rng = np.random.default_rng(0)
    calm = [cls(punish=0.0).mutated_params(rng, 0.5)["punish"] for _ in range(50)]
    assert calm == [0.0] * 50
    harsh = {cls(punish=0.5).mutated_params(rng, 0.5)["punish"] for _ in range(50)}
    assert len(harsh) > 10 and all(0.0 <= p <= 1.0 for p in harsh)
    assert cls.ENV_REQUIREMENTS == {"punish": ("punishment", "costly")}


def test_registry_rejects_unknown_kinds_and_parameters():
    assert "standing" in agent_kinds()
    with pytest.raises(ConfigError, match="standing"):
        make_agent("standin")
    with pytest.raises(ConfigError, match="image_scoring"):
        make_agent("image_scoring", threshold=2.0)
