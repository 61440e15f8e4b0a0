"""Composable wrappers around a :class:`~agentsim.llm.types.LanguageModel`.

Each wrapper adds one concern and is itself a ``LanguageModel``: rate limiting,
retries with backoff and a run budget. The record/replay cache wrapper lives with its
store in :mod:`agentsim.llm.cache`, event recording and the log of sent messages in
:mod:`agentsim.llm.recording`.
:func:`agentsim.llm.factory.build_model` stacks them in the order that makes replay
free and every call recorded. None of them imports litellm.

Example:
    >>> import asyncio
    >>> from agentsim.llm.types import ChatRequest, ChatResult
    >>> class Echo:
    ...     async def complete(self, request):
    ...         return ChatResult(request.messages[-1][1], 1, 1, 0.0, 0.0, 1, False, request.model)
    >>> budget = Budget(max_calls=1)
    >>> model = BudgetedModel(RetryingModel(Echo()), budget)
    >>> asyncio.run(model.complete(ChatRequest.build("m", "hi"))).text
    'hi'
    >>> budget.calls
    1
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Protocol

import numpy as np

from agentsim.core.errors import BudgetExceeded, ConfigError
from agentsim.llm.types import (
    ChatRequest,
    ChatResult,
    LanguageModel,
    LLMError,
    TransientLLMError,
)

logger = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class UniformSource(Protocol):
    """A seeded source of uniform floats: ``random.Random`` or ``numpy.random.Generator``."""

    def random(self) -> float:
        """A float in [0, 1)."""
        ...


# --- rate limiting -------------------------------------------------------------------------


class _TokenBucket:
    """Virtual-scheduling token bucket: reservations may overdraw; the debt sets the wait."""

    def __init__(self, per_minute: float, burst_s: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(self.rate * burst_s, 1.0)
        self.level = self.capacity
        self.stamp = time.monotonic()

    def reserve(self, amount: float) -> float:
        now = time.monotonic()
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now
        self.level -= amount
        return 0.0 if self.level >= 0 else -self.level / self.rate

    def refund(self, amount: float) -> None:
        self.level = min(self.capacity, self.level + amount)


class _Slots:
    """A counting semaphore usable from several event loops and threads at once.

    ``asyncio.Semaphore`` binds to one loop; a limiter shared by runs in different
    threads (or successive ``asyncio.run`` calls) needs waiters woken on their own loop.
    """

    def __init__(self, size: int) -> None:
        self._free = size
        self._lock = threading.Lock()
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = deque()

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            waiter = (loop, loop.create_future())
            self._waiters.append(waiter)
        try:
            await waiter[1]
        except asyncio.CancelledError:
            self._abandon(waiter)
            raise

    def _abandon(self, waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]) -> None:
        with self._lock:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
                return
        fut = waiter[1]
        if fut.done() and not fut.cancelled():
            self.release()  # granted just before the cancel landed: pass the slot on
        # else: the grant callback sees the cancelled future and passes the slot on

    def release(self) -> None:
        with self._lock:
            while self._waiters:
                loop, fut = self._waiters.popleft()
                try:
                    loop.call_soon_threadsafe(self._grant, fut)
                    return
                except RuntimeError:  # that waiter's loop is closed; try the next one
                    continue
            self._free += 1

    def _grant(self, fut: asyncio.Future[None]) -> None:
        if fut.cancelled():
            self.release()
        else:
            fut.set_result(None)


class RateLimiter:
    """Concurrency cap plus requests- and tokens-per-minute buckets, shareable across runs.

    Token use is not known before a call, so each call reserves an estimate (prompt
    characters / 4 plus ``max_tokens``) and the difference is settled afterwards.

    Args:
        max_concurrency: calls in flight at once; None for no cap.
        requests_per_minute: request rate; None for no limit.
        tokens_per_minute: token rate; None for no limit.
        burst_s: bucket capacity in seconds of rate (how much may go at once).
        sleep: awaited to wait for the buckets (injectable in tests).
    """

    def __init__(
        self,
        max_concurrency: int | None = None,
        requests_per_minute: float | None = None,
        tokens_per_minute: float | None = None,
        burst_s: float = 10.0,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._slots = _Slots(max_concurrency) if max_concurrency else None
        self._rpm = _TokenBucket(requests_per_minute, burst_s) if requests_per_minute else None
        self._tpm = _TokenBucket(tokens_per_minute, burst_s) if tokens_per_minute else None
        self._sleep = sleep
        self._lock = threading.Lock()
        self.in_flight = 0
        self.peak_in_flight = 0
        self.waited_s = 0.0

    async def acquire(self, token_estimate: int) -> None:
        """Wait for rate budget and a free slot."""
        with self._lock:
            wait = max(
                self._rpm.reserve(1) if self._rpm else 0.0,
                self._tpm.reserve(token_estimate) if self._tpm else 0.0,
            )
            self.waited_s += wait
        if wait > 0:
            await self._sleep(wait)
        if self._slots:
            await self._slots.acquire()
        with self._lock:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)

    def release(self, token_estimate: int, tokens_used: int) -> None:
        """Free the slot and settle the token reservation against actual use."""
        with self._lock:
            self.in_flight -= 1
            if self._tpm:
                self._tpm.refund(token_estimate - tokens_used)
        if self._slots:
            self._slots.release()


def estimate_tokens(request: ChatRequest) -> int:
    """A rough, fast upper-ish estimate of a call's tokens (4 characters per token)."""
    chars = sum(len(content) for _, content in request.messages)
    return chars // 4 + (request.max_tokens or 256)


