"""A deterministic offline model, registered with LiteLLM as the custom provider ``offline``.

``litellm.acompletion(model="offline/<behaviour>", ...)`` then runs LiteLLM's own code
path (parameter handling, usage, cost) with no network and no key. Behaviours, chosen
by the model name, are those of
:func:`agentsim.llm.offline_behaviours.offline_reply`:

* ``offline/donor``: tit-for-tat-ish donor (matches the recipient's last donation
  percentage; 50% with no history);
* ``offline/donor-<p>``: always donates fraction ``p`` of its units;

  both read their units from the prompt and answer in two decimals rounded half-up, as
  a model would: ``donor-1`` answers exactly the figure it was shown, which can be a
  little more than the unrounded holdings (the parsers accept it as everything);
* ``offline/garbage``: unparseable text;
* ``offline/flaky-<n>``: garbage for the first ``n`` calls per prompt, then ``donor``.

Token counts are whitespace word counts, and every offline model is priced at
1e-6 / 2e-6 dollars per prompt / completion token, so accounting is exercised.

Example:
    >>> from agentsim.llm.model import LiteLLMModel
    >>> from agentsim.llm.types import ChatRequest, complete_sync
    >>> ensure_offline_provider("offline/donor-0.5")
    >>> req = ChatRequest.build("offline/donor-0.5", "You currently have 10 units.")
    >>> complete_sync(LiteLLMModel(), req).text.splitlines()[-1]
    'Answer: 5'
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from agentsim.llm.offline_behaviours import (
    count_tokens,
    offline_reply,
    parse_behaviour,
    policy_text,
    prompt_text,
)
from agentsim.llm.providers import import_litellm, register_provider

PROVIDER = "offline"
INPUT_COST_PER_TOKEN = 1e-6
OUTPUT_COST_PER_TOKEN = 2e-6

_lock = threading.Lock()
_handler: Any = None
_priced: set[str] = set()

#: Offline policies of the studies: ``offline/<name>`` answers with ``policy(messages)``.
OfflinePolicy = Callable[[Sequence[Mapping[str, str]]], str]
_POLICIES: dict[str, OfflinePolicy] = {}


def register_offline_policy(name: str, policy: OfflinePolicy) -> None:
    """Serve ``policy`` as the model ``offline/<name>`` (a study's prompts, answered offline).

    Example:
        >>> register_offline_policy("echo", lambda messages: messages[-1]["content"])
        >>> "echo" in offline_policies()
        True
    """
    _POLICIES[name] = policy


def unregister_offline_policy(name: str) -> None:
    """Stop serving ``offline/<name>``."""
    _POLICIES.pop(name, None)


def offline_policies() -> list[str]:
    """Names of the registered study policies."""
    return sorted(_POLICIES)


def offline_policy(name: str) -> OfflinePolicy | None:
    """The study policy served as ``offline/<name>``, if one is registered."""
    return _POLICIES.get(name)


def is_offline_model(model: str) -> bool:
    """Whether ``offline/<name>`` names a known offline behaviour or study policy."""
    name = model.split("/", 1)[1] if model.startswith(f"{PROVIDER}/") else model
    if name in _POLICIES:
        return True
    try:
        parse_behaviour(name)
    except ValueError:
        return False
    return True


def ensure_offline_provider(model: str | None = None) -> None:
    """Register the ``offline`` provider once, and a price for ``model`` if given.

    Idempotent and thread-safe; call it before using an ``offline/...`` model.
    """
    global _handler
    with _lock:
        if _handler is None:
            _handler = _make_handler()
            register_provider(PROVIDER, _handler)
    if model is not None:
        register_price(model)


def register_price(model: str) -> None:
    """Give an ``offline/...`` model a price, so ``litellm.completion_cost`` knows it."""
    full = model if model.startswith(f"{PROVIDER}/") else f"{PROVIDER}/{model}"
    with _lock:
        if full in _priced:
            return
        _priced.add(full)
    import_litellm().register_model(
        {
            full: {
                "input_cost_per_token": INPUT_COST_PER_TOKEN,
                "output_cost_per_token": OUTPUT_COST_PER_TOKEN,
                # Stated explicitly, else LiteLLM warns that it defaults them to 0.
                "cache_creation_input_token_cost": 0.0,
                "cache_read_input_token_cost": 0.0,
                "litellm_provider": PROVIDER,
                "mode": "chat",
            }
        }
    )


def _make_handler() -> Any:
    # The class is built here because its base class lives in litellm, imported lazily.
    litellm = import_litellm()
    from litellm.llms.custom_llm import CustomLLM, CustomLLMError

    class OfflineLLM(CustomLLM):
        """Answers with :func:`offline_reply`; counts calls per prompt for ``flaky-<n>``."""

        def __init__(self) -> None:
            super().__init__()
            self._calls: Counter[tuple[str, str]] = Counter()
            self._calls_lock = threading.Lock()

        def completion(self, model: str, messages: list[Any], *args: Any, **kwargs: Any) -> Any:
            return self._reply(model, messages, kwargs.get("optional_params") or {})

        async def acompletion(
            self, model: str, messages: list[Any], *args: Any, **kwargs: Any
        ) -> Any:
            return self._reply(model, messages, kwargs.get("optional_params") or {})

        def _reply(
            self, model: str, messages: Sequence[Mapping[str, Any]], params: Mapping[str, Any]
        ) -> Any:
            name = model.split("/", 1)[1] if model.startswith(f"{PROVIDER}/") else model
            policy = _POLICIES.get(name)
            if policy is None:
                try:
                    parse_behaviour(model)
                except ValueError as err:
                    # LiteLLM maps the status to its NotFoundError, classified permanent.
                    error = CustomLLMError(status_code=404, message=str(err))  # type: ignore[no-untyped-call]
                    raise error from None
            register_price(model)
            prompt = prompt_text(messages)
            if policy is not None:
                plain = [{"role": str(m["role"]), "content": str(m["content"])} for m in messages]
                return _model_response(litellm, model, policy(plain), count_tokens(prompt))
            with self._calls_lock:
                self._calls[(model, prompt)] += 1
                index = self._calls[(model, prompt)]
            json_mode = bool(params.get("response_format"))
            text = offline_reply(
                model, policy_text(messages), json_mode=json_mode, call_index=index
            )
            return _model_response(litellm, model, text, count_tokens(prompt))

    return OfflineLLM()


def _model_response(litellm: Any, model: str, text: str, prompt_tokens: int) -> Any:
    completion_tokens = count_tokens(text)
    return litellm.ModelResponse(
        model=model,
        choices=[
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {"role": "assistant", "content": text},
            }
        ],
        usage={
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    )
