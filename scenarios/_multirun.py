"""Shared machinery of the multi-run scenarios (``scenarios/debate.py``, ``persuasion.py``).

A scenario plans one ``agentsim run`` per condition (:class:`PlannedRun`), validates them all
before the first starts, then dry-runs or runs them through the ``agentsim`` CLI in this
process, and reports statistics over the pooled records of the finished runs
(:func:`pooled_records`). :func:`scenario_main` is that whole flow; a scenario supplies its
parser, a planner and a reporter.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from agentsim.cli import EXIT_USER_ERROR
from agentsim.cli import main as agentsim_main
from agentsim.core.errors import ConfigError, UserError
from agentsim.core.records import Record, load_records
from agentsim.runtime.experiment import ExperimentConfig, make_config
from agentsim.runtime.llm_runtime import check_model_flag, estimate, preflight

#: Debate records the statistics read (the rest of the event log is not loaded).
DEBATE_RECORDS = ("debate_start", "survey", "debate_end")


def parse_choices(flag: str, value: str, names: Sequence[str]) -> tuple[str, ...]:
    """``all`` or comma-separated names from ``names`` (a scenario's ``--conditions``)."""
    chosen = list(names) if value.strip() == "all" else [c.strip() for c in value.split(",")]
    for name in chosen:
        if name not in names:
            raise ConfigError(flag, value, [*names, "all", "a comma-separated list"])
    return tuple(dict.fromkeys(chosen))


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
        seed: this run's root seed (None: ``--seed``); scenarios that repeat a condition
            over seeds set it.
    """

    label: str
    experiment: str
    overrides: tuple[str, ...]
    seed: int | None = None

    def config(self, options: RunOptions) -> ExperimentConfig:
        """The validated config, as ``agentsim run`` would build it (errors name the run)."""
        items = [*self.overrides, *options.overrides, *options.llm_overrides()]
        seed = self.seed if self.seed is not None else options.seed or 0
        try:
            return make_config(self.experiment, seed, items)
        except UserError as exc:
            raise UserError(f"{self.label}: {exc}") from None

    def argv(self, options: RunOptions) -> list[str]:
        """The ``agentsim`` command line of this run."""
        if self.seed is not None:
            options = dataclasses.replace(options, seed=self.seed)
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
