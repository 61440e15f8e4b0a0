"""Statistics across many runs (seeds and conditions), for every environment.

The generic part needs no registration: from each run's ``summary.json`` it takes every
numeric scalar figure (nested dicts flattened to dotted names, the runtime's accounting keys
left out) and every numeric field of every per-episode list (``generations``, ``episodes``,
``steps``), and gives, per env id and per condition (the settings that vary between the runs),
the mean, a percentile bootstrap 95% interval across seeds (Efron 1979), the t-interval and n;
then each condition against the first one: the mean difference with its bootstrap interval
and Hedges' g with its interval (Hedges & Olkin 1985). Runs of several envs are grouped by env.

An env adds its own statistics over many runs by registering an :class:`AcrossSection`
(``register_across``), as its single-run statistics register a ``report.Section``.

Example:
    >>> from analysis.runs import load_runs  # doctest: +SKIP
    >>> stats = across_statistics(load_runs("sweeps/donor"))  # doctest: +SKIP
    >>> print(across_text(stats))  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeGuard

import numpy as np

from agentsim.core.registry import Registry
from analysis.stats import describe, describe_many, hedges_g, mean_difference_ci

#: A tidy table: equal-length 1-d columns (``analysis.runs.Table``).
Table = dict[str, np.ndarray]

#: The summary keys the runtime owns (``agentsim.runtime.summary.GENERIC_KEYS``; analysis may
#: import only ``agentsim.core``, hence the copy): accounting, not a study's figures.
GENERIC_KEYS = frozenset(
    {"env_id", "status", "stop_reason", "episodes_completed", "decisions", "llm"}
)
#: Fields that number the items of a per-episode list; the first present is the item's index.
INDEX_FIELDS = ("generation", "episode", "step", "iteration", "round")


class RunsLike(Protocol):
    """What the across-runs statistics read of ``analysis.runs.Runs``."""

    paths: list[Path]

    # The methods are documented in analysis.runs.
    def runs(self) -> Table: ...

    def conditions(self) -> list[str]: ...

    def summaries(self) -> list[dict[str, Any]]: ...

    def series(self, key: str) -> Table: ...

    def records(self, type: str, fields: Sequence[str] | None = None) -> Table: ...

    def sql(self, query: str) -> Table: ...

    def subset(self, rows: Sequence[int]) -> RunsLike: ...


@dataclass(frozen=True)
class AcrossSection:
    """One env's part of the statistics over many runs.

    Attributes:
        name: the key of the section's statistics under ``envs[env_id]["sections"]``.
        statistics: ``statistics(runs) -> dict`` (JSON-ready) over runs of that env only.
        text: ``text(statistics) -> str``: the section as plain text.
    """

    name: str
    statistics: Callable[[RunsLike], dict[str, Any]]
    text: Callable[[Mapping[str, Any]], str]


def _load_builtins(registry: Registry[list[AcrossSection]]) -> None:
    # Each module registers its sections on import.
    import analysis.cooperation  # noqa: F401
    from analysis import debate_across, norm_fitness_across, web_shop_across  # noqa: F401


ACROSS: Registry[list[AcrossSection]] = Registry("across-runs env", _load_builtins)


def register_across(env_id: str, section: AcrossSection) -> None:
    """Add a section to the statistics over many runs of ``env_id`` (a same-named one is
    replaced; sections print in order)."""
    current = ACROSS.get(env_id) if env_id in ACROSS else []
    ACROSS.register(env_id, [*(s for s in current if s.name != section.name), section])


def unregister_across(env_id: str) -> None:
    """Forget every across-runs section of ``env_id``."""
    ACROSS.unregister(env_id)


def across_sections(env_id: str | None) -> list[AcrossSection]:
    """The registered across-runs sections of an env (none for an unknown env)."""
    return ACROSS.get(env_id) if env_id is not None and env_id in ACROSS else []


def across_statistics(runs: RunsLike, *, resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Statistics of many runs, JSON-ready, grouped by env id then condition.

    Args:
        runs: ``analysis.runs.load_runs(...)`` (or anything with its methods).
        resamples: bootstrap resamples per interval.
        seed: the bootstrap's seed (the same statistics for the same runs and seed).

    Returns:
        ``{"runs": n, "envs": {env_id: {"runs", "condition_keys", "conditions", "status",
        "accounting", "figures", "series", "baseline", "comparisons", "sections"}}}``, where
        ``figures[condition][name]`` is ``{"mean", "ci95", "t_ci95", "n"}`` (``ci95`` the
        bootstrap interval, ``t_ci95`` the t-interval, None below 2 runs; intervals are
        ``[low, high]``), ``series[key][field][condition]`` a list of such cells with their
        ``index`` (the item's generation/episode/step, else its 1-based position),
        ``comparisons[condition][name]`` is ``{"difference", "difference_ci95", "hedges_g",
        "hedges_g_ci95", "n": [n, n_baseline]}`` of that condition against ``baseline`` (the
        first condition in run order), ``status[condition]`` counts runs by status,
        ``accounting[condition]`` sums LLM calls, errors, cost and decisions, and
        ``sections[name]`` holds each registered :class:`AcrossSection`'s statistics.
    """
    table, summaries = runs.runs(), runs.summaries()
    envs = [str(e) for e in table["env_id"]]
    out: dict[str, Any] = {"runs": len(envs), "envs": {}}
    for env in _unique(envs):
        rows = [i for i, e in enumerate(envs) if e == env]
        group = _Group(
            [str(table["condition"][i]) for i in rows],
            [str(table["status"][i]) or "no summary" for i in rows],
            [summaries[i] for i in rows],
            resamples,
            seed,
        )
        stats = group.statistics()
        sections = across_sections(env)
        view = runs if len(rows) == len(envs) else _subset(runs, rows)
        stats["condition_keys"] = view.conditions()  # those that vary within this env
        stats["sections"] = {s.name: s.statistics(view) for s in sections}
        out["envs"][env] = stats
    return out


