"""The event schema: every record type a run writes to ``events.jsonl``.

Records are plain JSON objects, one per line, each with ``v`` (schema version)
and ``type``. This module is the single definition of the schema; the runtime
writes records through :func:`make_record` and ``analysis/`` reads them through
:func:`load_records`, so nothing else needs to know field names by heart.

Example:
    >>> r = make_record("checkpoint", episode=3)
    >>> r["v"], r["type"], r["episode"]
    (1, 'checkpoint', 3)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError

SCHEMA_VERSION = 1

Record = dict[str, Any]

#: Required fields per record type (optional fields may be added freely); studies add
#: their own types with :func:`register_record_type`.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    # One per run (and one more per resume).
    "run_start": ("run_id", "experiment", "env", "seed", "resumed_from"),
    # Seating of an episode of a study without evolution: seats[i] is the member on seat i.
    "episode_start": ("episode", "seats", "kinds"),
    # End of such an episode; the study's env adds its statistics (``episode_stats``).
    "episode_end": ("episode",),
    # Population and seating of a generation (an episode of a study with evolution).
    "generation_start": ("generation", "seats", "kinds"),
    # One agent decision (scripted or LLM); parse_status in PARSE_STATUSES. The runner
    # adds the env's context (generation, game, round) where the observation has it.
    "decision": ("step", "agent", "action", "parse_status"),
    # Survivors chosen at the end of a generation.
    "selection": ("generation", "method", "scores", "survivors", "removed"),
    # A new member and where its strategy came from.
    "reproduction": ("generation", "child", "parents", "kind", "params"),
    # Per-generation aggregate written after selection; the study's env adds its
    # statistics (``episode_stats``; the donor game: mean_final_resources, ...).
    "generation_end": ("generation",),
    # A judgement of an observer or judge (rule-based or LLM): score, label, rationale.
    "judgement": ("judge", "item", "score", "parse_status"),
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
    # Written after each completed episode (generation), with the checkpoint file.
    "checkpoint": ("episode",),
    # End of a run; status is "completed" or "stopped" (with a reason).
    "run_end": ("status", "episodes_completed"),
}

_GENERIC_TYPES = frozenset(RECORD_FIELDS)

PARSE_STATUSES = ("scripted", "ok", "reasked", "fallback")


def register_record_type(
    record_type: str,
    fields: tuple[str, ...],
    field_types: Mapping[str, FieldType] | None = None,
) -> None:
    """Add a study's record type and its required fields to the schema.

    ``field_types`` declares how its fields are checked when a log is read (``INTEGER``,
    ``NUMBER``, ...; a field is checked wherever it appears). Registering the same type again
    with the same fields is a no-op.

    Raises:
        ValueError: when the type is already registered with other fields, or a field with
            another type.
    """
    known = RECORD_FIELDS.get(record_type)
    if known is not None and tuple(known) != tuple(fields):
        raise ValueError(
            f"record type {record_type!r} is already registered with fields {known}, "
            f"not {tuple(fields)}"
        )
    RECORD_FIELDS[record_type] = tuple(fields)
    for name, field_type in (field_types or {}).items():
        if _FIELD_TYPES.get(name, field_type) != field_type:
            raise ValueError(f"field {name!r} is already registered as {_FIELD_TYPES[name][1]}")
        _FIELD_TYPES[name] = field_type


def unregister_record_type(record_type: str) -> None:
    """Remove a study's record type from the schema (the generic types stay)."""
    if record_type not in _GENERIC_TYPES:
        RECORD_FIELDS.pop(record_type, None)


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


class MalformedRecord(UserError, ValueError):
    """An ``events.jsonl`` line that is not a valid record; the message names ``file:line``."""


#: How deep containers may nest in a record (the schema's own records nest 2 deep).
MAX_NESTING = 16


# Validators of JSON-decoded values, whose types are exactly dict, list, str, int, float,
# bool and None: exact type tests (a bool is not an int here) over map(type, ...) keep
# the check cheap on records with a value per member of a large population.
_NUMBER_TYPES = frozenset({int, float})
_CONTAINERS = frozenset({dict, list})


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_number(v: Any) -> bool:
    return type(v) in _NUMBER_TYPES


def _is_str(v: Any) -> bool:
    return type(v) is str


def _is_finite_number(v: Any) -> bool:
    return type(v) in _NUMBER_TYPES and abs(v) < 1e300


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


def _list_of_str(v: Any) -> bool:
    return type(v) is list and set(map(type, v)) <= {str}


def _map_of_numbers(v: Any) -> bool:
    return type(v) is dict and set(map(type, v.values())) <= _NUMBER_TYPES


# Types of the fields that the runtime, summary and report read; checked wherever the
# field appears, so a hand-edited or corrupt log fails on read with file:line instead of
# deep inside a statistic. Fields not listed here are free (the schema is open).
FieldType = tuple[Callable[[Any], bool], str]

#: Field types every study may use in its own record types (``register_record_type``).
INTEGER: FieldType = (_is_int, "an integer")
STRING: FieldType = (_is_str, "a string")
NUMBER: FieldType = (_is_number, "a number")
NUMBER_OR_NULL: FieldType = (_optional(_is_number), "a number or null")
FINITE_OR_NULL: FieldType = (_optional(_is_finite_number), "a finite number or null")
NUMBERS_BY_MEMBER: FieldType = (_map_of_numbers, "an object of numbers")

