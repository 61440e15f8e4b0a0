"""Donor-game prompts: fidelity to Vallinder & Hughes (2024) and their notebook.

Issue 6 items 5 (placeholder example, "randomly paired"), 6 (every trace depth rendered
correctly), 8 (rules without a system prompt; the notebook's scores wording) and 22
(non-UTF-8 or broken templates refused when loaded, not mid-run).
"""

import asyncio
import re

import numpy as np
import pytest

from agentsim.agents.llm.donor import LLMContext, LLMDonorAgent, write_strategy
from agentsim.agents.llm.prompts import DonorPrompts, render_trace
from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.errors import UserError
from agentsim.core.seeding import SeedStreams
from agentsim.llm.types import ChatResult

NAMES = ["1_1", "1_2", "1_3", "1_4", "1_5"]
_EXAMPLE_MOVE = re.compile(r"In round \d, [A-D] donated [XYZ]% of their resources to [B-E]\.")


def _rules(depth, punishment=False):
    return {
        "endowment": 10.0,
        "multiplier": 2.0,
        "trace_depth": depth,
        "punishment": punishment,
        "punishment_loss": 2.0,
    }


def _strategy_prompts(depth):
    prompts = DonorPrompts.load()
    return [
        prompts.strategy(
            name="2_1", advice=advice, punishment=False, punishment_loss=2, trace_depth=depth
        )
        for advice in (None, [("Give half.", 10.0)])
    ]


def test_the_system_prompt_uses_placeholders_and_random_pairing():
    system = DonorPrompts.load().system(**_rules(3))
    assert "randomly paired" in system
    assert not re.search(r"\d%", system), "no concrete percentages that could anchor a model"
    assert "In round 3, A donated X% of their resources to B." in system


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_every_trace_depth_is_described_as_it_is(depth):
    system = DonorPrompts.load().system(**_rules(depth))
    assert len(_EXAMPLE_MOVE.findall(system)) == depth
    texts = [system, *_strategy_prompts(depth)]
    if depth == 1:
        assert not any("chain" in t for t in texts)
        assert all("only" in t for t in texts)
    else:
        assert all(f"at most {depth} moves back" in t for t in texts)
        assert all("chain" in t for t in texts)


def test_depth_zero_promises_no_history():
    system = DonorPrompts.load().system(**_rules(0))
    assert not _EXAMPLE_MOVE.search(system) and "told nothing" in system
    assert all("chain" not in t for t in _strategy_prompts(0))


def _obs(depth, length):
    fill = np.full(depth, -1)
    donors, recipients = fill.copy(), fill.copy()
    rounds, fractions = fill.copy(), np.zeros(depth)
    for k in range(length):  # newest first: 1_2 -> 1_3 -> 1_4 -> 1_5
        rounds[k], donors[k], recipients[k], fractions[k] = 2 - k, 1 + k, 2 + k, 0.1 * (k + 1)
    return {
        "generation": np.array(1),
        "round": 3,
        "is_donor": 1,
        "partner": 1,
        "own_resources": np.array(10.0),
        "partner_resources": np.array(10.0),
        "trace_length": length,
        "trace_round": rounds,
        "trace_donor": donors,
        "trace_recipient": recipients,
        "trace_fraction": fractions,
    }


@pytest.mark.parametrize(
    ("depth", "length", "expected"),
    [
        (1, 1, "In round 3, 1_2 donated 10.00% of their resources to 1_3."),
        (1, 0, "1_2 did not have any previous interactions."),
        (
            2,
            2,
            "In round 3, 1_2 donated 10.00% of their resources to 1_3. "
            "In round 2, 1_3 donated 20.00% of their resources to 1_4.",
        ),
        (
            2,
            1,
            "In round 3, 1_2 donated 10.00% of their resources to 1_3. "
            "1_3 did not have any previous interactions.",
        ),
        (
            3,
            3,
            "In round 3, 1_2 donated 10.00% of their resources to 1_3. "
            "In round 2, 1_3 donated 20.00% of their resources to 1_4. "
            "In round 1, 1_4 donated 30.00% of their resources to 1_5.",
        ),
    ],
)
def test_the_decision_prompt_shows_the_trace_of_each_depth(depth, length, expected):
    assert render_trace(_obs(depth, length), NAMES) == expected
    decision = DonorPrompts.load().decision(
        _obs(depth, length),
        name="1_1",
        strategy="s",
        names=NAMES,
        punishment=False,
        multiplier=2,
        punishment_loss=2,
    )
    assert expected in decision


class ScriptedModel:
    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests = []

    async def complete(self, request):
        self.requests.append(request)
        return ChatResult(self.replies.pop(0), 10, 5, 0.0, 0.0, 1, False, request.model)


def _context(model, depth=3, **settings):
    return LLMContext(
        model,
        LLMSettings(model="test/model", **settings),
        DonorPrompts.load(),
        _rules(depth),
        SeedStreams(0),
        list(NAMES),
    )


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_strategy_calls_describe_the_runs_trace_depth(depth):
    ctx = _context(ScriptedModel("My strategy will be to give."), depth)
    asyncio.run(write_strategy(ctx, "1_1", 1, None))
    ((_, system), (_, user)) = ctx.model.requests[0].messages
    assert len(_EXAMPLE_MOVE.findall(system)) == depth
    assert ("chain" in user) is (depth > 1)


def test_without_a_system_prompt_the_rules_head_every_strategy_prompt():
    model = ScriptedModel("My strategy will be to give.", "My strategy will be to keep.")
    ctx = _context(model, system_prompt=False)
    asyncio.run(write_strategy(ctx, "1_1", 1, None))
    asyncio.run(write_strategy(ctx, "2_1", 2, [("Give half.", 3.0)]))
    rules = DonorPrompts.load().system(**_rules(3))
    for request in model.requests:
        ((role, text),) = request.messages
        assert role == "user" and text.startswith(rules) and "My strategy will be" in text
    # Decisions still carry the user prompt only, as the notebook's branch sent them.
    agent = LLMDonorAgent(strategy="s")
    agent.bind(_context(ScriptedModel("Answer: 1"), system_prompt=False))
    asyncio.run(agent.aact(_obs(3, 0)))
    ((role, text),) = agent.context.model.requests[0].messages
    assert role == "user" and "randomly paired" not in text


def test_withheld_scores_keep_the_notebooks_wording():
    ctx = _context(ScriptedModel("My strategy will be to give."), inherit_scores=False)
    asyncio.run(write_strategy(ctx, "2_1", 2, [("Give half.", None)]))
    prompt = ctx.model.requests[0].messages[-1][1]
    assert "along with their final scores" in prompt and "(final score" not in prompt


def test_non_utf8_templates_are_refused_when_loaded(tmp_path):
    (tmp_path / "donor_system.txt").write_bytes("Caf\u00e9 $endowment".encode("latin-1"))
    with pytest.raises(UserError, match=r"donor_system\.txt is not UTF-8"):
        DonorPrompts.load(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [("Hello $nonexistent", r"\$nonexistent; allowed: .*\$own_resources"), ("Cost: $5", "$$")],
)
def test_broken_placeholders_are_refused_when_loaded(tmp_path, text, message):
    (tmp_path / "donor_decision.txt").write_text(text, encoding="utf-8")
    with pytest.raises(UserError, match=message.replace("$$", r"\$\$")):
        DonorPrompts.load(tmp_path)
