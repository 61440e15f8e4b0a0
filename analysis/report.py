"""Text report and JSON statistics of one run directory's events, or of many runs, for any env.

The report dispatches on the run's env id (``config.json``): every study's statistics
live in ``analysis/<name>.py`` and register their sections here with
:func:`register_section`; a new environment gets its report by registering, not by
editing this module. A run of an env with no section still gets the generic part
(status and stop reason, records by type, decisions by parse status, judge parse
failures, LLM calls, tokens, cost and latency).

Many runs (a sweep directory, or several run directories) are reported through
``analysis.runs.load_runs`` and ``analysis.across``: :func:`report_runs_text` and
:func:`report_runs_json`; :func:`report_text` and :func:`report_json` pick one or the
other from the paths given, as ``agentsim report PATH [PATH ...]`` does.

Everything the text report prints from a run's files goes through :func:`escape_control`:
a config or event log is data anyone may have written, and must not drive the terminal.

Example:
    >>> from analysis.report import generic_statistics
    >>> records = [{"type": "decision", "parse_status": "fallback"},
    ...            {"type": "run_end", "status": "stopped", "reason": "budget",
    ...             "episodes_completed": 3}]
    >>> s = generic_statistics(records)
    >>> s["status"], s["stop_reason"], s["parse_failures"]
    ('stopped', 'budget', {'decisions': 1, 'judgements': 0})
"""

from __future__ import annotations

import importlib
import json
import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError
from agentsim.core.records import Record, load_records
from agentsim.core.registry import Registry

# The many-runs report lives in analysis.report_runs; its names are importable here.
from analysis.report_runs import llm_totals as llm_totals
from analysis.report_runs import report_runs_json as report_runs_json
from analysis.report_runs import report_runs_text as report_runs_text
from analysis.report_runs import runs_lines as runs_lines
from analysis.report_runs import table_rows as table_rows
from analysis.report_runs import totals_line as totals_line

#: A parse status that means the reply could not be read (the agent's or judge's fallback).
FAILED_PARSE = "fallback"


@dataclass(frozen=True)
class Section:
    """One part of a run's report.

    Attributes:
        name: the key of the section's statistics in the JSON report.
        statistics: ``statistics(records) -> dict`` (JSON-ready).
        text: ``text(statistics) -> str``: the section as plain text.
        derive: for a section built from the other sections' statistics (the paper
            comparison), ``derive(run_statistics) -> dict``: a whole report then computes it
            from what it has, instead of computing those sections again.
    """

    name: str
    statistics: Callable[[Sequence[Record]], dict[str, Any]]
    text: Callable[[Mapping[str, Any]], str]
    derive: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None


#: The modules that register report sections, in report order: the studies' own first, then
#: the sections every study gets (networks, paper comparison, the heatmap's lineage).
_SECTION_MODULES = (
    "cooperation", "debate", "norms", "persuasion", "web_shop", "networks", "papers", "plots",
)  # fmt: skip


def _load_builtins(registry: Registry[list[Section]]) -> None:
    for name in _SECTION_MODULES:  # each registers its sections on import
        importlib.import_module(f"analysis.{name}")


SECTIONS: Registry[list[Section]] = Registry("report env", _load_builtins)


def register_section(env_id: str, section: Section) -> None:
    """Add a section to the report of ``env_id``'s runs (sections print in order)."""
    current = SECTIONS.get(env_id) if env_id in SECTIONS else []
    SECTIONS.register(env_id, [*(s for s in current if s.name != section.name), section])


def unregister_sections(env_id: str) -> None:
    """Forget every section of ``env_id`` (its study is being removed)."""
    SECTIONS.unregister(env_id)


def sections_of(env_id: str | None) -> list[Section]:
    """The registered sections of an env (none for an unknown env)."""
    return SECTIONS.get(env_id) if env_id is not None and env_id in SECTIONS else []


# ---------------------------------------------------------------- one run: generic part


def generic_statistics(records: Sequence[Record]) -> dict[str, Any]:
    """What every run has: status, records by type, parse statuses, LLM accounting.

    ``llm_calls`` and ``llm_errors`` are kept for earlier readers; ``llm`` has the full
    accounting (see :func:`llm_accounting`). Without a ``run_end`` record (a run still
    running, or killed) the status is "incomplete" and ``episodes_completed`` counts the
    episodes (generations) ended so far.
    """
    types = Counter(r["type"] for r in records)
    parse = Counter(r.get("parse_status") for r in records if r["type"] == "decision")
    judged = judgement_statuses(records)
    calls = [r for r in records if r["type"] == "llm_call"]
    end = next((r for r in reversed(records) if r["type"] == "run_end"), None)
    return {
        "status": end["status"] if end else "incomplete",
        "stop_reason": end.get("reason") if end else None,
        # No run_end yet (a run still running, or killed): the episodes ended so far.
        "episodes_completed": end.get("episodes_completed")
        if end
        else max(types["generation_end"], types["episode_end"]),
        "records": dict(sorted(types.items())),
        "decisions": {str(k): v for k, v in sorted(parse.items(), key=lambda kv: str(kv[0]))},
        "judgements": judged,
        "parse_failures": {
            "decisions": parse.get(FAILED_PARSE, 0),
            "judgements": sum(by.get(FAILED_PARSE, 0) for by in judged.values()),
        },
        "llm_calls": len(calls),
        "llm_errors": sum(r.get("error") is not None for r in calls),
        "llm": llm_accounting(calls),
    }


