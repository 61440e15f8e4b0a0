"""The provider end of the wrapper stack: one ``litellm.acompletion`` call per request.

LiteLLM's own retries are switched off (``max_retries=0``) so that
:class:`~agentsim.llm.wrappers.RetryingModel` alone decides, counts and records
retries. Provider exceptions are mapped onto
:class:`~agentsim.llm.types.TransientLLMError` and
:class:`~agentsim.llm.types.PermanentLLMError`, with secrets redacted.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import Mapping
from typing import Any

from agentsim.llm.pricing import Prices
from agentsim.llm.providers import import_litellm
from agentsim.llm.types import (
    ChatRequest,
    ChatResult,
    LLMError,
    PermanentLLMError,
    TransientLLMError,
    redact,
    url_secrets,
)

#: Client-side statuses that a later attempt can fix (timeout, conflict, too early, 429).
_RETRYABLE_4XX = frozenset({408, 409, 425, 429})
#: Exception classes (by name, to avoid importing openai) that carry no status but are transient.
_TRANSIENT_NAMES = frozenset(
    {"APIConnectionError", "APITimeoutError", "Timeout", "APIResponseValidationError"}
)
#: Causes that no retry can fix: a malformed endpoint URL, a client-side configuration error.
_CONFIG_CAUSES = frozenset({"InvalidURL", "UnsupportedProtocol", "InvalidUrlClientError"})
#: What to do about a permanent failure, by status (shown with the error and the stop reason).
_FIXES = {
    400: "the provider rejected the request: check --model and the llm.* settings",
    401: "authentication failed: check the provider's API key (e.g. OPENAI_API_KEY)",
    403: "permission denied: check that the API key may use this model",
    404: "not found: check the model name (--model) and the endpoint (--api-base)",
}
_CONFIG_FIX = (
    "a configuration error that retrying cannot fix: check --model, --api-base "
    "(http(s)://host:port/path) and the provider's API key variable"
)


class LiteLLMModel:
    """A :class:`~agentsim.llm.types.LanguageModel` backed by ``litellm.acompletion``.

    Args:
        api_base: default endpoint; a request's own ``api_base`` wins. With neither,
            nothing is passed and LiteLLM's usual env vars (``OPENAI_API_BASE``...) apply.
        timeout_s: per-attempt timeout.
        api_key: explicit key (e.g. for a local server); otherwise LiteLLM reads the
            provider's env var. It is never recorded, hashed or shown.
        prices: the user's prices per million tokens; when given they price every call,
            instead of LiteLLM's cost map (which has no price for many models).
    """

    def __init__(
        self,
        api_base: str | None = None,
        timeout_s: float = 60.0,
        api_key: str | None = None,
        prices: Prices | None = None,
    ) -> None:
        self.api_base = api_base
        self.timeout_s = timeout_s
        self._api_key = api_key
        self.prices = prices

    def __repr__(self) -> str:
        return f"LiteLLMModel(api_base={self.api_base!r}, timeout_s={self.timeout_s})"

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Make one provider attempt for ``request``."""
        litellm = import_litellm()
        start = time.perf_counter()
        try:
            response = await litellm.acompletion(**self._kwargs(request))
        except asyncio.CancelledError as exc:
            # The request may have reached the provider: count it as an attempt made.
            exc.attempts = 1  # type: ignore[attr-defined]  # read by RecordingModel
            raise
        except Exception as exc:  # providers raise many types; map_exception sorts them
            # 'from None': the original's text may hold a key and would print as the cause.
            raise map_exception(exc, self._secrets(request)) from None
        usage = getattr(response, "usage", None)
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        return ChatResult(
            text=_reply_text(response),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            cost_usd=(
                self.prices.cost(prompt_tokens, completion_tokens)
                if self.prices is not None
                else _cost(litellm, response, request.model)
            ),
            latency_s=time.perf_counter() - start,
            attempts=1,
            cached=False,
            model=request.model,
        )

    def _kwargs(self, request: ChatRequest) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "model": request.model,
            "messages": request.message_dicts(),
            "max_retries": 0,
            "timeout": self.timeout_s,
            # Unsupported params (a seed for a provider without one) are dropped, not fatal;
            # the record still shows what was asked for.
            "drop_params": True,
        }
        optional = {
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "seed": request.seed,
            "response_format": _response_format(request.response_format),
            "api_base": request.api_base or self.api_base,
            "api_key": self._api_key,
        }
        kwargs.update((k, v) for k, v in optional.items() if v is not None)
        return kwargs

    def _secrets(self, request: ChatRequest) -> tuple[str, ...]:
        key = (self._api_key,) if self._api_key else ()
        return key + url_secrets(self.api_base) + url_secrets(request.api_base)


