"""LLM members of ``norm_society_v0`` (Li, Sun, Cheng & Qiu 2024, EvolutionaryAgent,
arXiv:2401.04620; an approximate reproduction: the prompts are ours).

An agent carries a persona, a career and three views (worldview, life view, values), text
traits drawn from the bank with its seed when the member has none. Each step it meets
situations (it picks one of four options, A-D, with a one-sentence reason), answers the
era's questionnaire (Likert 1-5 per statement) and, in the feedback round, makes no
decision but stores the observer's score and feedback. Its short-term memory (the step's
choices and the feedback) is compressed by one model call (purpose ``memory``) into a
long-term summary once it holds ``memory_threshold`` events, at the end of a step.
``memory=0`` is the paper's direct baseline: no memory and no feedback in any prompt.

Every call goes through the one driver (:func:`agentsim.agents.llm.driver.ask_and_parse`):
parse, re-ask with the parse error, then a recorded fallback. A situation that never
parses falls back to the option nearest the agent's last questionnaire statement, or to
``A`` before it has one (``extra["fallback_rule"]`` says which); a questionnaire to the
answers nearest the mean of the step's behaviours (or all 3s); a memory compression keeps
the old summary with the events appended.

The agent knows no env: the bank (situation and option texts, questionnaire, persona
pools) comes with the run's context (:class:`NormLLMContext`), built by the study.

Example:
    >>> parse_option("Choice: C\\nReason: it is polite.").value
    2
    >>> parse_answers("1: 4\\n2: 2", 2).value
    (4, 2)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import numpy as np

from agentsim.agents.base import Decision, Usage
from agentsim.agents.llm.driver import Answer, Question, ask_and_parse
from agentsim.agents.llm.generic import SeatedLLMAgent
from agentsim.agents.llm.parsers import ParseResult
from agentsim.agents.llm.promptset import PromptSet
from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.errors import ConfigError
from agentsim.llm.types import LanguageModel

T = TypeVar("T")

KIND = "llm"
#: The text traits of a member (Li et al.: persona, career, three views).
TEXT_TRAITS = ("persona", "career", "worldview", "life_view", "values")
LETTERS = ("A", "B", "C", "D")
SITUATION, QUESTIONNAIRE, FEEDBACK = 0, 1, 2
#: Length limits (characters) that keep prompts bounded however long a model writes.
SUMMARY_CHARS = 1500
EVENT_CHARS = 400
TRAIT_CHARS = 400
REASON_CHARS = 300

PLACEHOLDERS: Mapping[str, frozenset[str]] = {
    "norm_system": frozenset(TEXT_TRAITS),
    "norm_situation": frozenset(
        {"year", "memory", "neighbours", "setting", "situation", "options"}
    ),
    "norm_questionnaire": frozenset({"year", "memory", "count", "items"}),
    "norm_memory": frozenset({"year", "long_term", "events"}),
    "norm_trait": frozenset({"trait", "parent_a", "parent_b"}),
    "norm_observer_rubric": frozenset(),
    "norm_observer": frozenset({"era", "year", "norms", "behaviours", "answers"}),
    "norm_reask": frozenset({"error"}),
}


def load_norm_prompts(prompt_dir: str | None = None) -> PromptSet:
    """The norm-society templates (``prompt_dir`` replaces any of them)."""
    return PromptSet.load("norm_society", PLACEHOLDERS, prompt_dir)


# --- what the agent needs of the bank (agentsim.envs.norm_society.catalogue.Bank) -----------


class _Option(Protocol):
    @property
    def behaviour(self) -> str: ...


class _Situation(Protocol):
    @property
    def setting(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def options(self) -> Sequence[_Option]: ...


class _Item(Protocol):
    @property
    def statement(self) -> str: ...


class NormBank(Protocol):
    """The parts of the scenario bank an LLM member reads."""

    @property
    def questionnaire(self) -> Sequence[_Item]: ...

    def situation(self, i: int) -> _Situation: ...
    def describe(self, vector: Sequence[float]) -> str: ...
    def statement_vector(self, answers: Sequence[int]) -> tuple[float, ...]: ...
    def answers_for(self, vector: Sequence[float]) -> list[int]: ...
    def draw_traits(self, rng: np.random.Generator) -> dict[str, str]: ...


@dataclass
class NormLLMContext:
    """What the LLM members (and LLM observers) of one run share."""

    model: LanguageModel
    settings: LLMSettings
    prompts: PromptSet
    bank: NormBank


# --- parsers (pure; never raise on any reply) -------------------------------------------------

_CHOICE = re.compile(r"(?i:choice|answer|option)\s*\**\s*[:\-]?[\s\*\(\[\"'`]*([A-D])(?![A-Za-z])")
_REASON = re.compile(r"(?i:reason)\s*[:\-]\s*(.+)")
_EDGE = " \t\r\n\"'`*.!,;:()[]"
_ANSWER_LINE = re.compile(
    r"^[\s\*\-#>]*(?:(?i:statement|item|q)\s*)?(\d{1,3})\s*[\.:\)\-=]\s*[\*\s]*(\d+)(?!\d)",
    re.MULTILINE,
)
_LABEL = re.compile(r"(?i:summary|trait)\s*:\s*")


def parse_option(text: str) -> ParseResult[int]:
    """The chosen option's index (A-D -> 0-3) and the reason as justification.

    Read after ``Choice:`` (or ``Answer:``/``Option``); a reply that is a single letter
    counts too. A bare capital letter in prose does not (it may be the article "A").

    Example:
        >>> r = parse_option("**Choice:** (B)\\nReason: saves paper.")
        >>> r.value, r.justification
        (1, 'saves paper.')
        >>> parse_option("A good question.").ok
        False
    """
    reason_match = _REASON.search(text)
    reason = reason_match.group(1).strip()[:REASON_CHARS] if reason_match else None
    match = _CHOICE.search(text)
    letter = match.group(1) if match else None
    if letter is None:
        bare = text.strip(_EDGE).upper()
        letter = bare if bare in LETTERS else None
    if letter is None:
        return ParseResult(
            ok=False,
            error="Your reply names no option. Reply with 'Choice: <A, B, C or D>' and "
            "'Reason: <one sentence>'.",
            justification=reason,
        )
    return ParseResult(True, LETTERS.index(letter), justification=reason)


def parse_answers(text: str, count: int) -> ParseResult[tuple[int, ...]]:
    """One Likert answer (1-5) per statement 1..count, from lines ``<number>: <answer>``.

    Every statement must be answered; the first line for a statement counts.

    Example:
        >>> parse_answers("1: 5\\n3: 1", 3).error
        'Give an answer from 1 to 5 for statement 2, one line each: <statement number>: <1-5>.'
        >>> parse_answers("1: 7", 1).error
        'Your answer 7 to statement 1 is out of range: answer from 1 to 5.'
    """
    answers: dict[int, int] = {}
    for match in _ANSWER_LINE.finditer(text):
        number, value = int(match.group(1)), int(match.group(2))
        if 1 <= number <= count and number not in answers:
            if not 1 <= value <= 5:
                return ParseResult(
                    ok=False,
                    error=f"Your answer {value} to statement {number} is out of range: "
                    "answer from 1 to 5.",
                )
            answers[number] = value
    missing = [i for i in range(1, count + 1) if i not in answers]
    if missing:
        which = ", ".join(str(i) for i in missing[:20]) + (", ..." if len(missing) > 20 else "")
        noun = "statement" if len(missing) == 1 else "statements"
        return ParseResult(
            ok=False,
            error=f"Give an answer from 1 to 5 for {noun} {which}, one line each: "
            "<statement number>: <1-5>.",
        )
    return ParseResult(True, tuple(answers[i] for i in range(1, count + 1)))


def parse_text(text: str, label: str, limit: int) -> ParseResult[str]:
    """The text after ``<label>:`` (or the whole reply), stripped and cut to ``limit``.

    Example:
        >>> parse_text("Sure. Trait: a kind baker.", "Trait", 100).value
        'a kind baker.'
        >>> parse_text("  ", "Summary", 100).ok
        False
    """
    found = [m for m in _LABEL.finditer(text) if m.group(0).lower().startswith(label.lower())]
    body = text[found[0].end() :] if found else text
    body = " ".join(body.split()).strip(" \"'`*")
    if not body:
        return ParseResult(
            ok=False, error=f"Your reply was empty. Reply in the form '{label}: ...'."
        )
    return ParseResult(True, body[:limit])


# --- the agent ------------------------------------------------------------------------------


def _whole(key: str, value: Any, low: int, high: int) -> int:
    """An integer setting; population specs give numbers as floats (``llm[memory=0]``)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"llm.{key}", value, f"an integer in [{low}, {high}]")
    return int(value)


