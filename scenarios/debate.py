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
``drift_to_prior`` (Friedkin & Johnsen 1990 anchoring plus a pull toward the Default role's
rating, our model of the paper's finding), ``degroot`` (DeGroot 1974), ``bounded_confidence``
(Hegselmann & Krause 2002) or ``stubborn``. Scripted debaters are deterministic, so their
standard errors are 0. With ``--model`` every seat is an LLM agent, as in the paper.

Run:
    python scenarios/debate.py                          # gun violence, 3-way, 40 debates
    python scenarios/debate.py --topics all --conditions all --kind degroot
    python scenarios/debate.py --set episodes=10 --set iterations=6
    python scenarios/debate.py --model openai/gpt-4o-mini --topics all --dry-run
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from agentsim.agents.scripted.debate import DEBATERS
from agentsim.cli import EXIT_USER_ERROR, add_run_arguments
from agentsim.cli import main as agentsim_main
from agentsim.core.errors import ConfigError, UserError
from agentsim.core.records import Record, load_records
from agentsim.envs.debate import catalogue
from agentsim.runtime.experiment import ExperimentConfig, make_config
from agentsim.runtime.llm_runtime import check_model_flag, estimate, preflight
from analysis import debate as debate_stats

#: Condition name -> the role lists it runs (one run each).
CONDITIONS: Mapping[str, tuple[str, ...]] = {
    "3way": ("republican,democrat,default",),
    "2way": ("republican,democrat",),
    "echo": ("republican,republican", "democrat,democrat"),
}
KINDS = tuple(cls.kind for cls in DEBATERS)
DEFAULT_KIND = "drift_to_prior"
#: Debate records the statistics read (the rest of the event log is not loaded).
DEBATE_RECORDS = ("debate_start", "survey", "debate_end")


# ---------------------------------------------------------------- runs of a scenario


class ScenarioParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line and exit status 2, as ``agentsim``'s."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


@dataclass(frozen=True)
class RunOptions:
    """The ``agentsim run`` options a scenario hands to each of its runs.

    Attributes:
        seed: root seed of every run (None: the CLI's default, 0).
        out: parent folder of the run directories (None: ``runs``).
        overrides: the user's ``--set KEY=VALUE`` items, added after the scenario's own.
        model: LiteLLM model string for LLM agents (None: scripted).
        api_base: API base URL for the model.
        dry_run: print the estimate and run nothing.
        quiet: no progress bars.
        resume: a run directory to continue instead of starting new runs.
    """

    seed: int | None = None
    out: str | None = None
    overrides: tuple[str, ...] = ()
    model: str | None = None
    api_base: str | None = None
    dry_run: bool = False
    quiet: bool = False
    resume: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> RunOptions:
        """The options parsed by :func:`agentsim.cli.add_run_arguments`."""
        return cls(
            args.seed,
            args.out,
            tuple(args.overrides),
            args.model,
            args.api_base,
            args.dry_run,
            args.quiet,
            args.resume,
        )

    def flags(self) -> list[str]:
        """Command-line flags of a new run with these options (not ``--set``)."""
        pairs = (
            ("--seed", self.seed),
            ("--out", self.out),
            ("--model", self.model),
            ("--api-base", self.api_base),
        )
        flags = [x for flag, value in pairs if value is not None for x in (flag, str(value))]
        return [*flags, "--quiet"] if self.quiet else flags

    def llm_overrides(self) -> list[str]:
        """``--model`` and ``--api-base`` as the overrides the CLI turns them into."""
        out = [] if self.model is None else [f"model={self.model}"]
        return out if self.api_base is None else [*out, f"api_base={self.api_base}"]

    def user_keys(self) -> set[str]:
        """The bare keys (``episodes`` for ``run.episodes``) the user's overrides set."""
        return {item.partition("=")[0].strip().rpartition(".")[2] for item in self.overrides}


@dataclass(frozen=True)
class PlannedRun:
    """One run of a scenario: an experiment with the scenario's overrides for a condition.

    Attributes:
        label: the condition, as printed.
        experiment: the registered experiment (``agentsim experiments``).
        overrides: ``KEY=VALUE`` items the scenario sets for this condition.
    """

    label: str
    experiment: str
    overrides: tuple[str, ...]

    def config(self, options: RunOptions) -> ExperimentConfig:
        """The validated config, as ``agentsim run`` would build it (errors name the run)."""
        items = [*self.overrides, *options.overrides, *options.llm_overrides()]
        try:
            return make_config(self.experiment, options.seed or 0, items)
        except UserError as exc:
            raise UserError(f"{self.label}: {exc}") from None

    def argv(self, options: RunOptions) -> list[str]:
        """The ``agentsim`` command line of this run."""
        sets = [x for item in (*self.overrides, *options.overrides) for x in ("--set", item)]
        return ["run", self.experiment, *options.flags(), *sets]


def refuse_keys(options: RunOptions, keys: Mapping[str, str]) -> None:
    """Refuse ``--set`` keys the scenario sets itself; ``keys`` maps each to the fix."""
    for key in sorted(options.user_keys() & set(keys)):
        raise UserError(f"--set {key}: the scenario sets it per condition; {keys[key]}")


def check_runs(runs: Sequence[PlannedRun], options: RunOptions) -> list[ExperimentConfig]:
    """Validate every run before the first starts: a bad setting is one error, no directory."""
    check_model_flag(options.model)
    configs = [run.config(options) for run in runs]
    preflight(configs[0].llm, check_keys=not options.dry_run)
    return configs


def dry_run_text(runs: Sequence[PlannedRun], configs: Sequence[ExperimentConfig]) -> str:
    """LLM calls, tokens and cost of each run and in total; nothing is called."""
    first = configs[0]
    episodes = f"{first.settings.episodes} {first.study.episode_name}s"
    count = f"{len(runs)} run{'s' if len(runs) > 1 else ''} of {episodes}"
    if not first.llm.model:
        return f"{count}, scripted agents only: 0 LLM calls, 0 tokens, $0.00"
    rows = [(run.label, estimate(c)) for run, c in zip(runs, configs, strict=True)]
    width = max(len("condition"), *(len(label) for label, _ in rows))
    lines = [
        f"dry run with {first.llm.model}: {count} each",
        f"  {'condition':<{width}}  {'LLM calls':>10}  {'prompt tokens':>14}  "
        f"{'completion tokens':>17}  {'cost':>9}",
    ]
    for label, e in [*rows, ("total", _total(e for _, e in rows))]:
        cost = "unknown" if e["cost_usd"] is None else f"${e['cost_usd']:.2f}"
        lines.append(
            f"  {label:<{width}}  {e['calls']:>10,}  {e['prompt_tokens']:>14,}  "
            f"{e['completion_tokens']:>17,}  {cost:>9}"
        )
    if any(e["cost_usd"] is None for _, e in rows):
        lines.append(
            "  (no price for this model: --set price_in_per_mtok=X --set price_out_per_mtok=Y)"
        )
    lines.append("more calls if replies need re-asking; nothing was called (dry run)")
    return "\n".join(lines)


def _total(estimates: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = list(estimates)
    costs = [e["cost_usd"] for e in rows]
    return {
        "calls": sum(e["calls"] for e in rows),
        "prompt_tokens": sum(e["prompt_tokens"] for e in rows),
        "completion_tokens": sum(e["completion_tokens"] for e in rows),
        "cost_usd": None if None in costs else sum(costs),
    }


def _cli(argv: Sequence[str]) -> tuple[int, str]:
    """Run ``agentsim`` in this process; its stdout is returned, not printed."""
    captured = io.StringIO()
    with contextlib.redirect_stdout(captured):
        status = agentsim_main(list(argv))
    return status, captured.getvalue()


def _run_dir(output: str) -> Path | None:
    """The directory named by the CLI's ``run directory: PATH`` line."""
    for line in reversed(output.splitlines()):
        if line.startswith("run directory:"):
            return Path(line.partition(":")[2].strip())
    return None


def execute(runs: Sequence[PlannedRun], options: RunOptions) -> tuple[int, list[Path]]:
    """Run each planned run through the ``agentsim`` CLI, one after another.

    Prints one line per run (its run directory, and its LLM accounting when it called a
    model). Stops at the first run that does not finish (exit status 2, 3 or 130: its
    output is printed) and returns that status with the directories of the finished runs.
    """
    done: list[Path] = []
    for run in runs:
        status, output = _cli(run.argv(options))
        path = _run_dir(output)
        if status != 0 or path is None:
            print(output, end="")
            return status or 1, done
        llm = [ln for ln in output.splitlines() if ln.startswith("LLM: ")]
        print(f"{run.label}: {path}" + "".join(f"\n  {ln}" for ln in llm))
        done.append(path)
    return 0, done


def resume(options: RunOptions) -> tuple[int, list[Path]]:
    """``--resume RUN_DIR``: continue one run of the scenario through the CLI."""
    # Every flag goes through, so the CLI refuses those a resume cannot change (--seed, ...).
    argv = ["run", "--resume", str(options.resume), *options.flags()]
    argv += [x for item in options.overrides for x in ("--set", item)]
    status, output = _cli(argv + ["--dry-run"] * options.dry_run)
    print(output, end="")
    return status, [] if status or options.dry_run else [Path(str(options.resume))]


def pooled_records(paths: Iterable[Path], types: Sequence[str] = DEBATE_RECORDS) -> list[Record]:
    """The records of several runs, each tagged with its run so episodes stay apart.

    The statistics group a debate's records by their ``seed`` and ``episode`` fields; runs of
    one scenario share their seed and number their episodes from 1, so the run directory's
    name stands in for the seed here.
    """
    return [
        {**r, "seed": path.name}
        for path in paths
        for r in load_records(path / "events.jsonl", *types)
    ]


def scenario_main(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    plan: Callable[[argparse.Namespace, RunOptions], list[PlannedRun]],
    report: Callable[[list[Path], RunOptions], None],
) -> int:
    """Parse, plan, validate, then dry-run or run every planned run and report the pool.

    User errors print one line ``<prog>: error: ...`` and return 2, as ``agentsim`` does.
    """
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    options = RunOptions.from_args(args)
    try:
        if options.resume:
            status, paths = resume(options)
        else:
            runs = plan(args, options)
            configs = check_runs(runs, options)
            if options.dry_run:
                print(dry_run_text(runs, configs))
                return 0
            status, paths = execute(runs, options)
        if status == 0 and paths:
            print()
            report(paths, options)
        return status
    except UserError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. `python scenarios/debate.py | head`
        sys.stderr.close()
        return 0


# ---------------------------------------------------------------- the debate scenario


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
    names = list(CONDITIONS) if value.strip() == "all" else [c.strip() for c in value.split(",")]
    for name in names:
        if name not in CONDITIONS:
            raise ConfigError("--conditions", value, [*CONDITIONS, "all", "a comma-separated list"])
    return tuple(dict.fromkeys(names))


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
