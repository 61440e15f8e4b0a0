"""LLM-backed donor-game agents and the strategies they write.

Vallinder & Hughes (2024), "Cultural Evolution of Cooperation among LLM Agents",
arXiv:2412.10270, and their released notebook.

An :class:`LLMDonorAgent` holds a strategy (text it wrote itself); each donation
renders the observation into the donation prompt, asks the model, parses the
``Answer:`` (re-asking with the parse error, up to ``max_parse_attempts``), and
otherwise falls back to donating 0 with ``parse_status="fallback"``, recorded.
Answers are read against the resources *as the prompt showed them* (two decimals,
rounded half-up) and clamped to the real holdings: answering the figure shown gives
everything.

:func:`write_strategy` asks for a member's strategy, from the rules or from the
survivors' advice; :class:`agentsim.evolution.transmission.LLMTransmission` (the
generation loop's reproduction hook for LLM members) calls it. A strategy reply without
"My strategy will be" becomes the strategy whole, as in the notebook, with
``strategy_status="fallback"`` and the parse error kept.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from agentsim.agents.base import Decision, Usage
from agentsim.agents.llm.driver import Question, ask_and_parse
from agentsim.agents.llm.parsers import (
    ParseResult,
    fmt_units,
    parse_donate_or_punish,
    parse_donation,
    parse_json,
    parse_strategy,
    shown_units,
)
from agentsim.agents.llm.prompts import DonorPrompts
from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.seeding import SeedStreams
from agentsim.llm.types import LanguageModel

KIND = "llm"
# Only for a strategy reply with no text at all; any other unparsed reply is kept whole.
FALLBACK_STRATEGY = "(no strategy: the model never stated one in the required form)"

_AMOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "justification": {"type": "string", "maxLength": 160},
        "amount": {"type": "number", "minimum": 0},
    },
    "required": ["justification", "amount"],
}
_PUNISH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        **_AMOUNT_SCHEMA["properties"],
        "action": {"type": "string", "enum": ["donate", "punish"]},
    },
    "required": ["justification", "action", "amount"],
}
_STRATEGY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "thinking": {"type": "string", "maxLength": 240},
        "strategy": {"type": "string", "maxLength": 240},
    },
    "required": ["thinking", "strategy"],
}


@dataclass
class LLMContext:
    """What the LLM agents of one run share.

    Attributes:
        model: the model stack (cache, budget, retries, rate limit, recording).
        settings: model and parsing settings.
        prompts: the prompt templates.
        rules: the env's rules shown in prompts: endowment, multiplier, trace_depth,
            punishment (bool), punishment_loss.
        seeds: the run's seed streams (each call gets its own provider seed).
        names: member id per seat for the current generation (set by the loop).
    """

    model: LanguageModel
    settings: LLMSettings
    prompts: DonorPrompts
    rules: Mapping[str, Any]
    seeds: SeedStreams
    names: list[str] = field(default_factory=list)

    def system_prompt(self) -> str:
        return self.prompts.system(**self.rules)

    def opening(self, prompt: str, *, rules_in_prompt: bool = False) -> list[tuple[str, str]]:
        """The first messages of a call: the rules as system prompt, and the prompt.

        With ``system_prompt`` switched off (the released notebook's branch for a model
        called without one), no system message is sent; ``rules_in_prompt`` (strategy
        prompts) then puts the rules at the head of the user prompt instead.
        """
        if self.settings.system_prompt:
            return [("system", self.system_prompt()), ("user", prompt)]
        if rules_in_prompt:
            return [("user", f"{self.system_prompt()}\n\n{prompt}")]
        return [("user", prompt)]

    def question(
        self,
        messages: Sequence[tuple[str, str]],
        *,
        purpose: str,
        agent: str,
        seeds: Sequence[int],
        schema: dict[str, Any] | None,
    ) -> Question:
        """One question for the driver, with this run's sampling settings."""
        s = self.settings
        assert s.model is not None  # an LLMContext is only built with a model
        return Question.from_settings(
            s,
            messages,
            purpose=purpose,
            agent=agent,
            seeds=seeds,
            schema=schema if s.wants_json else None,
        )

    def call_seed(self, generation: int, name: str, call: int) -> int:
        """Provider seed of one call: fixed by run seed, generation, agent and call number."""
        return self.seeds.llm(generation, zlib.crc32(name.encode()), call)


