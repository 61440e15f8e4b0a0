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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentsim.core.records import Record
from agentsim.core.registry import Registry

Stats = Mapping[str, Any]
Extractor = Callable[[Stats], float | None]

DISCLAIMER = (
    "A comparison of protocols, not of models: the paper's figures come from its models and "
    "settings; ours from this run's agents."
)


@dataclass(frozen=True)
class PaperValue:
    """One statistic a paper reports.

    Attributes:
        statistic: what is compared (with the paper's model and condition).
        reported: the paper's value: a number, or text where the paper gives only a figure or
            a qualitative finding.
        unit: the unit of ``reported`` and of the extracted value.
        source: where in the paper (author, year, arXiv id, table or figure).
        note: how the paper's value and ours are defined, where they differ.
        extract: ``extract(stats) -> float | None``: this run's value from its statistics
            (``run_statistics`` output, or one condition of the across-runs statistics,
            marked by an ``"across"`` key; see :func:`condition_view`); None where absent.
    """

    statistic: str
    reported: float | str
    unit: str
    source: str
    note: str
    extract: Extractor


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


def dig(stats: Any, *path: Any) -> Any:
    """``stats[path[0]][path[1]]...``; None where any step is missing."""
    for key in path:
        try:
            stats = stats[key]
        except (KeyError, IndexError, TypeError):
            return None
    return stats


def slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Least-squares slope of (x, y) points; None with fewer than 2 distinct x.

    Example:
        >>> slope([(1, 0.5), (2, 0.7), (3, 0.9)])
        0.2
    """
    if len({x for x, _ in points}) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return round(sum((x - mx) * (y - my) for x, y in points) / sxx, 12)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def either(run: Extractor, across: Extractor) -> Extractor:
    """An extractor that reads a run's statistics with ``run`` and a condition of the
    across-runs statistics with ``across``."""

    def extract(stats: Stats) -> float | None:
        return across(stats) if stats.get("across") else run(stats)

    return extract


def figure(name: str, scale: float = 1.0) -> Extractor:
    """Across runs: the mean of a summary figure, times ``scale``."""

    def extract(stats: Stats) -> float | None:
        value = dig(stats, "figures", name)
        return None if value is None else float(value) * scale

    return extract


def series(stats: Stats, key: str, field: str) -> list[tuple[int, float]]:
    """Across runs: the (index, mean) points of a summary series field (e.g. ``generations``,
    ``mean_donation_fraction``), empty where absent."""
    return list(dig(stats, "series", key, field) or [])


def _none(stats: Stats) -> float | None:
    return None


def run_cost(stats: Stats) -> float | None:
    """The run's LLM cost in USD; None for a run without LLM calls (nothing to compare)."""
    if stats.get("across"):
        return stats.get("cost_usd")
    llm = dig(stats, "run", "llm") or {}
    return llm.get("cost_usd") if llm.get("calls") else None


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

    def statistics(records: Sequence[Record]) -> dict[str, Any]:
        rows = paper_comparison(env_id, LazyStatistics(records, env_id))
        return {"disclaimer": DISCLAIMER, "rows": rows}

    return Section(SECTION, statistics, lambda s: paper_comparison_text(s["rows"]))


# ---------------------------------------------------------------- the papers' values

VALLINDER = "Vallinder & Hughes 2024, arXiv:2412.10270"
TAUBENFELD = "Taubenfeld et al. 2024, arXiv:2402.04049"
SALVI = "Salvi et al. 2024, arXiv:2403.14380"
LI = "Li et al. 2024 (EvolutionaryAgent), arXiv:2401.04620"
QIU = "Qiu et al. 2024 (CASA), arXiv:2410.23252 v1"


def _points(by_generation: Any) -> list[tuple[int, float]]:
    # JSON turns the int generation keys into strings: sort them as numbers.
    items = (by_generation or {}).items()
    return sorted((int(k), float(v)) for k, v in items if v is not None)


def _scaled(value: Any, scale: float = 100.0) -> float | None:
    return None if value is None else float(value) * scale


def _donor_final(s: Stats) -> float | None:
    got = _points(dig(s, "cooperation", "mean_final_resources"))
    return got[-1][1] if got else None


def _donor_final_across(s: Stats) -> float | None:
    got = series(s, "generations", "mean_final_resources")
    return got[-1][1] if got else figure("final_mean_resources")(s)


def _donor_initial(s: Stats) -> float | None:
    got = _points(dig(s, "cooperation", "mean_donation_fraction"))
    return 100 * got[0][1] if got else None


def _donor_initial_across(s: Stats) -> float | None:
    got = series(s, "generations", "mean_donation_fraction")
    return 100 * got[0][1] if got else None


def _donor_trend_across(s: Stats) -> float | None:
    return _scaled(slope(series(s, "generations", "mean_donation_fraction")))


def _punishing(s: Stats) -> float | None:
    # Every generation has the same number of donor decisions: the mean share is the pooled one.
    return _scaled(_mean([v for _, v in _points(dig(s, "cooperation", "punishment_frequency"))]))


