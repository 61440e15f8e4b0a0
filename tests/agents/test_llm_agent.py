"""LLM donor agents with a scripted stand-in model: prompts, parsing, re-asking, fallback."""

import asyncio

import numpy as np
import pytest

from agentsim.agents.llm.donor import LLMContext, LLMDonorAgent, write_strategy
from agentsim.agents.llm.prompts import DonorPrompts, render_trace
from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.errors import ConfigError, UserError
from agentsim.core.seeding import SeedStreams
from agentsim.llm.types import ChatResult

NAMES = ["1_1", "1_2", "1_3", "1_4"]
RULES = {
    "endowment": 10.0,
    "multiplier": 2.0,
    "trace_depth": 3,
    "punishment": False,
    "punishment_loss": 2.0,
}


class ScriptedModel:
    """Answers with the given replies in order and keeps the requests."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests = []

    async def complete(self, request):
        self.requests.append(request)
        return ChatResult(self.replies.pop(0), 10, 5, 0.001, 0.0, 1, False, request.model)


def _obs(**overrides):
    obs = {
        "generation": np.array(3),
        "game": 0,
        "round": 3,
        "self": 0,
        "is_donor": 1,
        "partner": 1,
        "own_resources": np.array(74.0),
        "partner_resources": np.array(56.0),
        "trace_length": 2,
        "trace_round": np.array([2, 1, -1]),
        "trace_donor": np.array([1, 2, -1]),
        "trace_recipient": np.array([2, 3, -1]),
        "trace_fraction": np.array([0.25, 0.5, 0.0]),
    }
    return {**obs, **overrides}


def _agent(model, **settings):
    ctx = LLMContext(
        model,
        LLMSettings(model="test/model", **settings),
        DonorPrompts.load(),
        dict(RULES),
        SeedStreams(0),
        list(NAMES),
    )
    agent = LLMDonorAgent(strategy="My strategy will be to mirror.")
    agent.name = "1_1"
    agent.bind(ctx)
    agent.reset(seed=0)
    return agent


def test_trace_reads_like_the_papers_chain():
    text = render_trace(_obs(), NAMES)
    assert text == (
        "In round 3, 1_2 donated 25.00% of their resources to 1_3. "
        "In round 2, 1_3 donated 50.00% of their resources to 1_4. "
        "1_4 did not have any previous interactions."
    )
    first = render_trace(_obs(trace_length=0), NAMES)
    assert first == "1_2 did not have any previous interactions."


def test_decision_prompt_carries_everything_the_donor_sees():
    model = ScriptedModel("Justification: mirror.\nAnswer: 18.5")
    decision = asyncio.run(_agent(model).aact(_obs()))
    assert decision.parse_status == "ok" and decision.rationale == "mirror."
    assert decision.action == pytest.approx([18.5 / 74])
    system, user = model.requests[0].messages
    assert system[0] == "system" and "2 times" in system[1]
    for needle in (
        "Your name is 1_1",
        "My strategy will be to mirror.",
        "generation 3",
        "round 4",
        "paired with 1_2",
        "56 units",
        "You currently have 74 units",
        "In round 3, 1_2 donated 25.00%",
        "between 0 and 74",
    ):
        assert needle in user[1], needle
    assert model.requests[0].temperature == 0.8 and model.requests[0].agent == "1_1"


def test_bad_replies_are_reasked_with_the_error_then_fall_back():
    model = ScriptedModel("I would give some.", "Answer: 500", "Answer: 7")
    decision = asyncio.run(_agent(model).aact(_obs()))
    assert decision.parse_status == "reasked" and decision.extra["asks"] == 3
    last = model.requests[-1].messages
    assert last[-2] == ("assistant", "Answer: 500") and "out of range" in last[-1][1]
    assert decision.usage.calls == 3 and decision.usage.prompt_tokens == 30
    model = ScriptedModel("no", "no", "no")
    decision = asyncio.run(_agent(model).aact(_obs()))
    assert decision.parse_status == "fallback" and decision.action.tolist() == [0.0]
    assert decision.raw == "no" and decision.extra["parse_error"]


def test_each_call_gets_its_own_seed():
    model = ScriptedModel("x", "Answer: 1", "Answer: 1")
    agent = _agent(model)
    asyncio.run(agent.aact(_obs()))
    asyncio.run(agent.aact(_obs()))
    seeds = [r.seed for r in model.requests]
    assert len(set(seeds)) == 3


def test_punishment_and_json_modes():
    agent = _agent(ScriptedModel("Justification: they defected.\nAnswer: Punish, 7.4"))
    agent.context.rules["punishment"] = True
    decision = asyncio.run(agent.aact(_obs()))
    assert decision.action == pytest.approx([-0.1])
    agent = _agent(ScriptedModel('{"justification": "fair", "amount": 37}'), structured_output=True)
    decision = asyncio.run(agent.aact(_obs()))
    assert decision.action == pytest.approx([0.5])
    assert agent.context.model.requests[0].response_format["required"] == [
        "justification",
        "amount",
    ]


def test_recipients_do_not_call_the_model():
    model = ScriptedModel()
    decision = asyncio.run(_agent(model).aact(_obs(is_donor=0)))
    assert decision.action.tolist() == [0.0] and model.requests == []


def test_strategies_from_advice_with_or_without_scores():
    ctx = LLMContext(
        ScriptedModel("Hmm. My strategy will be to give 60%."),
        LLMSettings(model="m"),
        DonorPrompts.load(),
        dict(RULES),
        SeedStreams(0),
    )
    params, _ = asyncio.run(write_strategy(ctx, "2_1", 2, [("Give half.", 812.5)]))
    assert params == {
        "strategy": "My strategy will be to give 60%.",
        "strategy_justification": "Hmm.",
        "strategy_status": "ok",
    }
    prompt = ctx.model.requests[0].messages[1][1]
    assert "(final score 812.5) Give half." in prompt and "along with their final scores" in prompt
    no_scores = DonorPrompts.load().strategy(
        name="2_1", advice=[("Give half.", None)], punishment=False, punishment_loss=2
    )
    # Scores withheld: none is shown, but the notebook's wording stays.
    assert "(final score" not in no_scores and "- Give half." in no_scores
    assert "along with their final scores" in no_scores


def test_users_can_replace_prompt_templates(tmp_path):
    (tmp_path / "donor_decision.txt").write_text(
        "I am $name with $own_resources. Partner $partner. $trace $answer_format"
    )
    prompts = DonorPrompts.load(tmp_path)
    text = prompts.decision(
        _obs(),
        name="1_1",
        strategy="s",
        names=NAMES,
        punishment=False,
        multiplier=2,
        punishment_loss=2,
    )
    assert text.startswith("I am 1_1 with 74. Partner 1_2.")
    (tmp_path / "donor_decision.txt").write_text("Hello $nonexistent")
    with pytest.raises(UserError, match=r"donor_decision\.txt"):
        DonorPrompts.load(tmp_path).decision(
            _obs(),
            name="1_1",
            strategy="s",
            names=NAMES,
            punishment=False,
            multiplier=2,
            punishment_loss=2,
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [("temperature", 3.0), ("cache", "sometimes"), ("max_parse_attempts", 0), ("concurrency", 0)],
)
def test_llm_settings_are_validated(key, value):
    with pytest.raises(ConfigError, match=key):
        LLMSettings(**{key: value})


def test_the_system_prompt_can_be_left_out_as_the_notebook_did_for_gemini():
    model = ScriptedModel("Answer: 1")
    asyncio.run(_agent(model, system_prompt=False).aact(_obs()))
    ((role, text),) = model.requests[0].messages
    assert role == "user" and "You currently have 74 units" in text
