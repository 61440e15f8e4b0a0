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
