"""The ``agentsim`` command line: ``envs``, ``agents``, ``run``, ``sweep``, ``report``,
``replay``, ``show``, ``shop serve``.

User errors (bad arguments, invalid config values, missing run directories)
print one line ``agentsim: error: ...`` and exit with status 2, without a traceback.
``agentsim`` alone prints the usage (exit 2). Exit statuses of ``run``: 0 done (or
nothing left to do), 2 user error, 3 stopped at a checkpoint (budget, provider),
130 interrupted by Ctrl-C at a round boundary (resume with ``--resume``). ``sweep`` exits
with 0 when every cell completed, 1 when a cell failed, else 3 or 130 as ``run``.

Example:
    agentsim run donor-game --seed 1 --out runs --set generations=10
    agentsim run --resume runs/donor-game-seed1-20261126-093000 --set generations=20
    agentsim report runs/donor-game-seed1-20261126-093000 --html
    agentsim sweep donor-game --seeds 0..9 --set env.multiplier=2,4 --out runs
    agentsim report runs/donor-game-sweep-20261126-093000
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import inspect
import json
import re
import sys
import textwrap
import threading
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from agentsim import __version__
from agentsim.core.errors import ConfigError, UserError

EXIT_FAILED = 1
EXIT_USER_ERROR = 2
EXIT_STOPPED = 3
EXIT_INTERRUPTED = 130  # the shell's convention for SIGINT


class _Parser(argparse.ArgumentParser):
    #: Builds the epilog when help is printed: the settings help loads every study (most of
    #: a second), which a plain ``agentsim run`` must not pay.
    lazy_epilog: Callable[[], str] | None = None

    def format_help(self) -> str:
        if self.lazy_epilog is not None:
            self.epilog, self.lazy_epilog = self.lazy_epilog(), None
        return super().format_help()

    def error(self, message: str) -> NoReturn:
        # argparse's default prints the whole usage; one line is easier to act on.
        self.exit(EXIT_USER_ERROR, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="agentsim", description="Multi-agent social simulation.")
    p.add_argument("--version", action="version", version=f"agentsim {__version__}")
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    sub.add_parser("envs", help="list registered environments")
    sub.add_parser("agents", help="list registered agent kinds")
    sub.add_parser("experiments", help="list runnable experiments")
    run = sub.add_parser(
        "run",
        help="run an experiment into a new run directory (or --resume one)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument(
        "experiment",
        nargs="?",
        help="experiment name, e.g. donor-game (see `experiments`); optional with --resume",
    )
    run.lazy_epilog = settings_help
    add_run_arguments(run)
    add_sweep_parser(sub)
    rpl = sub.add_parser("replay", help="re-execute a run from its LLM cache and compare events")
    rpl.add_argument("run_dir")
    rpl.add_argument("--quiet", action="store_true", help="no progress bar")
    rep = sub.add_parser(
        "report", help="report a run, or many runs (a sweep directory, several run directories)"
    )
    rep.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a run directory; or a sweep directory, a folder of runs, several run directories",
    )
    rep.add_argument("--json", action="store_true", help="print the statistics as JSON")
    rep.add_argument(
        "--html",
        nargs="?",
        const="",
        default=None,
        metavar="FILE",
        help="write a self-contained HTML report (default FILE: report.html in the run or "
        "sweep directory)",
    )
    show = sub.add_parser("show", help="print what an agent saw, answered, and how it was parsed")
    show.add_argument("run_dir")
    show.add_argument(
        "--decision",
        type=int,
        required=True,
        metavar="N",
        help="which decision record of events.jsonl (0 is the first)",
    )
    shop = sub.add_parser("shop", help="the web_shop_v0 website (serve it to a browser)")
    shop_sub = shop.add_subparsers(
        dest="shop_command", parser_class=_Parser, metavar="SUBCOMMAND", required=True
    )
    serve = shop_sub.add_parser("serve", help="serve the shop on 127.0.0.1 until Ctrl-C")
    serve.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    serve.add_argument("--catalog", metavar="FILE", help="catalog JSON (default: the shipped one)")
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
        help="override a setting, e.g. episodes=10 or env.rounds=6 (repeatable; keys listed below)",
    )
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a stopped or killed run from its checkpoint; with --set episodes=N "
        "(generations=N in the donor game), extend a finished one",
    )
    p.add_argument("--model", help="LiteLLM model string for LLM agents (default: scripted)")
    p.add_argument("--api-base", help="API base URL for --model (else LiteLLM's env variables)")
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="print the LLM calls/tokens/cost estimate and exit without running",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


SWEEP_HELP = """\
Runs EXPERIMENT once per cell of a grid: every combination of the --set axes' values,
times every seed. Each cell is an ordinary run directory (agentsim report works on it)
under PARENT/EXPERIMENT-sweep-STAMP, whose sweep.json lists the cells.

  --set KEY=V1,V2,...  a grid axis (values split on commas)
  --set KEY=VALUE      one value: the same for every cell
  --set KEY=A|B        a value list containing | is split on | only, for values with
                       commas: run.population=a:6,b:6|a:4,b:8 is an axis of two
                       populations, run.population=a:6,b:6| one fixed population
  --seeds 0..99        inclusive range; also 0,3,7 or 0..9,20

