"""Figures of the report: PNGs drawn with matplotlib (extra ``plot``), one registry per scope.

An env gets figures by registering functions of its statistics:
:func:`register_figures` for one run (the dict :func:`analysis.report.run_statistics`
returns) and :func:`register_across_figures` for many runs (one env's part of
``analysis.across.across_statistics``: ``stats["envs"][env_id]``). The built-ins draw the
studies' paper figures: the donor game's mean resources per generation, agent x generation donation
heatmap and donations per round (Vallinder & Hughes 2024, arXiv:2412.10270, Figs. 1, 3 and
6), debate attitude trajectories with the Default line (Taubenfeld et al. 2024,
arXiv:2402.04049), the norm society's fitness per step with era boundaries (Li et al. 2024,
arXiv:2401.04620), and the web shop's CASA rates by country (Qiu et al. 2024,
arXiv:2410.23252), each for one run and, with 95% CI bands across seeds, for many runs
(the latter three in :mod:`analysis.plots_across`).

matplotlib is imported only while drawing, through its object-oriented API (no pyplot, no
global backend switch): without it :func:`figures_of` returns [] and the report says
:data:`NO_PLOTS`. Output is deterministic (fixed size and dpi, no software or date metadata).

Example:
    >>> from analysis.plots import Figure, register_figures
    >>> register_figures("toy_v0", lambda stats: [])
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from agentsim.core.records import Record
from agentsim.core.registry import Registry

#: What the report says where figures cannot be drawn.
NO_PLOTS = "install agentsim[plot] for figures"

_DPI = 100
_SIZE = (6.4, 3.6)
#: At most this many figures of one kind (debate conditions, web-shop judges) per report.
MAX_PANELS = 8


@dataclass(frozen=True)
class Figure:
    """One drawn figure.

    Attributes:
        title: the caption.
        png: the PNG file's bytes.
        alt: a text description (the HTML ``alt`` text).
    """

    title: str
    png: bytes
    alt: str


FigureFn = Callable[[Mapping[str, Any]], list[Figure]]


def _load_run_builtins(registry: Registry[list[FigureFn]]) -> None:
    registry.register("donor_game_v0", [donor_figures])
    registry.register("debate_v0", [debate_figures])
    registry.register("norm_society_v0", [norm_figures])
    registry.register("web_shop_v0", [web_shop_figures])


def _load_across_builtins(registry: Registry[list[FigureFn]]) -> None:
    # late: analysis.plots_across draws with this module's helpers
    from analysis.plots_across import (
        debate_across_figures,
        norm_across_figures,
        web_shop_across_figures,
    )

    registry.register("donor_game_v0", [donor_across_figures])
    registry.register("debate_v0", [debate_across_figures])
    registry.register("norm_society_v0", [norm_across_figures])
    registry.register("web_shop_v0", [web_shop_across_figures])


FIGURES: Registry[list[FigureFn]] = Registry("figure env", _load_run_builtins)
ACROSS_FIGURES: Registry[list[FigureFn]] = Registry("across figure env", _load_across_builtins)


def register_figures(env_id: str, fn: FigureFn) -> None:
    """Add ``fn(run_statistics) -> list[Figure]`` to the figures of ``env_id``'s runs."""
    _append(FIGURES, env_id, fn)


def register_across_figures(env_id: str, fn: FigureFn) -> None:
    """Add ``fn(across_statistics) -> list[Figure]`` to the figures of many runs of ``env_id``."""
    _append(ACROSS_FIGURES, env_id, fn)


def _append(registry: Registry[list[FigureFn]], env_id: str, fn: FigureFn) -> None:
    current = registry.get(env_id) if env_id in registry else []
    registry.register(env_id, [*(f for f in current if f is not fn), fn])


def plotting_available() -> bool:
    """Whether matplotlib can be imported (the ``plot`` extra)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def figures_of(stats: Mapping[str, Any], env_id: str | None = None) -> list[Figure]:
    """The figures of one run's statistics ([] without matplotlib or a registered env)."""
    return _draw(FIGURES, env_id or stats.get("env_id"), stats)


def across_figures_of(stats: Mapping[str, Any], env_id: str | None) -> list[Figure]:
    """The figures of many runs' statistics of ``env_id`` ([] without matplotlib)."""
    return _draw(ACROSS_FIGURES, env_id, stats)


