"""The SQLite response cache behind record/replay (``llm_cache.sqlite`` in a run directory).

:class:`ResponseCache` is the store; :class:`CachedModel` is the wrapper that answers
from it in one of the :data:`CACHE_MODES`. The same file keeps the full messages of every
request (the ``prompts`` table), also when the cache is off, so that what a model was
sent can always be shown.

Keys are :func:`~agentsim.llm.types.prompt_hash` values; values are JSON (the
:class:`~agentsim.llm.types.ChatResult` fields plus a short request summary), never
pickle, so a cache file is data that anyone can inspect. WAL mode lets a reader (a
report) open the file while a run writes to it.

Example:
    >>> import tempfile, os
    >>> from agentsim.llm.types import ChatRequest, ChatResult, prompt_hash
    >>> req = ChatRequest.build("offline/donor", "hi")
    >>> res = ChatResult("Answer: 1", 1, 2, None, 0.1, 1, False, "offline/donor")
    >>> with ResponseCache(os.path.join(tempfile.mkdtemp(), "c.sqlite")) as cache:
    ...     cache.put(prompt_hash(req), req, res)
    ...     cache.put_prompt(prompt_hash(req), req)
    ...     cache.get(prompt_hash(req)).text, len(cache), cache.prompt(prompt_hash(req))
    ('Answer: 1', 1, [{'role': 'user', 'content': 'hi'}])
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, fields, replace
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, get_args

from agentsim.core.errors import ConfigError, ReplayMiss
from agentsim.llm.types import ChatRequest, ChatResult, LanguageModel, prompt_hash

CacheMode = Literal["off", "read_write", "replay"]
CACHE_MODES: tuple[str, ...] = get_args(CacheMode)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created REAL NOT NULL
)
"""
# The full messages of every request, by prompt hash (the audit trail of a run).
_PROMPTS_SCHEMA = """
CREATE TABLE IF NOT EXISTS prompts (
    key TEXT PRIMARY KEY,
    messages TEXT NOT NULL,
    request TEXT NOT NULL,
    created REAL NOT NULL
)
"""
_RESULT_FIELDS = tuple(f.name for f in fields(ChatResult))


