"""The one LLM driver: ask -> parse -> re-ask with the parse error (bounded) -> recorded fallback.

Every LLM agent and every LLM judge goes through :func:`ask_and_parse`; an
environment's LLM agent is only its prompt templates, its parsers and its fallback.
A reply that never parses is not silently replaced: the result says
``status="fallback"`` and carries the last reply and the last parse error, and the
caller records both.

Example:
    >>> import asyncio
    >>> from agentsim.agents.llm.parsers import ParseResult
    >>> from agentsim.llm.types import ChatRequest, ChatResult
    >>> class Echo:  # a LanguageModel that answers "7"
    ...     async def complete(self, request: ChatRequest) -> ChatResult:
    ...         return ChatResult("7", 3, 1, 0.0, 0.0, 1, False, request.model)
    >>> def number(text):
    ...     ok = text.isdigit()
    ...     return ParseResult(True, int(text)) if ok else ParseResult(False, error="a number")
    >>> q = Question((("user", "Pick a number."),), purpose="demo", agent="a", seeds=range(3))
    >>> r = asyncio.run(ask_and_parse(Echo(), q, number, fallback=0, max_attempts=3))
    >>> r.value, r.status, r.asks
    (7, 'ok', 1)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from agentsim.agents.base import Decision, Usage
from agentsim.agents.llm.parsers import ParseResult
from agentsim.llm.types import ChatRequest, ChatResult, LanguageModel, prompt_hash

T = TypeVar("T")

DEFAULT_REASK = (
    "Your reply could not be used: {error} Please answer again in exactly the required form."
)


@dataclass(frozen=True)
class Question:
    """One question to a model, before any re-asking.

    Attributes:
        messages: ``(role, content)`` pairs sent on the first attempt.
        purpose: what the call is for (recorded with the call: "donation", "survey", ...).
        agent: who asks (recorded with the call).
        seeds: provider seed per attempt (fixed by the run seed, so the cache key is stable).
        schema: a JSON schema for structured output, or None.
        model: the LiteLLM model string.
        temperature, max_tokens, api_base: sampling and endpoint settings.
    """

    messages: tuple[tuple[str, str], ...]
    purpose: str
    agent: str
    seeds: Sequence[int]
    schema: dict[str, Any] | None = None
    model: str = ""
    temperature: float = 0.0
    max_tokens: int = 1000
    api_base: str | None = None

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        messages: Sequence[tuple[str, str]],
        *,
        purpose: str,
        agent: str,
        seeds: Sequence[int],
        **overrides: Any,
    ) -> Question:
        """A question with a run's sampling settings (``model``, ``temperature``,
        ``max_tokens``, ``api_base`` of an :class:`~agentsim.agents.llm.settings.LLMSettings`);
        ``overrides`` replace any of them (a survey at temperature 0) or add a ``schema``."""
        fields: dict[str, Any] = {
            "model": settings.model or "",
            "temperature": settings.temperature,
            "max_tokens": settings.max_tokens,
            "api_base": settings.api_base,
            **overrides,
        }
        return cls(tuple(messages), purpose, agent, seeds, **fields)

    def request(self, messages: Sequence[tuple[str, str]], attempt: int) -> ChatRequest:
        return ChatRequest(
            model=self.model,
            messages=tuple(messages),
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            response_format=self.schema,
            seed=self.seeds[attempt],
            purpose=self.purpose,
            agent=self.agent,
            api_base=self.api_base,
        )


@dataclass(frozen=True)
class Answer(Generic[T]):
    """What the driver got.

    Attributes:
        value: the parsed value, or the fallback when ``status == "fallback"``.
        status: ``"ok"`` (first reply parsed), ``"reasked"`` or ``"fallback"``.
        raw: the last reply text.
        justification: the reasoning the parser found, if any.
        error: the last parse error (None unless re-asked or fallen back).
        asks: how many replies were requested.
        usage: calls, tokens and cost of all attempts.
        prompt_hashes: the hash of every request sent (the run stores the full messages
            under these hashes, so a decision can be shown as the agent saw it).
    """

    value: T
    status: str
    raw: str
    justification: str | None = None
    error: str | None = None
    asks: int = 1
    usage: Usage = field(default_factory=Usage)
    prompt_hashes: tuple[str, ...] = ()

    def decision(self, action: Any = None) -> Decision:
        """The agent's decision from this answer (its value as the action, unless given)."""
        return Decision(
            action=self.value if action is None else action,
            rationale=self.justification,
            raw=self.raw,
            parse_status=self.status,
            usage=self.usage,
            extra=self.record_fields(),
        )

    def record_fields(self) -> dict[str, Any]:
        """JSON-ready detail for a decision record."""
        out: dict[str, Any] = {"asks": self.asks, "prompt_hashes": list(self.prompt_hashes)}
        if self.error is not None:
            out["parse_error"] = self.error
        return out


def usage_of(result: ChatResult) -> Usage:
    """The accounting of one model call."""
    return Usage(1, result.prompt_tokens, result.completion_tokens, result.cost_usd)


async def ask_and_parse(
    model: LanguageModel,
    question: Question,
    parse: Callable[[str], ParseResult[T]],
    *,
    fallback: T,
    max_attempts: int,
    reask: Callable[[str], str] | None = None,
) -> Answer[T]:
    """Ask, parse, re-ask with the parse error up to ``max_attempts`` replies, else fall back.

    Args:
        model: the model stack (cache, budget, retries, ... are wrappers around it).
        question: the first messages and the call settings.
        parse: a pure parser from reply text to a :class:`ParseResult`.
        fallback: the value used when no reply parses (recorded as ``"fallback"``).
        max_attempts: replies requested at most (>= 1).
        reask: builds the follow-up user message from the parse error.
    """
    reask = reask or (lambda error: DEFAULT_REASK.format(error=error))
    messages = list(question.messages)
    usage, text, hashes = Usage(), "", []
    parsed: ParseResult[T] = ParseResult(ok=False, error="no reply")
    for attempt in range(max_attempts):
        request = question.request(messages, attempt)
        hashes.append(prompt_hash(request))
        result = await model.complete(request)
        usage, text = usage + usage_of(result), result.text
        parsed = parse(text)
        if parsed.ok and parsed.value is not None:
            return Answer(
                parsed.value,
                "ok" if attempt == 0 else "reasked",
                text,
                parsed.justification,
                None if attempt == 0 else parsed.error,
                attempt + 1,
                usage,
                tuple(hashes),
            )
        messages += [("assistant", text), ("user", reask(parsed.error or ""))]
    return Answer(
        fallback,
        "fallback",
        text,
        parsed.justification,
        parsed.error,
        max_attempts,
        usage,
        tuple(hashes),
    )
