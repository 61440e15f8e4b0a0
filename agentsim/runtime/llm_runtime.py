"""Wiring LLM agents into a run: checks, the model stack, shared limiters, call records,
estimates.

:func:`preflight` refuses LLM settings that could never work before a run directory
exists. :func:`build_context` builds one model stack per run (record -> prompt log ->
cache -> budget -> retry -> rate limit -> LiteLLM) and hands it to the study's context
builder (its prompts and rules). The rate
limiter is shared by every run in the process that uses the same model and limits, so
several seeds run concurrently without exceeding a provider's limits. Inside
:func:`shared_budgets` (a sweep's LLM cells), the runs' budgets are shared too: one per
provider and endpoint, charged with what every run spent before.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from agentsim.agents.llm.settings import LLMSettings
from agentsim.core.errors import UserError
from agentsim.core.records import Record, iter_records
from agentsim.core.seeding import SeedStreams
from agentsim.envs.study import LLMBinding
from agentsim.evolution.population import population_parts
from agentsim.llm.factory import build_model
from agentsim.llm.pricing import Prices
from agentsim.llm.wrappers import Budget, RateLimiter

_LIMITERS: dict[tuple[Any, ...], RateLimiter] = {}
#: The budgets shared by the runs of a sweep, by provider (see :func:`shared_budgets`).
_SHARED_BUDGETS: ContextVar[dict[tuple[str, str | None], Budget] | None] = ContextVar(
    "agentsim_shared_budgets", default=None
)
#: The runs whose past spending a shared budget already counts (by their LLM cache path).
_COUNTED_RUNS: ContextVar[set[str] | None] = ContextVar("agentsim_counted_runs", default=None)
_PRICE_KEYS = "llm.price_in_per_mtok and llm.price_out_per_mtok"


def preflight(settings: LLMSettings, *, check_keys: bool = True) -> None:
    """Refuse LLM settings that can never work, before a run directory is made.

    Checks, each with the fix in the message: a model is named when ``api_base`` is
    (and is not empty); ``api_base`` is an ``http(s)://host[:port]/...`` URL without
    ``user:password@`` (refused: the OpenAI client cannot send it; use a key variable);
    the provider is known to LiteLLM (``offline/`` behaviours and ``local/`` models
    included); its API key variable is set unless an ``api_base`` is given (a local
    server needs no key); and ``budget_usd`` has prices to count against: LiteLLM's, or
    both ``price_in_per_mtok`` and ``price_out_per_mtok``.

    Args:
        settings: the run's LLM settings.
        check_keys: False skips what only calling needs (the API key, the local model's
            installation), for a dry run; a replay (``cache="replay"``) skips it too.

    Raises:
        UserError: naming the setting and how to fix it.
    """
    model = settings.model
    if model is None:
        if settings.api_base is not None:
            raise UserError("--api-base (llm.api_base) needs a model: add --model PROVIDER/NAME")
        return
    check_model_flag(model)
    if settings.api_base is not None:
        _check_api_base(settings.api_base)
    _check_provider(model, settings.api_base)
    _check_price_keys(settings)
    if settings.cache == "replay":  # answers come from the cache: nothing to call or pay
        return
    _check_budget_is_priced(settings)
    if not check_keys:
        return
    if settings.api_base is None:
        _check_key(model)
    if model.startswith("local/"):
        from agentsim.llm.local import ensure_local_provider

        ensure_local_provider()  # a UserError naming the install command when missing


def check_model_flag(model: str | None) -> None:
    """Refuse an empty ``--model`` (``--set model=`` reads as no model, so the CLI checks
    its flag's raw value here): it must not silently run scripted agents.

    Raises:
        UserError: for an empty or blank model string.
    """
    if model is not None and not model.strip():
        raise UserError(
            "--model is empty: give a LiteLLM model string (e.g. openai/gpt-4o-mini or "
            "offline/donor), or leave --model out to run scripted agents"
        )


def _check_api_base(api_base: str) -> None:
    fix = "give --api-base as http(s)://host[:port]/path, e.g. http://127.0.0.1:8000/v1"
    try:
        parts = urlsplit(api_base)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError as exc:
        raise UserError(f"invalid --api-base {_shown(api_base)!r} ({exc}); {fix}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or " " in api_base:
        raise UserError(f"invalid --api-base {_shown(api_base)!r}; {fix}")
    if port == 0:
        raise UserError(f"invalid --api-base {_shown(api_base)!r}: port 0; {fix}")
    if parts.username is not None or parts.password is not None:
        raise UserError(
            f"--api-base {_shown(api_base)!r} holds user:password@, which LiteLLM's OpenAI "
            "client cannot send and which would end up in logs; remove it and give the key "
            "in the provider's key variable (e.g. OPENAI_API_KEY)"
        )


def _shown(api_base: str) -> str:
    from agentsim.llm.types import redact, url_secrets

    return redact(api_base, url_secrets(api_base))


def _check_provider(model: str, api_base: str | None) -> None:
    prefix = model.partition("/")[0]
    if prefix == "offline":
        from agentsim.envs.study import study_ids
        from agentsim.llm.offline import is_offline_model, offline_policies

        study_ids()  # the studies register their offline policies
        if not is_offline_model(model):
            raise UserError(
                f"unknown offline model {model!r}; allowed: offline/donor, offline/donor-<p>, "
                "offline/garbage, offline/flaky-<n>, "
                + ", ".join(f"offline/{p}" for p in offline_policies())
            )
        return
    if prefix == "local":
        from agentsim.llm.local import MODEL

        if model != MODEL:
            raise UserError(f"unknown local model {model!r}; allowed: {MODEL}")
        return
    from agentsim.llm.providers import provider_of

    try:
        provider_of(model, api_base)
    except ValueError:
        raise UserError(
            f"unknown provider in --model {model!r}: write PROVIDER/NAME with a LiteLLM "
            "provider (openai/..., anthropic/..., gemini/..., ollama/...; for any "
            "OpenAI-compatible server: openai/NAME with --api-base); see "
            "https://docs.litellm.ai/docs/providers"
        ) from None


def _check_key(model: str) -> None:
    if model.startswith(("offline/", "local/")):
        return
    from agentsim.llm.providers import missing_keys

    missing = missing_keys(model)
    if missing:
        raise UserError(
            f"--model {model!r} needs an API key: set {' or '.join(missing)} in the "
            "environment (or give --api-base for a local server that needs no key)"
        )


def user_prices(settings: LLMSettings) -> Prices | None:
    """The user's prices, when both ``price_in_per_mtok`` and ``price_out_per_mtok`` are set."""
    if settings.price_in_per_mtok is None or settings.price_out_per_mtok is None:
        return None
    return Prices(settings.price_in_per_mtok, settings.price_out_per_mtok)


def _check_price_keys(settings: LLMSettings) -> None:
    given = (settings.price_in_per_mtok is None, settings.price_out_per_mtok is None)
    if given[0] != given[1]:
        raise UserError(f"give both {_PRICE_KEYS} (dollars per million tokens), or neither")


def _check_budget_is_priced(settings: LLMSettings) -> None:
    if settings.budget_usd is None or user_prices(settings) is not None:
        return
    from agentsim.llm.pricing import has_price

    assert settings.model is not None  # checked by preflight
    if not has_price(settings.model):
        raise UserError(
            f"budget_usd={settings.budget_usd:g} cannot be enforced: LiteLLM has no price for "
            f"{settings.model!r}; give the model's prices with --set "
            "price_in_per_mtok=X --set price_out_per_mtok=Y (dollars per million tokens), "
            "or use budget_calls / budget_tokens instead"
        )


def shared_limiter(settings: LLMSettings) -> RateLimiter:
    """The process-wide limiter for this model and these limits (inside
    :func:`shared_budgets`: for this provider and endpoint, whatever the model)."""
    limits = (settings.concurrency, settings.rpm, settings.tpm)
    shared = _SHARED_BUDGETS.get() is not None
    key = (*(_provider_key(settings) if shared else (settings.model, settings.api_base)), *limits)
    if key not in _LIMITERS:
        _LIMITERS[key] = RateLimiter(
            max_concurrency=settings.concurrency,
            requests_per_minute=settings.rpm,
            tokens_per_minute=settings.tpm,
        )
    return _LIMITERS[key]


@contextlib.contextmanager
def shared_budgets() -> Iterator[dict[tuple[str, str | None], Budget]]:
    """Within this block (and the asyncio tasks started in it), runs share one budget per
    provider and endpoint instead of one each: the sweep's ``llm.budget_*`` limits hold for
    all its cells together.

    The first run of a provider sets the limits (a sweep gives every cell the same ones).
    What each run spent before (a resumed sweep) is counted once: through
    :func:`count_shared_spending`, which a resumed sweep calls for every cell before any
    runs (else a partial cell that runs first could spend what a later, completed cell
    already has), or else through ``build_context``'s ``already_spent``.

    Yields:
        The shared budgets, by ``(provider prefix, endpoint)``.
    """
    token = _SHARED_BUDGETS.set({})
    counted = _COUNTED_RUNS.set(set())
    try:
        yield _SHARED_BUDGETS.get() or {}
    finally:
        _COUNTED_RUNS.reset(counted)
        _SHARED_BUDGETS.reset(token)


def _provider_key(settings: LLMSettings) -> tuple[str, str | None]:
    from agentsim.llm.types import safe_api_base

    return (settings.model or "").partition("/")[0], safe_api_base(settings.api_base)


def _shared_budget(settings: LLMSettings) -> Budget | None:
    shared = _SHARED_BUDGETS.get()
    if shared is None:
        return None
    key = _provider_key(settings)
    if key not in shared:
        shared[key] = Budget(settings.budget_calls, settings.budget_tokens, settings.budget_usd)
    return shared[key]


def count_shared_spending(
    settings: LLMSettings, spent: Mapping[str, float], cache_path: Path
) -> None:
    """Charge a shared budget (inside :func:`shared_budgets` only) with a run's past spending,
    once per run (``cache_path``: the run's LLM cache, which names it)."""
    budget, counted = _shared_budget(settings), _COUNTED_RUNS.get()
    if budget is None or counted is None or _run_key(cache_path) in counted:
        return
    counted.add(_run_key(cache_path))
    _charge(budget, spent)


def _run_key(cache_path: Path) -> str:
    return str(Path(cache_path).resolve())


def _counted_before(cache_path: Path | None) -> bool:
    counted = _COUNTED_RUNS.get()
    return counted is not None and cache_path is not None and _run_key(cache_path) in counted


def _charge(budget: Budget, spent: Mapping[str, float]) -> None:
    budget.calls += int(spent["calls"])
    budget.prompt_tokens += int(spent["prompt_tokens"])
    budget.completion_tokens += int(spent["completion_tokens"])
    budget.usd += float(spent["usd"])


#: The episode whose calls the current task makes (set by the loop when episodes run
#: concurrently; asyncio tasks inherit it), so each call record joins its own episode.
CURRENT_EPISODE: ContextVar[int | None] = ContextVar("agentsim_episode", default=None)


class CallBuffer:
    """Collects ``llm_call`` records and releases them in a concurrency-independent order.

    Calls of one round finish in whatever order the provider answers; each agent's
    own calls are sequential (a caller that asks several questions at once names each
    call apart: an LLM judge ``judge/item``, a trait rewrite ``child/trait``).
    Releasing the buffer stably sorted by agent makes the
    event log identical however the calls interleaved. Calls made under
    :data:`CURRENT_EPISODE` are kept apart per episode, so concurrent episodes do not mix.
    """

    def __init__(self) -> None:
        self._records: dict[int | None, list[Record]] = {}

    def __call__(self, record: Record) -> None:
        self._records.setdefault(CURRENT_EPISODE.get(), []).append(record)

    def drain(self, episode: int | None = None) -> list[Record]:
        """The buffered records of ``episode`` (None: of every episode), in a stable order."""
        if episode is None:
            pending = [r for rs in self._records.values() for r in rs]
            self._records = {}
        else:
            pending = self._records.pop(episode, [])
        return sorted(pending, key=lambda r: (r["purpose"], r["agent"]))


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


def build_context(
    binding: LLMBinding,
    settings: LLMSettings,
    env_config: Mapping[str, Any],
    seed: int,
    *,
    cache_path: Path | None,
    sink: CallBuffer,
    already_spent: Mapping[str, float] | None = None,
) -> Any:
    """The LLM context of one run: its model stack, handed to the study's context builder."""
    assert settings.model is not None  # callers check: no model, no context
    preflight(settings)  # library callers do not pass through the CLI's check
    if settings.model.startswith("local/"):
        from agentsim.llm.local import ensure_local_provider

        ensure_local_provider()
    budget = _shared_budget(settings)
    if budget is None:
        budget = Budget(settings.budget_calls, settings.budget_tokens, settings.budget_usd)
    if already_spent and not _counted_before(cache_path):  # a shared budget counts it once
        _charge(budget, already_spent)
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
        prices=user_prices(settings),
    )
    return binding.context(model, settings, env_config, SeedStreams(seed))