Cells with LLM agents (--model) run concurrently in this process on one event loop
(--workers at once), sharing one rate limit and one llm.budget_* per provider; the ray
backend refuses them. --resume skips completed cells, continues partial ones from their
checkpoint and starts the rest; with --resume, --set takes only settings a resumed run
may change (budgets, rate limits, run.episodes to extend every cell).

examples:
  agentsim sweep donor-game --seeds 0..3 --set env.multiplier=2,4 \\
      --set run.generations=2 --set env.agents=4 --set env.rounds=2 --out runs
  agentsim sweep --resume runs/donor-game-sweep-20261126-093000 --workers 2
"""


def add_sweep_parser(sub: Any) -> None:
    """The ``sweep`` subcommand's arguments (its epilog: the ``--set`` keys' help)."""
    sw = sub.add_parser(
        "sweep",
        help="run an experiment over a grid of settings and seeds (or --resume a sweep)",
        description=SWEEP_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sw.lazy_epilog = settings_help
    sw.add_argument("experiment", nargs="?", help="experiment name; optional with --resume")
    sw.add_argument("--seeds", help="seeds: 0..99 (inclusive), 0,3,7 or 0..9,20 (default 0)")
    sw.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=V1,V2",
        help="a setting (one value) or a grid axis (several values; see above); repeatable",
    )
    sw.add_argument("--out", default=None, help="parent folder of the sweep directory (runs)")
    sw.add_argument("--resume", metavar="SWEEP_DIR", help="continue a stopped or killed sweep")
    sw.add_argument(
        "--backend",
        choices=("local", "ray"),
        default="local",
        help="local: processes on this machine (default); ray: a Ray cluster",
    )
    sw.add_argument(
        "--workers", type=int, default=None, help="cells at once (default: the CPU count)"
    )
    sw.add_argument("--address", help="Ray cluster address (default: start a local cluster)")
    sw.add_argument("--model", help="LiteLLM model string for LLM agents (default: scripted)")
    sw.add_argument("--api-base", help="API base URL for --model")
    sw.add_argument(
        "--dry-run", action="store_true", help="print the cells and the LLM estimate; run nothing"
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``agentsim`` and ``python -m agentsim``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USER_ERROR
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"agentsim: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except BrokenPipeError:  # e.g. `agentsim report RUN | head`
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("agentsim: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "envs":
        from agentsim.envs.registry import list_envs

        print("\n".join(list_envs()))
    elif args.command == "agents":
        from agentsim.agents.registry import kinds_by_env
        from agentsim.envs.study import study_ids

        study_ids()  # the studies register their kinds
        for env_id, kinds in kinds_by_env().items():
            print(
                f"{env_id}: {', '.join(kinds)}" if env_id != "*" else f"any env: {', '.join(kinds)}"
            )
    elif args.command == "experiments":
        from agentsim.envs.study import all_experiments

        for name, (study, spec) in sorted(all_experiments().items()):
            print(f"{name:24s} {study.env_id:16s} {spec.description}")
    elif args.command == "run":
        return run_command(args.experiment, args)
    elif args.command == "sweep":
        return sweep_command(args)
    elif args.command == "replay":
        return replay_command(Path(args.run_dir), quiet=args.quiet)
    elif args.command == "report":
        return _report([Path(p) for p in args.paths], as_json=args.json, html=args.html)
    elif args.command == "show":
        return _show(Path(args.run_dir), args.decision)
    elif args.command == "shop":
        return _shop_serve(args.port, args.catalog)
    return 0


def _model_overrides(args: argparse.Namespace) -> list[str]:
    empty = args.model is not None and not args.model.strip()
    for item in args.overrides:
        key, _, value = item.partition("=")
        empty |= key.strip().rpartition(".")[2] == "model" and not value.strip()
    if empty:
        # An empty model string would otherwise mean "no model": a silent scripted run.
        raise ConfigError(
            "model",
            "",
            "a LiteLLM model string such as openai/gpt-4o-mini or offline/donor "
            "(leave --model out for scripted agents)",
        )
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
    _preflight(config, check_keys=not args.dry_run)
    if args.dry_run:
        print(_dry_run_text(config))
        return 0
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run = RunDir.create(args.out or "runs", run_name(config, stamp), config.to_json(), unique=True)
    with run.lock():
        return _execute(run, config, quiet=args.quiet)


def _resume(experiment: str | None, args: argparse.Namespace, overrides: list[str]) -> int:
    from agentsim.runtime.experiment import ExperimentConfig
    from agentsim.runtime.loop import resume_point
    from agentsim.runtime.rundir import RunDir

    for flag, value in (("--seed", args.seed), ("--out", args.out)):
        if value is not None:
            raise UserError(f"{flag} cannot change a resumed run; its config.json is fixed")
    run = RunDir.open(args.resume)
    overrides = _resumable(overrides)
    if args.dry_run:
        config = ExperimentConfig.from_json(run.config(), overrides)
        _check_experiment(experiment, config.experiment, args.resume)
        _preflight(config, check_keys=False)
        done = int((run.checkpoint() or {}).get("generation", 0))
        name = config.study.episode_name
        print(f"{done} of {config.settings.episodes} {name}s done; for the whole run:")
        print(_dry_run_text(config))
        return 0
    with run.lock():  # before anything is written: a live run's files stay untouched
        config = ExperimentConfig.from_json(run.config(), overrides)
        _check_experiment(experiment, config.experiment, args.resume)
        point = resume_point(run, config)
        if point.completed:
            name = config.study.episode_name
            key = next((a for a, k in config.study.aliases.items() if k == "episodes"), "episodes")
            print(
                f"{run.path} already completed ({point.generation} {name}s); nothing to do "
                f"(extend it with --set {key}=N)"
            )
            return 0
        _preflight(config)
        _write_config(run, config.to_json())
        return _execute(run, config, quiet=args.quiet, start=point)


def sweep_command(args: argparse.Namespace) -> int:
    """``agentsim sweep``: plan, validate and run a new sweep, or ``--resume`` one."""
    import os

    from agentsim.runtime import sweep

    if args.address is not None and args.backend != "ray":
        raise UserError("--address names a Ray cluster: add --backend ray")
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    if args.resume:
        for flag, value in (("--seeds", args.seeds), ("--out", args.out), ("--model", args.model)):
            if value is not None:
                raise UserError(f"{flag} cannot change a resumed sweep; its sweep.json is fixed")
        path = Path(args.resume)
        plan = sweep.load(path)
        _check_experiment(args.experiment, plan.experiment, args.resume, what="sweep")
        extra = _resumable([*args.overrides, *_model_overrides(args)])
        sweep.check_backend(args.backend, workers, llm=plan.uses_llm())
    else:
        if args.experiment is None:
            raise UserError("sweep: name an experiment (see `agentsim experiments`) or --resume")
        _model_overrides(args)  # refuses an empty --model
        plan, configs = sweep.plan(
            args.experiment,
            args.seeds or "0",
            args.overrides,
            model=args.model,
            api_base=args.api_base,
        )
        for config in {repr(c.llm): c for c in configs}.values():
            _preflight(config, check_keys=not args.dry_run)
        if args.dry_run:
            print(_sweep_dry_run_text(plan, configs, sweep))
            return 0
        sweep.check_backend(args.backend, workers, llm=plan.uses_llm())
        path = sweep.create(args.out or "runs", plan)
        extra = [f"api_base={args.api_base}"] if args.api_base else []
    if args.dry_run:
        print(sweep.plan_table(plan))
        return 0
    return _run_sweep(path, plan, extra, args, workers=workers)


def _run_sweep(
    path: Path, plan: Any, extra: list[str], args: argparse.Namespace, *, workers: int
) -> int:
    from agentsim.runtime import sweep
    from agentsim.runtime.progress import ProgressBar

    print(f"sweep directory: {path} ({len(plan.cells)} cells)", flush=True)
    bar = ProgressBar(f"{plan.experiment} cells", enabled=False if args.quiet else None)
    finished = [0]

    def done(outcome: Any) -> None:
        finished[0] += 1
        bar(finished[0], len(plan.cells))

    bar(0, len(plan.cells))
    outcomes = sweep.run_cells(
        sweep.tasks(path, plan, extra),
        backend=args.backend,
        workers=workers,
        address=args.address,
        llm=plan.uses_llm(),
        done=done,
    )
    print(sweep.results_table(plan, outcomes))
    return _sweep_status(path, plan, outcomes)


def _sweep_status(path: Path, plan: Any, outcomes: Sequence[Any]) -> int:
    bad = [
        (c.cell, o) for c, o in zip(plan.cells, outcomes, strict=True) if o.status != "completed"
    ]
    if not bad:
        print(f"all {len(outcomes)} cells completed; sweep directory: {path}")
        return 0
    for cell, outcome in bad:
        if outcome.status in ("failed", "stopped"):  # Ctrl-C needs no explanation per cell
            print(f"agentsim: {cell} {outcome.status}: {outcome.message}", file=sys.stderr)
    print(
        f"agentsim: {len(bad)} of {len(outcomes)} cells did not complete "
        f"({', '.join(cell for cell, _ in bad)}); resume with "
        f"`agentsim sweep --resume {path}`",
        file=sys.stderr,
    )
    statuses = {o.status for _, o in bad}
    if "failed" in statuses:
        return EXIT_FAILED
    return EXIT_STOPPED if statuses == {"stopped"} else EXIT_INTERRUPTED


def _sweep_dry_run_text(plan: Any, configs: Sequence[Any], sweep: Any) -> str:
    e = sweep.estimate_total(configs)
    lines = [sweep.plan_table(plan), ""]
    cells = f"{len(configs)} cell" + ("s" if len(configs) != 1 else "")
    if not e["calls"]:
        lines.append(f"{cells}, scripted agents only: 0 LLM calls, $0.00")
    else:
        cost = (
            "unknown (no price for this model)"
            if e["cost_usd"] is None
            else (f"${e['cost_usd']:.2f}")
        )
        lines.append(
            f"{cells} with {plan.model}: {e['calls']} LLM calls (more if replies "
            f"need re-asking), ~{e['prompt_tokens']:,} prompt + "
            f"~{e['completion_tokens']:,} completion tokens, cost {cost}"
        )
    lines.append("nothing was run (dry run)")
    return "\n".join(lines)


def _check_experiment(named: str | None, actual: str, path: str, what: str = "run") -> None:
    if named is not None and named != actual:
        raise UserError(f"{path} is a {actual} {what}, not {named}")


def _resumable(overrides: list[str]) -> list[str]:
    """The overrides a resume accepts, as bare ``key=value`` (``run.episodes`` too)."""
    from agentsim.envs.study import STUDIES
    from agentsim.runtime.experiment import EXTENSION_KEYS, RESUMABLE_KEYS

    # Studies' aliases of the extension keys (the donor game calls episodes generations).
    aliases = {a for _, st in STUDIES.items() for a, k in st.aliases.items() if k in EXTENSION_KEYS}
    allowed = (*RESUMABLE_KEYS, *EXTENSION_KEYS, *sorted(aliases))
    out = []
    for item in overrides:
        key, _, value = item.partition("=")
        bare = key.strip().rpartition(".")[2]
        if bare not in allowed:
            raise UserError(
                f"--set {key.strip()}: a resumed run keeps its config.json; only "
                f"{', '.join(RESUMABLE_KEYS)} (they do not change decisions) and "
                f"{', '.join(EXTENSION_KEYS)} (to extend the run) may change"
            )
        out.append(f"{bare}={value}")
    return out


def _preflight(config: Any, *, check_keys: bool = True) -> None:
    """Fail before anything is written when the model can never answer (no key, bad URL)."""
    from agentsim.runtime.llm_runtime import preflight

    preflight(config.llm, check_keys=check_keys)


def _write_config(run: Any, config: dict[str, Any]) -> None:
    from agentsim.runtime.rundir import CONFIG, write_json_atomic

    write_json_atomic(run.file(CONFIG), config)


def _execute(run: Any, config: Any, *, quiet: bool, start: Any = None) -> int:
    """Run under the caller's lock; map stops and interrupts to exit statuses."""
    from agentsim.runtime.loop import RunInterrupted, RunStopped, run_experiment
    from agentsim.runtime.progress import ProgressBar
    from agentsim.runtime.session import RUN_STOPPING, first_ctrl_c_stops

    bar = ProgressBar(
        f"{config.experiment} {config.study.episode_name}s", enabled=False if quiet else None
    )
    stop = threading.Event()
    try:
        with first_ctrl_c_stops(stop, RUN_STOPPING):
            summary = asyncio.run(run_experiment(run, config, progress=bar, start=start, stop=stop))
    except RunInterrupted as exc:
        print(f"agentsim: {exc}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except RunStopped as exc:
        print(f"agentsim: {exc}", file=sys.stderr)
        print(f"run directory: {run.path}")
        return EXIT_STOPPED
    except KeyboardInterrupt:
        print(
            f"agentsim: interrupted; resume from the last checkpoint with "
            f"`agentsim run --resume {run.path}`",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    _print_run_result(run.path, summary, config.study)
    return 0


def _dry_run_text(config: Any) -> str:
    from agentsim.runtime.llm_runtime import estimate

    e = estimate(config)
    episodes = f"{config.settings.episodes} {config.study.episode_name}s"
    if not e["calls"]:
        return f"{config.experiment}: scripted agents only: 0 LLM calls, 0 tokens, $0.00"
    cost = (
        "unknown (no price for this model: --set price_in_per_mtok=X price_out_per_mtok=Y)"
        if e["cost_usd"] is None
        else f"${e['cost_usd']:.2f}"
    )
    detail = ", ".join(f"{n} {kind}" for kind, n in e["detail"].items())
    return (
        f"{config.experiment} with {config.llm.model}: {e['n_llm']} LLM agents, {episodes}\n"
        f"LLM calls:  {e['calls']} ({detail}; more if replies need re-asking)\n"
        f"tokens:     ~{e['prompt_tokens']:,} prompt + ~{e['completion_tokens']:,} completion\n"
        f"cost:       {cost}\nnothing was called (dry run)"
    )


def replay_command(path: Path, *, quiet: bool) -> int:
    """Re-execute a run with its LLM cache in replay mode; compare the events."""
    from agentsim.runtime.replay import replay

    result = replay(path, quiet=quiet)
    print(result.message)
    return 0 if result.identical else 1


def _print_run_result(path: Path, summary: dict[str, Any], study: Any) -> None:
    for line in study.summary_lines(summary):
        print(line)
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
    print(f"status: {summary['status']}; {study.episode_name}s: {summary['episodes_completed']}")


def _report(paths: list[Path], *, as_json: bool, html: str | None) -> int:
    """``agentsim report``: one run directory's report, or many runs' (text, JSON or HTML)."""
    try:
        from analysis.report import report_json, report_text
    except ImportError:
        raise UserError("the analysis package is not installed (pip install -e .)") from None
    try:
        if html is not None:
            from analysis.html import write_html_report

            print(f"HTML report: {write_html_report(paths, Path(html) if html else None)}")
            return 0
        text = json.dumps(report_json(paths), indent=2) if as_json else report_text(paths)
    except ValueError as exc:  # a corrupt event log or summary
        raise UserError(str(exc)) from None
    print(text)
    return 0


def _show(path: Path, index: int) -> int:
    from agentsim.runtime.show import show_decision

    print(show_decision(path, index), end="")
    return 0


def _shop_serve(port: int, catalog: str | None) -> int:
    """``agentsim shop serve``: the shop on 127.0.0.1, its URL printed, until Ctrl-C."""
    from agentsim.envs.web_shop.data import load_catalog, load_queries
    from agentsim.envs.web_shop.server import ShopServer
    from agentsim.envs.web_shop.shop import Shop

    if not 0 <= port <= 65535:
        raise ConfigError("port", port, "0 (a free port) to 65535")
    shop = Shop(load_catalog(catalog), load_queries())  # S2 products missing from FILE are left out
    try:
        server = ShopServer(shop, port)
    except OSError as exc:
        raise UserError(f"shop serve: cannot listen on 127.0.0.1:{port}: {exc.strerror}") from None
    print(f"{len(shop.products)} products at {server.url}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # the normal way to stop a server
        pass
    finally:
        server.server_close()
    return 0


_PROBE = object()  # a value no validator accepts: its error names the allowed values


def settings_help() -> str:
    """Every ``--set`` key with its default, allowed values and description.

    Generated from the config dataclasses: allowed values come from each class's own
    validation (the error it raises for an invalid value), descriptions from its docstring.
    """
    from agentsim.agents.llm.settings import LLMSettings
    from agentsim.envs.study import STUDIES, all_experiments
    from agentsim.runtime.experiment import EVOLUTION_KEYS, RunSettings

    sections: list[tuple[str, type]] = [("run.* (every study)", RunSettings)]
    for env_id, study in STUDIES.items():
        sections.append((f"env.* of {env_id}", study.config))
    sections.append(("llm.* (LLM agents, with --model)", LLMSettings))
    lines = [
        "--set KEY=VALUE keys (KEY=default: allowed values); a bare KEY is fine when one "
        "namespace has it,",
        f"else write run.KEY, env.KEY or llm.KEY. {', '.join(EVOLUTION_KEYS)}: studies with "
        "evolution only; the donor game calls run.episodes generations.",
    ]
    for title, cls in sections:
        lines += ["", f"{title} ({cls.__name__}):"]
        docs = _attribute_docs(cls)
        for f in dataclasses.fields(cls):
            lines.append(f"  {f.name}={_default_text(f)}: {_allowed_text(cls, f.name)}")
            if docs.get(f.name):
                lines += textwrap.wrap(
                    docs[f.name], 96, initial_indent="      ", subsequent_indent="      "
                )
    changed = {n: {**e.env, **e.run} for n, (_, e) in all_experiments().items()}
    overrides = [
        f"  {name}: " + ", ".join(f"{k}={v}" for k, v in values.items())
        for name, values in sorted(changed.items())
        if values
    ]
    if overrides:
        lines += ["", "experiments that change these defaults:", *overrides]
    return "\n".join(lines)


def _default_text(f: dataclasses.Field[Any]) -> str:
    default = f.default if f.default is not dataclasses.MISSING else None
    if default is None:
        return "none"
    return str(default).lower() if isinstance(default, bool) else str(default)


def _allowed_text(cls: type, name: str) -> str:
    hint = typing.get_type_hints(cls)[name]
    optional = type(None) in typing.get_args(hint)
    try:
        cls(**{name: _PROBE})
    except ConfigError as exc:
        if exc.key == name:
            return exc.allowed + (", or none" if optional else "")
    except Exception:  # a validator that cannot describe itself: fall back to the type
        pass
    base = next((a for a in typing.get_args(hint) if a is not type(None)), hint)
    kinds = {int: "an integer", float: "a number", bool: "true or false", str: "text"}
    return kinds.get(base, getattr(base, "__name__", str(base))) + (" or none" if optional else "")


def _attribute_docs(cls: type) -> dict[str, str]:
    """Descriptions per field from a Google-style ``Attributes:`` section."""
    fields = {f.name for f in dataclasses.fields(cls)}
    _, _, body = (inspect.getdoc(cls) or "").partition("Attributes:\n")
    docs: dict[str, list[str]] = {}
    current: list[str] = []
    for line in body.splitlines():
        if line and not line.startswith(" "):
            break  # the next section
        entry = re.match(r"^ {4}(\w+(?:, \w+)*): (.*)$", line)
        if not entry:
            current.append(line.strip())
            continue
        # "a: text; b: text" documents two fields on one line.
        for i, piece in enumerate(re.split(r";\s+(?=\w+: )", entry.group(2))):
            name, _, text = piece.partition(": ")
            if i == 0 or name not in fields:
                name, text = (entry.group(1), piece) if i == 0 else ("", f"; {piece}")
            if name:
                current = [text]
                docs.update(dict.fromkeys(name.split(", "), current))
            else:
                current.append(text)
    return {k: " ".join(v).replace("``", "").replace(" ; ", "; ") for k, v in docs.items()}
