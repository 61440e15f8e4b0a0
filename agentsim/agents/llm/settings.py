"""Settings of LLM-backed agents and of their model stack (one frozen, validated dataclass)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from agentsim.core.config import check_choice, check_number
from agentsim.core.errors import ConfigError

CACHE_MODES = ("read_write", "off", "replay")
ADVICE_ORDERS = ("best_first", "population")


@dataclass(frozen=True)
class LLMSettings:
    """How LLM agents call their model. Every field is a ``--set`` key.

    Attributes:
        model: LiteLLM model string (``--model``); None runs no LLM agents.
        api_base: endpoint (``--api-base``); None uses LiteLLM's env variables.
        temperature: sampling temperature (paper: 0.8).
        max_tokens: completion limit per call (the notebook: 1000 for Claude).
        inherit_scores: show survivors' final scores with their advice (paper: yes;
            the released notebook passes the strategies only, and its prompt keeps the
            words "along with their final scores" either way, as ours does).
        system_prompt: send the game's rules as a system prompt (paper: yes); false
            reproduces the notebook's branch for models without a system prompt: no
            system message is sent and the rules head every strategy prompt.
        max_parse_attempts: asks per decision before the recorded fallback (notebook: 10).
        structured_output: ask for JSON via ``response_format``; default: only for
            ``local/`` models, which need it to stay on format.
        cache: response cache mode (``read_write``, ``off``, ``replay``).
        budget_calls, budget_tokens, budget_usd: stop cleanly once reached (None: no limit).
        concurrency: calls in flight at once (shared by all runs of a process).
        rpm, tpm: requests and tokens per minute (None: unlimited).
        timeout_s: per-attempt timeout in seconds.
        max_attempts: provider attempts per call (retries of transient faults).
        retry_base_delay_s: first retry backoff (doubles per retry, jittered, honours
            Retry-After).
        prompt_dir: folder with replacement prompt templates.
        advice_order: order of the survivors' advice in a child's strategy prompt:
            ``best_first`` (the notebook sorts survivors by score) or ``population``.
        price_in_per_mtok, price_out_per_mtok: USD per million prompt / completion
            tokens, for models LiteLLM has no price for (needed for ``budget_usd``).
    """

    model: str | None = None
    api_base: str | None = None
    temperature: float = 0.8
    max_tokens: int = 1000
    inherit_scores: bool = True
    system_prompt: bool = True
    max_parse_attempts: int = 3
    structured_output: bool | None = None
    cache: str = "read_write"
    budget_calls: int | None = None
    budget_tokens: int | None = None
    budget_usd: float | None = None
    concurrency: int = 32
    rpm: float | None = None
    tpm: float | None = None
    timeout_s: float = 60.0
    max_attempts: int = 6
    retry_base_delay_s: float = 0.5
    prompt_dir: str | None = None
    advice_order: str = "best_first"
    price_in_per_mtok: float | None = None
    price_out_per_mtok: float | None = None

    def __post_init__(self) -> None:
        check_number("temperature", self.temperature, low=0.0, high=2.0)
        check_number("max_tokens", self.max_tokens, low=1, integer=True)
        check_number("max_parse_attempts", self.max_parse_attempts, low=1, high=50, integer=True)
        check_choice("cache", self.cache, CACHE_MODES)
        for key in ("budget_calls", "budget_tokens"):
            if getattr(self, key) is not None:
                check_number(key, getattr(self, key), low=0, integer=True)
        if self.budget_usd is not None:
            check_number("budget_usd", self.budget_usd, low=0.0)
        check_number("concurrency", self.concurrency, low=1, high=10_000, integer=True)
        for key in ("rpm", "tpm"):
            if getattr(self, key) is not None:
                check_number(key, getattr(self, key), low=0.001)
        check_number("timeout_s", self.timeout_s, low=0.001)
        check_number("max_attempts", self.max_attempts, low=1, high=100, integer=True)
        check_number("retry_base_delay_s", self.retry_base_delay_s, low=0.0, high=60.0)
        check_choice("advice_order", self.advice_order, ADVICE_ORDERS)
        for key in ("price_in_per_mtok", "price_out_per_mtok"):
            if getattr(self, key) is not None:
                check_number(key, getattr(self, key), low=0.0)
        if self.prompt_dir is not None and not Path(self.prompt_dir).is_dir():
            raise ConfigError("prompt_dir", self.prompt_dir, "an existing folder of templates")

    @property
    def wants_json(self) -> bool:
        if self.structured_output is not None:
            return self.structured_output
        return bool(self.model and self.model.startswith("local/"))
