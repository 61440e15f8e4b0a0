"""Registration of in-process LiteLLM providers (offline test model, local llama.cpp).

LiteLLM finds custom providers through the global ``litellm.custom_provider_map``;
this module is the one place that edits it, so several providers can coexist.
"""

from __future__ import annotations

import os
from typing import Any


def import_litellm() -> Any:
    """Import litellm with no network activity at import time (cost map from the package)."""
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm


def register_provider(name: str, handler: Any) -> None:
    """Register (or replace) a ``litellm.CustomLLM`` handler under ``name/``-prefixed models."""
    litellm = import_litellm()
    entries = [e for e in (litellm.custom_provider_map or []) if e.get("provider") != name]
    entries.append({"provider": name, "custom_handler": handler})
    litellm.custom_provider_map = entries
    # LiteLLM reads the map into its provider list lazily; refresh it after every change.
    from litellm.utils import custom_llm_setup

    custom_llm_setup()  # type: ignore[no-untyped-call]  # litellm is untyped here


#: A stand-in key for endpoints that need none (a local OpenAI-compatible server): the
#: OpenAI client refuses to send a request without some key.
KEYLESS_ENDPOINT_KEY = "no-key-needed"


def provider_of(model: str, api_base: str | None = None) -> str:
    """The LiteLLM provider of ``model`` (``openai``, ``anthropic``, ...).

    Raises:
        ValueError: when LiteLLM knows no provider for the model string.
    """
    litellm = import_litellm()
    try:
        return str(litellm.get_llm_provider(model, api_base=api_base)[1])
    except Exception as exc:  # LiteLLM raises its BadRequestError here
        raise ValueError(f"LiteLLM knows no provider for model {model!r}") from exc


def missing_keys(model: str) -> list[str]:
    """The provider's API key variables that the environment lacks (empty if it has one).

    Only key-like variables count (``*_KEY``, ``*_TOKEN``): LiteLLM also lists optional
    endpoint variables such as ``OLLAMA_API_BASE``, whose defaults work.
    """
    litellm = import_litellm()
    try:
        found = litellm.validate_environment(model=model)
    except Exception:  # an unknown provider: provider_of() reports it
        return []
    if found.get("keys_in_environment"):
        return []
    names = [str(k) for k in found.get("missing_keys", [])]
    return [k for k in names if k.endswith(("_KEY", "_TOKEN"))]
