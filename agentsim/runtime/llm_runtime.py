"""Wiring LLM agents into a run: the model stack, shared limiters, call records, estimates.

One :class:`~agentsim.agents.llm.donor.LLMContext` per run holds the model stack
(record -> cache -> budget -> retry -> rate limit -> LiteLLM). The rate limiter is
shared by every run in the process that uses the same model and limits, so
several seeds run concurrently without exceeding a provider's limits.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from agentsim.agents.llm.donor import LLMContext
from agentsim.agents.llm.prompts import DonorPrompts
from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.records import Record, iter_records
from agentsim.core.seeding import SeedStreams
from agentsim.llm.factory import build_model
from agentsim.llm.wrappers import Budget, RateLimiter

_LIMITERS: dict[tuple[Any, ...], RateLimiter] = {}


def shared_limiter(settings: LLMSettings) -> RateLimiter:
    """The process-wide limiter for this model and these limits."""
    key = (settings.model, settings.api_base, settings.concurrency, settings.rpm, settings.tpm)
    if key not in _LIMITERS:
        _LIMITERS[key] = RateLimiter(
            max_concurrency=settings.concurrency,
            requests_per_minute=settings.rpm,
            tokens_per_minute=settings.tpm,
        )
    return _LIMITERS[key]


class CallBuffer:
    """Collects ``llm_call`` records and releases them in a concurrency-independent order.

    Calls of one round finish in whatever order the provider answers; each agent's
    own calls are sequential. Releasing the buffer stably sorted by agent makes the
    event log identical however the calls interleaved.
    """

    def __init__(self) -> None:
        self._records: list[Record] = []

    def __call__(self, record: Record) -> None:
        self._records.append(record)

    def drain(self) -> list[Record]:
        out = sorted(self._records, key=lambda r: (r["purpose"], r["agent"]))
        self._records = []
        return out


def spent_before(settings: LLMSettings, cache_path: Path, events: Path) -> dict[str, float]:
    """Budget a run has already spent, for resuming it.

    With a response cache, every paid reply is in it (also those whose events a resume
    cut away), so the cache is the ledger. Without one, the provider calls recorded in
    the event log are counted (calls lost with a cut-away tail are then not counted).
    """
    if settings.cache == "read_write" and cache_path.is_file():
        from agentsim.llm.cache import ResponseCache

        with ResponseCache(cache_path) as cache:
            return cache.spent()
    spent = {"calls": 0.0, "prompt_tokens": 0.0, "completion_tokens": 0.0, "usd": 0.0}
    if not events.is_file():
        return spent
    for r in iter_records(events):
        if r["type"] == "llm_call" and not r["cached"] and r["error"] is None:
            spent["calls"] += 1
            spent["prompt_tokens"] += r["prompt_tokens"] or 0
            spent["completion_tokens"] += r["completion_tokens"] or 0
            spent["usd"] += r["cost_usd"] or 0.0
    return spent


def prompt_rules(env_config: Mapping[str, Any]) -> dict[str, Any]:
    """The env rules that the donor-game prompts state."""
    return {
        "endowment": env_config["endowment"],
        "multiplier": env_config["multiplier"],
        "trace_depth": env_config["trace_depth"],
        "punishment": env_config["punishment"] == "costly",
        "punishment_loss": env_config["punishment_loss"],
    }


def build_context(
    settings: LLMSettings,
    env_config: Mapping[str, Any],
    seed: int,
    *,
    cache_path: Path,
    sink: CallBuffer,
    already_spent: Mapping[str, float] | None = None,
) -> LLMContext:
    """The LLM context of one run (its model stack and prompts)."""
    assert settings.model is not None  # callers check: no model, no context
    if settings.model.startswith("local/"):
        from agentsim.llm.local import ensure_local_provider

        ensure_local_provider()
    budget = Budget(settings.budget_calls, settings.budget_tokens, settings.budget_usd)
    if already_spent:
        budget.calls = int(already_spent["calls"])
        budget.prompt_tokens = int(already_spent["prompt_tokens"])
        budget.completion_tokens = int(already_spent["completion_tokens"])
        budget.usd = float(already_spent["usd"])
    model = build_model(
        settings.model,
        api_base=settings.api_base,
        cache_path=cache_path,
        cache_mode=settings.cache,
        budget=budget,
        limiter=shared_limiter(settings),
        max_attempts=settings.max_attempts,
        base_delay_s=settings.retry_base_delay_s,
        timeout_s=settings.timeout_s,
        sink=sink,
        rng=np.random.default_rng(SeedStreams(seed).llm(0, 0, 0)),
    )
    rules = prompt_rules(env_config)
    return LLMContext(
        model, settings, DonorPrompts.load(settings.prompt_dir), rules, SeedStreams(seed)
    )


def estimate(
    settings: LLMSettings,
    env_config: Mapping[str, Any],
    generations: int,
    n_llm: int,
    survival_fraction: float,
) -> dict[str, Any]:
    """Dry-run estimate of LLM calls, tokens and cost, assuming every reply parses first time.

    Token counts: prompts are rendered for a representative state and counted at
    ~4 characters per token; replies are assumed to use 150 (decision) and 250
    (strategy) tokens. Calls are exact for homogeneous LLM populations.
    """
    n = int(env_config["agents"])
    share = n_llm / n
    decisions = generations * env_config["games"] * env_config["rounds"] * (n // 2) * share
    n_new = n - round(survival_fraction * n)
    strategies = n_llm + (generations - 1) * n_new * share
    prompts = DonorPrompts.load(settings.prompt_dir)
    rules = prompt_rules(env_config)
    system = prompts.system(**rules)
    obs = _sample_observation(env_config)
    decision = prompts.decision(
        obs,
        name="3_4",
        strategy="My strategy will be " + "x " * 40,
        names=["1_1"] * n,
        punishment=rules["punishment"],
        multiplier=rules["multiplier"],
        punishment_loss=rules["punishment_loss"],
    )
    strategy = prompts.strategy(
        name="3_4",
        advice=[("My strategy will be " + "x " * 40, 100.0)] * (n - n_new),
        punishment=rules["punishment"],
        punishment_loss=rules["punishment_loss"],
    )
    p_dec = (len(system) + len(decision)) / 4
    p_str = (len(system) + len(strategy)) / 4
    prompt_tokens = int(decisions * p_dec + strategies * p_str)
    completion_tokens = int(decisions * 150 + strategies * 250)
    return {
        "calls": round(decisions + strategies),
        "decision_calls": round(decisions),
        "strategy_calls": round(strategies),
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "cost_usd": _price(settings.model or "", prompt_tokens, completion_tokens),
    }


def _price(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    from agentsim.llm.pricing import cost_usd

    return cost_usd(model, prompt_tokens, completion_tokens)


def _sample_observation(env_config: Mapping[str, Any]) -> dict[str, Any]:
    d = int(env_config["trace_depth"])
    return {
        "generation": 3,
        "round": 4,
        "partner": 1,
        "own_resources": 74.0,
        "partner_resources": 56.0,
        "trace_length": d,
        "trace_round": np.arange(d)[::-1],
        "trace_donor": np.arange(1, d + 1),
        "trace_recipient": np.arange(2, d + 2) % 2,
        "trace_fraction": np.full(d, 0.5),
    }