class ResponseCache:
    """A thread-safe SQLite map from prompt hash to a recorded :class:`ChatResult`, and
    from prompt hash to the messages that were sent (the ``prompts`` table).

    Args:
        path: the database file; created (with its parent folder) when missing.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # One connection shared by all threads, serialised by our own lock.
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL is durable across application crashes in WAL mode, and much faster.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
            self._db.execute(_PROMPTS_SCHEMA)
        self._stored_prompts: set[str] = set()

    def get(self, key: str) -> ChatResult | None:
        """The recorded result for ``key`` (as first recorded), or None."""
        with self._lock:
            row = self._db.execute("SELECT value FROM responses WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        stored = json.loads(row[0])["result"]
        return ChatResult(**{name: stored[name] for name in _RESULT_FIELDS})

    def put(self, key: str, request: ChatRequest, result: ChatResult) -> None:
        """Record ``result`` under ``key``; an existing entry is kept (first reply wins)."""
        value = json.dumps({"result": asdict(result), "request": _summary(request)})
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO responses (key, value, created) VALUES (?, ?, ?)",
                (key, value, time.time()),
            )

    def put_prompt(self, key: str, request: ChatRequest) -> None:
        """Store the messages of ``request`` under its prompt hash (once per hash)."""
        if key in self._stored_prompts:  # most repeats skip the database entirely
            return
        messages = json.dumps(request.message_dicts(), ensure_ascii=False)
        summary = json.dumps(_summary(request))
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO prompts (key, messages, request, created) "
                "VALUES (?, ?, ?, ?)",
                (key, messages, summary, time.time()),
            )
            self._stored_prompts.add(key)

    def prompt(self, key: str) -> list[dict[str, str]] | None:
        """The messages stored under ``key`` (role and content dicts), or None."""
        with self._lock:
            row = self._db.execute("SELECT messages FROM prompts WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        messages: list[dict[str, str]] = json.loads(row[0])
        return messages

    def spent(self) -> dict[str, float]:
        """What the recorded replies cost: provider calls, tokens and dollars (unknown = 0).

        Every entry is a reply a provider was paid for, including replies whose events
        were cut away when a killed run resumed from its checkpoint.
        """
        totals = {"calls": 0.0, "prompt_tokens": 0.0, "completion_tokens": 0.0, "usd": 0.0}
        with self._lock:
            rows = self._db.execute("SELECT value FROM responses").fetchall()
        for (value,) in rows:
            result = json.loads(value)["result"]
            totals["calls"] += 1
            totals["prompt_tokens"] += result["prompt_tokens"] or 0
            totals["completion_tokens"] += result["completion_tokens"] or 0
            totals["usd"] += result["cost_usd"] or 0.0
        return totals

    def __len__(self) -> int:
        with self._lock:
            (count,) = self._db.execute("SELECT COUNT(*) FROM responses").fetchone()
        return int(count)

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class CachedModel:
    """The record/replay cache: ``off``, ``read_write`` (record and reuse), ``replay``.

    Replay never calls ``inner`` and raises :class:`ReplayMiss` on a miss. A hit returns
    the recorded reply and token counts with ``cached=True``, ``attempts=0`` and zero
    latency. In ``read_write`` mode, identical requests in flight at once share one
    provider call, so the recorded reply is the one every caller saw and replay is exact.
    """

    def __init__(self, inner: LanguageModel, cache: ResponseCache, mode: str) -> None:
        if mode not in CACHE_MODES:
            raise ConfigError("cache_mode", mode, CACHE_MODES)
        self.inner = inner
        self.cache = cache
        self.mode = mode
        self._in_flight: dict[tuple[int, str], asyncio.Future[ChatResult | None]] = {}

    async def complete(self, request: ChatRequest) -> ChatResult:
        """Answer ``request`` from the cache where the mode allows."""
        if self.mode == "off":
            return await self.inner.complete(request)
        key = prompt_hash(request)
        hit = self.cache.get(key)
        if hit is not None:
            return _as_cached(hit)
        if self.mode == "replay":
            raise ReplayMiss(
                f"replay found no cached reply for model={request.model!r} "
                f"purpose={request.purpose!r} agent={request.agent!r} prompt_hash={key}; "
                "replay never calls a provider (record with cache mode read_write first)"
            )
        return await self._fetch(key, request)

    async def _fetch(self, key: str, request: ChatRequest) -> ChatResult:
        loop = asyncio.get_running_loop()
        slot = (id(loop), key)
        pending = self._in_flight.get(slot)
        if pending is not None:
            shared = await asyncio.shield(pending)
            # None: the leading call failed; this caller tries on its own.
            return _as_cached(shared) if shared else await self._fetch(key, request)
        future: asyncio.Future[ChatResult | None] = loop.create_future()
        self._in_flight[slot] = future
        result = None
        try:
            result = await self.inner.complete(request)
            self.cache.put(key, request, result)
            return result
        finally:
            del self._in_flight[slot]
            future.set_result(result)


def _as_cached(result: ChatResult) -> ChatResult:
    return replace(result, cached=True, attempts=0, latency_s=0.0)


def _summary(request: ChatRequest) -> dict[str, Any]:
    # Enough to recognise an entry when debugging a replay miss; no endpoint, no keys.
    return {
        "model": request.model,
        "purpose": request.purpose,
        "agent": request.agent,
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "seed": request.seed,
        "sample_index": request.sample_index,
        "response_format": request.response_format is not None,
        "n_messages": len(request.messages),
    }


def read_prompts(path: str | Path, keys: Iterable[str]) -> dict[str, list[dict[str, str]]]:
    """The stored messages of the given prompt hashes, read without writing to the file.

    Missing keys are left out; a missing file or one without a ``prompts`` table (a run
    made before the table existed) gives an empty dict.
    """
    wanted = list(dict.fromkeys(keys))
    if not wanted or not Path(path).is_file():
        return {}
    db = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        marks = ",".join("?" * len(wanted))
        rows = db.execute(
            f"SELECT key, messages FROM prompts WHERE key IN ({marks})",  # only ? placeholders
            wanted,
        ).fetchall()
    except sqlite3.OperationalError:  # no prompts table
        return {}
    finally:
        db.close()
    return {key: json.loads(messages) for key, messages in rows}
