"""Sweeps: one experiment over a grid of settings and a list of seeds, one run per cell.

``agentsim sweep donor-game --seeds 0..9 --set env.multiplier=2,3`` plans 20 cells
(each value of each axis, times each seed), validates every cell's config, writes the
sweep directory's index ``sweep.json`` and then brings every cell's run directory to its
end (:mod:`agentsim.runtime.session`), on a local process pool or on Ray. Seeds are part
of the plan, fixed before anything is dispatched, so a cell's results do not depend on
the backend or the number of workers. A resumed sweep skips completed cells, continues
partial ones from their checkpoint and starts the others.

Cells with LLM agents run in this process, concurrently on one event loop, so that they
share one rate limiter and one budget per provider (:func:`shared_budgets`); Ray cannot
share them across machines, so LLM sweeps run on the local backend only.

Example:
    >>> seeds = parse_seeds("0..2,7")
    >>> grid, fixed = parse_sets(["env.multiplier=2,3", "run.generations=2"])
    >>> [(c.cell, c.seed, c.settings) for c in plan_cells(grid, seeds)][:2]
    [('c0000', 0, {'env.multiplier': '2'}), ('c0001', 1, {'env.multiplier': '2'})]
    >>> len(plan_cells(grid, seeds)), fixed
    (8, ['run.generations=2'])
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentsim.core.errors import ConfigError, UserError
from agentsim.runtime.session import Outcome, RunTask
from agentsim.runtime.session import check_backend as check_backend
from agentsim.runtime.session import run_cells as run_cells

INDEX = "sweep.json"
#: Keys that cannot be an axis: a sweep's cells share one budget and one rate limit per
#: provider.
_SHARED_KEYS = ("budget_calls", "budget_tokens", "budget_usd", "concurrency", "rpm", "tpm")
_MAX_CELLS = 1_000_000

# --- planning ------------------------------------------------------------------------------


def parse_seeds(spec: str) -> list[int]:
    """Seeds from ``0..99`` (inclusive), ``0,3,7`` or a mix (``0..9,20``), in order.

    Raises:
        ConfigError: naming ``--seeds`` for a malformed, negative, reversed or repeated seed.
    """
    allowed = "non-negative integers and inclusive ranges, e.g. 0..99 or 0,3,7 or 0..9,20"
    seeds: list[int] = []
    for part in spec.split(","):
        low, dots, high = part.strip().partition("..")
        try:
            first, last = int(low), int(high if dots else low)
        except ValueError:
            raise ConfigError("--seeds", spec, allowed) from None
        if first < 0 or last < first or len(seeds) + last - first >= _MAX_CELLS:
            raise ConfigError("--seeds", spec, allowed + f" (at most {_MAX_CELLS:,} seeds)")
        seeds.extend(range(first, last + 1))
    if len(set(seeds)) != len(seeds):
        raise ConfigError("--seeds", spec, allowed + ", each seed once")
    return seeds


def parse_sets(items: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Split ``--set`` items into grid axes (several values) and fixed settings (one value).

    Values are split on commas; a value list that contains ``|`` is split on ``|`` only
    (empty pieces dropped), for values that themselves contain commas:
    ``run.population=a:6,b:6|a:4,b:8`` is an axis of two populations, and
    ``run.population=a:6,b:6|`` one fixed population.

    Raises:
        ConfigError: for an item without ``=``, a key given twice or a repeated value.
    """
    grid: dict[str, list[str]] = {}
    fixed: list[str] = []
    seen: set[str] = set()
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError("--set", item, "KEY=VALUE or KEY=V1,V2,... (a grid axis)")
        if key in seen:
            raise ConfigError(key, raw, "one --set per key (list the values: KEY=V1,V2)")
        seen.add(key)
        values = [v for v in raw.split("|") if v] if "|" in raw else raw.split(",")
        if len(set(values)) != len(values):
            raise ConfigError(key, raw, "distinct values")
        if len(values) == 1:
            fixed.append(f"{key}={values[0]}")
        elif key.rpartition(".")[2] in _SHARED_KEYS:
            raise ConfigError(
                key, raw, "one value: a sweep's cells share one budget and rate limit"
            )
        else:
            grid[key] = values
    return grid, fixed