class LLMDonorAgent:
    """A donor-game agent whose strategy and decisions come from a language model."""

    kind = KIND

    def __init__(
        self,
        strategy: str = "",
        strategy_justification: str = "",
        strategy_status: str = "",
        strategy_parse_error: str = "",
    ) -> None:
        self.name = KIND
        self.strategy = strategy
        self.strategy_justification = strategy_justification
        self.strategy_status = strategy_status
        self.strategy_parse_error = strategy_parse_error
        self.context: LLMContext | None = None
        self._calls = 0

    def params(self) -> dict[str, Any]:
        params = {
            "strategy": self.strategy,
            "strategy_justification": self.strategy_justification,
            "strategy_status": self.strategy_status,
        }
        if self.strategy_parse_error:  # only strategies that never parsed carry one
            params["strategy_parse_error"] = self.strategy_parse_error
        return params

    def bind(self, context: LLMContext) -> None:
        """Attach the run's shared model stack and prompts (done by the generation loop)."""
        self.context = context

    def reset(self, *, seed: int | None = None) -> None:
        self._calls = 0

    def act(self, observation: Mapping[str, Any]) -> Decision:
        """Synchronous facade (scripts); runners use :meth:`aact`."""
        return asyncio.run(self.aact(observation))

    async def aact(self, observation: Mapping[str, Any]) -> Decision:
        if not observation["is_donor"]:
            return Decision(action=np.zeros(1, dtype=np.float32))
        ctx = self._context()
        own = float(observation["own_resources"])
        punishment = bool(ctx.rules["punishment"])
        prompt = ctx.prompts.decision(
            observation,
            name=self.name,
            strategy=self.strategy,
            names=ctx.names,
            punishment=punishment,
            multiplier=ctx.rules["multiplier"],
            punishment_loss=ctx.rules["punishment_loss"],
        )
        generation, n = int(observation["generation"]), ctx.settings.max_parse_attempts
        seeds = [ctx.call_seed(generation, self.name, self._calls + i) for i in range(n)]
        answer = await ask_and_parse(
            ctx.model,
            ctx.question(
                ctx.opening(prompt),
                purpose="donation",
                agent=self.name,
                seeds=seeds,
                schema=_PUNISH_SCHEMA if punishment else _AMOUNT_SCHEMA,
            ),
            lambda text: self._parse(text, own, punishment, ctx.settings.wants_json),
            fallback=0.0,
            max_attempts=n,
            reask=ctx.prompts.reask,
        )
        self._calls += answer.asks
        extra = answer.record_fields()
        if answer.status == "fallback":
            extra["fallback"] = "donate 0 (as the released code)"
        return Decision(
            action=np.array([answer.value], dtype=np.float32),
            rationale=answer.justification if answer.status != "fallback" else None,
            raw=answer.raw,
            parse_status=answer.status,
            usage=answer.usage,
            extra=extra,
        )

    @staticmethod
    def _parse(text: str, own: float, punishment: bool, json_mode: bool) -> ParseResult[float]:
        """Signed fraction of own resources from a reply.

        Answers are checked against ``own`` as the prompt showed it, since that is the
        figure the model knows.
        """
        if json_mode:
            return _parse_json_amount(text, own, punishment)
        shown = shown_units(own)
        if punishment:
            r = parse_donate_or_punish(text, shown)
            if not r.ok or r.value is None:
                return ParseResult(ok=False, error=r.error, justification=r.justification)
            action, units = r.value
            sign = -1.0 if action == "punish" else 1.0
            return ParseResult(True, sign * _fraction(units, own), None, r.justification)
        d = parse_donation(text, shown)
        if not d.ok or d.value is None:
            return ParseResult(ok=False, error=d.error, justification=d.justification)
        return ParseResult(True, _fraction(d.value, own), None, d.justification)

    def _context(self) -> LLMContext:
        if self.context is None:
            raise RuntimeError(f"LLM agent {self.name} has no model: call bind(context) first")
        return self.context


