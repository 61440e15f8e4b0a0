"""Build the standard wrapper stack around one LiteLLM model string.

The order, outermost first, and why:

1. :class:`~agentsim.llm.recording.RecordingModel` (when a ``sink`` is given): sees every
   call, including cache hits, budget refusals and replay misses, so ``events.jsonl``
   tells the whole story of a run.
2. :class:`~agentsim.llm.recording.PromptLogModel` (when a ``cache_path`` is given, whatever
   the cache mode): stores the full messages of every request by prompt hash.
3. :class:`~agentsim.llm.cache.CachedModel` (when the cache mode is not ``off``): a hit or
   a replay never reaches the layers below, so replay spends no budget and waits for no
   rate limit.
4. :class:`~agentsim.llm.wrappers.BudgetedModel` (when a ``budget`` is given): counts one
   call per logical request (not per retry) and refuses new ones once a limit is reached.
5. :class:`~agentsim.llm.wrappers.RetryingModel`: retries transient failures with backoff.
6. :class:`~agentsim.llm.wrappers.RateLimitedModel` (when a ``limiter`` is given): inside
   the retries, because every attempt is a request the provider counts against its
   limits, and a call sleeping in backoff should not hold a concurrency slot.
7. :class:`~agentsim.llm.model.LiteLLMModel`: one ``litellm.acompletion`` per attempt.

Example:
    >>> from agentsim.llm.types import ChatRequest, complete_sync
    >>> model = build_model("offline/donor-0.5")
    >>> request = ChatRequest.build("offline/donor-0.5", "You currently have 4 units.")
    >>> complete_sync(model, request).text.splitlines()[-1]
    'Answer: 2'

Requests name their own model: ``model`` here sets up the provider (the offline one
for ``offline/...``); the stack answers whatever model each request names.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agentsim.core.errors import ConfigError, UserError
from agentsim.core.records import Record
from agentsim.llm.cache import CACHE_MODES, CachedModel, ResponseCache
from agentsim.llm.model import LiteLLMModel
from agentsim.llm.pricing import Prices
from agentsim.llm.recording import PromptLogModel, RecordingModel
from agentsim.llm.types import LanguageModel, register_secrets, url_secrets
from agentsim.llm.wrappers import (
    Budget,
    BudgetedModel,
    RateLimitedModel,
    RateLimiter,
    RetryingModel,
    UniformSource,
)


def build_model(
    model: str,
    *,
    api_base: str | None = None,
    api_key: str | None = None,
    cache_path: str | Path | None = None,
    cache_mode: str = "off",
    budget: Budget | None = None,
    limiter: RateLimiter | None = None,
    max_attempts: int = 6,
    base_delay_s: float = 0.5,
    timeout_s: float = 60.0,
    sink: Callable[[Record], None] | None = None,
    rng: UniformSource | None = None,
    prices: Prices | None = None,
) -> LanguageModel:
    """Compose the wrapper stack for ``model`` (see the module docstring for the order).

    Args:
        model: a LiteLLM model string; ``offline/...`` registers the offline provider.
        api_base: endpoint override (LiteLLM's env vars apply when None).
        api_key: explicit key; None lets LiteLLM read the provider's env var, or, with
            an ``api_base`` and no key variable set, sends a stand-in key (a local
            OpenAI-compatible server needs none, but the OpenAI client insists on one).
        cache_path: SQLite file of the response cache and of the sent messages (the
            ``prompts`` table, kept whatever the cache mode); required unless
            ``cache_mode`` is "off".
        cache_mode: "off", "read_write" or "replay" (replay needs an existing cache file).
        budget: a run budget shared by the run's models.
        limiter: a rate limiter, shareable across models and runs.
        max_attempts: provider attempts per call, including the first.
        base_delay_s: first retry backoff (doubles per retry, jittered, capped at 30 s).
        timeout_s: per-attempt timeout.
        sink: receives one ``llm_call`` record per call.
        rng: seeded source for the retry jitter.
        prices: the user's prices per million tokens (used instead of LiteLLM's).

    Raises:
        ConfigError: for an unknown ``cache_mode``.
        UserError: for a cache mode without a cache file.
    """
    if cache_mode not in CACHE_MODES:
        raise ConfigError("cache_mode", cache_mode, CACHE_MODES)
    if model.startswith("offline/"):
        from agentsim.llm.offline import ensure_offline_provider

        ensure_offline_provider(model)
    register_secrets(url_secrets(api_base))  # a server may echo the URL in an error
    if api_key is None and api_base is not None:
        api_key = _keyless_endpoint_key(model)
    stack: LanguageModel = LiteLLMModel(
        api_base=api_base, timeout_s=timeout_s, api_key=api_key, prices=prices
    )
    if limiter is not None:
        stack = RateLimitedModel(stack, limiter)
    stack = RetryingModel(stack, max_attempts, base_delay_s, rng=rng)
    if budget is not None:
        stack = BudgetedModel(stack, budget)
    store = _open_cache(cache_path, cache_mode) if cache_path or cache_mode != "off" else None
    if store is not None and cache_mode != "off":
        stack = CachedModel(stack, store, cache_mode)
    if store is not None:
        stack = PromptLogModel(stack, store)
    if sink is not None:
        stack = RecordingModel(stack, sink)
    return stack


def _keyless_endpoint_key(model: str) -> str | None:
    """A stand-in key for an explicit endpoint when the provider's key variable is unset."""
    if model.startswith(("offline/", "local/")):
        return None
    from agentsim.llm.providers import KEYLESS_ENDPOINT_KEY, missing_keys

    return KEYLESS_ENDPOINT_KEY if missing_keys(model) else None


def _open_cache(cache_path: str | Path | None, cache_mode: str) -> ResponseCache:
    if cache_path is None:
        raise UserError(f"cache_mode={cache_mode!r} needs a cache_path")
    if cache_mode == "replay" and not Path(cache_path).exists():
        raise UserError(f"replay needs an existing response cache; {cache_path} does not exist")
    return ResponseCache(cache_path)