def _punishing_across(s: Stats) -> float | None:
    punished = sum(v for _, v in series(s, "generations", "punishments"))
    decisions = sum(v for _, v in series(s, "generations", "donor_decisions"))
    return 100 * punished / decisions if decisions else None


FINAL = either(_donor_final, _donor_final_across)
TREND = either(lambda s: _scaled(dig(s, "cooperation", "donation_trend_per_generation")),
               _donor_trend_across)  # fmt: skip
INITIAL = either(_donor_initial, _donor_initial_across)
PUNISHING = either(_punishing, _punishing_across)
_TREND_NOTE = (
    "paper: the best run per model; ours: the least-squares slope of the population's mean "
    "donation fraction per generation, in percentage points"
)
_PUNISH_NOTE = (
    "costly-punishment variant (experiment donor-game-punishment): punishments / donor "
    "decisions, over all generations"
)
_COST_NOTE = "one run of 10 generations of 12 agents; ours: this run's LLM cost, None without LLM"


def _donor_values() -> list[PaperValue]:
    src2, src4 = f"{VALLINDER}, Fig. 2", f"{VALLINDER}, Fig. 4"
    per_gen = "% per generation"
    return [
        PaperValue("mean final resources, last generation (Claude 3.5 Sonnet)",
                   "rises over 10 generations (axis to ~4,000)", "units", src2,
                   "figure only: mean over 5 runs; Gemini 1.5 Flash runs reach ~600, GPT-4o "
                   "runs stay below ~40 and all five decline (Fig. 4)", FINAL),
        PaperValue("maximum mean final resources (all donate 100%)", 30720.0, "units",
                   f"{VALLINDER}, Sec. 3", "the paper's bound for 12 agents, 12 rounds, "
                   "multiplier 2; ours: this run's last generation", FINAL),
        PaperValue("donation change per generation (Claude 3.5 Sonnet)", 4.35, per_gen,
                   src4, _TREND_NOTE, TREND),
        PaperValue("donation change per generation (Gemini 1.5 Flash)", 1.23, per_gen,
                   src4, _TREND_NOTE, TREND),
        PaperValue("donation change per generation (GPT-4o)", -1.65, per_gen, src4,
                   _TREND_NOTE, TREND),
        PaperValue("generation-1 mean donation (Claude 3.5 Sonnet)",
                   "runs at 44% and 47% failed; 50%, 53%, 54% succeeded", "%",
                   f"{VALLINDER}, Sec. 4 (initial-cooperation threshold)",
                   "the paper's threshold for cooperation to emerge; ours: generation 1's "
                   "mean donation fraction", INITIAL),
        PaperValue("punishment frequency (Gemini 1.5 Flash)", 14.29, "%", src2, _PUNISH_NOTE,
                   PUNISHING),
        PaperValue("punishment frequency (GPT-4o)", 1.65, "%", src2, _PUNISH_NOTE, PUNISHING),
        PaperValue("punishment frequency (Claude 3.5 Sonnet)", 0.06, "%", src2, _PUNISH_NOTE,
                   PUNISHING),
        PaperValue("cost per run (Claude 3.5 Sonnet)", 10.21, "USD", VALLINDER, _COST_NOTE,
                   run_cost),
        PaperValue("cost per run (GPT-4o)", 6.90, "USD", VALLINDER, _COST_NOTE, run_cost),
        PaperValue("cost per run (Gemini 1.5 Flash)", 0.09, "USD", VALLINDER, _COST_NOTE,
                   run_cost),
    ]  # fmt: skip


def _conditions(s: Stats) -> list[Mapping[str, Any]]:
    return list((dig(s, "debate", "conditions") or {}).values())


def _default_final_racism(s: Stats) -> float | None:
    ends = [
        c["trajectories"]["default"]["mean"][-1]
        for c in _conditions(s)
        if "racism" in str(c.get("topic", "")).lower() and "default" in c["trajectories"]
    ]
    return _mean([float(e) for e in ends if e is not None])


def _crossings(s: Stats) -> float | None:
    got = [x["crossed"] for c in _conditions(s) for x in c.get("crossings", {}).values()]
    return float(sum(bool(x) for x in got)) if got else None


def _convergence(s: Stats) -> float | None:
    ratios = [
        g["convergence_ratio"]
        for c in _conditions(s)
        for g in c.get("gap_to_default", {}).values()
        if g.get("convergence_ratio") is not None
    ]
    return _mean([float(r) for r in ratios])


def _odds_ratio(condition: str) -> Extractor:
    def extract(s: Stats) -> float | None:
        cell = dig(s, "persuasion", "odds_ratios", "conditions", condition)
        return None if not cell or cell.get("degenerate") else cell.get("odds_ratio")

    return extract


