"""The episode loop of an experiment, written to a run directory.

The loop knows environments only through their study (:mod:`agentsim.envs.study`).
Each episode: build the members' agents, play one episode of the env, record the env's
results (its declared ``EpisodeResults``: ``episode_records(ids)`` and
``episode_stats(ids)``), checkpoint. For a study with evolution, an episode is a
generation, and between generations the loop selects survivors by the env's ``scores()``
and creates new members through the reproduction hook (scripted mutation, or the study's
LLM cultural transmission).

When every agent of an episode is batch-capable (``decide_batch``: scripted populations)
and the study declares a vectorised episode (``Study.batch``), the loop plays that instead
of PettingZoo's dict API: the same records and results, much faster.
``AGENTSIM_BATCH=off`` forces the PettingZoo path (:func:`batch_mode`).

A checkpoint after every episode records the members, the event log's length and
sha256, and a digest of the decision-relevant config (everything but the documented
resumable keys and ``generations``); :func:`resume_point` checks all three before a run
continues. The final generation's checkpoint also keeps the one before it (``rewind``), so
a finished run can be extended (``generations`` raised): it replays its last generation,
now with selection and reproduction, and ends with exactly the events of a run that was
that long from the start.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from agentsim.core.errors import BudgetExceeded, ReplayMiss, UserError
from agentsim.core.records import Record, make_record
from agentsim.core.seeding import SeedStreams
from agentsim.envs.study import (
    BatchCapable,
    Bindable,
    Carries,
    Crossover,
    EpisodeResults,
    PersistentState,
    Scored,
    SeatNames,
    Study,
)
from agentsim.evolution.crossover import CrossoverReproducer
from agentsim.evolution.population import (
    Initializes,
    Member,
    MutationReproducer,
    Reproducer,
    parse_population,
)
from agentsim.evolution.selection import select_survivors
from agentsim.evolution.transmission import LLMTransmission
from agentsim.llm.types import LLMError, gather_or_cancel
from agentsim.runtime.experiment import (
    DATA_SUFFIXES,
    EXTENSION_KEYS,
    RESUMABLE_KEYS,
    ExperimentConfig,
    RunSettings,
)
from agentsim.runtime.rundir import (
    CHECKPOINT,
    EVENTS,
    LLM_CACHE,
    SUMMARY,
    EventLog,
    LogPrefix,
    RunDir,
    compact_json,
)
from agentsim.runtime.runner import (
    ListRecorder,
    NullRecorder,
    Recorder,
    arun_episode,
    discards,
    run_batch_episode,
)
from agentsim.runtime.summary import summarise

if TYPE_CHECKING:
    from agentsim.runtime.llm_runtime import CallBuffer


class _MemberRecorder:
    """Renames seats to member ids in records, adds the episode (and, with evolution, the
    generation), and on every flush releases the buffered LLM call records (in a
    concurrency-independent order)."""

    def __init__(
        self,
        inner: Recorder,
        seats: Mapping[str, str],
        generation: int,
        log: Recorder,
        calls: CallBuffer | None,
        stop: threading.Event | None = None,
        study: Study | None = None,
    ) -> None:
        self.inner, self.seats, self.generation = inner, seats, generation
        self.log, self.calls, self.stop = log, calls, stop
        self.fields = study.member_fields if study is not None else ("agent",)
        # Parts of an observation the study renders from other records (a debate's
        # transcript): the runner records a reference, not a copy per decision.
        self.unrecorded = study.unrecorded_observation if study is not None else ()
        self.evolution = study is None or study.evolution
        self.discard = discards(inner)

    def record(self, record: Record) -> None:
        for key in self.fields:
            if key in record:
                record[key] = self.seats.get(record[key], record[key])
        record.setdefault("episode", self.generation)
        if self.evolution:
            record.setdefault("generation", self.generation)
        self.inner.record(record)

    def flush(self) -> None:
        drain_calls(self.calls, self.log, self.generation)
        self.inner.flush()
        self.log.flush()
        if self.stop is not None and self.stop.is_set():
            raise _StopRequested  # the runner flushes once per round: a round boundary


def drain_calls(calls: CallBuffer | None, log: Recorder, generation: int) -> None:
    """Write the buffered ``llm_call`` records, stamped with the episode they served (of
    the current task's episode only, when episodes run concurrently)."""
    from agentsim.runtime.llm_runtime import CURRENT_EPISODE

    for r in calls.drain(CURRENT_EPISODE.get()) if calls else []:
        if r.get("episode") is None:
            r["episode"] = generation
        log.record(r)


class RunStopped(UserError):
    """A run stopped early at its last checkpoint (budget spent, provider failing)."""


class RunInterrupted(RunStopped):
    """A run stopped at a round boundary because the user asked (Ctrl-C)."""


class _StopRequested(Exception):
    """Raised at a round boundary once a stop was requested."""


ProgressFn = Callable[[int, int], None]

_UNCHECKED = frozenset({*RESUMABLE_KEYS, *EXTENSION_KEYS, "agentsim_version"})


@dataclass
class ResumePoint:
    """Where a run (re)starts, after its log and config were checked against its checkpoint.

    Attributes:
        generation: the last completed generation (0: none).
        entry: the checkpoint entry resumed from (None: a new run).
        prefix: the verified event-log prefix to continue (None: a new log).
        completed: the run is finished and nothing is left to do.
        rewound: a finished run is being extended: its last generation is played again.
        summary: the finished run's summary (when ``completed``).
    """

    generation: int = 0
    entry: dict[str, Any] | None = None
    prefix: LogPrefix | None = None
    completed: bool = False
    rewound: bool = False
    summary: dict[str, Any] | None = None

    def members(self) -> list[Member] | None:
        return None if self.entry is None else _members(self.entry["members"])


def decision_config(config: ExperimentConfig) -> dict[str, Any]:
    """The config's decision-relevant keys, flattened (``env.multiplier``, ``seed``, ...)."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                if k not in _UNCHECKED:
                    walk(f"{prefix}{k}.", v)
        else:
            flat[prefix[:-1]] = value

    walk("", config.to_json())
    for key, path in data_paths(config).items():
        flat[f"{key}.sha256"] = content_digest(path)
    return flat


def data_paths(config: ExperimentConfig) -> dict[str, str]:
    """The data files and folders a run reads (``env.*_file``, ``env.*_dir``,
    ``llm.prompt_dir``): their content decides what happens, so it is part of the run's
    identity, like its config."""
    paths = {f"env.{k}": v for k, v in config.env.items() if k.endswith(DATA_SUFFIXES) and v}
    if config.llm.prompt_dir:
        paths["llm.prompt_dir"] = config.llm.prompt_dir
    return {k: str(v) for k, v in paths.items()}


def content_digest(path: str) -> str:
    """sha256 of a file, or of a folder's files (names and contents); "missing" if absent."""
    target = Path(path)
    sha = hashlib.sha256()
    if target.is_file():
        sha.update(target.read_bytes())
    elif target.is_dir():
        for child in sorted(p for p in target.iterdir() if p.is_file()):
            sha.update(child.name.encode() + b"\0" + child.read_bytes())
    else:
        return "missing"
    return sha.hexdigest()


def _digest(flat: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(flat, sort_keys=True).encode()).hexdigest()


def resume_point(run: RunDir, config: ExperimentConfig) -> ResumePoint:
    """Check a run directory before (re)starting it; nothing is written.

    Raises:
        UserError: when the checkpoint, the event log and ``config.json`` do not belong
            together (cut, edited or missing log; changed decision-relevant settings; a
            checkpoint generation the log does not end with), or ``generations`` shrank.
    """
    checkpoint = run.checkpoint()
    if checkpoint is None:
        if run.log_has_checkpoints():
            raise UserError(
                f"{run.file(CHECKPOINT)} is missing, but {run.file(EVENTS)} has checkpoints; "
                "refusing to start the run over its own log"
            )
        return ResumePoint()
    generation = _checked_generation(run, checkpoint)
    _check_config(run, checkpoint, config)
    prefix = run.verified_prefix(checkpoint, generation=generation)
    total = config.settings.episodes
    ran = checkpoint.get("run_episodes", checkpoint.get("run_generations", generation))
    if not isinstance(ran, int) or total < max(generation, ran):
        raise UserError(
            f"episodes={total}, but {run.path} was a run of {ran} episodes "
            f"(checkpoint at {generation}): episodes (generations) can only grow"
        )
    final = checkpoint.get("final", generation >= total)
    if final and total > generation:
        if not config.study.evolution:
            # Episodes are independent: an extension continues after the last one.
            return ResumePoint(generation, checkpoint, prefix)
        return _rewind_point(run, checkpoint)
    summary = run.summary() if final else None
    done = summary is not None and summary.get("status") == "completed"
    return ResumePoint(generation, checkpoint, prefix, completed=done, summary=summary)


def _checked_generation(run: RunDir, checkpoint: Mapping[str, Any]) -> int:
    generation = checkpoint.get("generation")
    if not isinstance(generation, int) or isinstance(generation, bool) or generation < 0:
        raise UserError(f"{run.file(CHECKPOINT)}: generation={generation!r} is not a generation")
    _members(checkpoint.get("members"), run.file(CHECKPOINT))
    return generation


def _members(data: Any, where: Path | None = None) -> list[Member]:
    try:
        return [Member.from_json(m) for m in data]
    except (KeyError, TypeError, ValueError) as exc:
        raise UserError(f"{where}: members are malformed ({type(exc).__name__}: {exc})") from None


def _check_config(run: RunDir, checkpoint: Mapping[str, Any], config: ExperimentConfig) -> None:
    expected = checkpoint.get("config_sha256")
    now = decision_config(config)
    if expected is None or _digest(now) == expected:
        return  # checkpoints from before the digest existed cannot be checked
    then = checkpoint.get("decision_config", {})
    changed = sorted(k for k in {*now, *then} if now.get(k) != then.get(k)) or ["(unknown)"]
    raise UserError(
        f"{run.file('config.json')} does not match {run.file(CHECKPOINT)}: changed "
        + ", ".join(_change(k, then.get(k), now.get(k)) for k in changed)
        + f"; a resumed run may change only {', '.join((*RESUMABLE_KEYS, *EXTENSION_KEYS))}"
    )


def _change(key: str, then: Any, now: Any) -> str:
    if key.endswith(".sha256"):
        return f"the content of {key.removesuffix('.sha256')}"
    return f"{key} ({then!r} -> {now!r})"


def _rewind_point(run: RunDir, checkpoint: Mapping[str, Any]) -> ResumePoint:
    rewind = checkpoint.get("rewind")
    if not isinstance(rewind, dict):
        raise UserError(
            f"{run.path} finished before agentsim kept the checkpoint needed to extend a "
            "run; it cannot be extended (start a new run with more episodes)"
        )
    generation = _checked_generation(run, rewind)
    prefix = run.verified_prefix(rewind, generation=generation)
    return ResumePoint(generation, rewind, prefix, rewound=True)


async def run_experiment(
    run: RunDir,
    config: ExperimentConfig,
    *,
    progress: ProgressFn | None = None,
    cache_path: Path | None = None,
    start: ResumePoint | None = None,
    stop: threading.Event | None = None,
) -> dict[str, Any]:
    """Run (or resume, if the run has a checkpoint) an experiment; returns the summary.

    Args:
        run: the run directory (its lock should be held by the caller).
        config: the run's config (for a resume: its ``config.json`` with allowed overrides).
        progress: called with (generations done, generations) after each checkpoint.
        cache_path: the LLM cache to use instead of the run's own (replay).
        start: the result of :func:`resume_point`, if the caller already checked the run.
        stop: once set, the run stops at the next round boundary (Ctrl-C).

    Raises:
        UserError: if the run directory is inconsistent (see :func:`resume_point`).
        RunStopped: when the LLM budget is spent or the provider keeps failing; the run
            directory then ends with a ``run_end`` record of status ``stopped`` and can
            be resumed from its last checkpoint.
        RunInterrupted: when ``stop`` was set (same record, reason ``interrupted``).
    """
    batch_mode()  # a bad AGENTSIM_BATCH is refused before anything is written
    point = start or resume_point(run, config)
    if point.completed and point.summary is not None:
        return point.summary  # resuming a finished run changes nothing
    if point.rewound and point.entry is not None:
        # A kill during the extension must find a checkpoint that fits the cut log.
        run.write_checkpoint(_checkpoint_state(point.entry, None, config))
        run.file(SUMMARY).unlink(missing_ok=True)
    log = run.event_log(point.prefix)
    log.record(
        make_record(
            "run_start",
            run_id=run.path.name,
            experiment=config.experiment,
            env=config.env_id,
            seed=config.seed,
            resumed_from=point.generation if point.entry is not None else None,
        )
    )
    calls = _call_buffer(config)
    try:
        await _generations(run, config, point, log, calls, progress, cache_path, stop)
    except (BudgetExceeded, LLMError, ReplayMiss) as exc:
        return _stop(run, log, calls, f"{type(exc).__name__}: {exc}", exc, config.study)
    except _StopRequested as exc:
        return _stop(run, log, calls, "interrupted (Ctrl-C)", exc, config.study)
    log.record(
        make_record("run_end", status="completed", episodes_completed=config.settings.episodes)
    )
    log.close()
    summary = summarise(run.file("events.jsonl"), config.study)
    run.write_summary(summary)
    return summary


def _call_buffer(config: ExperimentConfig) -> CallBuffer | None:
    from agentsim.runtime.llm_runtime import CallBuffer

    return CallBuffer() if config.llm.model else None


async def _generations(
    run: RunDir,
    config: ExperimentConfig,
    point: ResumePoint,
    log: EventLog,
    calls: CallBuffer | None,
    progress: ProgressFn | None,
    cache_path: Path | None,
    stop: threading.Event | None,
) -> None:
    """Play the episodes after ``point``, checkpointing after each."""
    settings, study = config.settings, config.study
    context = _llm_context(run, config, calls, cache_path)
    env_config = await _prepared_env(run, config, context, point, log, calls)
    reproducer = _reproducer(study, settings, env_config, context)
    env = _env(study, env_config, context)
    if point.entry is not None and study.evolution and isinstance(env.unwrapped, PersistentState):
        env.unwrapped.restore_env_state(point.entry.get("env_state", {}))
    members = point.members()
    if members is None:
        members = _first_members(study, settings, env)
        if context is not None and study.evolution:
            members = await context_initialize(reproducer, members, log, calls)
    kept_env = env if study.evolution else None  # one env plays every generation
    as_json = _MemberJson()
    before = point.entry or _entry(0, members, log, kept_env, as_json)
    recorder: Recorder = log if settings.record == "full" else NullRecorder()
    streams = SeedStreams(config.seed)
    episodes = _Episodes(config, env_config, streams, reproducer, context, calls, stop)
    identity = decision_config(config)
    batch = 1 if study.evolution else settings.concurrent_episodes
    built = _Built(study.env_id) if study.evolution else None
    generation = point.generation + 1
    while generation <= settings.episodes:
        chunk = list(range(generation, min(generation + batch, settings.episodes + 1)))
        if len(chunk) == 1:
            members = await _play_generation(
                env,
                members,
                generation,
                config,
                streams,
                reproducer,
                log,
                _MemberRecorder(recorder, {}, generation, log, calls, stop, study),
                context,
                built,
            )
            drain_calls(calls, log, generation)  # the next members' strategy calls
            played: list[tuple[int, list[Record]]] = [(generation, [])]
        else:
            buffers = await gather_or_cancel([episodes.buffered(i, members) for i in chunk])
            played = list(zip(chunk, buffers, strict=True))
        for episode, buffered in played:
            for record in buffered:
                log.record(record)
            log.record(make_record("checkpoint", episode=episode))
            entry = _entry(episode, members, log, kept_env, as_json)
            run.write_checkpoint(_checkpoint_state(entry, before, config, identity), as_json.texts)
            before = entry
            if progress:
                progress(episode, settings.episodes)
        generation = chunk[-1] + 1
        if stop is not None and stop.is_set() and chunk[-1] < settings.episodes:
            raise _StopRequested


def _reproducer(
    study: Study, settings: RunSettings, env_config: Mapping[str, Any], context: Any
) -> Reproducer:
    """The run's reproduction hook: the study's own, or scripted mutation of one parent
    (with the study's LLM cultural transmission when a model is set)."""
    if study.reproducer is not None:
        made = study.reproducer(settings, env_config, context)
        if isinstance(made, Crossover):
            return CrossoverReproducer(made.traits, settings.mutation, made.mutate, made.fresh)
        reproducer: Reproducer = made
        return reproducer
    mutation = MutationReproducer(settings.mutation, study.env_id)
    write = study.llm.write_strategy if study.llm is not None else None
    if context is not None and write is not None:
        return LLMTransmission(context, mutation, write)
    return mutation


def _env(study: Study, env_config: Mapping[str, Any], context: Any) -> Any:
    """An env of the run, bound to the run's LLM context when it asks for one (an env
    with an LLM judge)."""
    env = study.make_env(**env_config)
    if context is not None and isinstance(env.unwrapped, Bindable):
        env.unwrapped.bind(context)
    return env


@dataclass
class _Episodes:
    """Plays independent episodes (a study without evolution) concurrently.

    Each episode has its own env and its own record buffer, and its LLM calls are
    tagged with :data:`~agentsim.runtime.llm_runtime.CURRENT_EPISODE`, so the records of
    each come out exactly as if the episodes had been played one after another.
    """

    config: ExperimentConfig
    env_config: Mapping[str, Any]
    streams: SeedStreams
    reproducer: Reproducer
    context: Any
    calls: CallBuffer | None
    stop: threading.Event | None

    async def buffered(self, episode: int, members: list[Member]) -> list[Record]:
        from agentsim.runtime.llm_runtime import CURRENT_EPISODE

        token = CURRENT_EPISODE.set(episode)
        try:
            config, study = self.config, self.config.study
            buffer = ListRecorder()  # written once it is this episode's turn
            inner: Recorder = buffer if config.settings.record == "full" else NullRecorder()
            recorder = _MemberRecorder(
                inner,
                {},
                episode,
                buffer,
                self.calls,
                self.stop,
                study,
            )
            await _play_generation(
                _env(study, self.env_config, self.context),
                members,
                episode,
                config,
                self.streams,
                self.reproducer,
                buffer,
                recorder,
                self.context,
            )
            drain_calls(self.calls, buffer, episode)
            return buffer.records
        finally:
            CURRENT_EPISODE.reset(token)


async def _prepared_env(
    run: RunDir,
    config: ExperimentConfig,
    context: Any,
    point: ResumePoint,
    log: EventLog,
    calls: CallBuffer | None,
) -> dict[str, Any]:
    """The env config of this run's episodes, after the study's LLM preparation (if any).

    A study may prepare material with the run's model before episode 1 (the debate's
    model-written personas), kept in the run directory; a fresh start prepares it again
    (the cache answers calls already paid, so the records are the same), a resume reuses it.
    """
    study = config.study
    prepare = study.llm.prepare if study.llm is not None else None
    if context is None or prepare is None:
        return dict(config.env)
    overrides, records = await prepare(context, config.env, run.path, point.entry is None)
    drain_calls(calls, log, 0)
    for record in records:
        log.record(record)
    log.flush()
    return {**config.env, **overrides}


def _first_members(study: Study, settings: RunSettings, env: Any) -> list[Member]:
    """Episode 1's members; without evolution they sit on their seats and keep its id."""
    members = parse_population(settings.population, env=study.env_id)
    if study.evolution:
        return members
    return [
        Member(seat, m.kind, m.params, m.born, m.parents)
        for seat, m in zip(env.possible_agents, members, strict=True)
    ]


def _entry(
    generation: int,
    members: list[Member],
    log: EventLog,
    env: Any = None,
    as_json: _MemberJson | None = None,
) -> dict[str, Any]:
    """What a checkpoint needs to restart after ``generation`` (with the env's own state,
    when it keeps one across episodes)."""
    entry = {
        "generation": generation,
        "members": (as_json or _MemberJson()).members(members),
        "events_offset": log.offset(),
        "events_sha256": log.digest(),
    }
    if env is not None and isinstance(env.unwrapped, PersistentState):
        entry["env_state"] = env.unwrapped.env_state()
    return entry


class _MemberJson:
    """:func:`_member_json` of each member, kept while the same member stays (a survivor is
    checkpointed every generation it lives; its copy is made once). Members are frozen and
    nothing writes to a checkpoint's copies, so sharing one between entries is safe."""

    def __init__(self) -> None:
        self.kept: dict[str, tuple[Member, dict[str, Any], str]] = {}
        #: The checkpoint text of each kept copy, by the copy's id (the copies are alive:
        #: ``kept`` holds them), for :func:`~agentsim.runtime.rundir.compact_json`.
        self.texts: dict[int, str] = {}

    def members(self, members: list[Member]) -> list[dict[str, Any]]:
        kept: dict[str, tuple[Member, dict[str, Any], str]] = {}
        out, new = [], []
        for m in members:
            hit = self.kept.get(m.id)
            if hit is None or hit[0] is not m:
                hit = (m, _member_json(m), "")
                new.append(m.id)
            kept[m.id] = hit
            out.append(hit[1])
        for member_id, text in zip(new, _texts([kept[i][1] for i in new]), strict=True):
            kept[member_id] = (*kept[member_id][:2], text)
        self.kept = kept
        self.texts = {id(copy): text for _, copy, text in kept.values()}
        return out


def _texts(copies: list[dict[str, Any]]) -> list[str]:
    """``compact_json`` of each copy, encoded in one call: a list's items are written
    ``", "``-separated, so splitting its text at ``}, {`` gives them back, unless a value
    holds that text too (then there are more pieces, and each is encoded alone)."""
    if not copies:
        return []
    pieces = compact_json(copies, {}, depth=0)[2:-2].split("}, {")
    if len(pieces) != len(copies):
        return [compact_json(c, {}, depth=0) for c in copies]
    return ["{" + piece + "}" for piece in pieces]


def _member_json(member: Member) -> dict[str, Any]:
    """``member.to_json()`` without ``dataclasses.asdict``'s generic walk (a checkpoint
    holds every member; at 1,000 members the walk costs more than a generation's play)."""
    return {
        "id": member.id,
        "kind": member.kind,
        "params": _json_copy(member.params),
        "born": member.born,
        "parents": list(member.parents),
    }


def _json_copy(value: Any) -> Any:
    """A copy of JSON-like data (dicts, lists, tuples copied; everything else shared, as
    ``asdict`` shares immutable values)."""
    if isinstance(value, dict):
        # Scalars are shared, not recursed into (a member's params are mostly numbers).
        return {k: _json_copy(v) if isinstance(v, _CONTAINERS) else v for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_json_copy(v) for v in value)
    return value


_CONTAINERS = (dict, list, tuple)


def _checkpoint_state(
    entry: dict[str, Any],
    before: dict[str, Any] | None,
    config: ExperimentConfig,
    flat: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """``checkpoint.json``: the entry, the config digest, and (when final) the entry before.

    ``flat`` is :func:`decision_config` of ``config`` when the caller already has it (the
    loop computes it once per run, not once per episode: it reads the run's data files)."""
    final = entry["generation"] >= config.settings.episodes
    flat = flat if flat is not None else decision_config(config)
    state = {
        **entry,
        # A final checkpoint's members are the last generation's own (no selection ran).
        "final": final,
        "run_episodes": config.settings.episodes,
        "config_sha256": _digest(flat),
        "decision_config": flat,
    }
    if final and before is not None:
        state["rewind"] = before
    return state


def checkpoint_generation(run: RunDir) -> int:
    checkpoint = run.checkpoint()
    return int(checkpoint["generation"]) if checkpoint else 0


def _stop(
    run: RunDir,
    log: EventLog,
    calls: CallBuffer | None,
    reason: str,
    exc: Exception,
    study: Study,
) -> dict[str, Any]:
    done = checkpoint_generation(run)
    drain_calls(calls, log, done + 1)
    log.record(make_record("run_end", status="stopped", reason=reason, episodes_completed=done))
    log.close()
    run.write_summary(summarise(run.file("events.jsonl"), study))
    resume = f"resume with `agentsim run --resume {run.path}`"
    if isinstance(exc, _StopRequested):
        raise RunInterrupted(
            f"interrupted after episode {done}; the last checkpoint is kept: {resume}"
        )
    raise RunStopped(
        f"run stopped after episode {done} ({reason}); the last checkpoint is kept: "
        f"{resume} (a budget can be raised with "
        f"--set budget_calls=N / budget_tokens=N / budget_usd=X)"
    ) from exc


def _llm_context(
    run: RunDir, config: ExperimentConfig, calls: CallBuffer | None, cache_path: Path | None
) -> Any:
    from agentsim.runtime.llm_runtime import build_context, spent_before

    if not config.llm.model or calls is None or config.study.llm is None:
        return None
    return build_context(
        config.study.llm,
        config.llm,
        config.env,
        config.seed,
        cache_path=cache_path or run.file(LLM_CACHE),
        sink=calls,
        already_spent=spent_before(
            config.llm, cache_path or run.file(LLM_CACHE), run.file("events.jsonl")
        ),
    )


async def context_initialize(
    reproducer: Reproducer, members: list[Member], log: EventLog, calls: CallBuffer | None
) -> list[Member]:
    """Generation-1 strategies for LLM members (recorded like reproduction)."""
    if not isinstance(reproducer, Initializes):
        return members
    members = await reproducer.initialize(members, 1)
    drain_calls(calls, log, 1)
    for m in members:
        if m.params.get("strategy"):  # written by the study's transmission
            log.record(
                make_record(
                    "reproduction",
                    generation=1,
                    child=m.id,
                    parents=[],
                    kind=m.kind,
                    params=m.params,
                )
            )
    log.flush()
    return members


async def _play_generation(
    env: Any,
    members: list[Member],
    generation: int,
    config: ExperimentConfig,
    streams: SeedStreams,
    reproducer: Reproducer,
    log: Any,
    recorder: _MemberRecorder,
    context: Any,
    built: _Built | None = None,
) -> list[Member]:
    """One episode: play, record results and, with evolution, select and reproduce;
    returns the next episode's members (``built``: agents kept from the episode before)."""
    study = config.study
    seats = dict(zip(env.possible_agents, (m.id for m in members), strict=True))
    recorder.seats = seats
    if isinstance(context, SeatNames):
        context.names = [m.id for m in members]
    prefix = "generation" if study.evolution else "episode"
    log.record(
        make_record(
            f"{prefix}_start",
            **{prefix: generation},
            seats=list(seats.values()),
            kinds={m.id: m.kind for m in members},
        )
    )
    if built is None:
        built = _Built(study.env_id)
    agents = built.agents(env.possible_agents, members)
    for agent in agents.values() if context is not None else ():
        if _has(agent, Bindable):
            agent.bind(context)
    results = await _play_episode(
        study,
        env,
        agents,
        seed=streams.env(generation),
        recorder=recorder,
        # The env learns which episode it plays (a generation's norms; the n-th query item).
        options={"generation": generation} if study.evolution else {"episode": generation},
    )
    if study.evolution:  # independent episodes (no evolution) carry nothing
        members = _carry(members, agents)
    ids = [m.id for m in members]
    for record in results.episode_records(ids):
        record.setdefault("episode", generation)
        log.record(record)
    next_members = members
    if study.evolution and generation < config.settings.episodes:
        scored = cast(Scored, results)  # checked when the study was registered
        next_members = await _next_generation(
            members, scored.scores(), generation, config.settings, streams, reproducer, log
        )
        if study.fixed_seats:
            next_members = _seated(members, next_members)
    log.record(make_record(f"{prefix}_end", **{prefix: generation}, **results.episode_stats(ids)))
    return next_members


#: ``AGENTSIM_BATCH=off`` plays every episode through PettingZoo's API, even where the study's
#: vectorised episode could play it (``auto``, the default); the records are the same.
BATCH_VARIABLE = "AGENTSIM_BATCH"
BATCH_MODES = ("auto", "off")


def batch_mode() -> str:
    """The batch path's mode from :data:`BATCH_VARIABLE` (``auto`` when unset).

    Raises:
        UserError: for a value other than ``auto`` or ``off``.
    """
    mode = os.environ.get(BATCH_VARIABLE, "auto").strip().lower() or "auto"
    if mode not in BATCH_MODES:
        raise UserError(
            f"{BATCH_VARIABLE}={mode!r} is not one of {', '.join(BATCH_MODES)} "
            "(auto: scripted populations play the study's vectorised episode; off: never)"
        )
    return mode


async def _play_episode(
    study: Study,
    env: Any,
    agents: Mapping[str, Any],
    *,
    seed: int,
    recorder: Recorder,
    options: dict[str, Any],
) -> EpisodeResults:
    """Play one episode, vectorised when the study can and every agent is batch-capable;
    returns the results (the env's, or the vectorised episode's: the same values)."""
    batch = study.batch
    if batch is not None and batch_mode() == "auto" and _all_have(agents.values(), BatchCapable):
        results = run_batch_episode(
            batch, env, agents, seed=seed, recorder=recorder, options=options
        )
        if results is not None:
            return cast(EpisodeResults, results)
    await arun_episode(env, agents, seed=seed, recorder=recorder, options=options)
    return cast(EpisodeResults, env.unwrapped)


_PROTOCOL_METHODS: dict[type, tuple[str, ...]] = {
    p: tuple(n for n, v in vars(p).items() if callable(v) and not n.startswith("_"))
    for p in (BatchCapable, Bindable, Carries)
}


def _has(agent: Any, protocol: type) -> bool:
    """``isinstance(agent, protocol)`` for the loop's method-only protocols, as typing
    decides it (each method present and not None), without its per-call cost (~20 µs on
    Python 3.11, paid for every agent of every episode)."""
    return all(getattr(agent, n, None) is not None for n in _PROTOCOL_METHODS[protocol])


class _Built:
    """The agents of one episode, keeping those a member may play again with.

    A member that plays the next episode unchanged (the same :class:`Member`: a survivor
    whose agent carried nothing) gets its agent back when the agent says it is
    ``reusable()`` (a scripted kind that keeps nothing between episodes but what ``reset``
    sets again); every other member gets a fresh agent, as it always did.
    """

    def __init__(self, env_id: str) -> None:
        self.env_id = env_id
        self.kept: dict[str, tuple[Member, Any]] = {}

    def agents(self, seats: list[str], members: list[Member]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        kept: dict[str, tuple[Member, Any]] = {}
        for seat, m in zip(seats, members, strict=True):
            hit = self.kept.get(m.id)
            agent = hit[1] if hit is not None and hit[0] is m else m.build(self.env_id)
            out[seat] = agent
            reusable = getattr(agent, "reusable", None)
            if callable(reusable) and reusable() is True:
                kept[m.id] = (m, agent)
        self.kept = kept
        return out


def _all_have(agents: Iterable[Any], protocol: type) -> bool:
    """``all(_has(a, protocol) for a in agents)``, looked up once per class."""
    return all(_has_each(agents, protocol))


def _has_each(agents: Iterable[Any], protocol: type) -> Iterator[bool]:
    """``_has(a, protocol)`` for each agent, decided once per class where the class alone
    decides it: a plain class (no ``__getattr__``, no custom ``__getattribute__``) whose
    methods are functions, and an agent whose own ``__dict__`` does not shadow them."""
    names = _PROTOCOL_METHODS[protocol]
    by_class: dict[type, bool | None] = {}
    for agent in agents:
        cls = type(agent)
        if cls not in by_class:
            by_class[cls] = _class_has(cls, names)
        decided = by_class[cls]
        own = getattr(agent, "__dict__", None)
        if decided is None or own is None or not own.keys().isdisjoint(names):
            yield _has(agent, protocol)
        else:
            yield decided


def _class_has(cls: type, names: tuple[str, ...]) -> bool | None:
    """Whether every instance of ``cls`` has the methods ``names`` (None: ask each one)."""
    lookup = getattr(cls, "__getattribute__", None)
    if lookup is not object.__getattribute__ or hasattr(cls, "__getattr__"):
        return None
    found = [getattr(cls, n, None) for n in names]
    if any(f is not None and not isinstance(f, FunctionType) for f in found):
        return None  # a descriptor or callable object: its value may differ per instance
    return all(f is not None for f in found)


def _carry(members: list[Member], agents: Mapping[str, Any]) -> list[Member]:
    """Members with the state their agents carry into the next episode merged into params."""
    if not any(_has_each(agents.values(), Carries)):
        return members  # nothing to merge: the same list, and the same members
    out = []
    for m, agent, carries in zip(
        members, agents.values(), _has_each(agents.values(), Carries), strict=True
    ):
        if carries:
            m = Member(m.id, m.kind, {**m.params, **agent.carried()}, m.born, m.parents)
        out.append(m)
    return out


def _seated(before: list[Member], after: list[Member]) -> list[Member]:
    """``after`` (survivors, then children) placed on seats: each survivor on its own seat,
    each child on the seat of a removed member (in seat order)."""
    kept = {m.id: m for m in after}
    old = {b.id for b in before}
    children = iter(m for m in after if m.id not in old)
    return [kept[m.id] if m.id in kept else next(children) for m in before]


async def _next_generation(
    members: list[Member],
    scores: np.ndarray,
    generation: int,
    settings: RunSettings,
    streams: SeedStreams,
    reproducer: Reproducer,
    log: Any,
) -> list[Member]:
    rng = streams.generation_rng(generation)
    n_keep = round(settings.survival_fraction * len(members))
    keep = select_survivors(scores, n_keep, settings.selection, rng)
    survivors = [members[i] for i in keep]
    kept = set(keep.tolist())
    removed = [m.id for i, m in enumerate(members) if i not in kept]
    log.record(
        make_record(
            "selection",
            generation=generation,
            method=settings.selection,
            scores={m.id: float(s) for m, s in zip(members, scores, strict=True)},
            survivors=[m.id for m in survivors],
            removed=removed,
        )
    )
    children = await reproducer.reproduce(
        survivors, [float(scores[i]) for i in keep], len(members) - n_keep, generation + 1, rng
    )
    for child in children:
        log.record(
            make_record(
                "reproduction",
                generation=generation + 1,
                child=child.id,
                parents=list(child.parents),
                kind=child.kind,
                params=child.params,
            )
        )
    return survivors + children
