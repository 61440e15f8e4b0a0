"""Prices from LiteLLM's (local, bundled) model cost map, for dry-run estimates."""

from __future__ import annotations

from agentsim.llm.providers import import_litellm


def cost_usd(model: str, prompt_tokens: int, completion_tokens: int) -> float | None:
    """Dollar cost of the given token counts for ``model``; None when LiteLLM has no price."""
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
