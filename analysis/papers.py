"""Paper comparison: a run's (or sweep's) headline statistics beside each paper's reported values.

A comparison of protocols, not of models: a paper's figures come from its models and settings,
a run's from its own agents (scripted strategies, or whichever LLM it used). Each env registers
its papers' values (:func:`register_paper`); :func:`paper_comparison` reads this run's value of
each with the value's ``extract``, from the single-run statistics
(``analysis.report.run_statistics``) or, for many runs, from ``analysis.across``'s statistics
(one row per condition). A value the run does not have is None, never 0.

Papers (values from their text, tables or figures, as each value's ``source`` says):

* donor game: Vallinder & Hughes 2024, "Cultural Evolution of Cooperation among LLM Agents",
  arXiv:2412.10270;
* debate: Taubenfeld et al. 2024, "Systematic Biases in LLM Simulations of Debates",
  arXiv:2402.04049 (EMNLP 2024); Salvi et al. 2024, "On the Conversational Persuasiveness of
  Large Language Models: A Randomized Controlled Trial", arXiv:2403.14380;
* norm society: Li et al. 2024, "Agent Alignment in Evolving Social Norms" (EvolutionaryAgent),
  arXiv:2401.04620 (no numeric fitness values in the text: the rows are qualitative);
* web shop: Qiu et al. 2024, "Evaluating Cultural and Social Awareness of LLM Web Agents"
  (CASA), arXiv:2410.23252 v1, Tables 2-5, shopping, GPT-4o.

Example:
    >>> rows = paper_comparison("donor_game_v0", {"cooperation": {
    ...     "mean_donation_fraction": {1: 0.5, 2: 0.6}, "donation_trend_per_generation": 0.1}})
    >>> [r["this_run"] for r in rows if r["statistic"].startswith("generation-1")]
    [50.0]
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from agentsim.core.records import Record
from agentsim.core.registry import Registry

# The papers' values and the extractor helpers live in analysis.paper_values; importable here.
from analysis.paper_values import FINAL as FINAL
from analysis.paper_values import INITIAL as INITIAL
from analysis.paper_values import LI as LI
from analysis.paper_values import PUNISHING as PUNISHING
from analysis.paper_values import QIU as QIU
from analysis.paper_values import SALVI as SALVI
from analysis.paper_values import TAUBENFELD as TAUBENFELD
from analysis.paper_values import TREND as TREND
from analysis.paper_values import VALLINDER as VALLINDER
from analysis.paper_values import Extractor as Extractor
from analysis.paper_values import PaperValue as PaperValue
from analysis.paper_values import Stats as Stats
from analysis.paper_values import _builtin_papers
from analysis.paper_values import dig as dig
from analysis.paper_values import either as either
from analysis.paper_values import figure as figure
from analysis.paper_values import run_cost as run_cost
from analysis.paper_values import series as series
from analysis.paper_values import slope as slope

DISCLAIMER = (
    "A comparison of protocols, not of models: the paper's figures come from its models and "
    "settings; ours from this run's agents."
)


def _builtins(registry: Registry[dict[str, list[PaperValue]]]) -> None:
    for env_id, title, values in _builtin_papers():
        registry.register(env_id, {**_get(registry, env_id), title: values})


def _get(registry: Registry[dict[str, list[PaperValue]]], env_id: str) -> dict[str, Any]:
    return dict(registry.get(env_id)) if env_id in registry else {}


PAPERS: Registry[dict[str, list[PaperValue]]] = Registry("paper env", _builtins)


def register_paper(env_id: str, paper_title: str, values: Sequence[PaperValue]) -> None:
    """Register (or replace) a paper's values for ``env_id``'s comparison table."""
    PAPERS.register(env_id, {**_get(PAPERS, env_id), paper_title: list(values)})


def papers_of(env_id: str | None) -> dict[str, list[PaperValue]]:
    """The registered papers of an env, title -> values (none for an unknown env)."""
    return _get(PAPERS, env_id) if env_id is not None else {}


# ---------------------------------------------------------------- the table


def paper_comparison(env_id: str, stats: Stats) -> list[dict[str, Any]]:
    """One row per registered value: paper, statistic, unit, the paper's value, this run's,
    source and note. ``stats`` is one run's statistics, or ``across_statistics`` output (it has
    ``"envs"``): then one row per value and condition, with ``condition`` and ``runs``."""
    if "envs" in stats:
        env = (stats.get("envs") or {}).get(env_id) or {}
        views: list[tuple[str | None, Stats]] = [
            (c, condition_view(env, c)) for c in env.get("conditions", [])
        ]
    else:
        views = [(None, stats)]
    rows = []
    for title, values in papers_of(env_id).items():
        for v in values:
            for condition, view in views:
                row = {"paper": title, "statistic": v.statistic, "unit": v.unit,
                       "paper_value": v.reported, "this_run": safe_extract(v, view),
                       "source": v.source, "note": v.note}  # fmt: skip
                if condition is not None:
                    row.update(condition=condition, runs=view["runs"])
                rows.append(row)
    return rows


def safe_extract(value: PaperValue, stats: Stats) -> float | None:
    """``value.extract(stats)``; None for a missing key or a non-finite number (the table must
    not break a report whose statistics lack a part)."""
    try:
        got = value.extract(stats)
    except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, AttributeError):
        return None
    return float(got) if got is not None and math.isfinite(got) else None


def condition_view(env: Mapping[str, Any], condition: str) -> dict[str, Any]:
    """One condition of an env's across-runs statistics, as extractors read it: ``figures``
    (name -> mean), ``series`` (key -> field -> [(index, mean)]), ``cost_usd`` per run."""
    figures = {k: c.get("mean") for k, c in (env.get("figures") or {}).get(condition, {}).items()}
    series: dict[str, dict[str, list[tuple[int, float]]]] = {}
    for key, fields in (env.get("series") or {}).items():
        for field, by_condition in fields.items():
            rows = by_condition.get(condition) or []
            got = [(int(r["index"]), float(r["mean"])) for r in rows if r.get("mean") is not None]
            series.setdefault(key, {})[field] = got
    runs = sum((env.get("status") or {}).get(condition, {}).values())
    accounting = (env.get("accounting") or {}).get(condition, {})
    cost = accounting.get("cost_usd")
    calls = accounting.get("llm_calls", 0)
    per_run = cost / runs if cost is not None and runs and calls else None
    return {"across": True, "runs": runs, "figures": figures, "series": series, "cost_usd": per_run}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return f"{value:,.2f}" if abs(value) < 1e6 else f"{value:.3g}"


def paper_comparison_text(rows: Sequence[Mapping[str, Any]]) -> str:
    """The table as text, headed by the disclaimer: per paper, statistic, the paper's value,
    this run's (per condition for many runs) and the unit; then the notes, numbered."""
    lines = [f"paper comparison. {DISCLAIMER}"]
    if not rows:
        return "\n".join([*lines, "  no paper values registered for this env"])
    notes: list[str] = []
    paper = None
    for r in rows:
        if r["paper"] != paper:
            paper = r["paper"]
            lines.append(f"  {paper}")
        if r["note"] not in notes:
            notes.append(r["note"])
        where = f" [{r['condition'] or 'all runs'}, {r['runs']} runs]" if "runs" in r else ""
        lines.append(
            f"    {r['statistic']}{where}: paper {_cell(r['paper_value'])}; "
            f"ours {_cell(r['this_run'])} ({r['unit']}) "
            f"[{notes.index(r['note']) + 1}]"
        )
    lines += ["  notes:", *(f"  [{i}] {n}" for i, n in enumerate(notes, start=1))]
    return "\n".join(lines)