class RateLimitedModel:
    """Passes calls to ``inner`` once ``limiter`` allows them."""

    def __init__(self, inner: LanguageModel, limiter: RateLimiter) -> None:
        self.inner = inner
        self.limiter = limiter

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Answer ``request`` within the limiter's rates."""
        estimate = estimate_tokens(request)
        await self.limiter.acquire(estimate)
        used = estimate  # a failed call keeps its reservation: the provider may have counted it
        try:
            result = await self.inner.complete(request)
            used = result.total_tokens
            return result
        finally:
            self.limiter.release(estimate, used)


# --- retries ---------------------------------------------------------------------------------


class RetryingModel:
    """Retries :class:`TransientLLMError` with exponential backoff and jitter.

    Args:
        inner: the model to call.
        max_attempts: attempts in all, including the first.
        base_delay_s: backoff before the second attempt; doubles each time.
        max_delay_s: cap of the backoff (a longer ``Retry-After`` is still honoured).
        jitter: scale each backoff by a random factor in [0.5, 1) so callers spread out.
        rng: seeded uniform source for the jitter; defaults to ``numpy.random.default_rng(0)``.
        sleep: awaited between attempts (inject a recorder in tests).
    """

    def __init__(
        self,
        inner: LanguageModel,
        max_attempts: int = 6,
        base_delay_s: float = 0.5,
        max_delay_s: float = 30.0,
        jitter: bool = True,
        rng: UniformSource | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ConfigError("max_attempts", max_attempts, "an integer >= 1")
        self.inner = inner
        self.max_attempts = max_attempts
        self.base_delay_s = base_delay_s
        self.max_delay_s = max_delay_s
        self.jitter = jitter
        self.rng: UniformSource = rng if rng is not None else np.random.default_rng(0)
        self._sleep = sleep

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Answer ``request``, retrying transient failures; attempts are counted."""
        start = time.perf_counter()
        made = 0
        while True:
            try:
                result = await self.inner.complete(request)
            except asyncio.CancelledError as cancel:
                # Attempts already made (and the one in flight, if it was sent) are reported
                # on the cancellation, so the record of a call cut short at a stop has them.
                cancel.attempts = made + getattr(cancel, "attempts", 0)  # type: ignore[attr-defined]
                raise
            except TransientLLMError as err:
                made += err.attempts
                if made >= self.max_attempts:
                    err.attempts = made
                    raise
                await self._sleep_counted(self.delay(made, err.retry_after), made)
                continue
            except LLMError as err:
                err.attempts += made
                raise
            return replace(
                result,
                attempts=made + result.attempts,
                latency_s=time.perf_counter() - start,
            )

    async def _sleep_counted(self, seconds: float, made: int) -> None:
        try:
            await self._sleep(seconds)
        except asyncio.CancelledError as cancel:
            cancel.attempts = made  # type: ignore[attr-defined]  # cancelled in backoff
            raise

    def delay(self, failures: int, retry_after: float | None) -> float:
        """Seconds to wait after ``failures`` failed attempts."""
        backoff = min(self.max_delay_s, self.base_delay_s * 2.0 ** (failures - 1))
        if self.jitter:
            backoff *= 0.5 + 0.5 * self.rng.random()
        return max(backoff, retry_after or 0.0)


# --- budget ----------------------------------------------------------------------------------


class Budget:
    """Per-run limits on LLM calls, tokens and dollars, shared by every model of a run.

    A call is counted when it starts (so concurrent calls cannot overshoot ``max_calls``);
    tokens and dollars after it returns, so they may overshoot by the calls in flight.
    Calls to models without a known price add nothing to ``usd`` and are counted in
    ``unknown_cost_calls`` instead; with a dollar limit, such a call stops the run (the
    runtime refuses unpriced models with a dollar limit before the first call).
    """

    def __init__(
        self,
        max_calls: int | None = None,
        max_tokens: int | None = None,
        max_usd: float | None = None,
    ) -> None:
        self.max_calls = max_calls
        self.max_tokens = max_tokens
        self.max_usd = max_usd
        self._lock = threading.Lock()
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.usd = 0.0
        self.unknown_cost_calls = 0

    @property
    def tokens(self) -> int:
        """Prompt plus completion tokens accounted so far."""
        return self.prompt_tokens + self.completion_tokens

    def exceeded(self) -> str | None:
        """Which limit is reached, with the figures, or None."""
        if self.max_calls is not None and self.calls >= self.max_calls:
            return f"max_calls={self.max_calls} reached ({self.calls} calls made)"
        if self.max_tokens is not None and self.tokens >= self.max_tokens:
            return f"max_tokens={self.max_tokens} reached ({self.tokens} tokens used)"
        if self.max_usd is not None and self.usd >= self.max_usd:
            return f"max_usd={self.max_usd:g} reached (${self.usd:.6f} spent)"
        if self.max_usd is not None and self.unknown_cost_calls:
            # A dollar limit that cannot be counted must not be ignored.
            return (
                f"max_usd={self.max_usd:g} cannot be enforced: {self.unknown_cost_calls} "
                "calls had no known price (set llm.price_in_per_mtok and llm.price_out_per_mtok)"
            )
        return None

    def start_call(self) -> None:
        """Count a new call, or raise :class:`BudgetExceeded` if a limit is reached."""
        with self._lock:
            reason = self.exceeded()
            if reason is not None:
                raise BudgetExceeded(f"LLM budget exhausted: {reason}")
            self.calls += 1

    def account(self, result: ChatResult) -> None:
        """Add the tokens and cost of a finished call."""
        with self._lock:
            self.prompt_tokens += result.prompt_tokens
            self.completion_tokens += result.completion_tokens
            if result.cost_usd is None:
                self.unknown_cost_calls += 1
            else:
                self.usd += result.cost_usd

    def totals(self) -> dict[str, Any]:
        """A JSON-ready snapshot of the spending so far."""
        with self._lock:
            return {
                "calls": self.calls,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "tokens": self.tokens,
                "usd": self.usd,
                "unknown_cost_calls": self.unknown_cost_calls,
            }


class BudgetedModel:
    """Refuses calls with :class:`BudgetExceeded` once ``budget`` is spent."""

    def __init__(self, inner: LanguageModel, budget: Budget) -> None:
        self.inner = inner
        self.budget = budget

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Answer ``request`` if the budget allows, then account for it."""
        self.budget.start_call()
        result = await self.inner.complete(request)
        self.budget.account(result)
        return result
