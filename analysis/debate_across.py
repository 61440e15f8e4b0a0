"""Debate attitude trajectories across runs (seeds), for the report of many runs.

Taubenfeld et al. 2024 (arXiv:2402.04049) plot each role's mean attitude per iteration
beside the Default agent's. Over many runs the seed is the unit: per run, each role's
trajectory is :func:`analysis.debate.trajectories` (its episodes of one debate condition,
topic and roles, averaged); across runs, per (condition, debate condition, role, iteration),
the mean of those run means with a percentile bootstrap 95% interval and the t-interval
(:func:`analysis.stats.describe`). Failed surveys are never imputed, so n may vary.

Example:
    >>> from analysis.runs import load_runs  # doctest: +SKIP
    >>> debate_across_statistics(load_runs("runs/debates"))["panels"][0]["runs"]  # doctest: +SKIP
    3
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from analysis._records_across import records_by_run, run_conditions
from analysis.debate import DEFAULT_ROLE, by_condition, episodes, trajectories
from analysis.stats import describe_many

if TYPE_CHECKING:
    from analysis.across import RunsLike

ENV_ID = "debate_v0"
SECTION = "debate_trajectories"
_WANTED = {
    "debate_start": ("protocol", "topic", "roles", "episode"),
    "survey": ("iteration", "agent", "score", "parse_status", "episode"),
    "debate_end": ("iterations", "episode"),
}

Key = tuple[str, str]  # (condition, debate condition)


def debate_across_statistics(runs: RunsLike) -> dict[str, Any]:
    """Each role's attitude per iteration across runs, per condition and debate condition.

    Returns:
        ``{"default_role", "panels": [{"condition", "debate", "runs", "trajectories":
        {role: [{"iteration", "mean", "ci95", "t_ci95", "n"}]}}]}``, one panel per
        (condition, debate condition) in first-seen order; ``runs`` counts the runs with
        that debate condition, ``n`` the runs with a usable mean at that iteration.
    """
    conditions = run_conditions(runs)
    values: dict[Key, dict[str, dict[int, list[float]]]] = {}
    runs_in: Counter[Key] = Counter()
    for run, records in records_by_run(runs, _WANTED, json_fields={"roles"}).items():
        for debate, eps in by_condition(episodes(records)).items():
            key = (conditions.get(run, ""), debate)
            runs_in[key] += 1
            roles = values.setdefault(key, {})
            for role, series in trajectories(eps).items():
                for t, mean in zip(series["iteration"], series["mean"], strict=True):
                    if mean is not None:
                        roles.setdefault(role, {}).setdefault(t, []).append(mean)
    return {"default_role": DEFAULT_ROLE, "panels": _panels(values, runs_in)}


def _panels(
    values: Mapping[Key, Mapping[str, Mapping[int, list[float]]]], runs_in: Mapping[Key, int]
) -> list[dict[str, Any]]:
    places = [
        (key, role, t)
        for key, roles in values.items()
        for role in sorted(roles)
        for t in sorted(roles[role])
    ]
    cells = describe_many([values[k][r][t] for k, r, t in places])
    panels: dict[Key, dict[str, Any]] = {
        key: {"condition": key[0], "debate": key[1], "runs": runs_in[key], "trajectories": {}}
        for key in values
    }
    for (key, role, t), cell in zip(places, cells, strict=True):
        panels[key]["trajectories"].setdefault(role, []).append({"iteration": t, **cell})
    return list(panels.values())


def debate_across_text(stats: Mapping[str, Any]) -> str:
    """Each panel's roles: the first and last iteration's mean [bootstrap 95% CI] (n runs)."""
    from analysis.across import fmt_number

    def point(row: Mapping[str, Any]) -> str:
        ci = row["ci95"]
        interval = "" if ci is None else f" [{fmt_number(ci[0])}, {fmt_number(ci[1])}]"
        return f"{fmt_number(row['mean'])}{interval} (n {row['n']})"

    lines = ["debate attitude across runs (mean of run means, bootstrap 95% CI)"]
    for p in stats["panels"]:
        where = f"{p['condition']}: " if p["condition"] else ""
        lines.append(f"  {where}{p['debate']} ({p['runs']} runs)")
        for role, rows in p["trajectories"].items():
            first, last = rows[0], rows[-1]
            lines.append(
                f"    {role}: iteration {first['iteration']} {point(first)} -> "
                f"iteration {last['iteration']} {point(last)}"
            )
    return "\n".join(lines)


def _register() -> None:
    from analysis.across import AcrossSection, register_across

    register_across(ENV_ID, AcrossSection(SECTION, debate_across_statistics, debate_across_text))


_register()