@dataclass(frozen=True)
class Cell:
    """One run of a sweep: its id (also its directory), seed and grid settings."""

    cell: str
    seed: int
    settings: dict[str, str]

    def overrides(self) -> list[str]:
        """The cell's grid settings as ``key=value`` items."""
        return [f"{k}={v}" for k, v in self.settings.items()]

    def condition(self) -> str:
        """The settings as one line (``env.k=v env.j=w``)."""
        return " ".join(self.overrides())


def plan_cells(grid: dict[str, list[str]], seeds: Sequence[int]) -> list[Cell]:
    """Every combination of the axes' values (in ``--set`` order) times every seed.

    A condition's seeds are consecutive cells; ids are ``c0000``, ``c0001``, ...
    """
    keys = list(grid)
    combos = list(itertools.product(*(grid[k] for k in keys)))
    if len(combos) * len(seeds) > _MAX_CELLS:
        raise ConfigError("--seeds", len(seeds), f"a grid of at most {_MAX_CELLS:,} cells")
    pairs = [(dict(zip(keys, combo, strict=True)), s) for combo in combos for s in seeds]
    return [Cell(f"c{i:04d}", seed, settings) for i, (settings, seed) in enumerate(pairs)]


@dataclass(frozen=True)
class Sweep:
    """A sweep's plan, as stored in ``sweep.json``.

    Attributes:
        experiment: the experiment every cell runs.
        seeds: the seeds, in order.
        grid: the axes: key -> values (strings, as given).
        fixed: ``key=value`` settings of every cell.
        model: ``--model`` (None: scripted agents).
        api_base: ``--api-base`` without credentials (None: LiteLLM's variables).
        cells: the cells, in index order.
    """

    experiment: str
    seeds: list[int]
    grid: dict[str, list[str]]
    fixed: list[str]
    model: str | None = None
    api_base: str | None = None
    cells: list[Cell] = field(default_factory=list)

    def overrides(self, cell: Cell) -> list[str]:
        """Everything ``agentsim run --set`` would take for this cell."""
        extra = [f"model={self.model}"] if self.model else []
        extra += [f"api_base={self.api_base}"] if self.api_base else []
        return [*self.fixed, *cell.overrides(), *extra]

    def uses_llm(self) -> bool:
        """Whether the cells have a model (``--model``, or an ``llm.model`` setting or axis)."""
        keys = [*self.grid, *(f.partition("=")[0] for f in self.fixed)]
        return self.model is not None or any(k.rpartition(".")[2] == "model" for k in keys)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": 1,
            "kind": "agentsim-sweep",
            "experiment": self.experiment,
            "seeds": self.seeds,
            "grid": self.grid,
            "fixed": self.fixed,
            "model": self.model,
            "api_base": self.api_base,
            "cells": [
                {"cell": c.cell, "dir": c.cell, "seed": c.seed, "settings": c.settings}
                for c in self.cells
            ],
        }

    @staticmethod
    def from_json(data: Any, where: Path) -> Sweep:
        """The plan of a ``sweep.json``; a malformed one is a UserError naming the file."""
        try:
            if data["kind"] != "agentsim-sweep" or data["format"] != 1:
                raise ValueError(f"kind={data['kind']!r} format={data['format']!r}")
            cells = [Cell(c["cell"], int(c["seed"]), dict(c["settings"])) for c in data["cells"]]
            return Sweep(
                str(data["experiment"]),
                [int(s) for s in data["seeds"]],
                {str(k): [str(v) for v in vs] for k, vs in data["grid"].items()},
                [str(f) for f in data["fixed"]],
                data.get("model"),
                data.get("api_base"),
                cells,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise UserError(f"{where} is not a sweep index ({type(exc).__name__}: {exc})") from None


def plan(
    experiment: str,
    seeds: str,
    sets: Sequence[str],
    *,
    model: str | None = None,
    api_base: str | None = None,
) -> tuple[Sweep, list[Any]]:
    """The sweep's plan and every cell's validated config (nothing is written).

    Raises:
        ConfigError: for the first invalid setting of any cell, naming the key.
    """
    from agentsim.llm.types import safe_api_base

    grid, fixed = parse_sets(sets)
    seed_list = parse_seeds(seeds)
    sweep = Sweep(experiment, seed_list, grid, fixed, model, api_base, plan_cells(grid, seed_list))
    configs = [_cell_config(sweep, c) for c in sweep.cells]
    # The index keeps no credentials: a resume takes --api-base again (as `agentsim run`).
    return dataclasses.replace(sweep, api_base=safe_api_base(api_base)), configs


def _cell_config(sweep: Sweep, cell: Cell) -> Any:
    from agentsim.runtime.experiment import make_config

    try:
        return make_config(sweep.experiment, cell.seed, sweep.overrides(cell))
    except ConfigError as exc:
        bare = exc.key.rpartition(".")[2]
        axis = next((k for k in cell.settings if k.rpartition(".")[2] == bare), None)
        if axis is None or exc.value is None:  # not about the axis' value (an unknown key)
            raise
        where = f"in cell {cell.cell}: {cell.condition()}"
        joined = ",".join(sweep.grid[axis])
        whole = Cell(cell.cell, cell.seed, {**cell.settings, axis: joined})
        try:  # did the user mean one value with commas?
            make_config(sweep.experiment, cell.seed, sweep.overrides(whole))
        except ConfigError:
            raise ConfigError(exc.key, exc.value, f"{exc.allowed} ({where})") from None
        raise ConfigError(
            exc.key,
            exc.value,
            f"{exc.allowed} ({where}; a --set value list is split on commas: for the one "
            f"value {joined!r} write --set '{axis}={joined}|')",
        ) from None


def create(parent: str | Path, sweep: Sweep) -> Path:
    """Make ``PARENT/<experiment>-sweep-<stamp>`` (suffixed if taken) and write its index."""
    from agentsim.runtime.rundir import write_json_atomic

    parent = Path(parent)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the --out folder {parent}: {exc.strerror}") from None
    for suffix in range(1, 10_000):
        name = f"{sweep.experiment}-sweep-{stamp}" + (f"-{suffix}" if suffix > 1 else "")
        try:
            (parent / name).mkdir()
        except FileExistsError:
            continue
        write_json_atomic(parent / name / INDEX, sweep.to_json())
        return parent / name
    raise UserError(f"cannot find a free sweep directory name in {parent}")


def load(path: str | Path) -> Sweep:
    """The plan of an existing sweep directory."""
    from agentsim.runtime.rundir import read_json

    index = Path(path) / INDEX
    if not index.is_file():
        raise UserError(f"{path} is not a sweep directory (no {INDEX})")
    try:
        data = read_json(index)
    except (OSError, ValueError) as exc:
        raise UserError(f"{index} cannot be read: {exc}") from None
    return Sweep.from_json(data, index)


def tasks(path: Path, sweep: Sweep, resume_overrides: Sequence[str] = ()) -> list[RunTask]:
    """One run task per cell, in index order."""
    return [
        RunTask(
            str(path / c.cell),
            sweep.experiment,
            c.seed,
            tuple(sweep.overrides(c)),
            tuple(resume_overrides),
        )
        for c in sweep.cells
    ]


# --- results -------------------------------------------------------------------------------


def results_table(sweep: Sweep, outcomes: Sequence[Outcome]) -> str:
    """One line per cell: cell, seed, settings and status."""
    rows = [("cell", "seed", "settings", "status")]
    for cell, outcome in zip(sweep.cells, outcomes, strict=True):
        status = outcome.status + (" (earlier)" if outcome.skipped else "")
        rows.append((cell.cell, str(cell.seed), cell.condition() or "-", status))
    return _columns(rows)


def plan_table(sweep: Sweep) -> str:
    """One line per cell: cell, seed and settings."""
    rows = [("cell", "seed", "settings")]
    rows += [(c.cell, str(c.seed), c.condition() or "-") for c in sweep.cells]
    return _columns(rows)


def _columns(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
    )


def estimate_total(configs: Sequence[Any]) -> dict[str, Any]:
    """The summed dry-run estimate of every cell (cost None when a cell's is unknown)."""
    from agentsim.runtime.llm_runtime import estimate

    total: dict[str, Any] = {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0}
    cost: float | None = 0.0
    for config in configs:
        e = estimate(config)
        for key in total:
            total[key] += e[key]
        cost = None if cost is None or e["cost_usd"] is None else cost + e["cost_usd"]
    return {**total, "cost_usd": cost}
