"""The norm society's LLM member, observer parser, offline model and trait rewrite."""

import asyncio
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentsim.agents.llm.norm_society import (
    LETTERS,
    LLMNormAgent,
    NormLLMContext,
    load_norm_prompts,
    parse_answers,
    parse_option,
    parse_text,
)
from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.errors import ConfigError
from agentsim.envs.norm_society.catalogue import load_bank
from agentsim.envs.norm_society.llm import compressions, estimate, llm_mutate
from agentsim.envs.norm_society.offline import norm_society_reply
from agentsim.evolution.population import Member
from agentsim.judges.norm_llm_observer import llm_norm_observer, parse_verdict
from agentsim.judges.norm_observer import NormItem
from agentsim.llm.types import ChatRequest, ChatResult

BANK = load_bank()
D = BANK.dims


class Scripted:
    """A LanguageModel: the offline norm model, or fixed text, per purpose; keeps requests."""

    def __init__(self, replies=None):
        self.replies = replies or {}
        self.requests: list[ChatRequest] = []

    async def complete(self, request: ChatRequest) -> ChatResult:
        self.requests.append(request)
        if request.purpose in self.replies:
            text = self.replies[request.purpose]
        else:
            text = norm_society_reply([{"role": r, "content": c} for r, c in request.messages])
        return ChatResult(text, 10, 5, 0.0, 0.0, 1, False, request.model)

    def purposes(self):
        return [r.purpose for r in self.requests]


def _ctx(model, **settings):
    s = LLMSettings(model="offline/norm_society", **settings)
    return NormLLMContext(model, s, load_norm_prompts(), BANK)


def _obs(phase, *, situation=0, year=2000, score=4.0, feedback=""):
    options = np.array([o.vector for o in BANK.situation(situation).options], np.float32)
    return {
        "phase": phase,
        "situation": situation if phase == 0 else 0,
        "options": options if phase == 0 else np.zeros((4, D), np.float32),
        "neighbours": np.full(D, 0.5, np.float32),
        "neighbours_known": 0,
        "era": 0,
        "year": np.array([year]),
        "score": np.array([score], np.float32),
        "advice": np.zeros(D, np.float32),
        "feedback": feedback,
    }


def _step(agent, *, rounds=1, year=2000, feedback="", situation=0):
    decisions = [agent.act(_obs(0, situation=situation + r, year=year)) for r in range(rounds)]
    decisions.append(agent.act(_obs(1, year=year)))
    decisions.append(agent.act(_obs(2, year=year, score=3.0, feedback=feedback)))
    return decisions


def _agent(model, name="1_1", seed=0, **params):
    agent = LLMNormAgent(name=name, **params)
    agent.bind(_ctx(model))
    agent.reset(seed=seed)
    return agent


# --- parsers ----------------------------------------------------------------------------------


@given(st.text(max_size=300))
def test_parsers_never_raise(text):
    for result in (
        parse_option(text),
        parse_answers(text, 10),
        parse_text(text, "Summary", 50),
        parse_verdict(text, None),
    ):
        assert result.ok == (result.value is not None)
        assert result.ok or result.error


@given(
    st.sampled_from(LETTERS),
    st.text(alphabet=st.characters(blacklist_characters="\r\n"), max_size=80),
)
def test_option_round_trips(letter, reason):
    r = parse_option(f"Choice: {letter}\nReason: {reason}")
    assert r.value == LETTERS.index(letter)


def test_option_refuses_prose_and_accepts_a_bare_letter():
    assert not parse_option("A good question; I would rather not say.").ok
    assert parse_option(" c. ").value == 2
    assert parse_option("**Choice**: (D)").value == 3


