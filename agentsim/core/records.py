"""The event schema: every record type a run writes to ``events.jsonl``.

Records are plain JSON objects, one per line, each with ``v`` (schema version)
and ``type``. This module is the single definition of the schema; the runtime
writes records through :func:`make_record` and ``analysis/`` reads them through
:func:`load_records`, so nothing else needs to know field names by heart.

Example:
    >>> r = make_record("checkpoint", generation=3)
    >>> r["v"], r["type"], r["generation"]
    (1, 'checkpoint', 3)
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

Record = dict[str, Any]

#: Required fields per record type (optional fields may be added freely).
RECORD_FIELDS: Mapping[str, tuple[str, ...]] = {
    # One per run (and one more per resume).
    "run_start": ("run_id", "experiment", "env", "seed", "resumed_from"),
    # Population and seating of a generation: seats[i] is the member on seat i.
    "generation_start": ("generation", "seats", "kinds"),
    # One agent decision (scripted or LLM); parse_status in PARSE_STATUSES. The runner
    # adds the env's context (generation, game, round) where the observation has it.
    "decision": ("step", "agent", "action", "parse_status"),
    # One donor-game interaction; kind is "donate" or "punish".
    "transfer": (
        "generation",
        "game",
        "round",
        "donor",
        "recipient",
        "kind",
        "fraction",
        "amount",
        "donor_before",
        "recipient_before",
        "shown_fraction",
    ),
    # Final resources of one game.
    "game_end": ("generation", "game", "final_resources"),
    # Survivors chosen at the end of a generation.
    "selection": ("generation", "method", "scores", "survivors", "removed"),
    # A new member and where its strategy came from.
    "reproduction": ("generation", "child", "parents", "kind", "params"),
    # Per-generation aggregate written after selection; the env adds its statistics
    # (the donor game: mean_final_resources, mean_donation_fraction, donor_decisions,
    # punishments).
    "generation_end": ("generation",),
    # One LLM request through the adapter (after retries).
    "llm_call": (
        "model",
        "purpose",
        "prompt_hash",
        "reply",
        "latency_s",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
        "attempts",
        "error",
        "cached",
    ),
    # Written after each completed generation's checkpoint file.
    "checkpoint": ("generation",),
    # End of a run; status is "completed" or "stopped" (with a reason).
    "run_end": ("status", "generations_completed"),
}

PARSE_STATUSES = ("scripted", "ok", "reasked", "fallback")


def make_record(record_type: str, **fields: Any) -> Record:
    """Build a record of a known type, checking that its required fields are present.

    Raises:
        ValueError: for an unknown type or a missing required field.
    """
    required = RECORD_FIELDS.get(record_type)
    if required is None:
        raise ValueError(
            f"unknown record type {record_type!r}; allowed: {', '.join(RECORD_FIELDS)}"
        )
    missing = [f for f in required if f not in fields]
    if missing:
        raise ValueError(f"{record_type} record is missing {', '.join(missing)}")
    return {"v": SCHEMA_VERSION, "type": record_type, **fields}


def dumps(record: Record) -> str:
    """Serialise a record to one compact JSON line (no trailing newline)."""
    return json.dumps(record, separators=(",", ":"), allow_nan=False, default=_json_default)


def _json_default(obj: Any) -> Any:
    # numpy scalars and arrays reach here; convert without importing numpy.
    if hasattr(obj, "tolist"):
        return obj.tolist()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


def iter_records(path: str | Path) -> Iterator[Record]:
    """Yield the records of an ``events.jsonl`` file, checking the schema version."""
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if not line.endswith("\n"):
                return  # a run killed or still writing: its last line is not complete yet
            try:
                rec = json.loads(line)
            except ValueError:
                raise ValueError(f"{path}:{lineno}: not a JSON record") from None
            if rec.get("v") != SCHEMA_VERSION:
                raise ValueError(
                    f"{path}:{lineno}: schema version {rec.get('v')!r}, expected {SCHEMA_VERSION}"
                )
            yield rec


def load_records(path: str | Path, *types: str) -> list[Record]:
    """Load all records (or only those of the given types) from ``events.jsonl``."""
    wanted = set(types)
    return [r for r in iter_records(path) if not wanted or r["type"] in wanted]
