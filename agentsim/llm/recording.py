"""Event recording around a :class:`~agentsim.llm.types.LanguageModel`.

:class:`RecordingModel` emits one ``llm_call`` record per call and
:class:`PromptLogModel` stores the full messages of every request by prompt hash, so
a run's events name each call and ``agentsim show`` can print what was sent.
:func:`collect_prompt_hashes` lets the runner tie a decision to the calls behind it.
:func:`agentsim.llm.factory.build_model` stacks both outside the cache, budget and
retries, so every call (cache hits, budget refusals and replay misses included) is
recorded. Neither imports litellm.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from agentsim.core.records import Record, make_record
from agentsim.llm.cache import ResponseCache
from agentsim.llm.types import (
    ChatRequest,
    ChatResult,
    LanguageModel,
    LLMError,
    prompt_hash,
    redact,
    safe_api_base,
)

_CALL_HASHES: ContextVar[list[str] | None] = ContextVar("agentsim_call_hashes", default=None)


@contextmanager
def collect_prompt_hashes() -> Iterator[list[str]]:
    """Collect the prompt hash of every call recorded (by :class:`RecordingModel`) inside.

    The runner wraps each decision in this, so a decision record can name the calls
    behind it whatever agent made them. Each asyncio task has its own context, so
    decisions made concurrently collect their own calls.

    Example:
        >>> import asyncio
        >>> from agentsim.llm.types import ChatRequest, ChatResult
        >>> class Echo:
        ...     async def complete(self, request):
        ...         return ChatResult("ok", 1, 1, 0.0, 0.0, 1, False, request.model)
        >>> model = RecordingModel(Echo(), lambda record: None)
        >>> with collect_prompt_hashes() as hashes:
        ...     _ = asyncio.run(model.complete(ChatRequest.build("m", "hi")))
        >>> len(hashes), len(hashes[0])
        (1, 64)
    """
    hashes: list[str] = []
    token = _CALL_HASHES.set(hashes)
    try:
        yield hashes
    finally:
        _CALL_HASHES.reset(token)


class RecordingModel:
    """Emits one ``llm_call`` record per call (cached, failed and cancelled calls included).

    Records carry the model, purpose, agent, prompt hash, raw reply, latency, tokens,
    cost, attempts, cache flag, sampling parameters and the error text (redacted). They
    never carry API keys or the credentials of ``api_base``. A call cancelled at a stop
    (a sibling call failed, the run is ending) is recorded with ``error="cancelled"`` and
    the provider attempts it had made, so every request a provider saw is accounted for.
    """

    def __init__(self, inner: LanguageModel, sink: Callable[[Record], None]) -> None:
        self.inner = inner
        self.sink = sink

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Answer ``request`` through ``inner`` and record the outcome."""
        collected = _CALL_HASHES.get()
        if collected is not None:
            collected.append(prompt_hash(request))
        start = time.perf_counter()
        try:
            result = await self.inner.complete(request)
        except asyncio.CancelledError as cancel:
            self.sink(_cancelled_record(request, cancel, time.perf_counter() - start))
            raise
        except Exception as exc:
            self.sink(_failure_record(request, exc, time.perf_counter() - start))
            raise
        self.sink(_success_record(request, result))
        return result


class PromptLogModel:
    """Stores the full messages of every request in the run's SQLite file, by prompt hash.

    Records name a call by its prompt hash only; this table lets ``agentsim show`` print
    what the model was sent. Written before the call, so failed, refused and cancelled
    calls have their messages too; each distinct prompt is stored once.
    """

    def __init__(self, inner: LanguageModel, store: ResponseCache) -> None:
        self.inner = inner
        self.store = store

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Store the request's messages, then answer it through ``inner``."""
        self.store.put_prompt(prompt_hash(request), request)
        return await self.inner.complete(request)


def _base_fields(request: ChatRequest) -> dict[str, Any]:
    return {
        "model": request.model,
        "purpose": request.purpose,
        "agent": request.agent,
        "prompt_hash": prompt_hash(request),
        "api_base": safe_api_base(request.api_base),
        "params": {
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
            "sample_index": request.sample_index,
            "response_format": request.response_format is not None,
        },
    }


def _success_record(request: ChatRequest, result: ChatResult) -> Record:
    return make_record(
        "llm_call",
        **_base_fields(request),
        reply=result.text,
        latency_s=result.latency_s,
        prompt_tokens=result.prompt_tokens,
        completion_tokens=result.completion_tokens,
        cost_usd=result.cost_usd,
        attempts=result.attempts,
        error=None,
        cached=result.cached,
    )


def _cancelled_record(
    request: ChatRequest, cancel: asyncio.CancelledError, latency_s: float
) -> Record:
    return _unanswered(request, latency_s, int(getattr(cancel, "attempts", 0)), "cancelled", None)


def _failure_record(request: ChatRequest, exc: Exception, latency_s: float) -> Record:
    attempts, status = (exc.attempts, exc.status_code) if isinstance(exc, LLMError) else (0, None)
    return _unanswered(
        request, latency_s, attempts, f"{type(exc).__name__}: {redact(str(exc))}", status
    )


def _unanswered(
    request: ChatRequest, latency_s: float, attempts: int, error: str, status_code: int | None
) -> Record:
    """The record of a call that got no reply (failed or cancelled): nothing charged."""
    return make_record(
        "llm_call",
        **_base_fields(request),
        reply=None,
        latency_s=latency_s,
        prompt_tokens=0,
        completion_tokens=0,
        cost_usd=None,
        attempts=attempts,
        error=error,
        status_code=status_code,
        cached=False,
    )