def _subset(runs: RunsLike, rows: list[int]) -> RunsLike:
    # An env's section sees that env's runs only (names kept; works on a Parquet export).
    return runs.subset(rows)


@dataclass
class _Group:
    """The runs of one env: their conditions, statuses and summaries, row-aligned."""

    conditions: list[str]
    statuses: list[str]
    summaries: list[dict[str, Any]]
    resamples: int
    seed: int

    def statistics(self) -> dict[str, Any]:
        order = _unique(self.conditions)
        figures = {c: self._figures(c) for c in order}
        return {
            "runs": len(self.conditions),
            "conditions": order,
            "status": {c: dict(sorted(Counter(self._of(c, self.statuses)).items())) for c in order},
            "accounting": {c: _accounting(self._of(c, self.summaries)) for c in order},
            "figures": {c: {k: self.cell(v) for k, v in f.items()} for c, f in figures.items()},
            "series": self._series(order),
            "baseline": order[0] if order else None,
            "comparisons": {c: self._compare(figures[c], figures[order[0]]) for c in order[1:]},
        }

    def _of(self, condition: str, values: Sequence[Any]) -> list[Any]:
        return [v for c, v in zip(self.conditions, values, strict=True) if c == condition]

    def cell(self, values: Sequence[float]) -> dict[str, Any]:
        return describe(values, resamples=self.resamples, seed=self.seed)

    def _figures(self, condition: str) -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        for summary in self._of(condition, self.summaries):
            for name, value in scalar_figures(summary).items():
                out.setdefault(name, []).append(value)
        return dict(sorted(out.items()))

    def _series(self, order: list[str]) -> dict[str, Any]:
        places, groups = [], []
        for c in order:
            for key, fields in _episode_lists(self._of(c, self.summaries)).items():
                for field, by_index in fields.items():
                    for i, values in sorted(by_index.items()):
                        places.append((key, field, c, i))
                        groups.append(values)
        cells = describe_many(groups, resamples=self.resamples, seed=self.seed)
        out: dict[str, Any] = {}
        for (key, field, c, i), cell in zip(places, cells, strict=True):
            rows = out.setdefault(key, {}).setdefault(field, {}).setdefault(c, [])
            rows.append({"index": i, **cell})
        return out

    def _compare(self, now: Mapping[str, list[float]], base: Mapping[str, list[float]]) -> Any:
        out = {}
        for name in sorted(set(now) & set(base)):
            diff, ci = mean_difference_ci(now[name], base[name], 0.95, self.resamples, self.seed)
            g, g_ci = hedges_g(now[name], base[name])
            out[name] = {
                "difference": diff,
                "difference_ci95": ci,
                "hedges_g": g,
                "hedges_g_ci95": g_ci,
                "n": [len(now[name]), len(base[name])],
            }
        return out


