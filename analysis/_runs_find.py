"""Finding and reading run directories for :func:`analysis.runs.load_runs`.

Run, sweep and plain directories are searched for runs (``config.json`` + ``events.jsonl``);
configs are flattened into the settings that make conditions, and Python values become numpy
columns. Private to :mod:`analysis.runs`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass(frozen=True)
class _Run:
    """One run as the tables see it: its unique name, directory, sweep cell and JSON files."""

    name: str
    path: Path
    cell: str
    config: dict[str, Any]
    summary: dict[str, Any]


def _is_run_dir(path: Path) -> bool:
    return (path / "config.json").is_file() and (path / "events.jsonl").is_file()


def _find_runs(path: Path) -> Iterator[tuple[Path, str]]:
    """(run directory, sweep cell or "") under ``path``, in a stable order."""
    if _is_run_dir(path):
        yield path, ""
    elif (path / "sweep.json").is_file():
        yield from _sweep_cells(path)
    elif path.is_dir():
        for child in sorted(p for p in path.iterdir() if p.is_dir()):
            yield from _find_runs(child)


def _sweep_cells(sweep: Path) -> Iterator[tuple[Path, str]]:
    from analysis.runs import NoRuns  # late: analysis.runs imports this module

    try:
        index = json.loads((sweep / "sweep.json").read_text(encoding="utf-8"))
        cells = [(str(c["cell"]), sweep / str(c["dir"])) for c in index["cells"]]
    except (ValueError, KeyError, TypeError) as exc:
        raise NoRuns(f"{sweep / 'sweep.json'}: not a sweep index ({exc})") from None
    for cell, directory in cells:  # a cell not run yet has no run directory: skipped
        for path, _ in _find_runs(directory):
            yield path, cell


def _unique_names(paths: list[Path]) -> dict[Path, str]:
    """Each run's directory name, with as many parents as it takes to tell two apart."""
    depth = dict.fromkeys(paths, 1)
    while True:
        names = {p: "/".join(p.parts[-depth[p] :]) for p in paths}
        seen: dict[str, list[Path]] = {}
        for p, name in names.items():
            seen.setdefault(name, []).append(p)
        clashes = [p for group in seen.values() if len(group) > 1 for p in group]
        if not clashes:
            return names
        for p in clashes:
            depth[p] += 1


def _read_json(path: Path) -> dict[str, Any]:
    from analysis.runs import NoRuns  # late: analysis.runs imports this module

    if not path.is_file():
        return {}
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        raise NoRuns(f"{path}: not valid JSON") from None
    return value if isinstance(value, dict) else {}


def _read_run(path: Path, name: str, cell: str) -> _Run:
    return _Run(
        name, path, cell, _read_json(path / "config.json"), _read_json(path / "summary.json")
    )


def _flatten(config: dict[str, Any]) -> dict[str, Any]:
    """``{"env.agents": 12, ...}`` for the condition-making sections of a config."""
    from analysis.runs import SETTING_SECTIONS  # late: analysis.runs imports this module

    flat: dict[str, Any] = {}
    stack = [(s, config[s]) for s in SETTING_SECTIONS if isinstance(config.get(s), dict)]
    while stack:
        prefix, section = stack.pop()
        for key, value in section.items():
            if isinstance(value, dict):
                stack.append((f"{prefix}.{key}", value))
            else:
                flat[f"{prefix}.{key}"] = value
    return flat


def _setting_text(value: Any) -> str:
    """How a setting reads in a condition: 2.0 as "2", strings bare, the rest as JSON."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True)


def _varying_keys(flats: Sequence[dict[str, Any]], env_ids: Sequence[str]) -> list[str]:
    """Settings that differ between runs of the same env (absent counts as a value), less
    those that do not change decisions (``analysis.runs.NON_CONDITION_KEYS``)."""
    from analysis.runs import NON_CONDITION_KEYS  # late: analysis.runs imports this module

    groups: dict[str, list[dict[str, Any]]] = {}
    for flat, env_id in zip(flats, env_ids, strict=True):
        groups.setdefault(env_id, []).append(flat)
    varying: set[str] = set(NON_CONDITION_KEYS)  # never tested, removed below
    for group in groups.values():
        for key in set().union(*group) - varying:
            first = group[0].get(key, _ABSENT)
            if any(f.get(key, _ABSENT) != first for f in group):
                varying.add(key)
    return sorted(varying - NON_CONDITION_KEYS)


_ABSENT = "\x00absent"  # a setting one run of an env has and another lacks


def _column(values: Sequence[Any]) -> np.ndarray:
    """A numpy column: int64, float64 (None -> NaN) or bool where the values allow, else object."""
    present = [v for v in values if v is not None]
    kinds = {type(v) for v in present}
    if present and kinds == {bool} and len(present) == len(values):
        return np.array(values, dtype=bool)
    if present and kinds <= {int, float}:
        if kinds == {int} and len(present) == len(values):
            return np.array(values, dtype=np.int64)
        return np.array([math.nan if v is None else v for v in values], dtype=np.float64)
    column = np.empty(len(values), dtype=object)
    column[:] = [v if v is None or isinstance(v, str) else json.dumps(v) for v in values]
    return column


def _text(values: Iterable[Any]) -> np.ndarray:
    column = np.empty(len(values := list(values)), dtype=object)
    column[:] = values
    return column
