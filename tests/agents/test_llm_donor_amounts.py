"""Donation amounts: answers are read against the resources as the prompt showed them.

Issue 6 item 1: a model that answers the exact figure it was shown ("383.36" for
383.3595 units) must give everything, never be re-asked into a fallback of 0.
"""

import asyncio
import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentsim.agents.llm.donor import LLMContext, LLMDonorAgent
from agentsim.agents.llm.parsers import fmt_units, parse_donate_or_punish, parse_donation
from agentsim.agents.llm.prompts import DonorPrompts
from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.seeding import SeedStreams
from agentsim.llm.types import ChatResult

NAMES = ["1_1", "1_2"]
_SHOWN = re.compile(r"You currently have (\S+) units")


class FullAmountModel:
    """Answers with everything the prompt says the donor holds, as a model would."""

    def __init__(self, form="{}"):
        self.form = form
        self.requests = []

    async def complete(self, request):
        self.requests.append(request)
        (shown,) = _SHOWN.findall(request.messages[-1][1])
        text = "Justification: all in.\nAnswer: " + self.form.format(shown)
        return ChatResult(text, 10, 5, 0.0, 0.0, 1, False, request.model)


class ScriptedModel:
    def __init__(self, *replies):
        self.replies = list(replies)
        self.requests = []

    async def complete(self, request):
        self.requests.append(request)
        return ChatResult(self.replies.pop(0), 10, 5, 0.0, 0.0, 1, False, request.model)


def _agent(model, punishment=False, **settings):
    rules = {
        "endowment": 10.0,
        "multiplier": 1.7,
        "trace_depth": 3,
        "punishment": punishment,
        "punishment_loss": 2.0,
    }
    ctx = LLMContext(
        model,
        LLMSettings(model="test/model", **settings),
        DonorPrompts.load(),
        rules,
        SeedStreams(0),
        list(NAMES),
    )
    agent = LLMDonorAgent(strategy="My strategy will be to give everything.")
    agent.name = "1_1"
    agent.bind(ctx)
    return agent


def _obs(own):
    return {
        "generation": np.array(1),
        "round": 0,
        "is_donor": 1,
        "partner": 1,
        "own_resources": np.array(own),
        "partner_resources": np.array(10.0),
        "trace_length": 0,
        "trace_round": np.full(3, -1),
        "trace_donor": np.full(3, -1),
        "trace_recipient": np.full(3, -1),
        "trace_fraction": np.zeros(3),
    }


_HOLDINGS = st.floats(min_value=0.0, max_value=1e9, allow_nan=False, allow_infinity=False)


@settings(max_examples=300, deadline=None)
@given(_HOLDINGS)
@example(383.3595)  # shown as 383.36, which is more than the holdings
@example(0.125)  # a binary tie: shown half-up as 0.13
@example(12345.678)  # `:g` would print 12345.7
@example(0.004)  # shown as 0
@example(0.0)
def test_answering_the_shown_full_amount_gives_exactly_everything(holdings):
    for punishment, form in ((False, "{}"), (True, "Donate, {}")):
        model = FullAmountModel(form)
        decision = asyncio.run(_agent(model, punishment).aact(_obs(holdings)))
        assert decision.parse_status == "ok", decision.extra
        shown = float(fmt_units(holdings))
        # Fraction 1.0: the env then transfers exactly the holdings. A shown 0 is nothing.
        assert decision.action.tolist() == [1.0 if shown > 0 else 0.0]
        assert len(model.requests) == 1


@settings(max_examples=100, deadline=None)
@given(_HOLDINGS)
@example(383.3595)
def test_json_answers_of_the_shown_full_amount_give_everything(holdings):
    shown = fmt_units(holdings)
    agent = _agent(
        ScriptedModel(f'{{"justification": "all", "amount": {shown}}}'), structured_output=True
    )
    decision = asyncio.run(agent.aact(_obs(holdings)))
    assert decision.parse_status == "ok"
    assert decision.action.tolist() == [1.0 if float(shown) > 0 else 0.0]


def test_answers_below_the_shown_amount_are_fractions_of_the_holdings():
    decision = asyncio.run(_agent(ScriptedModel("Answer: 191.68")).aact(_obs(383.3595)))
    assert decision.action == pytest.approx([191.68 / 383.3595])
    decision = asyncio.run(_agent(ScriptedModel("Answer: 0")).aact(_obs(0.004)))
    assert decision.action.tolist() == [0.0]


def test_the_reask_prints_the_limit_exactly_as_shown():
    model = ScriptedModel("Answer: 20000", "Answer: 12345.68")
    decision = asyncio.run(_agent(model).aact(_obs(12345.678)))
    assert decision.parse_status == "reasked" and decision.action.tolist() == [1.0]
    reask = model.requests[1].messages[-1][1]
    assert "between 0 and 12345.68 units" in reask and "12345.7 " not in reask
    assert "You currently have 12345.68 units" in model.requests[0].messages[-1][1]


@pytest.mark.parametrize(
    ("limit", "shown"), [(12345.68, "12345.68"), (1e6, "1000000"), (383.36, "383.36")]
)
def test_parser_errors_print_the_limit_as_shown(limit, shown):
    error = parse_donation("Answer: 99999999", limit).error
    assert error is not None and f"between 0 and {shown} units" in error
    error = parse_donate_or_punish("Answer: Punish, 99999999", limit).error
    assert error is not None and f"between 0 and {shown}." in error


def test_an_offline_model_giving_everything_is_never_reasked(tmp_path):
    # At multiplier 1.7 holdings soon have more than two decimals; the offline model
    # answers the figure it is shown, as a real model does.
    from agentsim.runtime.experiment import make_config
    from agentsim.runtime.loop import run_experiment
    from agentsim.runtime.rundir import RunDir

    overrides = ["agents=4", "rounds=12", "generations=1", "multiplier=1.7", "cache=off"]
    config = make_config("donor-game", 0, [*overrides, "model=offline/donor-1"])
    run = RunDir.create(tmp_path, "full", config.to_json())
    summary = asyncio.run(run_experiment(run, config))
    assert summary["decisions"] == {"scripted": 0, "ok": 48, "reasked": 0, "fallback": 0}
