"""Figures of many runs (seeds, a sweep) of the debate, the norm society and the web shop.

Each reads its env's across-runs statistics (``analysis.across.across_statistics(runs)
["envs"][env_id]``) and the section its env registers there: the debate's attitude
trajectories per role with the Default line dashed (Taubenfeld et al. 2024,
arXiv:2402.04049; :mod:`analysis.debate_across`), the norm society's fitness per step with
dashed era boundaries (Li et al. 2024, arXiv:2401.04620; :mod:`analysis.norm_fitness_across`)
and the CASA rates by country (Qiu et al. 2024, arXiv:2410.23252;
:mod:`analysis.web_shop_across`), each a mean across runs with its bootstrap 95% interval.
:mod:`analysis.plots` registers them; the ``*_points`` functions give what is drawn.

Example:
    >>> curve([{"iteration": 0, "mean": 5.0, "ci95": [4.0, 6.0]}], "iteration")
    {'x': [0], 'mean': [5.0], 'lo': [4.0], 'hi': [6.0]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from analysis.plots import (
    CASA_RATES,
    MAX_PANELS,
    Figure,
    _band,
    _integer_ticks,
    casa_bars,
    render,
)

Curve = dict[str, list[Any]]


def curve(rows: Sequence[Mapping[str, Any]], x: str) -> Curve:
    """Parallel lists ``x``, ``mean``, ``lo``, ``hi`` of cells (rows without a mean left out;
    ``lo``/``hi`` None where the cell has no interval)."""
    kept = [r for r in rows if r.get("mean") is not None]
    cis = [r.get("ci95") or (None, None) for r in kept]
    return {
        "x": [r[x] for r in kept],
        "mean": [r["mean"] for r in kept],
        "lo": [c[0] for c in cis],
        "hi": [c[1] for c in cis],
    }


def _section(stats: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    return (stats.get("sections") or {}).get(name) or {}


def _line(ax: Any, c: Curve, label: str, **style: Any) -> None:
    (line,) = ax.plot(c["x"], c["mean"], label=label, **style)
    _band(ax, c["x"], c["lo"], c["hi"], alpha=0.15, color=line.get_color())


# ---------------------------------------------------------------- debate


def debate_points(stats: Mapping[str, Any]) -> list[tuple[str, dict[str, Curve]]]:
    """Per panel (up to :data:`analysis.plots.MAX_PANELS`): its caption and each role's curve."""
    section = _section(stats, "debate_trajectories")
    out = []
    for p in (section.get("panels") or [])[:MAX_PANELS]:
        caption = p["debate"] + (f" ({p['condition']})" if p["condition"] else "")
        roles = {r: curve(rows, "iteration") for r, rows in sorted(p["trajectories"].items())}
        out.append((caption, roles))
    return out


def debate_across_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Per debate condition: each role's mean attitude across runs (95% CI), Default dashed."""
    default = _section(stats, "debate_trajectories").get("default_role", "default")
    return [_trajectories(caption, roles, default) for caption, roles in debate_points(stats)]


def _trajectories(caption: str, roles: Mapping[str, Curve], default: str) -> Figure:
    def draw(ax: Any) -> None:
        for role, c in roles.items():
            style = {"color": "black", "linestyle": "--"} if role == default else {}
            _line(ax, c, role, **style)
        _integer_ticks(ax)
        ax.set_xlabel("iteration")
        ax.set_ylabel("attitude (survey), mean of runs")
        ax.legend(fontsize=7)

    return render(
        f"Attitudes across runs: {caption}",
        f"mean attitude per iteration of {', '.join(roles)}; {default} dashed",
        draw,
    )


# ---------------------------------------------------------------- norm society


def norm_points(stats: Mapping[str, Any]) -> tuple[dict[str, Curve], list[tuple[int, str]]]:
    """Each condition's fitness curve, and the era boundaries of all (step, era), sorted."""
    conditions = _section(stats, "fitness_by_step").get("conditions") or {}
    curves = {c: curve(v["steps"], "generation") for c, v in conditions.items() if v["steps"]}
    marks = {(b["generation"], b["era"]) for v in conditions.values() for b in v["boundaries"]}
    return curves, sorted(marks)


def norm_across_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Fitness per step across runs (95% CI) per condition, a dashed line at each norm change."""
    curves, marks = norm_points(stats)
    if not curves:
        return []

    def draw(ax: Any) -> None:
        for cond, c in curves.items():
            _line(ax, c, cond or "all runs", marker=".")
        for g, era in marks:
            ax.axvline(g - 0.5, color="grey", linestyle="--", linewidth=1)
            ax.text(g - 0.4, 1.0, era, fontsize=7, va="top")
        ax.set_ylim(0, 1.05)
        _integer_ticks(ax)
        ax.set_xlabel("step")
        ax.set_ylabel("fitness (score - 1) / 6")
        ax.legend(fontsize=7)

    return [
        render(
            "Fitness per step across runs (95% CI) with era boundaries",
            f"one line per condition: {', '.join(c or 'all runs' for c in curves)}; "
            f"{len(marks)} norm changes",
            draw,
        )
    ]


# ---------------------------------------------------------------- web shop


def casa_points(stats: Mapping[str, Any]) -> list[tuple[str, dict[str, dict[str, Any]]]]:
    """Per (condition, judge), up to :data:`analysis.plots.MAX_PANELS`: its caption and
    country -> rate -> cell."""
    conditions = _section(stats, "casa_by_country").get("conditions") or {}
    out = [
        (f"{judge}" + (f", {cond}" if cond else ""), j["countries"])
        for cond, c in conditions.items()
        for judge, j in c["judges"].items()
    ]
    return out[:MAX_PANELS]


def web_shop_across_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Per condition and judge: the CASA rates (%) by country, mean across runs (95% CI)."""
    return [_casa_bars(caption, countries) for caption, countries in casa_points(stats)]


def _casa_bars(caption: str, countries: Mapping[str, Mapping[str, Any]]) -> Figure:
    names = sorted(countries)
    return casa_bars(
        f"CASA rates by country across runs (95% CI) ({caption})",
        f"bars of {', '.join(CASA_RATES)} for {len(names)} countries",
        countries,
        key="mean",
        ylabel="rate (%), mean of runs",
    )
