"""Bringing one run directory to its end, whatever state it is in: new, partial or complete.

A :class:`RunTask` names a run directory and how to configure it when it is new. The
directory is created and its ``config.json`` written on first use; a partial run continues
from its checkpoint (the ``agentsim run --resume`` machinery: :func:`resume_point` then
:func:`run_experiment`); a completed one is left untouched. This is what a sweep runs per
cell, in-process, in a worker process or in a Ray task, so tasks and outcomes are plain
picklable data. :func:`run_cells` runs many tasks: in this process, on a process pool
or on Ray.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, cast

from agentsim.core.errors import ConfigError, UserError

BACKENDS = ("local", "ray")

#: Outcome statuses: ``completed`` (now or before), ``stopped`` (budget or provider; resumable),
#: ``interrupted`` (Ctrl-C; resumable), ``not started`` (a sweep stopped before it), ``failed``
#: (an error; see the message).
STATUSES = ("completed", "stopped", "interrupted", "not started", "failed")


class StopFlag(Protocol):
    """Anything with ``is_set()``: a ``threading.Event``, a ``multiprocessing`` one."""

    def is_set(self) -> bool:
        """Whether the run should stop at its next round boundary."""
        ...


@dataclass(frozen=True)
class RunTask:
    """One run to bring to its end.

    Attributes:
        path: the run directory (created if missing).
        experiment: the experiment's name.
        seed: the root seed.
        overrides: ``key=value`` settings of a new run (as ``agentsim run --set``).
        resume_overrides: settings a resume may change (``RESUMABLE_KEYS``, ``episodes``),
            applied to an existing run's ``config.json`` as ``agentsim run --resume --set``.
    """

    path: str
    experiment: str
    seed: int
    overrides: tuple[str, ...] = ()
    resume_overrides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """How a :class:`RunTask` ended.

    Attributes:
        path: the run directory.
        status: one of :data:`STATUSES`.
        message: why it stopped or failed ("" when completed).
        skipped: it was already completed before this call.
    """

    path: str
    status: str
    message: str = ""
    skipped: bool = False


def execute(task: RunTask, stop: StopFlag | None = None) -> Outcome:
    """Run ``task`` in a fresh event loop (a worker process's or a Ray task's entry point)."""
    return asyncio.run(execute_async(task, stop))


async def execute_async(task: RunTask, stop: StopFlag | None = None) -> Outcome:
    """Create, resume or skip the run of ``task``; errors become a ``failed`` outcome.

    Args:
        task: the run.
        stop: once set, the run stops at its next round boundary, resumable.
    """
    from agentsim.runtime.loop import RunInterrupted, RunStopped

    try:
        return await _bring_to_end(task, stop)
    except RunInterrupted as exc:
        return Outcome(task.path, "interrupted", str(exc))
    except RunStopped as exc:
        return Outcome(task.path, "stopped", str(exc))
    except UserError as exc:
        return Outcome(task.path, "failed", str(exc))
    except Exception as exc:  # one cell's bug must not end the others; its traceback is kept
        _write_error(Path(task.path), traceback.format_exc())
        return Outcome(task.path, "failed", f"{type(exc).__name__}: {exc} (see error.txt)")


async def _bring_to_end(task: RunTask, stop: StopFlag | None) -> Outcome:
    from agentsim.runtime.experiment import ExperimentConfig, make_config
    from agentsim.runtime.llm_runtime import count_shared_spending, spent_before
    from agentsim.runtime.loop import resume_point, run_experiment
    from agentsim.runtime.rundir import CONFIG, LLM_CACHE, RunDir, write_json_atomic

    path = Path(task.path)
    path.mkdir(parents=True, exist_ok=True)
    run = RunDir(path)
    with run.lock():  # before anything is written: a live run's files stay untouched
        fresh = not run.file(CONFIG).is_file()
        if fresh:
            config = make_config(task.experiment, task.seed, _new_overrides(task))
            write_json_atomic(run.file(CONFIG), config.to_json())
        else:
            config = ExperimentConfig.from_json(run.config(), task.resume_overrides)
        point = resume_point(run, config)
        if point.completed:
            if config.llm.model:  # a sweep's shared budget counts what earlier sessions spent
                spent = spent_before(config.llm, run.file(LLM_CACHE), run.file("events.jsonl"))
                count_shared_spending(config.llm, spent, run.file(LLM_CACHE))
            return Outcome(task.path, "completed", skipped=True)
        if not fresh and task.resume_overrides:
            write_json_atomic(run.file(CONFIG), config.to_json())
        # run_experiment only reads is_set(); a multiprocessing Event serves as well.
        summary = await run_experiment(run, config, start=point, stop=cast(Any, stop))
    return Outcome(task.path, str(summary.get("status", "completed")))


def _new_overrides(task: RunTask) -> list[str]:
    # Resume settings reach cells that a resumed sweep starts for the first time too.
    return [*task.overrides, *task.resume_overrides]


def _write_error(path: Path, text: str) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "error.txt").write_text(text, encoding="utf-8")
    except OSError:
        pass  # the outcome still carries the message


Done = Callable[[Outcome], None]


def run_cells(
    cell_tasks: Sequence[RunTask],
    *,
    backend: str = "local",
    workers: int = 1,
    address: str | None = None,
    llm: bool = False,
    done: Done | None = None,
) -> list[Outcome]:
    """Bring every cell to its end; one outcome per task, in order.

    Args:
        cell_tasks: the cells' runs.
        backend: ``local`` (processes, or this process for ``workers=1`` and LLM cells)
            or ``ray``.
        workers: cells at once (Ray: CPUs of a cluster this call starts).
        address: a Ray cluster to connect to (None: start a local one).
        llm: the cells call an LLM: they run concurrently in this process so that they
            share one rate limiter and one budget per provider.
        done: called with each outcome as it arrives (progress).

    Raises:
        UserError: for an unknown backend, a missing Ray, or an LLM sweep on Ray.
    """
    check_backend(backend, workers, llm=llm)
    report = done or (lambda _: None)
    stop = threading.Event()
    if backend == "ray":
        with first_ctrl_c_stops(stop):
            return _on_ray(cell_tasks, workers, address, stop, report)
    if llm or workers == 1 or len(cell_tasks) <= 1:
        with first_ctrl_c_stops(stop):
            return _in_process(cell_tasks, workers, stop, report, llm=llm)
    shared = multiprocessing.get_context("spawn").Event()  # tells the workers to stop
    with first_ctrl_c_stops(stop, shared=shared):
        return _on_processes(cell_tasks, workers, stop, shared, report)


def check_backend(backend: str, workers: int, *, llm: bool) -> None:
    """Refuse, before anything is written, a backend that cannot run this sweep.

    Raises:
        ConfigError: for an unknown backend or fewer than one worker.
        UserError: for Ray when it is not installed, or for LLM cells on Ray.
    """
    if backend not in BACKENDS:
        raise ConfigError("--backend", backend, BACKENDS)
    if workers < 1:
        raise ConfigError("--workers", workers, "an integer >= 1")
    if backend != "ray":
        return
    if llm:
        raise UserError(
            "LLM sweeps run on --backend local only: their cells share one rate limit and "
            "one budget per provider inside one process, which Ray workers cannot share"
        )
    _import_ray()


def _in_process(
    cell_tasks: Sequence[RunTask],
    workers: int,
    stop: threading.Event,
    done: Done,
    *,
    llm: bool = False,
) -> list[Outcome]:
    from agentsim.runtime.llm_runtime import shared_budgets

    async def all_cells() -> list[Outcome]:
        gate = asyncio.Semaphore(workers)

        async def one(task: RunTask) -> Outcome:
            async with gate:
                outcome = _not_started(task) if stop.is_set() else await execute_async(task, stop)
            done(outcome)
            return outcome

        return list(await asyncio.gather(*(one(t) for t in cell_tasks)))

    with shared_budgets():
        if llm:
            _count_past_spending(cell_tasks)
        return asyncio.run(all_cells())


def _count_past_spending(cell_tasks: Sequence[RunTask]) -> None:
    """Charge the shared budgets with what every existing cell spent in earlier sessions,
    before any cell runs: cells wait for a worker in index order, and a partial cell that
    runs first must not spend what a later, completed or partial, cell already has."""
    from agentsim.runtime.experiment import ExperimentConfig
    from agentsim.runtime.llm_runtime import count_shared_spending, spent_before
    from agentsim.runtime.rundir import CONFIG, LLM_CACHE, RunDir

    for task in cell_tasks:
        run = RunDir(task.path)
        if not run.file(CONFIG).is_file():
            continue  # a cell not started yet has spent nothing
        try:
            config = ExperimentConfig.from_json(run.config(), task.resume_overrides)
            if config.llm.model:
                events = run.file("events.jsonl")
                spent = spent_before(config.llm, run.file(LLM_CACHE), events)
                count_shared_spending(config.llm, spent, run.file(LLM_CACHE))
        except (UserError, ValueError, OSError):
            continue  # the cell reports its own error when it runs


def _not_started(task: RunTask) -> Outcome:
    return Outcome(task.path, "not started", "the sweep was stopped first")


class _EitherStop:
    """Set when the worker's own Ctrl-C or the sweep's stop is."""

    def __init__(self, *flags: StopFlag) -> None:
        self.flags = flags

    def is_set(self) -> bool:
        return any(f.is_set() for f in self.flags)


#: A worker process's stop flag (set by :func:`_init_worker`, one per process).
_WORKER: dict[str, StopFlag] = {}


def _init_worker(shared: StopFlag) -> None:
    own = threading.Event()

    def handle(signum: int, frame: FrameType | None) -> None:
        if own.is_set():
            raise KeyboardInterrupt
        own.set()  # a terminal's Ctrl-C reaches the workers too: stop at a round boundary

    signal.signal(signal.SIGINT, handle)
    _WORKER["stop"] = _EitherStop(own, shared)


def _worker_execute(task: RunTask) -> Outcome:
    stop = _WORKER.get("stop")
    if stop is not None and stop.is_set():  # queued before the stop: leave it unstarted
        return _not_started(task)
    return execute(task, stop)


def _on_processes(
    cell_tasks: Sequence[RunTask],
    workers: int,
    stop: threading.Event,
    shared: Any,
    done: Done,
) -> list[Outcome]:
    # spawn: a fork of a process with threads (and maybe an event loop) is not safe.
    context = multiprocessing.get_context("spawn")
    outcomes: dict[str, Outcome] = {}
    with ProcessPoolExecutor(
        min(workers, len(cell_tasks)), context, _init_worker, (shared,)
    ) as pool:
        with _workers_skip_main():  # the workers start here, one per submit
            futures = {pool.submit(_worker_execute, t): t for t in cell_tasks}
        pending: set[Future[Outcome]] = set(futures)
        try:
            while pending:
                finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
                if stop.is_set():
                    for f in pending:
                        f.cancel()
                for f in finished:
                    outcomes[futures[f].path] = _future_outcome(f, futures[f])
                    done(outcomes[futures[f].path])
        except KeyboardInterrupt:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return [outcomes[t.path] for t in cell_tasks]


@contextlib.contextmanager
def _workers_skip_main() -> Iterator[None]:
    """Spawned workers do not run the parent's ``__main__`` script again.

    A spawned process imports the parent's main script (as ``__mp_main__``) unless the
    script is hidden, so a user's script that calls the sweep without an
    ``if __name__ == "__main__":`` guard would start a new sweep in every worker. Cells
    need nothing from ``__main__``: hide it while the workers start.
    """
    main = sys.modules.get("__main__")
    saved = {k: main.__dict__[k] for k in ("__file__", "__spec__") if main and k in main.__dict__}
    try:
        if main is not None:
            main.__dict__.pop("__file__", None)
            main.__spec__ = None
        yield
    finally:
        if main is not None:
            main.__dict__.update(saved)
            if "__spec__" not in saved:
                main.__dict__.pop("__spec__", None)


def _future_outcome(future: Future[Outcome], task: RunTask) -> Outcome:
    if future.cancelled():
        return _not_started(task)
    exc = future.exception()
    if exc is not None:  # the worker died (killed, out of memory): the cell is resumable
        return Outcome(task.path, "failed", f"worker failed: {type(exc).__name__}: {exc}")
    return future.result()


def _import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise UserError(
            "--backend ray needs Ray: pip install 'agentsim[ray]' (or use --backend local)"
        ) from None
    return ray


def _on_ray(
    cell_tasks: Sequence[RunTask],
    workers: int,
    address: str | None,
    stop: threading.Event,
    done: Done,
) -> list[Outcome]:
    ray = _import_ray()
    started = not ray.is_initialized()
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}
    if started and address:
        ray.init(address=address, **quiet)
    elif started:  # a local cluster for this sweep only, shut down below
        ray.init(num_cpus=workers, include_dashboard=False, **quiet)
    try:
        remote = ray.remote(num_cpus=1, max_retries=0)(execute)
        refs = {remote.remote(t): t for t in cell_tasks}
        return _gather_ray(ray, refs, stop, done)
    finally:
        if started:
            ray.shutdown()


def _gather_ray(
    ray: Any, refs: dict[Any, RunTask], stop: threading.Event, done: Done
) -> list[Outcome]:
    outcomes: dict[str, Outcome] = {}
    pending = list(refs)
    cancelled = False
    while pending:
        finished, pending = ray.wait(pending, num_returns=1, timeout=0.2)
        if stop.is_set() and not cancelled:
            cancelled = True
            for ref in pending:  # a killed cell resumes from its checkpoint
                ray.cancel(ref)
        for ref in finished:
            task = refs[ref]
            try:
                outcome = ray.get(ref)
            except Exception as exc:  # a cancelled task or a dead worker
                status = "interrupted" if cancelled else "failed"
                outcome = Outcome(task.path, status, f"{type(exc).__name__}: {exc}")
            outcomes[task.path] = outcome
            done(outcome)
    return [outcomes[t.path] for t in refs.values()]


#: What a run prints at the first Ctrl-C.
RUN_STOPPING = "\nagentsim: stopping at the end of this round (Ctrl-C again to stop at once)"
#: What a sweep prints at the first Ctrl-C.
SWEEP_STOPPING = (
    "\nagentsim: stopping the sweep at the end of its cells' rounds (Ctrl-C again to stop at once)"
)


@contextlib.contextmanager
def first_ctrl_c_stops(
    stop: threading.Event, message: str = SWEEP_STOPPING, shared: Any = None
) -> Iterator[None]:
    """The first Ctrl-C sets ``stop`` (and ``shared``, the workers' event) and prints
    ``message``: a run, or a sweep's cells, end at their next round boundary, resumable (a
    sweep starts no new cell); a second Ctrl-C interrupts at once. Installed before
    ``asyncio.run``, which then leaves SIGINT to us instead of cancelling."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handle(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        if shared is not None:
            shared.set()
        print(message, file=sys.stderr)

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