def _reply_text(response: Any) -> str:
    try:
        return str(response.choices[0].message.content or "")
    except (AttributeError, IndexError, TypeError):
        # A reply without choices is a malformed body, which a new attempt may fix.
        raise TransientLLMError("malformed reply: no choices/message content") from None


def _response_format(schema: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A bare JSON schema becomes an OpenAI ``json_schema`` response format."""
    if schema is None or ("type" in schema and schema["type"] in {"json_object", "json_schema"}):
        return None if schema is None else dict(schema)
    return {"type": "json_schema", "json_schema": {"name": "reply", "schema": dict(schema)}}


def _cost(litellm: Any, response: Any, model: str) -> float | None:
    # LiteLLM has already priced the response (None when the model has no price);
    # pricing it again costs ~0.35 ms per call, most of our adapter's overhead.
    hidden = getattr(response, "_hidden_params", None) or {}
    if "response_cost" in hidden:
        cost = hidden["response_cost"]
        return None if cost is None else float(cost)
    try:
        return float(litellm.completion_cost(completion_response=response, model=model))
    except Exception:  # an unpriced model is normal, not an error
        return None


def map_exception(exc: BaseException, secrets: tuple[str, ...] = ()) -> LLMError:
    """Classify a provider exception as transient or permanent (message redacted).

    Args:
        exc: what ``litellm.acompletion`` raised.
        secrets: extra strings to redact besides the ``*_API_KEY`` env values.
    """
    status = _status_code(exc)
    message = redact(f"{type(exc).__name__}: {exc}", secrets)
    if _is_configuration_error(exc):
        # LiteLLM reports these (no key, bad URL or port) as status 500, i.e. as transient.
        return PermanentLLMError(f"{message} ({_CONFIG_FIX})", status_code=status)
    if status is None and _is_transient_without_status(exc):
        return TransientLLMError(message)
    if status is not None and (status >= 500 or status in _RETRYABLE_4XX):
        return TransientLLMError(message, status_code=status, retry_after=retry_after_of(exc))
    fix = _FIXES.get(status or 0)
    return PermanentLLMError(f"{message} ({fix})" if fix else message, status_code=status)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and the chain of exceptions behind it (bounded, cycle-safe)."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10 and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _is_configuration_error(exc: BaseException) -> bool:
    """A cause that retrying cannot fix: a missing key, a malformed URL, a bad port.

    The OpenAI client raises a bare ``openai.OpenAIError`` for a missing key and plain
    ``ValueError`` for an impossible port or credentials in the URL; HTTP clients raise
    ``InvalidURL``/``UnsupportedProtocol``. Connection and HTTP errors are subclasses,
    hence the exact-type checks.
    """
    for cause in _causes(exc)[1:]:
        kind = type(cause)
        if kind.__name__ in _CONFIG_CAUSES or kind in (ValueError, TypeError):
            return True
        if kind.__name__ == "OpenAIError" and kind.__module__.startswith("openai"):
            return True
    return False


def _status_code(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    try:
        return int(status) if status is not None else None
    except (TypeError, ValueError):
        return None


def _is_transient_without_status(exc: BaseException) -> bool:
    # Malformed bodies, dropped connections and timeouts outside an HTTP status.
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & _TRANSIENT_NAMES) or isinstance(
        exc, TimeoutError | ConnectionError | json.JSONDecodeError
    )


def retry_after_of(exc: BaseException) -> float | None:
    """Seconds from a ``Retry-After``/``retry-after-ms`` header on the exception, if any."""
    for headers in _header_sources(exc):
        millis = _header(headers, "retry-after-ms")
        if millis is not None:
            return _seconds(millis, scale=1000.0)
        value = _header(headers, "retry-after")
        if value is not None:
            return _seconds(value)
    return None


def _header_sources(exc: BaseException) -> list[Any]:
    response = getattr(exc, "response", None)
    sources = [getattr(exc, "headers", None), getattr(exc, "litellm_response_headers", None)]
    sources.append(getattr(response, "headers", None))
    return [s for s in sources if s]


def _header(headers: Any, name: str) -> str | None:
    try:
        value = headers.get(name) or headers.get(name.title())
    except AttributeError:
        return None
    return None if value is None else str(value)


def _seconds(value: str, scale: float = 1.0) -> float | None:
    try:
        return max(0.0, float(value) / scale)
    except ValueError:
        pass
    try:  # Retry-After may also be an HTTP date
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())