# ---------------------------------------------------------------- extractor helpers


class LazyStatistics(Mapping[str, Any]):
    """A run's statistics computed section by section on first access (a comparison reads
    only the sections its extractors need), without the ``paper_comparison`` section."""

    def __init__(self, records: Sequence[Record], env_id: str) -> None:
        from analysis.report import sections_of

        self._records, self._env_id = records, env_id
        self._sections = {s.name: s for s in sections_of(env_id) if s.name != SECTION}
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        from analysis.report import generic_statistics

        if name not in self._cache:
            if name == "env_id":
                self._cache[name] = self._env_id
            elif name == "run":
                self._cache[name] = generic_statistics(self._records)
            else:
                self._cache[name] = self._sections[name].statistics(self._records)
        return self._cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter(["env_id", "run", *self._sections])

    def __len__(self) -> int:
        return 2 + len(self._sections)


SECTION = "paper_comparison"


def _section(env_id: str) -> Any:
    from analysis.report import Section

    def derive(stats: Mapping[str, Any]) -> dict[str, Any]:
        return {"disclaimer": DISCLAIMER, "rows": paper_comparison(env_id, stats)}

    def statistics(records: Sequence[Record]) -> dict[str, Any]:
        # Alone: the other sections computed as the extractors read them.
        return derive(LazyStatistics(records, env_id))

    return Section(SECTION, statistics, lambda s: paper_comparison_text(s["rows"]), derive)


def _register() -> None:
    from analysis.report import register_section

    for env_id in ("donor_game_v0", "debate_v0", "norm_society_v0", "web_shop_v0"):
        register_section(env_id, _section(env_id))


_register()
