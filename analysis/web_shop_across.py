"""CASA rates by country across runs (seeds), for the report of many runs.

Qiu et al. 2024 (CASA, arXiv:2410.23252) report AC-R, Edu-R, Help-R and Vio-R per country.
Per run, the rates are those of :mod:`analysis.web_shop` (each judge's, per country and
pooled); across runs, per condition, judge, country and rate, the mean of the run rates
with a percentile bootstrap 95% interval and the t-interval (:func:`analysis.stats.describe`;
the seed is the unit, so a run whose rate has no denominator, e.g. Edu-R with no aware
episode, is left out of that mean and n counts the others).

Example:
    >>> from analysis.runs import load_runs  # doctest: +SKIP
    >>> stats = casa_across_statistics(load_runs("runs/shop"))  # doctest: +SKIP
    >>> by_country = stats["conditions"][""]["judges"]["casa_rule"]["countries"]  # doctest: +SKIP
    >>> by_country["Japan"]["AC-R"]["mean"]  # doctest: +SKIP
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from analysis._records_across import records_by_run, run_conditions
from analysis.stats import describe_many

# The per-run rates without the judges' kappa bootstrap, which the figure does not need.
from analysis.web_shop import POOLED, RATES, _collect, _judge_rates

if TYPE_CHECKING:
    from analysis.across import RunsLike

ENV_ID = "web_shop_v0"
SECTION = "casa_by_country"
_WANTED = {
    "web_outcome": ("item", "split", "country", "episode"),
    "judgement": ("judge", "item", "metric", "label", "parse_status", "round", "episode"),
}

Place = tuple[str, str, str, str]  # (condition, judge, country or POOLED, rate)


def run_rates(records: list[dict[str, Any]]) -> dict[tuple[str, str, str], float | None]:
    """One run's CASA rates: (judge, country or ``"pooled"``, rate) -> rate (None: no
    denominator).

    Example:
        >>> recs = [{"type": "web_outcome", "item": "Japan_1", "split": "s1_violate",
        ...          "country": "Japan", "episode": 1},
        ...         {"type": "judgement", "judge": "rule", "item": "Japan_1", "metric": "AC",
        ...          "label": "No", "episode": 1}]
        >>> run_rates(recs)[("rule", "Japan", "AC-R")]
        0.0
    """
    run = _collect(records)
    out: dict[tuple[str, str, str], float | None] = {}
    for judge in sorted(run.labels):
        got = _judge_rates(run, judge)
        for country, row in [*got["countries"].items(), (POOLED, got[POOLED])]:
            for rate in RATES:
                out[(judge, country, rate)] = row[rate]["rate"]
    return out


def casa_across_statistics(runs: RunsLike) -> dict[str, Any]:
    """CASA rates by country across runs, per condition and judge.

    Returns:
        ``{"conditions": {condition: {"runs", "judges": {judge: {"countries": {country:
        {rate: cell}}, "pooled": {rate: cell}}}}}}``, a cell being ``{"mean", "ci95",
        "t_ci95", "n"}`` over the runs with that rate.
    """
    conditions = run_conditions(runs)
    values: dict[Place, list[float]] = {}
    count: Counter[str] = Counter()
    for run, records in records_by_run(runs, _WANTED).items():
        cond = conditions.get(run, "")
        count[cond] += 1
        for (judge, country, rate), value in run_rates(records).items():
            got = values.setdefault((cond, judge, country, rate), [])
            if value is not None:
                got.append(value)
    out: dict[str, Any] = {c: {"runs": n, "judges": {}} for c, n in count.items()}
    places = list(values)
    for (cond, judge, country, rate), cell in zip(
        places, describe_many([values[p] for p in places]), strict=True
    ):
        mine = out[cond]["judges"].setdefault(judge, {"countries": {}, POOLED: {}})
        row = mine[POOLED] if country == POOLED else mine["countries"].setdefault(country, {})
        row[rate] = cell
    return {"conditions": out}


def casa_across_text(stats: Mapping[str, Any]) -> str:
    """Per condition and judge: the pooled rates, mean across runs [bootstrap 95% CI]."""
    from analysis.across import fmt_number

    def pct(cell: Mapping[str, Any]) -> str:
        if cell["mean"] is None:
            return "-"
        ci = cell["ci95"]
        interval = "" if ci is None else f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"
        return f"{fmt_number(100 * cell['mean'])}%{interval} (n {cell['n']})"

    lines = ["CASA rates across runs (mean of run rates, bootstrap 95% CI)"]
    for cond, c in stats["conditions"].items():
        for judge, j in c["judges"].items():
            rates = "; ".join(f"{r} {pct(j[POOLED][r])}" for r in RATES if r in j[POOLED])
            lines.append(
                f"  {cond or 'all runs'} ({c['runs']} runs), judge {judge}, "
                f"{len(j['countries'])} countries: {rates}"
            )
    return "\n".join(lines)


def _register() -> None:
    from analysis.across import AcrossSection, register_across

    register_across(ENV_ID, AcrossSection(SECTION, casa_across_statistics, casa_across_text))


_register()
