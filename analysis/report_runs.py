"""The report of many runs (a sweep directory, or several run directories), for
:mod:`analysis.report`.

Runs are read through ``analysis.runs.load_runs`` and summarised by ``analysis.across``:
:func:`report_runs_json` gives the runs table, LLM totals, the across-runs statistics and the
papers' comparison (``analysis.papers``); :func:`report_runs_text` prints them, every line
through ``analysis.report.escape_control``. Every name here is also importable from
:mod:`analysis.report`.

Example:
    >>> table_rows({"run": ["a", "b"], "seed": [1, 2]})
    [{'run': 'a', 'seed': 1}, {'run': 'b', 'seed': 2}]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: The status shown for a run without ``summary.json`` (as ``analysis.across`` counts it).
NO_SUMMARY = "no summary"


def report_runs_json(paths: Sequence[str | Path] | str | Path) -> dict[str, Any]:
    """Statistics of many runs, JSON-ready: the runs table, LLM totals, across-runs statistics.

    Raises:
        UserError: when no run directory is found under ``paths``.
    """
    from analysis.across import across_statistics
    from analysis.papers import DISCLAIMER, paper_comparison
    from analysis.runs import load_runs

    runs = load_runs(_as_paths(paths))
    across = across_statistics(runs)
    return {
        "runs": table_rows(runs.runs()),
        "conditions": runs.conditions(),
        "llm": llm_totals(runs.summaries()),
        "across": across,
        "paper_comparison": {
            env: {"disclaimer": DISCLAIMER, "rows": paper_comparison(env, across)}
            for env in across["envs"]
        },
    }


def report_runs_text(paths: Sequence[str | Path] | str | Path) -> str:
    """A plain-text report of many runs: their status, LLM totals and across-runs statistics."""
    from analysis.across import across_text
    from analysis.papers import paper_comparison_text
    from analysis.report import escape_control  # late: analysis.report imports this module

    stats = report_runs_json(paths)
    lines = [*runs_lines(stats["runs"], stats["conditions"]), ""]
    lines += [*across_text(stats["across"]).splitlines(), ""]
    for env, comparison in stats["paper_comparison"].items():
        if comparison["rows"]:
            lines += [f"== {env}", *paper_comparison_text(comparison["rows"]).splitlines(), ""]
    lines.append(totals_line(stats["llm"]))
    return "\n".join(escape_control(line) for line in lines)


def _as_paths(paths: Sequence[str | Path] | str | Path) -> list[Path]:
    return [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]


def table_rows(table: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A tidy table (equal-length columns) as JSON-ready rows."""
    columns = {k: [_plain(v) for v in col] for k, col in table.items()}
    n = len(next(iter(columns.values()), []))
    return [{k: col[i] for k, col in columns.items()} for i in range(n)]


def _plain(v: Any) -> Any:
    # numpy scalars have .item(); JSON needs Python ints, floats and strings.
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and not math.isfinite(v) else v


def llm_totals(summaries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """LLM accounting summed over runs' ``summary.json`` (cost None if any run's is unknown)."""
    from analysis.report import FAILED_PARSE, _total  # late: analysis.report imports this module

    totals: Counter[str] = Counter()
    costs = []
    for s in summaries:
        llm = s.get("llm") or {}
        for k in ("calls", "attempts", "errors", "cached", "prompt_tokens", "completion_tokens"):
            totals[k] += int(llm.get(k) or 0)
        costs.append(llm.get("cost_usd") if s else None)
        totals["decisions_fallback"] += int((s.get("decisions") or {}).get(FAILED_PARSE, 0))
    return {**dict(totals), "cost_usd": _total(costs), "runs": len(summaries)}


def runs_lines(rows: Sequence[Mapping[str, Any]], conditions: Sequence[str]) -> list[str]:
    """One line per run: name, seed, condition, status, stop reason, episodes."""
    from analysis.report import _counts  # late: analysis.report imports this module

    # A run without summary.json (still running, or killed) has status "".
    status = Counter(str(r.get("status") or NO_SUMMARY) for r in rows)
    envs = sorted({str(r.get("env_id")) for r in rows})
    lines = [
        f"{len(rows)} runs of {', '.join(envs)}; status: {_counts(dict(sorted(status.items())))}",
        f"varying settings: {', '.join(conditions) or 'none'}",
        f"  {'run':<32} {'seed':>6}  {'status':<10} {'stop reason':<14} {'episodes':>8}  condition",
    ]
    for r in rows:
        lines.append(
            f"  {r.get('run')!s:<32} {r.get('seed')!s:>6}  {r.get('status') or NO_SUMMARY!s:<10} "
            f"{r.get('stop_reason') or '-'!s:<14} {r.get('episodes_completed')!s:>8}  "
            f"{r.get('condition') or '-'}"
        )
    return lines


def totals_line(llm: Mapping[str, Any]) -> str:
    """LLM totals over many runs as one line."""
    cost = "cost unknown" if llm.get("cost_usd") is None else f"${llm['cost_usd']:.4f}"
    return (
        f"LLM over {llm.get('runs', 0)} runs: {llm.get('calls', 0)} calls "
        f"({llm.get('attempts', 0)} attempts, {llm.get('errors', 0)} failed, "
        f"{llm.get('cached', 0)} cached); tokens {llm.get('prompt_tokens', 0)} prompt + "
        f"{llm.get('completion_tokens', 0)} completion; {cost}; "
        f"decision parse failures {llm.get('decisions_fallback', 0)}"
    )
