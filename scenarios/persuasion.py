"""Salvi et al. 2024, "On the Conversational Persuasiveness of Large Language Models: A
Randomized Controlled Trial" (arXiv:2403.14380; Nature Human Behaviour 2025): the 2x2 design.

A persuader and a persuadee debate a proposition in three phases (opening, rebuttal,
conclusion) on sides drawn at random; the persuadee rates its agreement (1-5) before and
after. The conditions cross the opponent (a simulated human, or an LLM) with personalisation
(the persuader sees the persuadee's demographics, or not); Salvi et al. found personalised
GPT-4 raised the odds of higher agreement with the opponent by 81% (OR 1.81, 95% CI
[1.26, 2.61]) against human-human debates, and non-personalised GPT-4 had no significant effect.

One run per condition, N debates each (default 40; ``--set episodes=N``), all with the same
seed, so the conditions see the same propositions, sides and persuadee profiles (common
random numbers). The runs' records are pooled and summarised by :mod:`analysis.persuasion`:
per condition the opponent-aligned agreement shift and the share who moved toward the
opponent, and the odds ratio of a proportional-odds model against human/plain with its 95%
CI (needs statsmodels: ``pip install 'agentsim[stats]'``).

Offline (the default) the seats are the scripted stand-ins of
:mod:`agentsim.agents.scripted.persuasion`, whose persuasion model
(:mod:`agentsim.games.persuasion`) is built to give OR 1.81 for personalised LLM and 1.10 for
plain LLM persuaders; the scenario prints that implied OR next to each estimate, so the
offline run checks the statistics end to end. The scripted persuader argues as the opponent
the env names to it (``env.opponent``), so each condition is the plain ``persuasion``
experiment with ``opponent`` and ``personalised`` set, and any of its runs resumes with
``agentsim run --resume RUN_DIR`` (or ``python scenarios/persuasion.py --resume RUN_DIR``).
With ``--model`` both seats are LLM agents (the persuader plays a human persona in the human
conditions).

Run:
    python scenarios/persuasion.py                         # 4 conditions x 40 debates
    python scenarios/persuasion.py --set episodes=200 --seed 3
    python scenarios/persuasion.py --conditions llm/personalised,human/plain
    python scenarios/persuasion.py --model openai/gpt-4o-mini --dry-run
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agentsim.cli import add_run_arguments
from agentsim.games import persuasion as model
from analysis import persuasion as persuasion_stats
from scenarios._multirun import (
    PlannedRun,
    RunOptions,
    ScenarioParser,
    parse_choices,
    pooled_records,
    refuse_keys,
    scenario_main,
)

#: The 2x2 design: (opponent, personalised) per condition label, the baseline first.
CONDITIONS: Mapping[str, tuple[str, bool]] = {
    persuasion_stats.condition_label(opponent, personalised): (opponent, personalised)
    for opponent in ("human", "llm")
    for personalised in (False, True)
}


def condition_run(label: str) -> PlannedRun:
    """The ``persuasion`` experiment in one design cell (its population: the scripted
    persuader, which plays the env's opponent, and persuadee; with ``--model``, two LLMs)."""
    opponent, personalised = CONDITIONS[label]
    overrides = (f"env.opponent={opponent}", f"env.personalised={str(personalised).lower()}")
    return PlannedRun(label, "persuasion", overrides)


def parse_conditions(value: str) -> tuple[str, ...]:
    """``all`` or comma-separated labels from :data:`CONDITIONS`."""
    return parse_choices("--conditions", value, list(CONDITIONS))


def plan_conditions(args: argparse.Namespace, options: RunOptions) -> list[PlannedRun]:
    """One run per chosen condition, refusing settings the scenario makes itself."""
    keys = {
        "opponent": "choose conditions with --conditions",
        "personalised": "choose conditions with --conditions",
        "protocol": "this scenario is the salvi protocol",
    }
    refuse_keys(options, keys)
    return [condition_run(label) for label in parse_conditions(args.conditions)]


def is_scripted(options: RunOptions) -> bool:
    """Whether the scenario seats its scripted stand-ins (no model, no population of the
    user's; a resumed run's seats are in its config, not in the options)."""
    return not (options.model or options.resume or "population" in options.user_keys())


def model_odds_ratios(scripted: bool) -> dict[str, float]:
    """The scripted model's implied OR of each condition against human/plain (offline only)."""
    if not scripted:
        return {}
    params = model.PersuasionParams()
    return {
        label: model.implied_odds_ratio(params, opponent, personalised)
        for label, (opponent, personalised) in CONDITIONS.items()
    }


def odds_ratio_lines(stats: Mapping[str, Any], truth: Mapping[str, float]) -> list[str]:
    """The ordinal model's details and, offline, each estimate next to the model's OR."""
    ors = stats["odds_ratios"]
    if "error" in ors:
        return []
    lines = [
        f"odds ratios: {ors['model']}, pre-agreement {ors['pre_as']}, n={ors['n']}, "
        f"post levels {ors['levels']}; Wald 95% CIs (Salvi et al. fit a partial "
        "proportional-odds model)"
    ]
    for cond, o in ors["conditions"].items():
        true = f"; scripted model's OR {truth[cond]:.2f}" if cond in truth else ""
        if o.get("degenerate"):
            lines.append(f"  {cond}: OR not identified (degenerate fit){true}")
            continue
        lines.append(
            f"  {cond}: OR {o['odds_ratio']:.2f} [{o['ci95'][0]:.2f}, {o['ci95'][1]:.2f}], "
            f"p={o['p_value']:.3f}{true}"
        )
    return lines


def report_persuasion(paths: list[Path], options: RunOptions) -> None:
    """Print the pooled statistics of the runs (analysis.persuasion)."""
    stats = persuasion_stats.summarise(pooled_records(paths))
    print(persuasion_stats.text_section(stats))
    for line in odds_ratio_lines(stats, model_odds_ratios(is_scripted(options))):
        print(line)


def build_parser() -> argparse.ArgumentParser:
    """The scenario's options: its own, then those of ``agentsim run``."""
    p = ScenarioParser(
        prog="scenarios/persuasion.py",
        description="Salvi et al. 2024 persuasion: opponent (human|llm) x personalisation.",
    )
    p.add_argument(
        "--conditions",
        default="all",
        help=f"'all' (default) or comma-separated from {', '.join(CONDITIONS)}",
    )
    add_run_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario and print its statistics; returns the exit status."""
    return scenario_main(build_parser(), argv, plan_conditions, report_persuasion)


if __name__ == "__main__":
    sys.exit(main())
