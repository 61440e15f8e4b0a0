"""Taubenfeld et al. 2024, "Systematic Biases in LLM Simulations of Debates" (EMNLP 2024,
arXiv:2402.04049): attitude drift of partisan agents in simulated debates.

Republican, Democrat and Default (no party) agents debate a US topic in round-robin turns
(one utterance = one iteration, 9 iterations); every agent rates how serious the problem is
(0-10) before the debate and after every iteration. Each condition is repeated over 40
debates with fresh personas. The paper found that partisans drift toward the Default agent
(the model's own bias) and never cross its line, and that echo chambers (two agents of one
party) drift toward that bias instead of polarising.

One run per topic and condition (``--conditions``): ``3way`` (Republican, Democrat,
Default), ``2way`` (Republican, Democrat) and ``echo`` (Republican+Republican and
Democrat+Democrat: two runs). The runs' records are pooled and summarised by
:mod:`analysis.debate`: per role the mean attitude per iteration with its standard error over
debates, the shift, the gap to the Default agent and its convergence ratio g_T/g_0, line
crossings and echo-chamber polarisation.

Offline (the default) every seat is a scripted opinion-dynamics debater of one ``--kind``:
``drift_to_prior`` (Friedkin & Johnsen 1990 anchoring plus a dominant pull toward the Default
role's rating and damped listening, our model of the paper's finding), ``degroot`` (DeGroot
1974), ``bounded_confidence`` (Hegselmann & Krause 2002) or ``stubborn``. Each scripted
debater starts at its role's reference rating plus a seeded jitter (SD 0.5 on the 0-10 scale;
``--set population=drift_to_prior[initial_sd=0]:3`` removes it), standing in for the
differences between personas, so debates differ and standard errors are not 0; a seed still
reproduces every number. With ``--model`` every seat is an LLM agent, as in the paper.

Run:
    python scenarios/debate.py                          # gun violence, 3-way, 40 debates
    python scenarios/debate.py --topics all --conditions all --kind degroot
    python scenarios/debate.py --set episodes=10 --set iterations=6
    python scenarios/debate.py --model openai/gpt-4o-mini --topics all --dry-run
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentsim.agents.scripted.debate import DEBATERS
from agentsim.cli import add_run_arguments
from agentsim.core.errors import ConfigError, UserError
from agentsim.envs.debate import catalogue
from analysis import debate as debate_stats
from scenarios._multirun import (
    PlannedRun,
    RunOptions,
    ScenarioParser,
    parse_choices,
    pooled_records,
    refuse_keys,
    scenario_main,
)

#: Condition name -> the role lists it runs (one run each).
CONDITIONS: Mapping[str, tuple[str, ...]] = {
    "3way": ("republican,democrat,default",),
    "2way": ("republican,democrat",),
    "echo": ("republican,republican", "democrat,democrat"),
}
KINDS = tuple(cls.kind for cls in DEBATERS)
DEFAULT_KIND = "drift_to_prior"


@dataclass(frozen=True)
class DebateScenario:
    """Which debates the scenario runs: topics x conditions, and who sits in the seats.

    Attributes:
        topics: topic ids (``catalogue.load_topics``), one run per topic and condition.
        conditions: names from :data:`CONDITIONS`.
        kind: the scripted debater kind of every seat; None leaves the population to
            ``--model`` (every seat an LLM) or to the user's ``--set population=...``.
    """

    topics: tuple[str, ...] = ("gun_violence",)
    conditions: tuple[str, ...] = ("3way",)
    kind: str | None = DEFAULT_KIND

    def runs(self) -> list[PlannedRun]:
        """One run per topic and role list: ``debate`` (or ``debate-echo``) with its roles."""
        out = []
        for topic in self.topics:
            for condition in self.conditions:
                for roles in CONDITIONS[condition]:
                    experiment = "debate-echo" if condition == "echo" else "debate"
                    overrides = [f"env.topic={topic}", f"env.roles={roles}"]
                    if self.kind is not None:
                        seats = len(roles.split(","))
                        overrides.append(f"run.population={self.kind}:{seats}")
                    label = f"{topic} {condition}" + (f" ({roles})" if condition == "echo" else "")
                    out.append(PlannedRun(label, experiment, tuple(overrides)))
        return out


def parse_topics(value: str) -> tuple[str, ...]:
    """``all`` (the package's four topics) or comma-separated topic ids."""
    if value.strip() == "all":
        return tuple(catalogue.load_topics(None))
    return tuple(t.strip() for t in value.split(",") if t.strip())


def parse_conditions(value: str) -> tuple[str, ...]:
    """``all`` or comma-separated names from :data:`CONDITIONS`."""
    return parse_choices("--conditions", value, list(CONDITIONS))


def plan_debates(args: argparse.Namespace, options: RunOptions) -> list[PlannedRun]:
    """The scenario's runs from its arguments, refusing settings it makes itself."""
    refuse_keys(
        options,
        {
            "topic": "choose topics with --topics",
            "roles": "choose conditions with --conditions (or use `agentsim run debate`)",
        },
    )
    kind = args.kind
    if kind is not None and (options.model or "population" in options.user_keys()):
        what = "--model (every seat is an LLM)" if options.model else "--set population"
        raise UserError(f"--kind sets the scripted debater of every seat; leave it out with {what}")
    if kind is None and not options.model and "population" not in options.user_keys():
        kind = DEFAULT_KIND
    topics = parse_topics(args.topics)
    if not topics:
        raise ConfigError("--topics", args.topics, "all, or comma-separated topic ids")
    return DebateScenario(topics, parse_conditions(args.conditions), kind).runs()


def trajectory_table(condition: str, stats: Mapping[str, Any]) -> str:
    """Mean±SE attitude per iteration for each role, and each partisan's gap to Default."""
    traj, gaps = stats["trajectories"], stats["gap_to_default"]
    roles, gap_roles = list(traj), list(gaps)
    heads = [*roles, *(f"gap:{r}" for r in gap_roles)]
    width = max(11, *(len(h) for h in heads)) + 1
    lines = [
        f"{condition}: attitude by iteration, mean±SE over {stats['episodes']} debates",
        "  iter" + "".join(f"{h:>{width}}" for h in heads),
    ]
    for t in traj[roles[0]]["iteration"]:
        cells = [_pm(traj[r]["mean"][t], traj[r]["se"][t]) for r in roles]
        by_t = [gaps[r]["by_iteration"] for r in gap_roles]
        cells += [_pm(g["mean"][t], g["se"][t]) for g in by_t]
        lines.append(f"  {t:>4}" + "".join(f"{c:>{width}}" for c in cells))
    return "\n".join(lines)


def crossing_lines(stats: Mapping[str, Any]) -> list[str]:
    """Per partisan: convergence ratio, whether its mean line crossed Default's, in how many
    debates its own line did."""
    lines = []
    for role, c in stats["crossings"].items():
        ratio = stats["gap_to_default"].get(role, {}).get("convergence_ratio")
        at = f" (at iterations {c['iterations']})" if c["crossed"] else ""
        lines.append(
            f"  {role}: gT/g0 {'-' if ratio is None else f'{ratio:.2f}'}; mean line crosses "
            f"default's: {'yes' if c['crossed'] else 'no'}{at}; "
            f"{c['episodes_crossed']} of {c['episodes']} debates cross"
        )
    return lines


def _pm(mean: float | None, se: float | None) -> str:
    if mean is None:
        return "-"
    return f"{mean:.2f}" + ("" if se is None else f"±{se:.2f}")


def report_debates(paths: list[Path], options: RunOptions) -> None:
    """Print the pooled statistics of the runs (analysis.debate)."""
    stats = debate_stats.summarise(pooled_records(paths))
    for condition, c in stats["conditions"].items():
        print(trajectory_table(condition, c))
        for line in crossing_lines(c):
            print(line)
        print()
    print(debate_stats.text_section(stats))


def build_parser() -> argparse.ArgumentParser:
    """The scenario's options: its own, then those of ``agentsim run``."""
    p = ScenarioParser(
        prog="scenarios/debate.py",
        description="Taubenfeld et al. 2024 debates: attitude drift toward the Default agent.",
    )
    p.add_argument(
        "--topics",
        default="gun_violence",
        help="'all' or comma-separated topic ids (default gun_violence; all: "
        + ", ".join(catalogue.load_topics(None))
        + ")",
    )
    p.add_argument(
        "--conditions",
        default="3way",
        help="comma-separated: 3way (R, D, Default), 2way (R, D), echo (R+R and D+D), or all "
        "(default 3way)",
    )
    p.add_argument(
        "--kind",
        choices=KINDS,
        help=f"scripted debater of every seat (default {DEFAULT_KIND}; not with --model)",
    )
    add_run_arguments(p)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario and print its statistics; returns the exit status."""
    return scenario_main(build_parser(), argv, plan_debates, report_debates)


if __name__ == "__main__":
    sys.exit(main())
