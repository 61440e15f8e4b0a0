"""Judges: observers that score behaviour, rule-based or LLM-backed, behind one interface.

A judge turns an item (whatever the env asks about: an agent's behaviour in an era, a web
agent's answer) into a :class:`Judgement` with a score, a label, a rationale (feedback
for the agent), the raw reply and a parse status. Rule-based judges answer synchronously;
LLM judges (:class:`LLMJudge`) go through the one LLM driver
(:func:`agentsim.agents.llm.driver.ask_and_parse`) and are awaited by the runtime.

Example:
    >>> class Strict:
    ...     name = "strict"
    ...     def judge(self, item):
    ...         ok = item["answer"] == "N/A"
    ...         return Judgement(1.0 if ok else 0.0, "yes" if ok else "no", judge=self.name)
    >>> Strict().judge({"answer": "N/A"}).label
    'yes'
    >>> isinstance(Strict(), AsyncJudge)
    False
    >>> import asyncio
    >>> [j.score for j in asyncio.run(judge_all(Strict(), [{"answer": "N/A"}, {"answer": "x"}]))]
    [1.0, 0.0]
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from agentsim.agents.base import Usage
from agentsim.agents.llm.driver import Question, ask_and_parse
from agentsim.agents.llm.parsers import ParseResult
from agentsim.core.records import Record, make_record
from agentsim.llm.types import gather_or_cancel

#: Parse statuses of a judgement: the driver's three, plus ``rule`` for rule-based judges.
PARSE_STATUSES = ("ok", "reasked", "fallback", "rule")


@dataclass(frozen=True)
class Judgement:
    """One judge's verdict on one item.

    Attributes:
        score: the numeric score (None when the judge gives none).
        label: the categorical verdict ("adheres", "yes", "A", ...).
        rationale: the judge's reasons (the feedback an agent receives).
        raw: the judge's raw reply ("" for rule-based judges).
        parse_status: ``ok`` / ``reasked`` / ``fallback`` (LLM judges) or ``rule``.
        judge: the judge's name.
        usage: calls, tokens and cost spent on this judgement.
        error: the last parse error of an LLM judge (None if it parsed).
        prompt_hashes: hashes of the requests sent (the run keeps their messages).
    """

    score: float | None
    label: str | None
    rationale: str = ""
    raw: str = ""
    parse_status: str = "rule"
    judge: str = ""
    usage: Usage = field(default_factory=Usage)
    error: str | None = None
    prompt_hashes: tuple[str, ...] = ()

    def record(self, item: str, **extra: Any) -> Record:
        """The generic ``judgement`` record of this verdict on ``item`` (an item id)."""
        fields: dict[str, Any] = {
            "judge": self.judge,
            "item": item,
            "score": self.score,
            "label": self.label,
            "parse_status": self.parse_status,
            "rationale": self.rationale,
        }
        if self.parse_status != "rule":
            fields["raw"] = self.raw
            fields["prompt_hashes"] = list(self.prompt_hashes)
        if self.error is not None:
            fields["parse_error"] = self.error
        return make_record("judgement", **fields, **extra)


@runtime_checkable
class Judge(Protocol):
    """Anything that judges an item synchronously."""

    name: str

    def judge(self, item: Any) -> Judgement: ...


@runtime_checkable
class AsyncJudge(Protocol):
    """A judge whose verdicts are awaited (LLM judges); runners use :meth:`ajudge`."""

    name: str

    def judge(self, item: Any) -> Judgement: ...

    async def ajudge(self, item: Any) -> Judgement: ...


async def judge_all(judge: Judge | AsyncJudge, items: Sequence[Any]) -> list[Judgement]:
    """Verdicts on ``items`` in order; an async judge's calls are issued concurrently."""
    if isinstance(judge, AsyncJudge):
        return list(await gather_or_cancel([judge.ajudge(item) for item in items]))
    return [judge.judge(item) for item in items]


@dataclass(frozen=True)
class Verdict:
    """What an LLM judge's parser extracts from a reply."""

    score: float | None
    label: str | None
    rationale: str = ""


class LLMJudge:
    """A judge asking a model through the one driver: prompt, parser, recorded fallback.

    Args:
        name: the judge's name (in records and call records).
        render: ``render(item) -> [(role, text), ...]``: the question for one item.
        parse: ``parse(reply, item) -> ParseResult[Verdict]``.
        fallback: ``fallback(item) -> Verdict`` used (and recorded as ``fallback``) when no
            reply parses.
        key: ``key(item) -> str``: a stable id of the item; the provider seeds of its
            calls derive from it, so the cache key does not depend on dispatch order.
        purpose: the purpose recorded with the calls.

    The run's LLM context (anything with ``model``, a ``LanguageModel``, and ``settings``,
    :class:`~agentsim.agents.llm.settings.LLMSettings`) is attached with :meth:`bind`.
    """

    def __init__(
        self,
        name: str,
        render: Callable[[Any], Sequence[tuple[str, str]]],
        parse: Callable[[str, Any], ParseResult[Verdict]],
        fallback: Callable[[Any], Verdict],
        key: Callable[[Any], str],
        purpose: str = "judge",
    ) -> None:
        self.name, self.render, self.parse = name, render, parse
        self.fallback, self.key, self.purpose = fallback, key, purpose
        self.context: Any = None

    def bind(self, context: Any) -> None:
        """Attach the run's LLM context (model stack and settings)."""
        self.context = context

    def judge(self, item: Any) -> Judgement:
        """Synchronous facade (scripts, notebooks); runners await :meth:`ajudge`."""
        return asyncio.run(self.ajudge(item))

    async def ajudge(self, item: Any) -> Judgement:
        if self.context is None:
            raise RuntimeError(f"LLM judge {self.name} has no model: call bind(context) first")
        s = self.context.settings
        n = s.max_parse_attempts
        question = Question.from_settings(
            s,
            self.render(item),
            purpose=self.purpose,
            # One judge asks about many items at once: the item in the caller's name keeps
            # the order of its call records independent of which reply arrives first.
            agent=f"{self.name}/{self.key(item)}",
            seeds=item_seeds(self.name, self.key(item), n),
        )
        answer = await ask_and_parse(
            self.context.model,
            question,
            lambda text: self.parse(text, item),
            fallback=self.fallback(item),
            max_attempts=n,
        )
        v = answer.value
        return Judgement(
            score=v.score,
            label=v.label,
            rationale=v.rationale,
            raw=answer.raw,
            parse_status=answer.status,
            judge=self.name,
            usage=answer.usage,
            error=answer.error,
            prompt_hashes=answer.prompt_hashes,
        )


def item_seeds(judge: str, key: str, n: int) -> list[int]:
    """Provider seeds of a judge's ``n`` possible asks about one item (stable per item).

    Example:
        >>> item_seeds("observer", "3/1_2", 2) == item_seeds("observer", "3/1_2", 2)
        True
    """
    digest = hashlib.sha256(f"{judge}\0{key}".encode()).digest()
    base = int.from_bytes(digest[:8], "big") % 2**61
    return [(base + 7919 * i) % 2**62 for i in range(n)]