def judgement_statuses(records: Iterable[Record]) -> dict[str, dict[str, int]]:
    """Judgements by judge and parse status (``fallback``: the judge's reply was unreadable)."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for r in records:
        if r["type"] == "judgement":
            out[str(r.get("judge"))][str(r.get("parse_status"))] += 1
    return {judge: dict(sorted(c.items())) for judge, c in sorted(out.items())}


def llm_accounting(calls: Sequence[Record]) -> dict[str, Any]:
    """Calls, attempts, errors, cache hits, tokens, cost and latency of ``llm_call`` records.

    ``cost_usd`` is None when a charged call's cost is unknown (as ``summary.json`` says).
    Latency counts only calls that reached a provider (a cache hit takes no time), as the
    mean and the 95th percentile in seconds (None without such calls).

    Example:
        >>> calls = [{"attempts": 1, "error": None, "cached": False, "latency_s": 1.0,
        ...           "prompt_tokens": 10, "completion_tokens": 2, "cost_usd": 0.5},
        ...          {"attempts": 0, "error": None, "cached": True, "latency_s": 0.0,
        ...           "prompt_tokens": 10, "completion_tokens": 2, "cost_usd": 0.0}]
        >>> a = llm_accounting(calls)
        >>> a["calls"], a["cached"], a["cost_usd"], a["latency_mean_s"], a["latency_n"]
        (2, 1, 0.5, 1.0, 1)
    """
    charged = [r for r in calls if r.get("error") is None]
    costs = [r.get("cost_usd") for r in charged]
    latencies = [
        float(r["latency_s"])
        for r in calls
        if not r.get("cached") and _is_number(r.get("latency_s"))
    ]
    return {
        "calls": len(calls),
        "attempts": sum(int(r.get("attempts") or 0) for r in calls),
        "errors": len(calls) - len(charged),
        "cached": sum(bool(r.get("cached")) for r in calls),
        "prompt_tokens": sum(int(r.get("prompt_tokens") or 0) for r in calls),
        "completion_tokens": sum(int(r.get("completion_tokens") or 0) for r in calls),
        "cost_usd": _total(costs),
        "latency_mean_s": sum(latencies) / len(latencies) if latencies else None,
        "latency_p95_s": _percentile(latencies, 95) if latencies else None,
        "latency_n": len(latencies),
        "by_purpose": _by_purpose(calls),
    }


def _by_purpose(calls: Sequence[Record]) -> dict[str, dict[str, int]]:
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for r in calls:
        c = out[str(r.get("purpose"))]
        c["calls"] += 1
        c["errors"] += r.get("error") is not None
    return {k: dict(v) for k, v in sorted(out.items())}


def _total(costs: Sequence[Any]) -> float | None:
    """The sum of known costs, or None when any is unknown."""
    if any(c is None for c in costs):
        return None
    return round(sum(float(c) for c in costs), 10)


def _is_number(v: Any) -> bool:
    return type(v) in (int, float) and math.isfinite(v)


def _percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolation percentile (numpy's default), without importing numpy here."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def run_statistics(events_path: str | Path, env_id: str | None = None) -> dict[str, Any]:
    """All statistics of one run, JSON-ready: the generic part and the env's sections."""
    return statistics_of(load_records(events_path), env_id)


def statistics_of(records: Sequence[Record], env_id: str | None = None) -> dict[str, Any]:
    """:func:`run_statistics` of records already loaded."""
    env_id = env_id or _env_of(records)
    out: dict[str, Any] = {"env_id": env_id, "run": generic_statistics(records)}
    sections = sections_of(env_id)
    for section in sections:
        out[section.name] = None if section.derive else section.statistics(records)
    for section in sections:
        if section.derive is not None:
            others = {k: v for k, v in out.items() if v is not None or k in ("env_id", "run")}
            out[section.name] = section.derive(others)
    return out


def _env_of(records: Sequence[Record]) -> str | None:
    start = next((r for r in records if r["type"] == "run_start"), None)
    env = start.get("env") if start else None
    return env if isinstance(env, str) else None