def _fraction(units: float, own: float) -> float:
    """Fraction of the real holdings ``own`` that an answer of ``units`` gives up.

    The figure the prompt showed (or more) is everything: ``own`` may be a little below
    it (383.3595 shown as 383.36). A positive answer is needed for that, so that "0"
    stays nothing when the holdings show as 0.
    """
    if own <= 0:
        return 0.0
    if units > 0 and units >= shown_units(own):
        return 1.0
    return min(units / own, 1.0)


def _parse_json_amount(text: str, own: float, punishment: bool) -> ParseResult[float]:
    keys = ["amount", "action"] if punishment else ["amount"]
    r = parse_json(text, keys)
    if not r.ok or r.value is None:
        return ParseResult(ok=False, error=r.error, justification=r.justification)
    amount, action = r.value.get("amount"), str(r.value.get("action", "donate")).lower()
    shown = shown_units(own)
    if isinstance(amount, bool) or not isinstance(amount, int | float) or not 0 <= amount <= shown:
        return ParseResult(
            ok=False,
            error=f"'amount' must be a number between 0 and {fmt_units(own)}.",
            justification=r.justification,
        )
    if action not in ("donate", "punish"):
        return ParseResult(ok=False, error="'action' must be 'donate' or 'punish'.")
    sign = -1.0 if action == "punish" else 1.0
    return ParseResult(True, sign * _fraction(float(amount), own), None, r.justification)


async def write_strategy(
    ctx: LLMContext, name: str, generation: int, advice: Sequence[tuple[str, float | None]] | None
) -> tuple[dict[str, Any], Usage]:
    """Ask the model for a member's strategy; returns its params and the usage.

    Re-asks with the parse error up to ``max_parse_attempts``. A reply that never
    parses becomes the strategy whole, as the released notebook did (it has no
    re-asking), recorded as ``strategy_status="fallback"`` with the parse error in
    ``strategy_parse_error`` and no justification.
    """
    prompt = ctx.prompts.strategy(
        name=name,
        advice=advice,
        punishment=bool(ctx.rules["punishment"]),
        punishment_loss=ctx.rules["punishment_loss"],
        trace_depth=int(ctx.rules["trace_depth"]),
    )
    n = ctx.settings.max_parse_attempts
    # Strategy calls have their own call numbers, apart from the member's decision calls.
    seeds = [ctx.call_seed(generation, name, 10_000 + attempt) for attempt in range(n)]
    answer = await ask_and_parse(
        ctx.model,
        ctx.question(
            ctx.opening(prompt, rules_in_prompt=True),
            purpose="strategy",
            agent=name,
            seeds=seeds,
            schema=_STRATEGY_SCHEMA,
        ),
        lambda text: _nonempty(_parse_strategy_reply(text, ctx.settings.wants_json)),
        fallback="",
        max_attempts=n,
        reask=ctx.prompts.reask,
    )
    if answer.status != "fallback":
        return {
            "strategy": answer.value,
            "strategy_justification": answer.justification or "",
            "strategy_status": answer.status,
        }, answer.usage
    return {
        "strategy": answer.raw.strip() or FALLBACK_STRATEGY,
        "strategy_justification": "",
        "strategy_status": "fallback",
        "strategy_parse_error": answer.error or "unparsed",
    }, answer.usage


def _nonempty(parsed: ParseResult[str]) -> ParseResult[str]:
    if parsed.ok and parsed.value:
        return parsed
    return ParseResult(ok=False, error=parsed.error or "'strategy' must not be empty.")


def _parse_strategy_reply(text: str, json_mode: bool) -> ParseResult[str]:
    if not json_mode:
        return parse_strategy(text)
    r = parse_json(text, ["strategy"])
    if not r.ok or r.value is None or not str(r.value.get("strategy", "")).strip():
        return ParseResult(ok=False, error=r.error or "'strategy' must not be empty.")
    thinking = r.value.get("thinking")
    return ParseResult(
        True,
        str(r.value["strategy"]).strip(),
        None,
        thinking if isinstance(thinking, str) else None,
    )
