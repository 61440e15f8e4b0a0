"""Each run's records as dicts again, from ``Runs.records`` tables, for across-runs sections.

The per-run statistics of the studies (``analysis.debate``, ``analysis.norms``,
``analysis.web_shop``) read records as ``events.jsonl`` holds them; an across-runs section
computes them run by run (the seed is the unit) from the tables of
:meth:`analysis.runs.Runs.records`, which also read a Parquet export.

Example:
    >>> plain(float("nan"), "score"), plain(3.0, "episode"), plain('{"a": 1}', "roles", True)
    (None, 3, {'a': 1})
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analysis.across import RunsLike

#: Record fields that number things: ints in the records, floats in a column with gaps.
INDEX_FIELDS = frozenset({"episode", "generation", "iteration", "round", "step", "iterations"})


def plain(value: Any, field: str, is_json: bool = False) -> Any:
    """A table cell as the record held it: None for a gap, ints for index fields, JSON
    objects decoded where the field is one (``Runs.records`` gives them as JSON text)."""
    if isinstance(value, float) and math.isnan(value):
        return None
    if field in INDEX_FIELDS and isinstance(value, float) and value.is_integer():
        return int(value)
    if is_json and isinstance(value, str):
        return json.loads(value)
    return value


def run_conditions(runs: RunsLike) -> dict[str, str]:
    """Each run's name -> its condition (the varying settings; "" when none vary)."""
    table = runs.runs()
    return {str(r): str(c) for r, c in zip(table["run"], table["condition"], strict=True)}


def records_by_run(
    runs: RunsLike,
    wanted: Mapping[str, Sequence[str]],
    json_fields: Collection[str] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Each run's records of the ``wanted`` types (type -> fields), type by type in the
    order given, each type in file order; a field the record lacks is left out.

    Args:
        runs: ``analysis.runs.load_runs(...)`` (or anything with its methods).
        wanted: record type -> the fields to read (names not ``run``, ``condition``, ``seed``).
        json_fields: fields holding objects or lists (decoded from their JSON text).
    """
    out: dict[str, list[dict[str, Any]]] = {run: [] for run in run_conditions(runs)}
    for record_type, fields in wanted.items():
        table = runs.records(record_type, list(fields))
        columns = {f: table[f].tolist() for f in fields}
        for i, run in enumerate(table["run"].tolist()):
            record: dict[str, Any] = {"type": record_type}
            for f in fields:
                value = plain(columns[f][i], f, f in json_fields)
                if value is not None:
                    record[f] = value
            out.setdefault(str(run), []).append(record)
    return out
