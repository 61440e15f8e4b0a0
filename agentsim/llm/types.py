"""Requests, results, errors and the :class:`LanguageModel` protocol of the LLM layer.

Nothing here imports litellm: agents, judges and the runtime depend only on these types,
and the wrappers in :mod:`agentsim.llm.wrappers` compose any object with an async
``complete(request) -> ChatResult`` method.

Example:
    >>> req = ChatRequest.build("offline/donor", "You currently have 10 units.", seed=1)
    >>> req.messages
    (('user', 'You currently have 10 units.'),)
    >>> len(prompt_hash(req))
    64
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import threading
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable
from urllib.parse import unquote, urlsplit, urlunsplit

from agentsim.core.errors import AgentsimError

#: One chat message as a hashable (role, content) pair.
Message = tuple[str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion request, independent of any provider.

    Attributes:
        model: a LiteLLM model string (``openai/gpt-4o-mini``, ``offline/donor``).
        messages: (role, content) pairs, oldest first.
        temperature: sampling temperature; None leaves the provider default.
        max_tokens: completion length limit; None leaves the provider default.
        response_format: a JSON schema the reply must follow, or a full OpenAI
            ``response_format`` dict (one with a ``type`` key); None for free text.
        seed: provider-side sampling seed, where the provider supports one.
        sample_index: tells apart deliberate repeated samples of the same prompt, so
            each gets its own cache entry.
        purpose: what the call is for (``donation``, ``strategy``, ``judge``); recorded.
        agent: the agent on whose behalf the call is made; recorded.
        api_base: endpoint override; None uses the model's default or LiteLLM's env vars.
    """

    model: str
    messages: tuple[Message, ...]
    temperature: float | None = None
    max_tokens: int | None = None
    response_format: dict[str, Any] | None = None
    seed: int | None = None
    sample_index: int = 0
    purpose: str = ""
    agent: str = ""
    api_base: str | None = None

    @classmethod
    def build(
        cls, model: str, messages: str | Sequence[Mapping[str, str]], **params: Any
    ) -> ChatRequest:
        """Build a request from a user prompt string or OpenAI-style message dicts."""
        if isinstance(messages, str):
            pairs: tuple[Message, ...] = (("user", messages),)
        else:
            pairs = tuple((str(m["role"]), str(m["content"])) for m in messages)
        return cls(model=model, messages=pairs, **params)

    def message_dicts(self) -> list[dict[str, str]]:
        """The messages as the list of dicts that chat APIs take."""
        return [{"role": role, "content": content} for role, content in self.messages]

    def __hash__(self) -> int:
        # The dataclass hash would fail on the response_format dict; equal requests
        # have equal prompt hashes, so this is consistent with __eq__.
        return hash((prompt_hash(self), self.purpose, self.agent, self.api_base))


@dataclass(frozen=True)
class ChatResult:
    """The reply to one :class:`ChatRequest`, with its accounting.

    Attributes:
        text: the raw reply text.
        prompt_tokens: prompt tokens reported by the provider.
        completion_tokens: completion tokens reported by the provider.
        cost_usd: price of the call in dollars; None when the model's price is unknown.
        latency_s: wall time of the call, including retries; ~0 for a cache hit.
        attempts: provider attempts made (1 without retries; 0 for a cache hit).
        cached: the reply came from the response cache, not the provider.
        model: the model string of the request.
    """

    text: str
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    latency_s: float
    attempts: int
    cached: bool
    model: str

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


@runtime_checkable
class LanguageModel(Protocol):
    """Anything that answers a :class:`ChatRequest` asynchronously."""

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Answer one request; raises :class:`LLMError` subclasses on provider failure."""
        ...


def complete_sync(model: LanguageModel, request: ChatRequest) -> ChatResult:
    """Run ``model.complete(request)`` from synchronous code.

    Raises:
        RuntimeError: when called inside a running event loop (use ``await`` there).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(model.complete(request))
    raise RuntimeError(
        "complete_sync() was called inside a running event loop; "
        "use `await model.complete(request)` instead"
    )


async def gather_or_cancel(awaitables: Sequence[Awaitable[T]]) -> list[T]:
    """Like ``asyncio.gather``, but the first failure cancels the others and waits for them.

    ``asyncio.gather`` leaves the other calls running when one fails; they are then cut
    off when the event loop closes, after the run has written its records, and the
    requests they had sent go unrecorded. Here they end (and record themselves as
    cancelled) before the failure propagates.

    Example:
        >>> async def twice(x):
        ...     return 2 * x
        >>> asyncio.run(gather_or_cancel([twice(1), twice(2)]))
        [2, 4]

    Raises:
        BaseException: the failure of the first (in argument order) awaitable that failed.
    """
    tasks = [asyncio.ensure_future(a) for a in awaitables]
    if not tasks:
        return []
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    except asyncio.CancelledError:
        await _cancel_and_wait(tasks)
        raise
    errors = [
        e for t in tasks if t in done and not t.cancelled() and (e := t.exception()) is not None
    ]
    if errors:
        await _cancel_and_wait(list(pending))
        raise errors[0]
    return [t.result() for t in tasks]


