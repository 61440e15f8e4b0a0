"""Li et al. 2024, "Agent Alignment in Evolving Social Norms" (EvolutionaryAgent,
arXiv:2401.04620): a population adapting to social norms that change every decade.

An APPROXIMATE reproduction: the paper's norm texts, questionnaire, observer rubric and
situation set are not public, so ours are our own (``agentsim/envs/norm_society/data``).
Ten agents live through four eras (2000s-2030s) of five steps of two simulated years; each
step every agent meets situations, answers the era's questionnaire and is scored 1-7 by an
observer against the era's norms; after every step the top 50% survive and children of two
survivors (crossover, mutation rate m = 0.8) replace the rest (paper defaults).

Conditions (``--conditions``), each repeated over ``--seeds`` seeds, side by side:
``evolutionary`` (the evolving population), ``static`` (fixed agents, no memory, no
evolution: the paper's direct baseline), ``reflection`` (agents that learn from the
observer's feedback, no evolution: the Reflexion-style baseline) and ``network`` (100
evolving agents on a small-world graph who conform to their neighbours; beyond the paper).

Offline (the default) agents are trait vectors in [0,1]^5 and the observer is rule-based
(fitness = exp(-d^2 / (2 * 0.35^2)) of the distance d to the era's norm vector). In this
scripted mode mutation shows the CLASSICAL trade-off of evolutionary models (faster
adaptation after a norm change, lower and noisier steady fitness: mutation load), which is
the opposite of the paper's LLM result that a higher m gives higher mean fitness (with
guided LLM rewrites as mutation). With ``--model`` every member is an LLM agent with a
persona, career and views, as in the paper (``--set observer=llm`` for an LLM observer).

Run:
    python scenarios/norm_society.py                       # 3 baselines x 5 seeds, offline
    python scenarios/norm_society.py --conditions all --seeds 10
    python scenarios/norm_society.py --conditions evolutionary --set mutation=0.2
    python scenarios/norm_society.py --model openai/gpt-4o-mini --seeds 1 --dry-run
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentsim.cli import add_run_arguments
from agentsim.core.errors import ConfigError, UserError
from analysis import norms
from scenarios._multirun import (
    PlannedRun,
    RunOptions,
    ScenarioParser,
    parse_choices,
    scenario_main,
)

#: Condition -> (experiment, the population of an LLM run of it).
CONDITIONS: Mapping[str, tuple[str, str]] = {
    "evolutionary": ("norm-society", "llm:10"),
    "static": ("norm-society-static", "llm[memory=0]:10"),
    "reflection": ("norm-society-reflection", "llm:10"),
    "network": ("norm-society-network", "llm:100"),
}
DEFAULT_CONDITIONS = "evolutionary,static,reflection"


def plan_runs(args: argparse.Namespace, options: RunOptions) -> list[PlannedRun]:
    """One run per condition and seed (seeds ``--seed`` .. ``--seed + --seeds - 1``)."""
    conditions = parse_choices("--conditions", args.conditions, list(CONDITIONS))
    if args.seeds < 1:
        raise ConfigError("--seeds", args.seeds, "an integer >= 1")
    if options.model and "population" in options.user_keys():
        raise UserError("--model makes every member an LLM agent; leave out --set population")
    base = options.seed or 0
    runs = []
    for condition in conditions:
        experiment, llm_population = CONDITIONS[condition]
        overrides = (f"run.population={llm_population}",) if options.model else ()
        for seed in range(base, base + args.seeds):
            runs.append(PlannedRun(f"{condition} seed {seed}", experiment, overrides, seed))
    return runs


def comparison_table(by_condition: Mapping[str, Mapping[str, Any]]) -> str:
    """One line per condition: mean fitness over the run, drop and lag at norm changes."""
    lines = [
        "condition        runs  fitness F [95% CI]      drop at a change   median lag (censored)"
    ]
    for condition, stats in by_condition.items():
        steps = stats["steps"]
        means = [r["fitness"]["mean"] for r in steps if r["fitness"]["mean"] is not None]
        overall = sum(means) / len(means) if means else None
        eras = [e["fitness"] for e in stats["eras"]]
        low = min((e["ci95"][0] for e in eras if e.get("ci95")), default=None)
        high = max((e["ci95"][1] for e in eras if e.get("ci95")), default=None)
        drops = [b["drop"]["mean"] for b in stats["boundaries"] if b["drop"]["mean"] is not None]
        lags = [b["median_lag"] for b in stats["boundaries"]]
        censored = [b["lag_censored"] for b in stats["boundaries"]]
        lag = "-" if not lags else ", ".join("cens." if x is None else f"{x:.0f}" for x in lags)
        cens = f"{sum(censored) / len(censored):.0%}" if censored else "-"
        band = "" if low is None or high is None else f" [eras {low:.2f}..{high:.2f}]"
        lines.append(
            f"{condition:<16} {stats['runs']:>4}  "
            f"{'-' if overall is None else f'{overall:.3f}'}{band:<18}  "
            f"{'-' if not drops else f'{sum(drops) / len(drops):+.3f}':>16}   {lag} ({cens})"
        )
    return "\n".join(lines)


def report_runs(paths: list[Path], options: RunOptions) -> None:
    """Per condition: fitness and violation per step with CIs over seeds, norm changes."""
    by_condition: dict[str, list[Path]] = {}
    for path in paths:
        condition = next(c for c, (e, _) in CONDITIONS.items() if path.name.startswith(e + "-seed"))
        by_condition.setdefault(condition, []).append(path)
    stats = {c: norms.runs_statistics(dirs) for c, dirs in by_condition.items()}
    for condition, s in stats.items():
        print(f"== {condition} ==")
        print(norms.text_runs(s))
        print()
    print(comparison_table(stats))
    if not options.model:
        print(
            "\nScripted mode (trait vectors, rule observer): mutation shows the classical "
            "trade-off (faster adaptation, lower steady fitness), the opposite of Li et al.'s "
            "LLM result; an approximate reproduction (our norms, situations and rubric)."
        )


def build_parser() -> argparse.ArgumentParser:
    """The scenario's options: its own, then those of ``agentsim run``."""
    p = ScenarioParser(
        prog="scenarios/norm_society.py",
        description="Li et al. 2024 EvolutionaryAgent: alignment to evolving social norms.",
    )
    p.add_argument(
        "--conditions",
        default=DEFAULT_CONDITIONS,
        help="comma-separated: evolutionary, static, reflection, network, or all "
        f"(default {DEFAULT_CONDITIONS})",
    )
    p.add_argument("--seeds", type=int, default=5, help="seeds per condition (default 5)")
    add_run_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario and print its statistics; returns the exit status."""
    return scenario_main(build_parser(), argv, plan_runs, report_runs)


if __name__ == "__main__":
    sys.exit(main())