@given(st.lists(st.integers(1, 5), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_answers_round_trip_in_any_order(answers, random):
    lines = [f"{i}: {a}" for i, a in enumerate(answers, 1)]
    random.shuffle(lines)
    assert parse_answers("\n".join(lines), len(answers)).value == tuple(answers)


def test_answers_need_every_item_in_range():
    assert "statement 2" in (parse_answers("1: 3\n3: 4", 3).error or "")
    assert "out of range" in (parse_answers("1: 0\n2: 3", 2).error or "")


@given(st.integers(1, 7), st.text(alphabet="abc .,", min_size=1, max_size=40).filter(str.strip))
def test_verdict_round_trips_and_labels_like_the_rule_observer(score, feedback):
    v = parse_verdict(f"Score: {score}\nFeedback: {feedback}", None).value
    assert v is not None and v.score == score
    assert v.label == ("adheres" if score >= 5 else "violates" if score <= 3 else "partly")


def test_verdict_refuses_out_of_range_or_missing_feedback():
    assert not parse_verdict("Score: 8\nFeedback: fine", None).ok
    assert not parse_verdict("Score: 5", None).ok


# --- the agent --------------------------------------------------------------------------------


def test_a_step_makes_one_call_per_decision_and_acts_with_option_vectors():
    model = Scripted()
    agent = _agent(model, memory_threshold=100)
    d = _step(agent, rounds=2)
    assert model.purposes() == ["situation", "situation", "questionnaire"]
    options = [o.vector for o in BANK.situation(0).options]
    assert any(np.allclose(d[0].action, v) for v in options)
    assert d[0].extra["option"] in LETTERS and d[-1].parse_status == "scripted"
    answers = d[2].extra["answers"]
    assert np.allclose(d[2].action, BANK.statement_vector(answers), atol=1e-6)


def test_memory_is_compressed_once_it_holds_the_threshold():
    model = Scripted({"memory": "Summary: the observer wants online habits."})
    agent = _agent(model, memory_threshold=4)
    _step(agent)  # 2 events: a choice and the feedback
    assert "memory" not in model.purposes() and len(agent.short_term) == 2
    d = _step(agent, year=2002)  # 4 events: compressed at the step's end
    assert model.purposes().count("memory") == 1
    assert agent.short_term == () and agent.long_term == "the observer wants online habits."
    assert d[-1].parse_status == "ok" and d[-1].usage.calls == 1
    _step(agent, year=2004)
    assert model.purposes().count("memory") == 1  # 2 new events: below the threshold again


def test_memory_zero_sends_no_memory_or_feedback():
    prompts = {}
    for memory in (0, 1):
        model = Scripted()
        agent = _agent(model, memory=memory)
        _step(agent, feedback="ZEBRA feedback")
        agent.act(_obs(0, situation=5, year=2002))
        prompts[memory] = model.requests[-1].messages[-1][1]
    assert "ZEBRA" in prompts[1] and "Recent events" in prompts[1]
    assert "ZEBRA" not in prompts[0] and "Recent events" not in prompts[0]
    assert "You chose" not in prompts[0]


def test_carried_state_round_trips_as_json():
    model = Scripted({"memory": "Summary: keep it casual."})
    agent = _agent(model, memory_threshold=3)
    _step(agent, feedback="More online habits.")
    carried = json.loads(json.dumps(agent.carried()))
    assert set(carried) >= {"persona", "career", "worldview", "life_view", "values"}
    again = LLMNormAgent(name="1_1", **{**agent.params(), **carried})
    again.bind(_ctx(model))
    again.reset(seed=99)  # another step: the same member, its traits and memory kept
    assert again.carried() == carried
    assert again.traits == agent.traits and again.long_term == agent.long_term


def test_a_child_inherits_the_memory_switch_but_not_the_memories():
    parent = _agent(Scripted(), name="1_1", memory=0)
    _step(parent)
    state = parent.carried()["memory_state"]
    child = LLMNormAgent(name="2_1", memory=None, memory_state=state)
    child.bind(_ctx(Scripted()))
    child.reset(seed=1)
    assert child.memory == 0 and child.short_term == () and child.long_term == ""


def test_traits_are_drawn_from_the_bank_by_seed():
    a, b = _agent(Scripted(), seed=5), _agent(Scripted(), seed=5)
    a.act(_obs(1)), b.act(_obs(1))
    assert a.traits == b.traits
    assert a.traits["career"] in BANK.personas["career"]
    given_persona = _agent(Scripted(), seed=5, persona="a lighthouse keeper")
    given_persona.act(_obs(1))
    assert given_persona.traits["persona"] == "a lighthouse keeper"
    assert given_persona.traits["career"] == a.traits["career"]


def test_unparseable_replies_fall_back_as_recorded():
    garbage = {p: "blah" for p in ("situation", "questionnaire", "memory")}
    agent = _agent(Scripted(garbage), memory_threshold=100)
    first = agent.act(_obs(0, situation=3))
    assert first.parse_status == "fallback" and first.extra["option"] == "A"
    assert first.extra["fallback_rule"].startswith("A")
    survey = agent.act(_obs(1))
    assert survey.parse_status == "fallback"
    assert survey.extra["answers"] == BANK.answers_for(first.action.tolist())
    agent.act(_obs(2))
    agent.reset(seed=1)
    again = agent.act(_obs(0, situation=3))
    vectors = np.array([o.vector for o in BANK.situation(3).options])
    nearest = int(((vectors - np.array(survey.action)) ** 2).sum(1).argmin())
    assert again.extra["option"] == LETTERS[nearest]
    assert again.extra["fallback_rule"] == "the option nearest the last statement"


def test_bad_params_are_config_errors():
    with pytest.raises(ConfigError, match=r"llm\.memory"):
        LLMNormAgent(memory=2)
    with pytest.raises(ConfigError, match=r"llm\.memory_threshold"):
        LLMNormAgent(memory_threshold=0)
    with pytest.raises(ConfigError, match=r"llm\.persona"):
        LLMNormAgent(persona="  ")
    assert LLMNormAgent(memory=0.0).memory == 0  # population specs give floats


# --- offline model, observer, rewrite, estimate ---------------------------------------------


def _situation_prompt(memory):
    agent = _agent(Scripted())
    agent.act(_obs(1))
    agent._state.long = memory
    model = Scripted()
    agent.bind(_ctx(model))
    agent.act(_obs(0, situation=0))
    return model.requests[-1]


def test_offline_model_follows_the_feedback_in_memory():
    # work-001: A = knock on the door (in person, formal), B = a chat message (online).
    online = _situation_prompt("The observer said: show more online habits and casual manners.")
    offline = _situation_prompt("The observer said: show more in-person habits and formal manners.")

    def reply(req):
        return norm_society_reply([{"role": r, "content": c} for r, c in req.messages])

    assert reply(online).startswith("Choice: B")
    assert reply(offline).startswith("Choice: A")


def _item(behaviours, era=3):
    e = BANK.eras[era]
    return NormItem(
        "1/agent_0",
        e.name,
        e.start_year,
        e.norm,
        e.text,
        tuple((s, b, (0.5,) * D) for s, b in behaviours),
        (0.5,) * D,
        BANK.answers_text([3] * len(BANK.questionnaire)),
    )


def test_llm_observer_with_the_offline_model_scores_conduct_against_the_norm_text():
    judge = llm_norm_observer()
    judge.bind(_ctx(Scripted()))
    modern = judge.judge(_item([("s", "Pay with your phone and cycle to work to save carbon.")]))
    old = judge.judge(_item([("s", "Pay in cash and drive; send a formal handwritten letter.")]))
    assert modern.parse_status == old.parse_status == "ok"
    assert modern.score > old.score and old.rationale.startswith("To fit the norms")


def test_llm_observer_falls_back_to_partly_and_records_the_reply():
    judge = llm_norm_observer(name="audit_llm")
    judge.bind(_ctx(Scripted({"observer": "I refuse."}), max_parse_attempts=2))
    verdict = judge.judge(_item([("s", "b")]))
    assert (verdict.score, verdict.label, verdict.parse_status) == (4.0, "partly", "fallback")
    record = verdict.record("1/agent_0")
    assert record["raw"] == "I refuse." and record["parse_error"]
    assert verdict.usage.calls == 2


def test_llm_mutate_rewrites_from_both_parents_and_keeps_the_text_on_failure():
    a = Member("1_1", "llm", {"values": "honesty"})
    b = Member("1_2", "llm", {"values": "loyalty"})
    model = Scripted()
    mutate = llm_mutate(_ctx(model))
    rng = np.random.default_rng(0)
    out = asyncio.run(mutate("values", "honesty", (a, b), "2_1", rng))
    assert out == "honesty and loyalty" and model.purposes() == ["mutation"]
    assert model.requests[0].agent == "2_1/values"  # a name per rewrite: a stable log order
    broken = llm_mutate(_ctx(Scripted({"mutation": "  "}), max_parse_attempts=2))
    assert asyncio.run(broken("values", "honesty", (a, b), "2_1", rng)) == "honesty"


def test_compressions_and_estimate():
    assert compressions(20, 4, 6) == 10 and compressions(3, 4, 100) == 0
    assert compressions(5, 4, 4) == 5

    class Run:
        episodes, population, survival_fraction, mutation = 4, "llm[memory=0]:6", 0.5, 0.0

    env = {"n_agents": 6, "situations_per_step": 3, "observer": "llm", "audit_observer": ""}
    e = estimate(env, Run(), LLMSettings(model="offline/norm_society"), 6)
    assert dict(e.detail) == {
        "situation": 72,
        "questionnaire": 24,
        "observer": 24,
        "memory": 0,
        "mutation": 0,
    }
    assert e.calls == 120