@dataclass
class _Memory:
    """The carried state: whose it is, the switch, long- and short-term memory, and the
    last questionnaire statement (for the situation fallback)."""

    owner: str = ""
    enabled: int = 1
    long: str = ""
    short: tuple[str, ...] = ()
    statement: tuple[float, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "owner": self.owner,
            "enabled": self.enabled,
            "long": self.long,
            "short": list(self.short),
            "statement": None if self.statement is None else list(self.statement),
        }

    @classmethod
    def from_json(cls, data: Any) -> _Memory:
        if not isinstance(data, Mapping):
            raise ConfigError("llm.memory_state", data, "the JSON object an LLM member carries")
        statement = data.get("statement")
        return cls(
            owner=str(data.get("owner", "")),
            enabled=1 if data.get("enabled", 1) else 0,
            long=str(data.get("long", "")),
            short=tuple(str(e) for e in data.get("short", ())),
            statement=None if statement is None else tuple(float(x) for x in statement),
        )


class LLMNormAgent(SeatedLLMAgent):
    """A norm-society member whose choices and survey answers come from a language model.

    Args:
        persona, career, worldview, life_view, values: text traits (None: drawn from the
            bank's pools with the agent's seed at its first decision).
        memory: 1 keeps memory and feedback; 0 is the direct baseline (neither in any
            prompt). None (a child whose params lost it) takes the setting its parent's
            carried state names.
        memory_threshold: short-term events that trigger a compression (>= 1).
        memory_state: the carried state (``carried()["memory_state"]``); state carried by
            another member (a parent's) starts empty, keeping only the memory switch.
        traits: the scripted kinds' trait vector, which a child of a mixed population may
            inherit; an LLM member does not use it.
    """

    kind = KIND

    def __init__(
        self,
        persona: str | None = None,
        career: str | None = None,
        worldview: str | None = None,
        life_view: str | None = None,
        values: str | None = None,
        memory: int | float | None = 1,
        memory_threshold: int | float = 6,
        memory_state: Mapping[str, Any] | None = None,
        traits: Any = None,
        name: str = "llm",
    ) -> None:
        super().__init__(name)
        given = dict(zip(TEXT_TRAITS, (persona, career, worldview, life_view, values), strict=True))
        for key, value in given.items():
            if value is not None and (not isinstance(value, str) or not value.strip()):
                raise ConfigError(f"llm.{key}", value, "a non-empty text, or None (drawn)")
        self.traits: dict[str, str] = {k: v for k, v in given.items() if v is not None}
        self._state = _Memory() if memory_state is None else _Memory.from_json(memory_state)
        self.memory = self._state.enabled if memory is None else _whole("memory", memory, 0, 1)
        self.memory_threshold = _whole("memory_threshold", memory_threshold, 1, 10_000)
        self._state.enabled = self.memory
        self._vectors: list[np.ndarray] = []

    def params(self) -> dict[str, Any]:
        return {"memory": self.memory, "memory_threshold": self.memory_threshold, **self.traits}

    def reset(self, *, seed: int | None = None) -> None:
        super().reset(seed=seed)
        if self._state.owner != self.name:  # a parent's memories are not the child's
            self._state = _Memory(owner=self.name, enabled=self.memory)
        self._vectors = []

    def carried(self) -> dict[str, Any]:
        """Traits and memory for the next step (JSON data)."""
        return {**self.traits, "memory_state": self._state.to_json()}

    @property
    def long_term(self) -> str:
        return self._state.long

    @property
    def short_term(self) -> tuple[str, ...]:
        return self._state.short

    async def aact(self, observation: Mapping[str, Any]) -> Decision:
        ctx = self._ctx()
        self._draw_traits(ctx.bank)
        phase = int(observation["phase"])
        if phase == SITUATION:
            return await self._situation(ctx, observation)
        if phase == QUESTIONNAIRE:
            return await self._questionnaire(ctx, observation)
        return await self._feedback(ctx, observation)

    # -- the three phases -------------------------------------------------------------------

    async def _situation(self, ctx: NormLLMContext, obs: Mapping[str, Any]) -> Decision:
        situation = ctx.bank.situation(int(obs["situation"]))
        vectors = np.asarray(obs["options"], dtype=np.float64)
        options = "\n".join(
            f"{letter}) {o.behaviour}"
            for letter, o in zip(LETTERS, situation.options, strict=False)
        )
        known = int(obs.get("neighbours_known", 0)) == 1
        neighbours = (
            f"What the people around you did last time: "
            f"{ctx.bank.describe(np.asarray(obs['neighbours']).tolist())}.\n"
            if known
            else ""
        )
        prompt = ctx.prompts.render(
            "norm_situation",
            year=_year(obs),
            memory=self._memory_block(),
            neighbours=neighbours,
            setting=situation.setting,
            situation=situation.text,
            options=options,
        )
        fallback, rule = self._fallback_option(vectors)
        answer = await self._ask(ctx, prompt, "situation", parse_option, fallback)
        index = int(answer.value)
        chosen = situation.options[index].behaviour
        self._vectors.append(vectors[index])
        self._remember(f"{_year(obs)}, {situation.setting}: {situation.text} You chose: {chosen}")
        extra = {**answer.record_fields(), "option": LETTERS[index]}
        if answer.status == "fallback":
            extra["fallback_rule"] = rule
        return _decision(vectors[index], answer, extra)

    async def _questionnaire(self, ctx: NormLLMContext, obs: Mapping[str, Any]) -> Decision:
        items = ctx.bank.questionnaire
        prompt = ctx.prompts.render(
            "norm_questionnaire",
            year=_year(obs),
            memory=self._memory_block(),
            count=len(items),
            items="\n".join(f"{i}. {item.statement}" for i, item in enumerate(items, 1)),
        )
        if self._vectors:
            fallback = tuple(ctx.bank.answers_for(np.mean(self._vectors, axis=0).tolist()))
            rule = "answers nearest the step's mean behaviour"
        else:
            fallback, rule = (3,) * len(items), "neutral (3) answers"
        count = len(items)
        answer = await self._ask(
            ctx, prompt, "questionnaire", lambda t: parse_answers(t, count), fallback
        )
        statement = ctx.bank.statement_vector(list(answer.value))
        self._state.statement = tuple(float(x) for x in statement)
        extra = {**answer.record_fields(), "answers": list(answer.value)}
        if answer.status == "fallback":
            extra["fallback_rule"] = rule
        return _decision(np.asarray(statement), answer, extra)

    async def _feedback(self, ctx: NormLLMContext, obs: Mapping[str, Any]) -> Decision:
        """No decision: keep the observer's verdict; compress memory past the threshold."""
        score = float(np.asarray(obs["score"]).reshape(-1)[0])
        text = str(obs.get("feedback", "")).strip()
        self._remember(f"{_year(obs)}: the observer scored your conduct {score:.1f} of 7. {text}")
        idle = np.zeros(np.asarray(obs["neighbours"]).shape, dtype=np.float32)
        if not (self.memory and len(self._state.short) >= self.memory_threshold):
            return Decision(action=idle)
        answer = await self._compress(ctx, obs)
        extra = {**answer.record_fields(), "memory_compressed": len(answer.value)}
        # The step's one model call is the compression; its status is the decision's.
        return Decision(
            action=idle,
            raw=answer.raw,
            parse_status=answer.status,
            usage=answer.usage,
            extra=extra,
        )

    async def _compress(self, ctx: NormLLMContext, obs: Mapping[str, Any]) -> Answer[str]:
        events = self._state.short
        prompt = ctx.prompts.render(
            "norm_memory",
            year=_year(obs),
            long_term=self._state.long or "(nothing yet)",
            events="\n".join(f"- {e}" for e in events),
        )
        kept = " ".join([self._state.long, *events]).strip()[-SUMMARY_CHARS:]
        answer = await self._ask(
            ctx, prompt, "memory", lambda t: parse_text(t, "Summary", SUMMARY_CHARS), kept
        )
        self._state.long, self._state.short = answer.value, ()
        return answer

    # -- helpers ------------------------------------------------------------------------------

    def _remember(self, event: str) -> None:
        if self.memory:
            self._state.short = (*self._state.short, event[:EVENT_CHARS])

    def _memory_block(self) -> str:
        """What the prompt shows of memory ("" for the direct baseline or before any)."""
        if not self.memory:
            return ""
        lines = []
        if self._state.long:
            lines.append(f"What you remember from earlier: {self._state.long}")
        if self._state.short:
            lines.append("Recent events:")
            lines += [f"- {e}" for e in self._state.short]
        return "\n".join(lines) + "\n" if lines else ""

    def _fallback_option(self, vectors: np.ndarray) -> tuple[int, str]:
        statement = self._state.statement
        if statement is None or vectors.shape[-1] != len(statement):
            return 0, "A (no statement yet)"
        dist = ((vectors - np.asarray(statement)) ** 2).sum(axis=1)
        return int(dist.argmin()), "the option nearest the last statement"

    def _draw_traits(self, bank: NormBank) -> None:
        missing = [k for k in TEXT_TRAITS if k not in self.traits]
        if not missing:
            return
        # One draw of every trait, so a drawn trait does not depend on which were given.
        drawn = bank.draw_traits(np.random.default_rng([self._seed, 0x7A17]))
        self.traits.update({k: str(drawn[k]) for k in missing})

    async def _ask(
        self,
        ctx: NormLLMContext,
        prompt: str,
        purpose: str,
        parse: Callable[[str], ParseResult[T]],
        fallback: T,
    ) -> Answer[T]:
        s = ctx.settings
        assert s.model is not None  # a context is only built with a model
        n = s.max_parse_attempts
        messages = (("system", self._system(ctx)), ("user", prompt))
        question = Question.from_settings(
            s, messages, purpose=purpose, agent=self.name, seeds=self.next_seeds(n)
        )
        return await ask_and_parse(
            ctx.model,
            question,
            parse,
            fallback=fallback,
            max_attempts=n,
            reask=lambda e: ctx.prompts.render("norm_reask", error=e),
        )

    def _system(self, ctx: NormLLMContext) -> str:
        return ctx.prompts.render("norm_system", **{k: self.traits[k] for k in TEXT_TRAITS})

    def _ctx(self) -> NormLLMContext:
        context: NormLLMContext = self.bound_context()
        return context


def _year(obs: Mapping[str, Any]) -> int:
    value = float(np.asarray(obs["year"]).reshape(-1)[0])
    return int(value) if math.isfinite(value) else 0


def _decision(vector: np.ndarray, answer: Answer[Any], extra: dict[str, Any]) -> Decision:
    return Decision(
        action=np.clip(np.asarray(vector, dtype=np.float32), 0.0, 1.0),
        rationale=answer.justification,
        raw=answer.raw,
        parse_status=answer.status,
        usage=answer.usage or Usage(),
        extra=extra,
    )
