"""Prices of model calls: LiteLLM's (local, bundled) cost map, or the user's own prices.

Example:
    >>> Prices(in_per_mtok=3.0, out_per_mtok=15.0).cost(1_000_000, 100_000)
    4.5
    >>> cost_usd("openai/my-local-model", 1000, 1000) is None  # LiteLLM has no price
    True
"""

from __future__ import annotations

from dataclasses import dataclass

from agentsim.llm.providers import import_litellm


@dataclass(frozen=True)
class Prices:
    """The user's prices in dollars per million tokens (``llm.price_in_per_mtok`` and
    ``llm.price_out_per_mtok``); they replace LiteLLM's prices when given."""

    in_per_mtok: float
    out_per_mtok: float

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float:
        """Dollar cost of the given token counts."""
        return (prompt_tokens * self.in_per_mtok + completion_tokens * self.out_per_mtok) / 1e6


def cost_usd(
    model: str, prompt_tokens: int, completion_tokens: int, prices: Prices | None = None
) -> float | None:
    """Dollar cost of the given token counts for ``model``; None when it has no price.

    Args:
        model: a LiteLLM model string.
        prompt_tokens: prompt tokens.
        completion_tokens: completion tokens.
        prices: the user's prices; when given they are used instead of LiteLLM's.
    """
    if prices is not None:
        return prices.cost(prompt_tokens, completion_tokens)
    if model.startswith("offline/"):
        from agentsim.llm.offline import ensure_offline_provider

        ensure_offline_provider(model)
    elif model.startswith("local/"):
        return 0.0  # runs on this machine
    litellm = import_litellm()
    try:
        prompt_cost, completion_cost = litellm.cost_per_token(
            model=model, prompt_tokens=prompt_tokens, completion_tokens=completion_tokens
        )
    except Exception:  # LiteLLM raises several types for unmapped models
        return None
    return float(prompt_cost + completion_cost)


def has_price(model: str) -> bool:
    """Whether LiteLLM (or the offline/local providers) can price calls to ``model``."""
    return cost_usd(model, 1000, 1000) is not None
