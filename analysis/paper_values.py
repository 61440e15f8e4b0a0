"""The papers' reported values for :mod:`analysis.papers`, and the helpers that read ours.

:class:`PaperValue` is one statistic a paper reports, with an ``extract`` that reads the same
statistic from a run's (or a condition's) statistics; the extractor helpers (:func:`dig`,
:func:`either`, :func:`figure`, :func:`series`, :func:`run_cost`) build those. The built-in
tables: Vallinder & Hughes 2024, arXiv:2412.10270 (donor game); Taubenfeld et al. 2024,
arXiv:2402.04049 and Salvi et al. 2024, arXiv:2403.14380 (debate); Li et al. 2024,
arXiv:2401.04620 (norm society); Qiu et al. 2024, arXiv:2410.23252 v1 (web shop). Every name
here is also importable from :mod:`analysis.papers`.

Example:
    >>> dig({"a": {"b": [1, 2]}}, "a", "b", 1), dig({}, "a")
    (2, None)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Stats = Mapping[str, Any]
Extractor = Callable[[Stats], float | None]


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
