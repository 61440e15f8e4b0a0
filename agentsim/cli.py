"""The ``agentsim`` command line: ``envs``, ``agents``, ``run``, ``report``, ``replay``.

User errors (bad arguments, invalid config values, missing run directories)
print one line ``agentsim: error: ...`` and exit with status 2, without a traceback.

Example:
    agentsim run donor-game --seed 1 --out runs --set generations=10
    agentsim report runs/donor-game-seed1-20261126-093000
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from agentsim.core.errors import UserError

EXIT_USER_ERROR = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # argparse's default prints the whole usage; one line is easier to act on.
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="agentsim", description="Multi-agent social simulation.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("envs", help="list registered environments")
    sub.add_parser("agents", help="list registered agent kinds")
    sub.add_parser("experiments", help="list runnable experiments")
    run = sub.add_parser("run", help="run an experiment into a new run directory")
    run.add_argument(
        "experiment",
        nargs="?",
        help="experiment name, e.g. donor-game (see `experiments`); optional with --resume",
    )
    add_run_arguments(run)
    rpl = sub.add_parser("replay", help="re-execute a run from its LLM cache and compare events")
    rpl.add_argument("run_dir")
    rpl.add_argument("--quiet", action="store_true", help="no progress bar")
    rep = sub.add_parser("report", help="print a text report of a run directory")
    rep.add_argument("run_dir")
    rep.add_argument("--json", action="store_true", help="print the statistics as JSON")
    return p


def add_run_arguments(p: argparse.ArgumentParser) -> None:
    """Arguments shared by ``agentsim run`` and every scenario script."""
    p.add_argument("--seed", type=int, default=None, help="root seed (default 0)")
    p.add_argument("--out", default=None, help="parent folder of run directories (runs)")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a setting, e.g. generations=10 (repeatable)",
    )
    p.add_argument("--resume", metavar="RUN_DIR", help="continue a killed run from its checkpoint")
    p.add_argument("--model", help="LiteLLM model string for LLM agents (default: scripted)")
    p.add_argument("--api-base", help="API base URL for --model (else LiteLLM's env variables)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the LLM calls/tokens/cost estimate and exit without running",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``agentsim`` and ``python -m agentsim``; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"agentsim: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. `agentsim report RUN | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("agentsim: interrupted; resume with --resume RUN_DIR", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "envs":
        from agentsim.envs.registry import list_envs

        print("\n".join(list_envs()))
    elif args.command == "agents":
        from agentsim.agents.registry import agent_kinds

        print("\n".join(agent_kinds()))
    elif args.command == "experiments":
        from agentsim.runtime.experiment import EXPERIMENTS

        for name, spec in sorted(EXPERIMENTS.items()):
            print(f"{name:24s} {spec.env_id:16s} {spec.description}")
    elif args.command == "run":
        return run_command(args.experiment, args)
    elif args.command == "replay":
        return replay_command(Path(args.run_dir), quiet=args.quiet)
    elif args.command == "report":
        return _report(Path(args.run_dir), as_json=args.json)
    return 0


EXIT_STOPPED = 3


def _model_overrides(args: argparse.Namespace) -> list[str]:
    extra = []
    if args.model is not None:
        extra.append(f"model={args.model}")
    if args.api_base is not None:
        extra.append(f"api_base={args.api_base}")
    return extra


def run_command(experiment: str | None, args: argparse.Namespace) -> int:
    """``agentsim run``: a new run, or ``--resume`` of an existing one."""
    from agentsim.runtime.experiment import make_config, run_name
    from agentsim.runtime.rundir import RunDir

    overrides = [*args.overrides, *_model_overrides(args)]
    if args.resume:
        return _resume(experiment, args, overrides)
    if experiment is None:
        raise UserError("run: name an experiment (see `agentsim experiments`) or give --resume")
    config = make_config(experiment, 0 if args.seed is None else args.seed, overrides)
    if args.dry_run:
        print(_dry_run_text(config))
        return 0
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run = RunDir.create(args.out or "runs", run_name(config, stamp), config.to_json(), unique=True)
    return _execute(run, config, quiet=args.quiet)


def _resume(experiment: str | None, args: argparse.Namespace, overrides: list[str]) -> int:
    from agentsim.runtime.experiment import ExperimentConfig
    from agentsim.runtime.rundir import RunDir

    for flag, value in (("--seed", args.seed), ("--out", args.out)):
        if value is not None:
            raise UserError(f"{flag} cannot change a resumed run; its config.json is fixed")
    run = RunDir.open(args.resume)
    config = ExperimentConfig.from_json(run.config(), _resumable(overrides))
    if experiment is not None and experiment != config.experiment:
        raise UserError(f"{args.resume} is a {config.experiment} run, not {experiment}")
    if args.dry_run:
        done = int((run.checkpoint() or {}).get("generation", 0))
        print(f"{done} of {config.settings.generations} generations done; for the whole run:")
        print(_dry_run_text(config))
        return 0
    _write_config(run, config.to_json())
    return _execute(run, config, quiet=args.quiet)


def _resumable(overrides: list[str]) -> list[str]:
    from agentsim.runtime.experiment import RESUMABLE_KEYS

    for item in overrides:
        key = item.partition("=")[0].strip()
        if key not in RESUMABLE_KEYS:
            raise UserError(
                f"--set {key}: a resumed run keeps its config.json; only "
                f"{', '.join(RESUMABLE_KEYS)} may change (they do not change decisions)"
            )
    return overrides


def _write_config(run: Any, config: dict[str, Any]) -> None:
    from agentsim.runtime.rundir import CONFIG, write_json_atomic

    write_json_atomic(run.file(CONFIG), config)


def _execute(run: Any, config: Any, *, quiet: bool, cache_path: Path | None = None) -> int:
    from agentsim.runtime.loop import RunStopped, run_experiment
    from agentsim.runtime.progress import ProgressBar

    bar = ProgressBar(f"{config.experiment} generations", enabled=False if quiet else None)
    try:
        with run.lock():
            summary = asyncio.run(run_experiment(run, config, progress=bar, cache_path=cache_path))
    except RunStopped as exc:
        print(f"agentsim: {exc}", file=sys.stderr)
        print(f"run directory: {run.path}")
        return EXIT_STOPPED
    _print_run_result(run.path, summary)
    return 0


def _dry_run_text(config: Any) -> str:
    from agentsim.evolution.population import parse_population

    n_llm = sum(m.kind == "llm" for m in parse_population(config.settings.population))
    if not config.llm.model or n_llm == 0:
        return f"{config.experiment}: scripted agents only: 0 LLM calls, 0 tokens, $0.00"
    from agentsim.runtime.llm_runtime import estimate

    e = estimate(
        config.llm,
        config.env,
        config.settings.generations,
        n_llm,
        config.settings.survival_fraction,
    )
    cost = (
        "unknown (LiteLLM has no price for this model)"
        if e["cost_usd"] is None
        else f"${e['cost_usd']:.2f}"
    )
    return (
        f"{config.experiment} with {config.llm.model}: {n_llm} LLM agents, "
        f"{config.settings.generations} generations\n"
        f"LLM calls:  {e['calls']} ({e['decision_calls']} decisions, "
        f"{e['strategy_calls']} strategies; more if replies need re-asking)\n"
        f"tokens:     ~{e['prompt_tokens']:,} prompt + ~{e['completion_tokens']:,} completion\n"
        f"cost:       {cost}\nnothing was called (dry run)"
    )


def replay_command(path: Path, *, quiet: bool) -> int:
    """Re-execute a run with its LLM cache in replay mode; compare the events."""
    from agentsim.runtime.replay import replay

    result = replay(path, quiet=quiet)
    print(result.message)
    return 0 if result.identical else 1


def _print_run_result(path: Path, summary: dict[str, Any]) -> None:
    print(f"{'gen':>4} {'mean final resources':>21} {'mean donation':>14}")
    for g in summary["generations"]:
        res, don = g["mean_final_resources"], g["mean_donation_fraction"]
        print(f"{g['generation']:>4} {res:>21.2f} {don if don is None else f'{don:.3f}':>14}")
    llm, decisions = summary["llm"], summary["decisions"]
    if llm.get("calls"):
        cost = "unknown" if llm["cost_usd"] is None else f"${llm['cost_usd']:.4f}"
        print(
            f"LLM: {llm['calls']} calls ({llm['cached']} from the cache, {llm['attempts']} "
            f"attempts), {llm['prompt_tokens'] + llm['completion_tokens']} tokens, {cost}; "
            f"decisions ok {decisions['ok']}, re-asked {decisions['reasked']}, "
            f"fallback {decisions['fallback']}"
        )
    print(f"run directory: {path}")
    print(f"summary:       {path / 'summary.json'}")
    print(
        f"status: {summary['status']}; generations: {summary['generations_completed']}; "
        f"final mean resources: {summary['final_mean_resources']:.2f}"
    )


def _report(path: Path, *, as_json: bool) -> int:
    from agentsim.runtime.rundir import RunDir

    run = RunDir.open(path)
    try:
        from analysis.report import run_statistics, text_report
    except ImportError:
        raise UserError("the analysis package is not installed (pip install -e .)") from None
    events = run.file("events.jsonl")
    if not events.is_file():
        raise UserError(f"{path} has no events.jsonl yet")
    try:
        text = (
            json.dumps(run_statistics(events), indent=2)
            if as_json
            else text_report(events, run.config())
        )
    except ValueError as exc:  # a corrupt event log
        raise UserError(str(exc)) from None
    print(text)
    return 0