_FIELD_TYPES: dict[str, FieldType] = {
    "generation": INTEGER,
    "step": INTEGER,
    "game": INTEGER,
    "round": INTEGER,
    "agent": (_optional(_is_str), "a string"),
    "kind": STRING,
    "status": STRING,
    "parse_status": STRING,
    "seats": (_list_of_str, "a list of member ids"),
    "survivors": (_list_of_str, "a list of member ids"),
    "removed": (_list_of_str, "a list of member ids"),
    "scores": NUMBERS_BY_MEMBER,
    "episodes_completed": INTEGER,
    "episode": INTEGER,
    "attempts": INTEGER,
    "prompt_tokens": (_optional(_is_int), "an integer or null"),
    "completion_tokens": (_optional(_is_int), "an integer or null"),
    "cost_usd": NUMBER_OR_NULL,
    "cached": (lambda v: type(v) is bool, "true or false"),
}
_GENERIC_FIELDS = frozenset(_FIELD_TYPES)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid record value")


# One decoder for every line (json.loads with options would build one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def parse_record(line: str | bytes, where: str) -> Record:
    """One validated record from one line of ``events.jsonl``.

    Checks that the line is a JSON object, nested at most :data:`MAX_NESTING` deep, of the
    current schema version, that a known type has its required fields, and that the fields
    the runtime and analysis read have the right types. ``where`` (``file:line``) starts
    every error message.

    Raises:
        MalformedRecord: naming ``where`` and what is wrong.
    """
    try:
        rec = _DECODER.decode(line.decode("utf-8") if isinstance(line, bytes) else line)
    except RecursionError:
        raise MalformedRecord(f"{where}: nested too deeply to be a record") from None
    except ValueError:  # also UnicodeDecodeError
        raise MalformedRecord(f"{where}: not a JSON record") from None
    if not isinstance(rec, dict):
        raise MalformedRecord(f"{where}: a record must be a JSON object, not {type(rec).__name__}")
    if rec.get("v") != SCHEMA_VERSION:
        raise MalformedRecord(
            f"{where}: schema version {rec.get('v')!r}, expected {SCHEMA_VERSION}"
        )
    _check_fields(rec, where)
    if _nesting(rec) > MAX_NESTING:
        raise MalformedRecord(f"{where}: nested more than {MAX_NESTING} levels deep")
    return rec


def _check_fields(rec: Record, where: str) -> None:
    record_type = rec.get("type")
    if not isinstance(record_type, str):
        raise MalformedRecord(f"{where}: the record has no type (a string)")
    missing = [f for f in RECORD_FIELDS.get(record_type, ()) if f not in rec]
    if missing:
        raise MalformedRecord(f"{where}: {record_type!r} record is missing {', '.join(missing)}")
    for key, value in rec.items():
        check = _FIELD_TYPES.get(key)
        if check is not None and not check[0](value):
            raise MalformedRecord(
                f"{where}: {record_type!r} record field {key!r} must be {check[1]}, "
                f"got {_preview(value)}"
            )


def _nesting(obj: Any) -> int:
    """Depth of nested lists/objects (a scalar is 0), level by level, without recursion."""
    deepest, level = 0, [obj] if type(obj) in _CONTAINERS else []
    while level and deepest <= MAX_NESTING:
        deepest += 1
        below: list[Any] = []
        for item in level:
            values = item.values() if type(item) is dict else item
            if not _CONTAINERS.isdisjoint(map(type, values)):
                below.extend(v for v in values if type(v) in _CONTAINERS)
        level = below
    return deepest


def _preview(value: Any, limit: int = 60) -> str:
    # repr escapes control characters, so a hostile value cannot drive the terminal.
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: How ``dumps`` starts every record line written by ``make_record`` (its first two keys):
#: the type follows, up to the next quote.
_LINE_START = b'{"v":%d,"type":"' % SCHEMA_VERSION


def iter_records(path: str | Path, types: Collection[str] | None = None) -> Iterator[Record]:
    """Yield the validated records of an ``events.jsonl`` file (see :func:`parse_record`).

    A last line without its newline is a run killed or still writing: it is skipped.
    With ``types``, lines of other types (read from the line's start, as ``dumps`` writes
    records) are skipped without being decoded; any other line is decoded and checked, so a
    reader of a few types does not pay for the rest of the log.

    Raises:
        MalformedRecord: (a ``ValueError``) naming ``file:line`` for the first bad record.
    """
    wanted = None if types is None else {t.encode() for t in types}
    start = len(_LINE_START)
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            if not line.endswith(b"\n"):
                return  # a run killed or still writing: its last line is not complete yet
            if wanted is not None and line.startswith(_LINE_START):
                end = line.find(b'"', start)
                kind = line[start:end]
                if end > 0 and b"\\" not in kind and kind not in wanted:
                    continue
            yield parse_record(line, f"{path}:{lineno}")


def load_records(path: str | Path, *types: str) -> list[Record]:
    """Load all records (or only those of the given types) from ``events.jsonl``."""
    wanted = set(types)
    return [r for r in iter_records(path) if not wanted or r["type"] in wanted]
