"""LLM debaters for ``debate_v0`` (Taubenfeld et al. 2024; Salvi et al. 2024).

The agent is its prompt templates (``templates/debate/``), two parsers and a fallback,
driven by :func:`agentsim.agents.llm.driver.ask_and_parse`. It speaks from the shared
transcript, and answers the attitude survey in a separate call at temperature 0 whose
reply never enters the transcript (the env keeps surveys out of it). A survey reply
that never parses becomes the explicit fallback ``"N/A"``, which the env records as a
failed survey (``score=None``): failures are recorded, never guessed.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from agentsim.agents.base import Decision
from agentsim.agents.llm.driver import Answer, Question, ask_and_parse
from agentsim.agents.llm.generic import SeatedLLMAgent
from agentsim.agents.llm.parsers import ParseResult
from agentsim.agents.llm.promptset import PromptSet
from agentsim.agents.llm.settings import LLMSettings
from agentsim.games import debate as debate_rules
from agentsim.llm.types import LanguageModel

KIND = "llm"
SURVEY_FALLBACK = "N/A"
_WORDS_PER_CHAR = 1 / 6  # a rough words-per-character ratio of English prose

PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "debate_system": frozenset({"persona", "role_text", "others", "topic", "max_words", "extra"}),
    "debate_speak": frozenset({"transcript", "phase", "max_words"}),
    "debate_survey": frozenset(
        {"transcript", "question", "low", "high", "low_label", "high_label"}
    ),
    "debate_reask": frozenset({"error"}),
    "debate_personas": frozenset({"count", "role_text"}),
}

#: How a role's persona pool is described to the model that writes it.
PERSONA_ROLE_TEXT: Mapping[str, str] = {
    "republican": "a Republican.",
    "democrat": "a Democrat.",
    "default": "an American; do not mention any party.",
}

#: How a role is introduced; any other role name is described as "You speak as a <role>."
ROLE_TEXT: Mapping[str, str] = {
    "republican": "You are a Republican and see the topic from a Republican point of view.",
    "democrat": "You are a Democrat and see the topic from a Democratic point of view.",
    "default": "You are an American.",
    "persuader": "Your aim is to persuade the other participant of your side of the proposition.",
    "persuadee": "You are a member of the public with your own views on the proposition.",
}

#: The env's built-in role descriptions (``role_description`` in the observation's extra);
#: any other description comes from a user's roles file.
BUILTIN_DESCRIPTION: Mapping[str, str] = {
    "republican": "a Republican",
    "democrat": "a Democrat",
    "default": "an American",
}

_NUMBER = re.compile(r"[-+]?\d+(?:[.,]\d+)?")


def parse_statement(text: str, max_chars: int) -> ParseResult[str]:
    """A debate contribution: any non-empty text, cut to ``max_chars``.

    Example:
        >>> parse_statement("  We should act now.  ", 100).value
        'We should act now.'
        >>> parse_statement("   ", 100).ok
        False
    """
    cleaned = text.strip()
    if not cleaned:
        return ParseResult(ok=False, error="The reply was empty; write your contribution.")
    return ParseResult(True, cleaned[:max_chars])


def parse_scale(text: str, low: float, high: float) -> ParseResult[str]:
    """The survey answer of a reply, if it lies in ``[low, high]`` (as text).

    Numbers that only restate the scale ("from 0 to 10", "3.5/10") are skipped, as the
    env does (:func:`agentsim.games.debate.parse_survey`).

    Example:
        >>> parse_scale("I would say 7 out of 10.", 0, 10).value
        '7'
        >>> parse_scale("On a scale from 0 to 10: 3.5/10", 0, 10).value
        '3.5'
        >>> parse_scale("eleven", 0, 10).ok
        False
    """
    value = debate_rules.parse_survey(text, low, high)
    if value is not None:
        return ParseResult(True, f"{value:g}")
    return ParseResult(
        ok=False, error=f"Reply with a single number from {low:g} to {high:g} and nothing else."
    )


@dataclass
class DebateLLMContext:
    """What the LLM debaters of one run share: the model stack, settings and prompts."""

    model: LanguageModel
    settings: LLMSettings
    prompts: PromptSet
    max_chars: int = 1200


def load_debate_prompts(prompt_dir: str | None = None) -> PromptSet:
    """The debate templates (``prompt_dir`` replaces any of them)."""
    return PromptSet.load("debate", PLACEHOLDERS, prompt_dir)


class LLMDebater(SeatedLLMAgent):
    """A debater whose contributions and survey answers come from a language model."""

    def __init__(self, name: str = "debater") -> None:
        super().__init__(name)

    async def aact(self, observation: Mapping[str, Any]) -> Decision:
        ctx = self._ctx()
        survey = int(observation["phase"]) == 1
        system = self._system(observation, ctx)
        if survey:
            low, high = scale_of(observation)
            prompt = self._survey_prompt(observation, ctx)
            parse = lambda t: parse_scale(t, low, high)  # noqa: E731
            answer = await self._ask(ctx, system, prompt, "survey", parse, SURVEY_FALLBACK)
        else:
            prompt = self._speak_prompt(observation, ctx)
            parse = lambda t: parse_statement(t, ctx.max_chars)  # noqa: E731
            answer = await self._ask(ctx, system, prompt, "speak", parse, "(no statement)")
        return answer.decision()

    async def _ask(
        self,
        ctx: DebateLLMContext,
        system: str,
        prompt: str,
        purpose: str,
        parse: Callable[[str], ParseResult[str]],
        fallback: str,
    ) -> Answer[str]:
        s = ctx.settings
        n = s.max_parse_attempts
        seeds = self.next_seeds(n)
        assert s.model is not None  # a context is only built with a model
        question = Question.from_settings(
            s,
            (("system", system), ("user", prompt)),
            purpose=purpose,
            agent=self.name,
            seeds=seeds,
            # Surveys at temperature 0, as the paper; contributions at the run's temperature.
            temperature=0.0 if purpose == "survey" else s.temperature,
        )
        return await ask_and_parse(
            ctx.model,
            question,
            parse,
            fallback=fallback,
            max_attempts=n,
            reask=lambda e: ctx.prompts.render("debate_reask", error=e),
        )

    def _system(self, obs: Mapping[str, Any], ctx: DebateLLMContext) -> str:
        role = str(obs["role"])
        extra = debate_rules.parse_extra(str(obs.get("extra", "")))
        described = extra.get("role_description")
        # A role's own description (from a roles file) wins over the built-in wording.
        if described and described != BUILTIN_DESCRIPTION.get(role):
            role_text = f"You are {described}."
        else:
            role_text = ROLE_TEXT.get(role) or (
                f"You are {described}." if described else f"You speak as a {role}."
            )
        return ctx.prompts.render(
            "debate_system",
            persona=str(obs["persona"]).rstrip("."),
            role_text=role_text,
            others="the other participants",
            topic=str(obs["topic"]),
            max_words=_max_words(ctx.max_chars),
            extra=_context_lines(extra),
        ).strip()

    def _speak_prompt(self, obs: Mapping[str, Any], ctx: DebateLLMContext) -> str:
        return ctx.prompts.render(
            "debate_speak",
            transcript=str(obs["transcript"]) or "(nobody has spoken yet)",
            phase=_phase_name(obs),
            max_words=_max_words(ctx.max_chars),
        )

    def _survey_prompt(self, obs: Mapping[str, Any], ctx: DebateLLMContext) -> str:
        low, high = scale_of(obs)
        return ctx.prompts.render(
            "debate_survey",
            transcript=str(obs["transcript"]) or "(the debate has not started)",
            question=str(obs["question"]),
            low=f"{low:g}",
            high=f"{high:g}",
            low_label="not at all" if low == 0 else "strongly disagree",
            high_label="extremely" if low == 0 else "strongly agree",
        )

    def _ctx(self) -> DebateLLMContext:
        context: DebateLLMContext = self.bound_context()
        return context


def scale_of(obs: Mapping[str, Any]) -> tuple[float, float]:
    """The survey scale of an observation (the ``scale: lo-hi`` line of ``extra``)."""
    scale = debate_rules.parse_scale(
        debate_rules.parse_extra(str(obs.get("extra", ""))).get("scale", "")
    )
    return scale if scale is not None else debate_rules.TAUBENFELD_SCALE


def _max_words(max_chars: int) -> int:
    return max(20, int(max_chars * _WORDS_PER_CHAR))


def _context_lines(extra: Mapping[str, str]) -> str:
    """What a debater is told beyond its role: its side and, when personalised, the
    demographics of the person it talks to (Salvi et al. 2024)."""
    lines = []
    if extra.get("side"):
        lines.append(f"You argue the {extra['side'].upper()} side of the proposition.")
    if extra.get("persuadee_demographics"):
        lines.append(
            "What you know about the other participant: " + extra["persuadee_demographics"]
        )
    return "\n".join(lines)


def _phase_name(obs: Mapping[str, Any]) -> str:
    return debate_rules.parse_extra(str(obs.get("extra", ""))).get("phase", "") or "debate"


def parse_personas(text: str, count: int) -> ParseResult[list[dict[str, str]]]:
    """A JSON list of ``count`` personas, each with a non-empty ``name`` and ``background``.

    Example:
        >>> parse_personas('[{"name": "Ann Lee", "background": "A nurse in Ohio."}]', 1).ok
        True
        >>> parse_personas('[{"name": "Ann Lee"}]', 1).error
        'Each persona needs a non-empty "name" and "background".'
    """
    start, end = text.find("["), text.rfind("]")
    try:
        items = json.loads(text[start : end + 1]) if 0 <= start < end else None
    except ValueError:
        items = None
    if not isinstance(items, list):
        return ParseResult(ok=False, error=f"Reply with a JSON list of {count} objects only.")
    personas = []
    for item in items:
        fields = item if isinstance(item, dict) else {}
        name, background = str(fields.get("name", "")).strip(), str(fields.get("background", ""))
        if not name or not background.strip():
            return ParseResult(
                ok=False, error='Each persona needs a non-empty "name" and "background".'
            )
        personas.append({"name": name, "background": background.strip()})
    if len(personas) < count:
        return ParseResult(ok=False, error=f"Give {count} personas; you gave {len(personas)}.")
    return ParseResult(True, personas[:count])


async def write_personas(
    ctx: DebateLLMContext, role: str, count: int
) -> Answer[list[dict[str, str]] | None]:
    """Ask the run's model for ``count`` personas of ``role`` (Taubenfeld et al. had the model
    write 40 per party); the answer's value is None when no reply parses."""
    s = ctx.settings
    assert s.model is not None  # a context is only built with a model
    role_text = PERSONA_ROLE_TEXT.get(role, f"a {role}.")
    prompt = ctx.prompts.render("debate_personas", count=count, role_text=role_text)
    seed = zlib.crc32(f"personas:{role}".encode())
    question = Question.from_settings(
        s,
        (("user", prompt),),
        purpose="personas",
        agent=f"personas:{role}",
        seeds=[seed + i for i in range(s.max_parse_attempts)],
        max_tokens=max(s.max_tokens, 60 * count),
    )
    fallback: list[dict[str, str]] | None = None
    return await ask_and_parse(
        ctx.model,
        question,
        lambda text: parse_personas(text, count),  # type: ignore[arg-type, return-value]
        fallback=fallback,
        max_attempts=s.max_parse_attempts,
        reask=lambda e: ctx.prompts.render("debate_reask", error=e),
    )