def estimate(config: Any) -> dict[str, Any]:
    """Dry-run estimate of a run's LLM calls, tokens and cost (the study counts calls).

    Assumes every reply parses first time; cost from LiteLLM's prices or the user's
    ``price_in_per_mtok`` / ``price_out_per_mtok`` (None when neither knows the model).
    """
    study, settings = config.study, config.llm
    parts = population_parts(config.settings.population, study.env_id)
    n_llm = sum(n for kind, _, n in parts if kind == "llm")
    # With a model, the study counts its calls even without LLM members: an env may call the
    # model itself, through an LLM judge (the norm society's observer=llm).
    if study.llm is None or not settings.model:
        return {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0}
    e = study.llm.estimate(config.env, config.settings, settings, n_llm)
    return {
        "n_llm": n_llm,
        "calls": e.calls,
        "detail": dict(e.detail),
        "prompt_tokens": e.prompt_tokens,
        "completion_tokens": e.completion_tokens,
        "cost_usd": _price(settings, e.prompt_tokens, e.completion_tokens),
    }


def _price(settings: LLMSettings, prompt_tokens: int, completion_tokens: int) -> float | None:
    from agentsim.llm.pricing import cost_usd

    return cost_usd(settings.model or "", prompt_tokens, completion_tokens, user_prices(settings))