def _draw(
    registry: Registry[list[FigureFn]], env_id: Any, stats: Mapping[str, Any]
) -> list[Figure]:
    if not isinstance(env_id, str) or env_id not in registry or not plotting_available():
        return []
    return [figure for fn in registry.get(env_id) for figure in fn(stats)]


# ---------------------------------------------------------------- drawing


def render(
    title: str, alt: str, draw: Callable[[Any], None], size: tuple[float, float] = _SIZE
) -> Figure:
    """Draw on a fresh axes with ``draw(ax)`` and return the PNG (deterministic bytes)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure as MplFigure

    fig = MplFigure(figsize=size, dpi=_DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    draw(ax)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=_DPI, metadata={"Software": None})
    return Figure(title, out.getvalue(), alt)


def _log_if_wide(ax: Any, values: Sequence[float]) -> None:
    # Resources grow geometrically with the multiplier: a linear axis flattens every other line.
    if values and min(values) > 0 and max(values) / min(values) > 100:
        ax.set_yscale("log")


def _integer_ticks(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _keyed(mapping: Mapping[Any, Any]) -> list[tuple[int, Any]]:
    # Generation keys are ints in Python and strings after a JSON round trip.
    return sorted((int(k), v) for k, v in mapping.items())


def _band(ax: Any, xs: Sequence[float], lo: Sequence[Any], hi: Sequence[Any], **kw: Any) -> None:
    pts = [(x, a, b) for x, a, b in zip(xs, lo, hi, strict=True) if a is not None and b is not None]
    if pts:
        ax.fill_between([p[0] for p in pts], [p[1] for p in pts], [p[2] for p in pts], **kw)


# ---------------------------------------------------------------- donor game


def lineage(records: Sequence[Record]) -> dict[str, Any]:
    """Members in lineage order (the heatmap's rows) and each child's first parent.

    Each founder is followed by its descendants (a child after its first parent's line), so
    the rows of the agent x generation heatmap keep families together (Vallinder & Hughes
    2024, Fig. 6).
    """
    parent_of: dict[str, str] = {}
    seen: dict[str, None] = {}
    for r in records:
        if r["type"] == "reproduction":
            seen.setdefault(str(r["child"]))
            if r.get("parents"):
                parent_of.setdefault(str(r["child"]), str(r["parents"][0]))
        elif r["type"] == "generation_start":
            seen.update(dict.fromkeys(r.get("seats") or ()))
    children: dict[str, list[str]] = defaultdict(list)
    for m in seen:
        if parent_of.get(m) in seen:
            children[parent_of[m]].append(m)
    order: list[str] = []
    stack = [m for m in reversed(seen) if parent_of.get(m) not in seen]
    while stack:
        m = stack.pop()
        order.append(m)
        stack.extend(reversed(children[m]))
    return {"order": order, "parents": parent_of}


def _lineage_text(stats: Mapping[str, Any]) -> str:
    founders = len(stats["order"]) - len(stats["parents"])
    return f"lineage: {len(stats['order'])} members, {founders} founders"


def donor_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Mean final resources per generation, the donation heatmap, donations per round."""
    coop = stats.get("cooperation") or {}
    order = (stats.get("lineage") or {}).get("order") or []
    rounds = (stats.get("donation_by_round") or {}).get("by_generation") or {}
    out = []
    if coop.get("mean_final_resources"):
        out.append(_resources_line(coop["mean_final_resources"]))
    if coop.get("donation_fractions"):
        out.append(_donation_heatmap(coop["donation_fractions"], order))
    if rounds:
        out.append(_rounds_lines(rounds))
    return out


def _resources_line(resources: Mapping[Any, float]) -> Figure:
    pts = _keyed(resources)

    def draw(ax: Any) -> None:
        ax.plot([g for g, _ in pts], [v for _, v in pts], marker="o")
        _log_if_wide(ax, [v for _, v in pts])
        _integer_ticks(ax)
        ax.set_xlabel("generation")
        ax.set_ylabel("mean final resources")

    return render("Mean final resources per generation", f"line over {len(pts)} generations", draw)


def _donation_heatmap(
    fractions: Mapping[Any, Mapping[str, float]], lineage: Sequence[str]
) -> Figure:
    gens = _keyed(fractions)
    members = list(lineage) or sorted({m for _, f in gens for m in f})
    members += sorted({m for _, f in gens for m in f} - set(members))
    grid = [[f.get(m, math.nan) for _, f in gens] for m in members]

    def draw(ax: Any) -> None:
        image = ax.imshow(
            grid, aspect="auto", cmap="viridis", vmin=0, vmax=1, interpolation="nearest"
        )
        ax.set_xticks(range(len(gens)), [str(g) for g, _ in gens])
        step = max(1, len(members) // 30)  # label at most ~30 rows
        ax.set_yticks(range(0, len(members), step), members[::step], fontsize=6)
        ax.set_xlabel("generation")
        ax.set_ylabel("member (lineage order)")
        ax.figure.colorbar(image, ax=ax, label="mean donation fraction")

    return render(
        "Donation fraction by member and generation",
        f"heatmap of {len(members)} members over {len(gens)} generations",
        draw,
        (6.4, max(3.6, min(12.0, 1.5 + 0.12 * len(members)))),
    )


def _rounds_lines(by_generation: Mapping[Any, Mapping[Any, float]]) -> Figure:
    gens = [(g, _keyed(by_round)) for g, by_round in _keyed(by_generation)]

    def draw(ax: Any) -> None:
        from matplotlib import colormaps

        cmap = colormaps["viridis"]
        for i, (g, means) in enumerate(gens):
            colour = cmap(i / max(1, len(gens) - 1))
            ax.plot([r for r, _ in means], [v for _, v in means], color=colour, label=f"gen {g}")
        _integer_ticks(ax)
        ax.set_xlabel("round")
        ax.set_ylabel("mean donation fraction")
        ax.set_ylim(0, 1)
        if len(gens) <= 10:
            ax.legend(fontsize=7)

    return render("Donations per round", f"one line per generation, {len(gens)} generations", draw)


def donor_across_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Mean final resources per generation with 95% CI bands across seeds, per condition."""
    curves = across_series(stats, "generations", "mean_final_resources")
    if not curves:
        return []

    def draw(ax: Any) -> None:
        for cond, rows in curves.items():
            xs = [r["x"] for r in rows]
            (line,) = ax.plot(xs, [r["mean"] for r in rows], label=cond or "all runs")
            _band(
                ax,
                xs,
                [r["lo"] for r in rows],
                [r["hi"] for r in rows],
                alpha=0.2,
                color=line.get_color(),
            )
        _log_if_wide(ax, [r["mean"] for rows in curves.values() for r in rows])
        _integer_ticks(ax)
        ax.set_xlabel("generation")
        ax.set_ylabel("mean final resources")
        ax.legend(fontsize=7)

    return [
        render(
            "Mean final resources per generation (95% CI across seeds)",
            f"one line per condition: {', '.join(c or 'all runs' for c in curves)}",
            draw,
        )
    ]


def across_series(
    stats: Mapping[str, Any], series: str, field: str
) -> dict[str, list[dict[str, Any]]]:
    """Per condition the rows ``{x, mean, lo, hi}`` of a per-episode series field.

    Reads one env's across-runs statistics (``series[series][field][condition]``: rows with
    ``index``, ``mean`` and the bootstrap ``ci95``); {} where absent.
    """
    by_condition = ((stats.get("series") or {}).get(series) or {}).get(field) or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for condition, rows in by_condition.items():
        out[str(condition)] = [
            {"x": r["index"], "mean": r["mean"], "lo": (r.get("ci95") or (None, None))[0],
             "hi": (r.get("ci95") or (None, None))[1]}
            for r in rows
            if r.get("mean") is not None
        ]  # fmt: skip
    return out


# ---------------------------------------------------------------- debate, norms, web shop


def debate_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Per condition: each role's mean attitude per iteration (95% CI), Default line dashed."""
    debate = stats.get("debate") or {}
    default = debate.get("default_role", "default")
    conditions = list((debate.get("conditions") or {}).items())[:MAX_PANELS]
    return [
        _trajectories(cond, c["trajectories"], default)
        for cond, c in conditions
        if c.get("trajectories")
    ]


def _trajectories(condition: str, trajectories: Mapping[str, Any], default: str) -> Figure:
    def draw(ax: Any) -> None:
        for role, s in sorted(trajectories.items()):
            style = {"color": "black", "linestyle": "--"} if role == default else {}
            (line,) = ax.plot(s["iteration"], s["mean"], label=role, **style)
            cis = s.get("ci95") or [None] * len(s["iteration"])
            lo = [c[0] if c else None for c in cis]
            hi = [c[1] if c else None for c in cis]
            _band(ax, s["iteration"], lo, hi, alpha=0.15, color=line.get_color())
        ax.set_xlabel("iteration")
        ax.set_ylabel("attitude (survey)")
        ax.legend(fontsize=7)

    roles = ", ".join(sorted(trajectories))
    return render(
        f"Attitude trajectories: {condition}", f"mean attitude per iteration of {roles}", draw
    )


def norm_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Fitness per step, with a dashed line at each norm change (era boundary)."""
    norms = stats.get("norms") or {}
    pts = [
        (r["generation"], r["fitness"])
        for r in norms.get("steps") or []
        if r.get("fitness") is not None
    ]
    if not pts:
        return []
    boundaries = [(b["generation"], str(b.get("era"))) for b in norms.get("boundaries") or []]

    def draw(ax: Any) -> None:
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=".")
        for g, era in boundaries:
            ax.axvline(g - 0.5, color="grey", linestyle="--", linewidth=1)
            ax.text(g - 0.4, 1.0, era, fontsize=7, va="top")
        ax.set_ylim(0, 1.05)
        _integer_ticks(ax)
        ax.set_xlabel("step")
        ax.set_ylabel("fitness (score - 1) / 6")

    return [
        render(
            "Fitness per step with era boundaries",
            f"{len(pts)} steps, {len(boundaries)} norm changes",
            draw,
        )
    ]


#: The CASA rates, in the paper's order.
CASA_RATES = ("AC-R", "Edu-R", "Help-R", "Vio-R")


def web_shop_figures(stats: Mapping[str, Any]) -> list[Figure]:
    """Per judge: the CASA rates (%, 95% Wilson CI) by country, as grouped bars."""
    judges = list(((stats.get("web_shop") or {}).get("judges") or {}).items())[:MAX_PANELS]
    return [_casa_bars(judge, res.get("countries") or {}) for judge, res in judges]


def _casa_bars(judge: str, countries: Mapping[str, Mapping[str, Any]]) -> Figure:
    names = sorted(countries)
    judged = sum(bool(countries[c].get("AC-R", {}).get("n")) for c in names)
    return casa_bars(
        f"CASA rates by country ({judge})",
        f"bars of {', '.join(CASA_RATES)} for {len(names)} countries ({judged} judged)",
        countries,
    )


def casa_bars(
    title: str,
    alt: str,
    countries: Mapping[str, Mapping[str, Any]],
    key: str = "rate",
    ylabel: str = "rate (%)",
) -> Figure:
    """Grouped bars of the CASA rates by country: ``countries[c][rate][key]`` (a share) with
    its ``ci95`` as error bars (one run's rates, or the mean of many runs')."""
    names = sorted(countries)
    width = 0.8 / len(CASA_RATES)

    def draw(ax: Any) -> None:
        for i, rate in enumerate(CASA_RATES):
            cells = [countries[c].get(rate) or {} for c in names]
            xs = [j + (i - 1.5) * width for j in range(len(names))]
            ys = [100 * (c.get(key) or 0.0) for c in cells]
            err = list(zip(*(_err(c, key) for c in cells), strict=True)) if cells else None
            ax.bar(xs, ys, width, label=rate, yerr=err, capsize=2)
        ax.set_xticks(range(len(names)), names, rotation=45, ha="right", fontsize=7)
        ax.set_ylabel(ylabel)
        ax.set_ylim(0, 105)
        ax.legend(fontsize=7)

    return render(title, alt, draw)


def _err(cell: Mapping[str, Any], key: str) -> tuple[float, float]:
    value, ci = cell.get(key), cell.get("ci95")
    if value is None or not ci:
        return (0.0, 0.0)
    # matplotlib refuses negative error bars; a percentile interval may miss the mean by a hair.
    return (max(0.0, 100 * (value - ci[0])), max(0.0, 100 * (ci[1] - value)))


def _register_sections() -> None:
    from analysis.report import Section, register_section

    register_section("donor_game_v0", Section("lineage", lineage, _lineage_text))


_register_sections()