def escape_control(text: str) -> str:
    """``text`` with every non-printable character (ANSI escapes, bidi overrides) escaped.

    Example:
        >>> print(escape_control("red " + chr(27) + "[31m text" + chr(0x202E)))
        red \\x1b[31m text\\u202e
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


# ---------------------------------------------------------------- one run: text


def text_report(
    events_path: str | Path,
    config: Mapping[str, Any] | None = None,
    summary: Mapping[str, Any] | None = None,
) -> str:
    """A plain-text report: the run's header, the env's sections, the generic tallies.

    ``summary`` (the run's ``summary.json``) adds its headline figures to the header.

    Raises:
        MalformedRecord: (a ``ValueError``) naming ``file:line`` of a bad record.
    """
    env_id = config.get("env_id") if isinstance(config, Mapping) else None
    stats = run_statistics(events_path, env_id if isinstance(env_id, str) else None)
    lines = []
    if isinstance(config, Mapping) and config:
        lines.append(
            f"experiment {config.get('experiment')}  seed {config.get('seed')}  "
            f"env {config.get('env_id')}"
        )
        lines.append(f"env config: {config.get('env')}")
        lines.append("")
    for section in sections_of(stats["env_id"]):
        lines += [*section.text(stats[section.name]).splitlines(), ""]
    lines += generic_lines(stats["run"], headline_figures(summary))
    return "\n".join(escape_control(line) for line in lines)


def headline_figures(summary: Mapping[str, Any] | None) -> dict[str, Any]:
    """The scalar figures of a ``summary.json`` beyond the generic keys (e.g. final resources)."""
    generic = {"env_id", "status", "stop_reason", "episodes_completed", "decisions", "llm"}
    return {
        k: v
        for k, v in sorted((summary or {}).items())
        if k not in generic and (isinstance(v, str) or _is_number(v))
    }


def generic_lines(run: Mapping[str, Any], headline: Mapping[str, Any] | None = None) -> list[str]:
    """The generic part of a run's report as text lines (status, parse failures, LLM)."""
    stop = f" (stop reason: {run['stop_reason']})" if run.get("stop_reason") else ""
    fails = run["parse_failures"]
    lines = [
        f"status {run['status']}{stop}; episodes {run['episodes_completed']}",
        f"decisions by parse status: {_counts(run['decisions'])}",
        f"parse failures: {fails['decisions']} decisions, {fails['judgements']} judgements",
    ]
    lines += [f"judge {j}: {_counts(c)}" for j, c in run["judgements"].items()]
    if headline:
        lines.append("headline: " + ", ".join(f"{k} {_num(v)}" for k, v in headline.items()))
    return [*lines, llm_line(run["llm"])]


def llm_line(llm: Mapping[str, Any]) -> str:
    """One line of LLM accounting: calls, attempts, errors, cache hits, tokens, cost, latency."""
    cost = "cost unknown" if llm["cost_usd"] is None else f"${llm['cost_usd']:.4f}"
    latency = (
        f"latency mean {llm['latency_mean_s']:.2f} s, p95 {llm['latency_p95_s']:.2f} s "
        f"(n = {llm['latency_n']})"
        if llm["latency_mean_s"] is not None
        else "latency -"
    )
    return (
        f"LLM calls {llm['calls']} ({llm['attempts']} attempts, {llm['errors']} failed, "
        f"{llm['cached']} cached); tokens {llm['prompt_tokens']} prompt + "
        f"{llm['completion_tokens']} completion; {cost}; {latency}"
    )


def _counts(counts: Mapping[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"


def _num(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# ---------------------------------------------------------------- paths: one run or many


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object file, or {} when it is missing.

    Raises:
        UserError: naming the file when it is not a JSON object.
    """
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise UserError(f"{path} is not valid JSON") from None
    if not isinstance(data, dict):
        raise UserError(f"{path} must hold a JSON object")
    return data


def single_run(paths: Sequence[str | Path]) -> Path | None:
    """The run directory when ``paths`` is exactly one run directory (not a sweep), else None.

    Raises:
        UserError: naming a path that does not exist.
    """
    for p in paths:
        if not Path(p).exists():
            raise UserError(f"{p} is not a run directory (no config.json): it does not exist")
    if len(paths) != 1:
        return None
    path = Path(paths[0])
    is_run = (path / "events.jsonl").is_file() or (path / "config.json").is_file()
    return path if is_run and not (path / "sweep.json").is_file() else None


def run_report(run_dir: str | Path) -> tuple[dict[str, Any], dict[str, Any], Path]:
    """``(config, summary, events path)`` of a run directory.

    Raises:
        UserError: when the directory has no ``events.jsonl``.
    """
    run_dir = Path(run_dir)
    events = run_dir / "events.jsonl"
    if not events.is_file():
        raise UserError(f"{run_dir} has no events.jsonl yet")
    return read_json(run_dir / "config.json"), read_json(run_dir / "summary.json"), events


def report_text(paths: Sequence[str | Path]) -> str:
    """``agentsim report PATH [PATH ...]``: one run's report, or the report of many runs."""
    run_dir = single_run(paths)
    if run_dir is None:
        return report_runs_text(paths)
    config, summary, events = run_report(run_dir)
    return text_report(events, config, summary or None)


def report_json(paths: Sequence[str | Path]) -> dict[str, Any]:
    """``agentsim report PATH [PATH ...] --json``: :func:`run_statistics` or many runs'."""
    run_dir = single_run(paths)
    if run_dir is None:
        return report_runs_json(paths)
    config, _, events = run_report(run_dir)
    env_id = config.get("env_id")
    return run_statistics(events, env_id if isinstance(env_id, str) else None)