def llm_context(
    env_id: str,
    model: str,
    *,
    env: Mapping[str, Any] | None = None,
    seed: int = 0,
    cache_path: str | Path | None = None,
    sink: CallBuffer | None = None,
    **settings: Any,
) -> Any:
    """The shared context an env's LLM agents bind to, for use outside ``agentsim run``.

    For :func:`agentsim.run_episode` with LLM agents: build the context once and
    ``agent.bind(context)`` every LLM agent. ``settings`` are ``llm.*`` keys; the call
    records go to ``sink`` (a :class:`CallBuffer`) when one is given.

    Example:
        >>> import agentsim
        >>> ctx = llm_context("debate_v0", "offline/debate")
        >>> agent = agentsim.make_agent("llm", env="debate_v0")
        >>> agent.bind(ctx)
    """
    from agentsim.envs.study import get_study

    study = get_study(env_id)
    if study.llm is None:
        raise UserError(f"{env_id} has no LLM agents")
    llm = LLMSettings(model=model, cache="read_write" if cache_path else "off", **settings)
    env_config = dataclasses.asdict(study.config(**(env or {})))
    return build_context(
        study.llm,
        llm,
        env_config,
        seed,
        cache_path=Path(cache_path) if cache_path else None,
        sink=sink or CallBuffer(),
    )