def _taubenfeld_values() -> list[PaperValue]:
    return [
        PaperValue("Default agent's final rating, topic racism (Mistral 7B base)", 8.4, "0-10",
                   f"{TAUBENFELD}, Table 1", "the base model before self-fine-tuning; ours: "
                   "the Default role's mean final survey over the run's racism debates",
                   either(_default_final_racism, _none)),
        PaperValue("partisan roles whose mean line crosses the Default's", 0.0, "roles",
                   f"{TAUBENFELD}, Figs. 3-9", "\"the lines representing the partisan agents "
                   "never intersect with the line of the Default agent\"",
                   either(_crossings, _none)),
        PaperValue("partisans' gap to the Default agent, end / start",
                   "below 1: partisans move toward the model's inherent bias", "ratio",
                   f"{TAUBENFELD}, Sec. 4", "ours: the mean convergence ratio g_T / g_0 over "
                   "partisan roles and conditions", either(_convergence, _none)),
    ]  # fmt: skip


def _salvi_values() -> list[PaperValue]:
    note = ("proportional-odds model of post-debate agreement with the opponent, against "
            "human-human; ours: analysis.persuasion's odds ratio (needs both conditions in "
            "the run's records)")  # fmt: skip
    return [
        PaperValue("odds ratio, GPT-4 personalised vs human-human", 1.817, "odds ratio",
                   f"{SALVI} (preprint, N = 820: +81.7%)", note + "; the published version "
                   "reports +81.2%, 95% CI [+26.0%, +160.7%]",
                   either(_odds_ratio("llm/personalised"), _none)),
        PaperValue("odds ratio, GPT-4 not personalised vs human-human",
                   "not significant (p = 0.31)", "odds ratio", f"{SALVI} (preprint)", note,
                   either(_odds_ratio("llm/plain"), _none)),
    ]  # fmt: skip


def _norm_rows(s: Stats) -> list[Mapping[str, Any]]:
    return list(dig(s, "norms", "steps") or [])


def _fitness_trend(s: Stats) -> float | None:
    pts = [(r["generation"], r["fitness"]) for r in _norm_rows(s) if r["fitness"] is not None]
    return slope(pts)


def _fitness_trend_across(s: Stats) -> float | None:
    got = slope(series(s, "steps", "mean_score"))
    return None if got is None else got / 6  # F = (score - 1) / 6


def _boundary_mean(key: str) -> Extractor:
    def extract(s: Stats) -> float | None:
        got = [b[key] for b in dig(s, "norms", "boundaries") or [] if b.get(key) is not None]
        return _mean([float(v) for v in got])

    return extract


def _li_values() -> list[PaperValue]:
    fig3 = f"{LI}, Fig. 3"
    return [
        PaperValue("fitness drop at a norm change",
                   "ReAct and Reflexion drop at each new era; EvolutionaryAgent stays "
                   "relatively stable", "fitness 0-1", fig3, "figure only (no numbers in the "
                   "text); ours: F(g0 - 1) - F(g0) averaged over the run's norm changes, "
                   "F = (score - 1) / 6", either(_boundary_mean("drop"), _none)),
        PaperValue("steps to recover after a norm change",
                   "ReAct re-adapts within the era; EvolutionaryAgent needs little recovery",
                   "steps", fig3, "ours: the mean lag until fitness regains 90% of the "
                   "pre-change level, censored changes left out", either(_boundary_mean("lag"),
                                                                         _none)),
        PaperValue("fitness trend over the run",
                   "rises over time (GPT-3.5-Turbo and Gemini-Pro agents)", "fitness per step",
                   fig3, "ours: the least-squares slope of F per step",
                   either(_fitness_trend, _fitness_trend_across)),
    ]  # fmt: skip


def _casa(rate: str) -> Extractor:
    def run(s: Stats) -> float | None:
        judges = dig(s, "web_shop", "judges") or {}
        first = sorted(judges)[0] if judges else None
        return _scaled(dig(judges, first, "pooled", rate, "rate"))

    return either(run, figure(f"rates.{rate}", 100.0))


def _qiu_values() -> list[PaperValue]:
    rows = [("AC-R", 7.91, 27.11, "Table 2"), ("Edu-R", 25.00, 90.63, "Table 3"),
            ("Help-R", 95.86, 92.47, "Table 4"), ("Vio-R", 49.91, 34.38, "Table 5")]  # fmt: skip
    note = (
        "shopping subset, GPT-4o, pooled over 17 countries, GPT-4o judge; ours: the first "
        "judge's pooled rate over this run's items"
    )
    out = []
    for rate, orig, ca2s, table in rows:
        for prompt, value in (("original prompt", orig), ("CA-Upd.+2SE", ca2s)):
            out.append(
                PaperValue(f"{rate} ({prompt}, GPT-4o)", value, "%", f"{QIU}, {table}",
                           note + f"; compare runs with the {prompt} setting", _casa(rate))
            )  # fmt: skip
    return out


def _builtin_papers() -> list[tuple[str, str, list[PaperValue]]]:
    return [
        ("donor_game_v0", VALLINDER, _donor_values()),
        ("debate_v0", TAUBENFELD, _taubenfeld_values()),
        ("debate_v0", SALVI, _salvi_values()),
        ("norm_society_v0", LI, _li_values()),
        ("web_shop_v0", QIU, _qiu_values()),
    ]


def _register() -> None:
    from analysis.report import register_section

    for env_id in ("donor_game_v0", "debate_v0", "norm_society_v0", "web_shop_v0"):
        register_section(env_id, _section(env_id))


_register()