async def _cancel_and_wait(tasks: Sequence[asyncio.Future[Any]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def prompt_hash(request: ChatRequest) -> str:
    """SHA-256 over everything that determines a reply: model, messages, params, sample.

    Credentials never enter the hash: neither API keys (not part of a request) nor the
    ``api_base`` (which may carry userinfo), so a cache moves between machines.
    The hash is memoised on the request, since several wrappers ask for it per call.
    """
    memo: str | None = request.__dict__.get("_prompt_hash")
    if memo is not None:
        return memo
    canonical = {
        "model": request.model,
        "messages": [list(m) for m in request.messages],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "response_format": request.response_format,
        "seed": request.seed,
        "sample_index": request.sample_index,
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(text.encode()).hexdigest()
    object.__setattr__(request, "_prompt_hash", digest)  # frozen: set the memo directly
    return digest


# --- errors ----------------------------------------------------------------------------------


class LLMError(AgentsimError):
    """A provider call failed; the message is already redacted of secrets.

    Attributes:
        status_code: HTTP-like status (408 for timeouts), None when there was none.
        attempts: provider attempts made before giving up.
    """

    def __init__(self, message: str, *, status_code: int | None = None, attempts: int = 1) -> None:
        super().__init__(redact(message))
        self.status_code = status_code
        self.attempts = attempts

    def __str__(self) -> str:
        base = super().__str__()
        return f"{base} (after {self.attempts} attempts)" if self.attempts > 1 else base


class TransientLLMError(LLMError):
    """Worth retrying: 429, 5xx, timeouts, connection errors, malformed reply bodies.

    Attributes:
        retry_after: seconds the provider asked us to wait (Retry-After), if it did.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        attempts: int = 1,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, attempts=attempts)
        self.retry_after = retry_after


class PermanentLLMError(LLMError):
    """Retrying cannot help: bad request, authentication, permission, unknown model."""


# --- secret redaction ------------------------------------------------------------------------

_KEY_PATTERNS = re.compile(
    r"sk-[A-Za-z0-9_\-]{6,}"  # OpenAI, Anthropic (sk-ant-...), DeepSeek, ...
    r"|AIza[0-9A-Za-z_\-]{20,}"  # Google
    r"|(?:gsk|hf|xai|pk|rk)[_-][A-Za-z0-9]{16,}"  # Groq, Hugging Face, xAI, others
    r"|(?i:bearer|basic)\s+[A-Za-z0-9._~+/=\-]{8,}"
    # Credential-like query parameters (?key=, api_key=, access_token=, sig=, ...).
    r"|(?i:[\w.-]*(?:key|token|secret|password|passwd|pwd|signature|sig|auth|credential)s?)"
    r"=[^&\s\"'#]+"
)
_USERINFO = re.compile(r"(?<=://)[^/@\s:]+(?::[^/@\s]*)?@")
REDACTED = "[REDACTED]"
#: Shorter values are too likely to be ordinary words to be replaced everywhere.
_MIN_SECRET = 4

_registered: set[str] = set()
_registered_lock = threading.Lock()


def register_secrets(values: Sequence[str]) -> None:
    """Redact ``values`` from every later :func:`redact` call in this process.

    The runtime registers the credentials of a configured ``api_base`` (userinfo and
    query values, see :func:`url_secrets`), because a server may echo the URL in an
    error that then reaches a record, a stop reason or stderr.
    """
    with _registered_lock:
        _registered.update(v for v in values if len(v) >= _MIN_SECRET)


def url_secrets(url: str | None) -> tuple[str, ...]:
    """The parts of an endpoint URL that may be credentials: userinfo and query values.

    Both the raw and the percent-decoded form are returned, since an echo may show either.

    Example:
        >>> url_secrets("http://127.0.0.1:8000/v1?key=abc%2Fdef")
        ('abc%2Fdef', 'abc/def')
    """
    if not url:
        return ()
    try:
        parts = urlsplit(url)
        raw = [parts.username or "", parts.password or ""]
    except ValueError:
        raw = []
        parts = None
    query = parts.query if parts is not None else url.partition("?")[2]
    raw += [value for _, _, value in (item.partition("=") for item in query.split("&"))]
    found: list[str] = []
    for value in raw:
        for form in (value, unquote(value)):
            if len(form) >= _MIN_SECRET and form not in found:
                found.append(form)
    return tuple(found)


def redact(text: str, extra_secrets: Sequence[str] = ()) -> str:
    """Remove credentials from text: known key shapes, ``*_API_KEY`` env values, URL
    userinfo, credential-like query parameters and the registered endpoint secrets.

    Example:
        >>> redact("bad key sk-abcdef123456 at https://user:pw@host/v1?key=abc")
        'bad key [REDACTED] at https://[REDACTED]@host/v1?[REDACTED]'
    """
    with _registered_lock:
        registered = list(_registered)
    env = (v for k, v in os.environ.items() if k.endswith("_API_KEY"))
    secrets = [*extra_secrets, *registered, *env]
    # Longest first, so a secret that contains another is removed whole.
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _USERINFO.sub(REDACTED + "@", text)
    return _KEY_PATTERNS.sub(REDACTED, text)


def safe_api_base(api_base: str | None) -> str | None:
    """The endpoint without userinfo, query or fragment (where credentials may hide)."""
    if api_base is None:
        return None
    try:
        parts = urlsplit(api_base)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
    except ValueError:  # e.g. a non-numeric port: show nothing rather than guess
        return REDACTED
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
