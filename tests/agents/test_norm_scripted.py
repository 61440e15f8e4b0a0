"""Scripted norm-society members: trait draws, behaviour, conformity, reflection, carried state."""

import numpy as np
import pytest

from agentsim.agents.registry import agent_params, make_agent
from agentsim.agents.scripted.norm_society import Evolutionary, Reflective, Static
from agentsim.core.errors import ConfigError
from agentsim.evolution.population import parse_population

D = 5


def obs(phase, *, neighbours=None, known=0, advice=None, score=4.0):
    return {
        "phase": phase,
        "neighbours": np.full(D, 0.5, np.float32) if neighbours is None else neighbours,
        "neighbours_known": known,
        "advice": np.zeros(D, np.float32) if advice is None else np.asarray(advice, np.float32),
        "score": np.array([score], np.float32),
    }


def test_a_member_without_traits_draws_them_from_its_seed_and_carries_them():
    a, b, c = Evolutionary(), Evolutionary(), Evolutionary()
    a.reset(seed=3)
    b.reset(seed=3)
    c.reset(seed=4)
    assert a.carried() == {}  # nothing drawn before the first observation
    for agent in (a, b, c):
        agent.act(obs(1))
    assert a.carried() == b.carried() != c.carried()
    traits = a.carried()["traits"]
    assert len(traits) == D and all(0 <= x <= 1 for x in traits)
    # the next step's agent, built from the carried params, states the same traits
    again = Evolutionary(**a.params(), **a.carried())
    again.reset(seed=99)
    assert again.act(obs(1)).action.tolist() == np.float32(traits).tolist()


def test_behaviour_is_traits_plus_noise_and_the_statement_is_the_traits():
    z = [0.1, 0.2, 0.5, 0.8, 1.0]
    exact = Evolutionary(traits=z, noise=0.0)
    exact.reset(seed=0)
    assert exact.act(obs(0)).action == pytest.approx(z)
    noisy = Evolutionary(traits=z, noise=0.1)
    noisy.reset(seed=0)
    draws = np.array([noisy.act(obs(0)).action for _ in range(2000)])
    assert draws.min() >= 0 and draws.max() <= 1
    assert draws.mean(axis=0)[:3] == pytest.approx(z[:3], abs=0.01)
    assert draws.std(axis=0)[2] == pytest.approx(0.1, abs=0.01)
    assert noisy.act(obs(1)).action == pytest.approx(z)  # the statement: no noise
    assert noisy.carried()["traits"] == z  # situations do not change the traits


def test_conformity_pulls_traits_toward_known_neighbours_only():
    z = np.array([0.0, 0.2, 0.4, 0.6, 0.8])
    mean = np.full(D, 1.0, np.float32)
    agent = Evolutionary(traits=z.tolist(), noise=0.0, conformity=0.25)
    agent.reset(seed=0)
    agent.act(obs(0, neighbours=mean, known=0))
    assert agent.carried()["traits"] == pytest.approx(z)
    agent.act(obs(0, neighbours=mean, known=1))
    assert agent.carried()["traits"] == pytest.approx(0.75 * z + 0.25)
    agent.act(obs(1, neighbours=mean, known=1))  # the questionnaire round: no pull
    assert agent.carried()["traits"] == pytest.approx(0.75 * z + 0.25)


def test_static_ignores_neighbours_and_feedback():
    z = [0.3] * D
    agent = Static(traits=z, noise=0.0)
    agent.reset(seed=0)
    agent.act(obs(0, neighbours=np.ones(D, np.float32), known=1))
    agent.act(obs(2, advice=np.ones(D), score=1.0))
    assert agent.carried() == {"traits": z}
    assert agent.params() == {"noise": 0.0}


def test_reflective_follows_the_advice_and_remembers_its_score():
    z = np.array([0.1, 0.5, 0.9, 0.5, 0.0])
    advice = np.array([1.0, -0.5, 1.0, 0.0, -1.0])
    agent = Reflective(traits=z.tolist(), lr=0.4)
    agent.reset(seed=0)
    decision = agent.act(obs(2, advice=advice, score=3.5))
    assert decision.action.tolist() == [0.0] * D  # the feedback round's action is ignored
    carried = agent.carried()
    expected = np.clip(z + 0.4 * 0.5 * advice.astype(np.float32), 0, 1)
    assert carried["traits"] == pytest.approx(expected)
    assert carried["memory"] == 3.5
    assert agent.params() == {"noise": 0.1, "lr": 0.4}
    Reflective(**agent.params(), **carried)  # the next step's member takes them back


@pytest.mark.parametrize(
    ("factory", "key"),
    [
        (lambda: Evolutionary(noise=-0.1), "evolutionary.noise"),
        (lambda: Evolutionary(conformity=2), "evolutionary.conformity"),
        (lambda: Reflective(lr=True), "reflective.lr"),
        (lambda: Static(traits=[0.5, 1.5]), "static.traits"),
        (lambda: Static(traits="0.5"), "static.traits"),
    ],
)
def test_bad_params_name_kind_and_key(factory, key):
    with pytest.raises(ConfigError, match=f"invalid {key}="):
        factory()


def test_traits_of_the_wrong_length_are_refused_at_the_first_observation():
    agent = Static(traits=[0.5, 0.5])
    agent.reset(seed=0)
    with pytest.raises(ConfigError, match=r"static\.traits.*5 numbers"):
        agent.act(obs(0))


def test_kinds_are_registered_for_the_norm_society_and_parse_in_populations():
    agent = make_agent("evolutionary", env="norm_society_v0", name="1_1", conformity=0.1)
    assert agent.name == "1_1" and agent_params(agent) == {"noise": 0.1, "conformity": 0.1}
    members = parse_population("evolutionary[conformity=0.2]:2,static:1", env="norm_society_v0")
    assert [(m.kind, m.params) for m in members] == [
        ("evolutionary", {"noise": 0.1, "conformity": 0.2}),
        ("evolutionary", {"noise": 0.1, "conformity": 0.2}),
        ("static", {"noise": 0.1}),
    ]
