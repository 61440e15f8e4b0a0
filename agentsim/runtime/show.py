"""``agentsim show RUN_DIR --decision N``: one decision as the agent met it.

A decision record names what the agent observed (``observation``) and, for an LLM
agent, the prompt hash of every call behind it (``prompt_hashes``); the run keeps the
full messages of every call in the ``prompts`` table of ``llm_cache.sqlite`` and each
reply in its ``llm_call`` record. :func:`show_decision` puts these together: who
decided, when, what it saw, what it answered and how that was parsed.

Usage::

    from agentsim.runtime.show import show_decision

    print(show_decision(Path("runs/donor-game-seed0-20261126-141618"), 5))
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError
from agentsim.core.records import Record, iter_records
from agentsim.llm.cache import read_prompts
from agentsim.runtime.rundir import EVENTS, LLM_CACHE, RunDir

_CONTEXT = ("generation", "game", "round", "step")
_INDENT = "    "


@dataclass
class _Found:
    """The decision asked for and what the event log says around it."""

    decision: Record
    total: int
    start: Record | None
    calls: dict[str, Record] = field(default_factory=dict)


def show_decision(run_dir: Path, index: int) -> str:
    """A human-readable account of decision ``index`` (0-based, in event-log order).

    Args:
        run_dir: a run directory.
        index: which decision record of ``events.jsonl`` (0 is the first).

    Raises:
        UserError: no such run or event log, or ``index`` out of range.
    """
    run = RunDir.open(run_dir)
    events = run.file(EVENTS)
    if not events.is_file():
        raise UserError(f"{run_dir} has no {EVENTS} yet")
    if index < 0:
        raise UserError(f"--decision {index}: give a decision number from 0")
    try:
        found = _find(iter_records(events), index)
    except ValueError as exc:  # a corrupt event log
        raise UserError(str(exc)) from None
    hashes = list(found.decision.get("prompt_hashes") or [])
    prompts = read_prompts(run.file(LLM_CACHE), hashes)
    return "\n".join(_render(index, found, hashes, prompts)) + "\n"


def _find(records: Iterator[Record], index: int) -> _Found:
    """One pass: the index-th decision, its generation's seating, and its calls' records."""
    seen, found, starts = 0, None, {}
    for r in records:
        if r["type"] in ("generation_start", "episode_start"):
            starts[r.get("generation")] = r
        elif r["type"] == "decision":
            if seen == index:
                found = _Found(r, 0, starts.get(r.get("generation")))
            seen += 1
        elif r["type"] == "llm_call" and found is not None:
            wanted = r.get("prompt_hash") in (found.decision.get("prompt_hashes") or ())
            if wanted and r.get("agent") == found.decision.get("agent"):
                found.calls.setdefault(r["prompt_hash"], r)
    if found is None:
        if seen == 0:
            raise UserError("the run has no decision records (runs with record=summary keep none)")
        raise UserError(f"--decision {index}: the run has {seen} decisions (0 to {seen - 1})")
    found.total = seen
    return found


def _render(
    index: int, found: _Found, hashes: Sequence[str], prompts: Mapping[str, Any]
) -> list[str]:
    d = found.decision
    lines = [_headline(index, found), "", "What it saw:"]
    if found.start is not None and "seats" in found.start:
        seats = ", ".join(f"{i}={m}" for i, m in enumerate(found.start["seats"]))
        lines.append(f"  seats (seat index = member): {seats}")
    lines += ["  observation:", *_observation(d.get("observation"))]
    if not hashes:
        lines.append("  (no LLM calls: a scripted decision)")
    for i, h in enumerate(hashes, 1):
        lines += _call(i, len(hashes), h, prompts.get(h), found.calls.get(h))
    lines += ["", "How it was parsed:", f"  parse status: {d.get('parse_status')}"]
    for key in ("asks", "parse_error", "fallback", "rationale"):
        if d.get(key) is not None:
            lines.append(f"  {key}: {_clean(str(d[key]))}")
    lines.append(f"  action: {json.dumps(d.get('action'))}")
    if d.get("raw") is not None:
        lines += ["  last reply:", *_block(d["raw"], 2)]
    return lines


def _headline(index: int, found: _Found) -> str:
    d = found.decision
    kinds = (found.start or {}).get("kinds") or {}
    kind = kinds.get(d.get("agent"), "unknown kind")
    where = ", ".join(f"{k} {d[k]}" for k in _CONTEXT if d.get(k) is not None)
    agent = _clean(str(d.get("agent")))
    return f"decision {index} of {found.total}: agent {agent} ({kind}), {where}"


def _observation(observation: Any) -> list[str]:
    if observation is None:
        return [f"{_INDENT}(not recorded: the run predates observation records)"]
    if isinstance(observation, Mapping):
        return [f"{_INDENT}{k}: {_clean(json.dumps(v))}" for k, v in observation.items()]
    return _block(str(observation), 2)


def _call(
    i: int, n: int, key: str, messages: Sequence[Mapping[str, str]] | None, call: Record | None
) -> list[str]:
    about = f"LLM call {i} of {n}, prompt_hash {key[:16]}"
    if call is not None:
        cached = "yes" if call.get("cached") else "no"
        about += (
            f", {call.get('model')}, purpose {call.get('purpose')}, "
            f"{call.get('attempts')} attempt(s), from the cache: {cached}"
        )
    lines = ["", f"  {about}:"]
    if messages is None:
        lines.append(f"{_INDENT}(messages not stored: the run predates the prompts table)")
    for m in messages or ():
        lines += [f"{_INDENT}[{_clean(str(m.get('role')))}]", *_block(str(m.get("content")), 3)]
    if call is None:
        lines.append(f"{_INDENT}(no llm_call record found for this call)")
    elif call.get("error") is not None:
        lines.append(f"{_INDENT}[error] {_clean(str(call['error']))}")
    else:
        lines += [f"{_INDENT}[reply]", *_block(str(call.get("reply")), 3)]
    return lines


def _block(text: str, depth: int) -> list[str]:
    pad = "  " * depth
    return [pad + _clean(line) for line in text.splitlines() or [""]]


def _clean(text: str) -> str:
    """Escape control characters, so a reply cannot drive the terminal."""
    return "".join(
        ch if ch == "\t" or unicodedata.category(ch) != "Cc" else repr(ch)[1:-1] for ch in text
    )
