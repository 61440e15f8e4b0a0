"""LLM cultural transmission: the order of survivors' advice and unparsed strategies.

Issue 6 items 7 (advice best first, as the notebook's sorted selection lists it, with
a switch) and 9 (a strategy reply without "My strategy will be" is kept whole, as the
notebook did, and recorded as such).
"""

import asyncio

import numpy as np
import pytest

from agentsim.agents.llm.donor import LLMContext, write_strategy
from agentsim.agents.llm.prompts import DonorPrompts
from agentsim.agents.llm.settings import LLMSettings
from agentsim.agents.registry import agent_params, make_agent
from agentsim.core.seeding import SeedStreams
from agentsim.evolution.population import Member
from agentsim.evolution.transmission import LLMTransmission
from agentsim.llm.types import ChatResult

RULES = {
    "endowment": 10.0,
    "multiplier": 2.0,
    "trace_depth": 3,
    "punishment": False,
    "punishment_loss": 2.0,
}


class RecordingModel:
    """Answers every call with the same reply (or the next of several) and keeps requests."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests = []

    async def complete(self, request):
        self.requests.append(request)
        text = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return ChatResult(text, 10, 5, 0.0, 0.0, 1, False, request.model)


def _context(model, **settings):
    return LLMContext(
        model,
        LLMSettings(model="test/model", **settings),
        DonorPrompts.load(),
        dict(RULES),
        SeedStreams(0),
    )


def _survivors():
    return [
        Member("1_1", "llm", {"strategy": "My strategy will be low."}),
        Member("1_2", "llm", {"strategy": "My strategy will be top."}),
        Member("1_3", "defector", {}),
        Member("1_4", "llm", {"strategy": "My strategy will be mid."}),
    ]


def _advice_as_shown(**settings):
    model = RecordingModel("My strategy will be to copy.")
    transmission = LLMTransmission(_context(model, **settings))
    survivors = [m for m in _survivors() if m.kind == "llm"]  # every child is an LLM child
    asyncio.run(transmission.reproduce(survivors, [1.0, 30.0, 7.5], 1, 2, np.random.default_rng(0)))
    prompt = model.requests[0].messages[-1][1]
    return [line for line in prompt.splitlines() if line.startswith("- ")]


def test_advice_is_listed_best_first_by_default():
    assert _advice_as_shown() == [
        "- (final score 30) My strategy will be top.",
        "- (final score 7.5) My strategy will be mid.",
        "- (final score 1) My strategy will be low.",
    ]


def test_advice_in_population_order_on_request():
    assert _advice_as_shown(advice_order="population") == [
        "- (final score 1) My strategy will be low.",
        "- (final score 30) My strategy will be top.",
        "- (final score 7.5) My strategy will be mid.",
    ]


def test_withheld_scores_still_order_the_advice():
    assert _advice_as_shown(inherit_scores=False) == [
        "- My strategy will be top.",
        "- My strategy will be mid.",
        "- My strategy will be low.",
    ]


UNPARSED = "I would give about half, and more to those who gave."


def test_an_unparsed_strategy_reply_is_kept_whole_and_recorded_as_such():
    model = RecordingModel(UNPARSED)
    params, usage = asyncio.run(write_strategy(_context(model), "1_1", 1, None))
    assert usage.calls == 3  # the default max_parse_attempts, each re-asked
    assert params["strategy"] == UNPARSED and params["strategy_status"] == "fallback"
    assert params["strategy_justification"] == ""
    assert "My strategy will be" in params["strategy_parse_error"]
    # The params rebuild the same agent (checkpoints and resumes go through them).
    agent = make_agent("llm", env="donor_game_v0", name="1_1", **params)
    assert agent_params(agent) == params and agent.strategy == UNPARSED


def test_parsed_strategies_carry_no_parse_error():
    params, _ = asyncio.run(
        write_strategy(_context(RecordingModel("So. My strategy will be x.")), "1_1", 1, None)
    )
    assert params == {
        "strategy": "My strategy will be x.",
        "strategy_justification": "So.",
        "strategy_status": "ok",
    }


def test_an_empty_strategy_reply_is_marked_not_invented():
    params, _ = asyncio.run(write_strategy(_context(RecordingModel("  ")), "1_1", 1, None))
    assert params["strategy_status"] == "fallback" and params["strategy"].startswith("(no strategy")


def test_children_inherit_an_unparsed_strategy_as_the_notebook_did():
    model = RecordingModel(UNPARSED, UNPARSED, UNPARSED, "My strategy will be to adapt.")
    ctx = _context(model)
    (first,) = asyncio.run(LLMTransmission(ctx).initialize([Member("1_1", "llm")], 1))
    assert first.params["strategy"] == UNPARSED
    asyncio.run(LLMTransmission(ctx).reproduce([first], [5.0], 1, 2, np.random.default_rng(0)))
    assert f"- (final score 5) {UNPARSED}" in model.requests[-1].messages[-1][1]


@pytest.mark.parametrize("attempts", [1, 2])
def test_json_strategy_replies_that_never_parse_are_kept_whole(attempts):
    reply = '{"thinking": "hmm"}'
    ctx = _context(RecordingModel(reply), structured_output=True, max_parse_attempts=attempts)
    params, usage = asyncio.run(write_strategy(ctx, "1_1", 1, None))
    assert usage.calls == attempts
    assert params["strategy"] == reply and params["strategy_status"] == "fallback"