def scalar_figures(summary: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Every finite numeric scalar of a summary, nested dicts as dotted names, without the
    runtime's accounting keys (booleans, text, lists and None are not figures).

    Example:
        >>> scalar_figures({"status": "completed", "final": 3, "rates": {"AC-R": 0.5, "x": None}})
        {'final': 3.0, 'rates.AC-R': 0.5}
    """
    out: dict[str, float] = {}
    for key, value in summary.items():
        if not prefix and key in GENERIC_KEYS:
            continue
        if isinstance(value, Mapping):
            out.update(scalar_figures(value, f"{prefix}{key}."))
        elif _is_number(value):
            out[f"{prefix}{key}"] = float(value)
    return out


def _is_number(value: Any) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _episode_lists(
    summaries: Iterable[Mapping[str, Any]],
) -> dict[str, dict[str, dict[int, list[float]]]]:
    """key -> field -> item index -> values over runs, of every list of dicts in the summaries."""
    out: dict[str, dict[str, dict[int, list[float]]]] = {}
    for summary in summaries:
        for key, items in summary.items():
            if key in GENERIC_KEYS or not isinstance(items, list):
                continue
            for position, item in enumerate(items):
                if isinstance(item, Mapping):
                    _add_item(out.setdefault(key, {}), item, position)
    return {k: dict(sorted(v.items())) for k, v in out.items() if v}


def _add_item(fields: dict[str, dict[int, list[float]]], item: Mapping[str, Any], pos: int) -> None:
    # Items are matched across runs by their own number (generation 3 with generation 3),
    # or by their position (1-based) where they carry none.
    named = next((f for f in INDEX_FIELDS if isinstance(item.get(f), int)), None)
    index = int(item[named]) if named else pos + 1
    for field, value in item.items():
        if field != named and _is_number(value):
            fields.setdefault(field, {}).setdefault(index, []).append(float(value))


def _accounting(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """LLM calls, errors and cost (None if any run's cost is unknown), decisions by status."""
    calls = errors = 0
    cost: float | None = 0.0
    decisions: Counter[str] = Counter()
    for s in summaries:
        llm = s.get("llm") or {}
        calls += int(llm.get("calls", 0))
        errors += int(llm.get("errors", 0))
        run_cost = llm.get("cost_usd")
        cost = cost + float(run_cost) if cost is not None and _is_number(run_cost) else None
        decisions.update({str(k): int(v) for k, v in (s.get("decisions") or {}).items()})
    return {
        "llm_calls": calls,
        "llm_errors": errors,
        "cost_usd": cost,
        "decisions": dict(sorted(decisions.items())),
    }


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


# ---- text ---------------------------------------------------------------------------------


def across_text(stats: Mapping[str, Any]) -> str:
    """The across-runs statistics as plain-text tables (control characters escaped)."""
    from analysis.report import escape_control

    lines = [f"{stats['runs']} runs"]
    for env, env_stats in stats["envs"].items():
        lines += ["", *_env_text(env, env_stats)]
        for section in across_sections(env):
            if section.name in env_stats["sections"]:
                lines += ["", *section.text(env_stats["sections"][section.name]).splitlines()]
    return "\n".join(escape_control(line) for line in lines)


def _env_text(env: str, s: Mapping[str, Any]) -> list[str]:
    conds = s["conditions"]
    label = {c: f"#{i + 1}" for i, c in enumerate(conds)}
    lines = [f"== {env}: {s['runs']} runs, {len(conds)} condition(s)"]
    lines += [f"  {label[c]} = {c or '(all runs)'}" for c in conds]
    for c in conds:
        status = ", ".join(f"{k} {v}" for k, v in s["status"][c].items())
        acc = s["accounting"][c]
        lines.append(
            f"  {label[c]} status: {status}; LLM calls {acc['llm_calls']} "
            f"({acc['llm_errors']} failed), cost {_cost(acc['cost_usd'])}; "
            f"decisions {acc['decisions']}"
        )
    # Below ~20 runs the percentile bootstrap under-covers; the t-interval stands beside it.
    lines.append("")
    lines.append(
        f"{'figure':<32} {'cond':>5} {'mean':>12} {'bootstrap 95% CI':>26} {'n':>5} "
        f"{'t 95% CI':>26}"
    )
    for c in conds:
        for name, cell in s["figures"][c].items():
            t_ci = _interval(cell["t_ci95"])
            lines.append(f"{name:<32} {label[c]:>5} {_cell(cell)} {t_ci:>26}")
    lines += _series_text(s["series"], label)
    lines += _comparison_text(s["comparisons"], label, s["baseline"])
    return lines


def _series_text(series: Mapping[str, Any], label: Mapping[str, str]) -> list[str]:
    lines = []
    for key, fields in series.items():
        for field, by_cond in fields.items():
            lines += ["", f"{key}: {field} (mean, bootstrap 95% CI, n)"]
            for c, rows in by_cond.items():
                for row in rows:
                    lines.append(f"  {label[c]:>5} {row['index']:>6} {_cell(row)}")
    return lines


def _comparison_text(
    comparisons: Mapping[str, Any], label: Mapping[str, str], baseline: str | None
) -> list[str]:
    if not comparisons or baseline is None:
        return []
    lines = [
        "",
        f"against {label[baseline]} (difference of means, bootstrap 95% CI; Hedges' g, 95% CI)",
    ]
    for c, figures in comparisons.items():
        for name, v in figures.items():
            lines.append(
                f"  {label[c]:>5} {name:<32} {fmt_number(v['difference']):>12} "
                f"{_interval(v['difference_ci95']):>26}  g {fmt_number(v['hedges_g']):>8} "
                f"{_interval(v['hedges_g_ci95'])}"
            )
    return lines


def _cell(cell: Mapping[str, Any]) -> str:
    return f"{fmt_number(cell['mean']):>12} {_interval(cell['ci95']):>26} {cell['n']:>5}"


def fmt_number(x: float | None) -> str:
    """A number for the text tables: 4 significant digits, whole numbers from 10,000 up.

    Example:
        >>> fmt_number(0.123456), fmt_number(204576.3), fmt_number(None)
        ('0.1235', '204576', '-')
    """
    if x is None:
        return "-"
    return f"{x:.0f}" if abs(x) >= 1e4 else f"{x:.4g}"


def _interval(ci: Sequence[float] | None) -> str:
    return "(no CI)" if ci is None else f"[{fmt_number(ci[0])}, {fmt_number(ci[1])}]"


def _cost(cost: float | None) -> str:
    return "unknown" if cost is None else f"${cost:.4f}"
