"""Experiments and their configuration.

An experiment is named (``donor-game``, ``debate``) and belongs to a study (see
:mod:`agentsim.envs.study`). A run is configured by three frozen, validated dataclasses,
each a ``--set`` namespace: ``run.*`` (:class:`RunSettings`: episodes, population,
record level and, for studies with evolution, selection), ``env.*`` (the study's env
config) and ``llm.*`` (:class:`LLMSettings`). The loop itself is in
:mod:`agentsim.runtime.loop`; nothing here knows an environment by name.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from agentsim.agents.llm.settings import LLMSettings
from agentsim.agents.registry import make_agent
from agentsim.core.config import (
    build_config,
    check_choice,
    check_number,
    config_dict,
    field_names,
    parse_overrides,
    plain_scalar,
)
from agentsim.core.errors import ConfigError, UserError
from agentsim.envs.study import Study, find_experiment, get_study
from agentsim.evolution.population import population_parts
from agentsim.evolution.selection import SELECTION_METHODS
from agentsim.llm.types import safe_api_base

RECORD_LEVELS = ("full", "summary")
#: Run settings that only studies with evolution have.
EVOLUTION_KEYS = ("survival_fraction", "selection", "mutation")


@dataclass(frozen=True)
class RunSettings:
    """How a run plays its study's env (the ``run.*`` keys).

    Attributes:
        episodes: episodes to play; in a study with evolution each episode is a
            generation (the donor game calls this key ``generations``; paper: 10).
        population: the seats' members as ``kind:count,...`` (counts summing to the
            env's seats; empty: the study's default mix).
        record: ``full`` (every decision and env record) or ``summary`` (per episode).
        max_events_gb: the largest event log (estimated up front, see
            :func:`estimate_run_size`) a run may write; a bigger run is refused with the
            record level or the override that fits.
        concurrent_episodes: without evolution, how many episodes play at once (their LLM
            calls share one rate limit); the events are the same for any value.
        survival_fraction: evolution only: share of the population that survives
            (paper: top 50%).
        selection: evolution only: ``top``, ``random`` or ``proportional``.
        mutation: evolution only: std of scripted parameter mutation, as a fraction of
            each range.
    """

    episodes: int = 1
    population: str = ""
    record: str = "full"
    max_events_gb: float = 5.0
    concurrent_episodes: int = 16
    survival_fraction: float = 0.5
    selection: str = "top"
    mutation: float = 0.05

    def __post_init__(self) -> None:
        check_number("episodes", self.episodes, low=1, high=100_000, integer=True)
        check_number("survival_fraction", self.survival_fraction, low=0.0, high=1.0)
        check_choice("selection", self.selection, SELECTION_METHODS)
        check_number("mutation", self.mutation, low=0.0, high=1.0)
        check_choice("record", self.record, RECORD_LEVELS)
        check_number("max_events_gb", self.max_events_gb, low=0.0)
        check_number(
            "concurrent_episodes", self.concurrent_episodes, low=1, high=10_000, integer=True
        )


@dataclass(frozen=True)
class ExperimentConfig:
    """Everything needed to rerun an experiment; serialised as ``config.json``."""

    experiment: str
    env_id: str
    seed: int
    settings: RunSettings
    env: Mapping[str, Any]
    llm: LLMSettings = dataclasses.field(default_factory=LLMSettings)

    @property
    def study(self) -> Study:
        return get_study(self.env_id)

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment": self.experiment,
            "env_id": self.env_id,
            "seed": self.seed,
            "run": config_dict(self.settings),
            "env": dict(self.env),
            # Credentials in an endpoint URL are not stored: pass --api-base again to resume.
            "llm": {**config_dict(self.llm), "api_base": safe_api_base(self.llm.api_base)},
            "agentsim_version": importlib.metadata.version("agentsim"),
        }

    @staticmethod
    def from_json(data: Mapping[str, Any], overrides: Iterable[str] = ()) -> ExperimentConfig:
        """The config of a ``config.json``; a malformed one is a UserError."""
        try:
            return make_config(
                data["experiment"],
                data["seed"],
                overrides,
                run=data["run"],
                env=data["env"],
                llm=data.get("llm", {}),
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise UserError(f"config.json is malformed ({type(exc).__name__}: {exc})") from None


#: LLM settings that a resumed run may change: they do not change what agents decide.
RESUMABLE_KEYS = (
    "budget_calls",
    "budget_tokens",
    "budget_usd",
    "concurrency",
    "rpm",
    "tpm",
    "timeout_s",
    "max_attempts",
    "retry_base_delay_s",
    "api_base",
    "max_events_gb",
    "concurrent_episodes",
)
#: Run settings a finished run may raise on resume (it is then extended).
EXTENSION_KEYS = ("episodes",)

#: ``--set`` namespaces and the section each one names.
NAMESPACES = {"run": "run", "env": "env", "llm": "llm"}


def make_config(
    experiment: str,
    seed: int,
    overrides: Iterable[str] = (),
    *,
    run: Mapping[str, Any] | None = None,
    env: Mapping[str, Any] | None = None,
    llm: Mapping[str, Any] | None = None,
) -> ExperimentConfig:
    """Validated config from defaults, explicit values and ``key=value`` overrides.

    Overrides are namespaced (``run.episodes=10``, ``env.rounds=12``,
    ``llm.temperature=0.8``); a bare key is accepted when exactly one namespace has it,
    and a study's aliases (the donor game's ``generations``) name their run setting.
    With a ``model`` and no explicit ``population``, every seat is an LLM agent (the
    paper's homogeneous population).
    """
    study, spec = find_experiment(experiment)
    check_number("seed", seed, low=0, integer=True)
    seed = plain_scalar(seed)  # np.int64 seeds are fine, but config.json needs an int
    sections: dict[str, tuple[type, dict[str, Any]]] = {
        "run": (RunSettings, _dealias(study, {**spec.run, **(run or {})})),
        "env": (study.config, {**spec.env, **(env or {})}),
        "llm": (LLMSettings, dict(llm or {})),
    }
    explicit_population = bool(run and run.get("population"))
    for item in overrides:
        section, key = _section_of(study, sections, item)
        try:
            values = parse_overrides(sections[section][0], [f"{key}={_value(item)}"])
        except ConfigError as exc:
            named = item.partition("=")[0].strip()
            if named.rpartition(".")[2] == key:
                raise
            raise ConfigError(f"{named} ({section}.{key})", exc.value, exc.allowed) from None
        sections[section][1].update(values)
        explicit_population |= key == "population"
    llm_obj = build_config(LLMSettings, sections["llm"][1])
    if llm_obj.prompt_dir:  # config.json names it wherever a resume starts from
        llm_obj = dataclasses.replace(llm_obj, prompt_dir=os.path.abspath(llm_obj.prompt_dir))
    env_obj: Any = build_config(study.config, sections["env"][1])
    run_values = sections["run"][1]
    seats = study.seats(env_obj)
    if llm_obj.model and not explicit_population:
        run_values["population"] = f"llm:{seats}"
    elif not run_values.get("population"):
        run_values["population"] = scale_population(study.default_population, seats)
    elif not explicit_population:
        run_values["population"] = scale_population(run_values["population"], seats)
    settings_obj = build_config(RunSettings, run_values)
    _check_evolution_keys(study, run_values)
    parts = population_parts(settings_obj.population, study.env_id)
    if "llm" in {kind for kind, _, n in parts if n} and not llm_obj.model:
        raise ConfigError(
            "model", None, "a LiteLLM model string (--model): the population has llm members"
        )
    if study.evolution and round(settings_obj.survival_fraction * seats) < 1:
        raise ConfigError(
            "survival_fraction",
            settings_obj.survival_fraction,
            "a fraction that keeps at least one member",
        )
    n_members = sum(n for _, _, n in parts)
    if n_members != seats:
        total = f"{study.seats_key}={seats}" if study.seats_key else f"the env's {seats} seats"
        raise ConfigError(
            "population",
            settings_obj.population,
            f"kind:count,... with counts summing to {total}",
        )
    env_dict = _absolute_paths(config_dict(env_obj))
    check_env_requirements(parts, env_dict, experiment, study.env_id)
    if study.check is not None:
        study.check(env_obj, parts, llm_obj)
    _check_llm_keys_need_a_model(llm_obj)
    _check_llm_keys_the_study_uses(study, llm_obj)
    if llm_obj.model and study.llm is not None and study.llm.check_prompts is not None:
        try:
            study.llm.check_prompts(llm_obj.prompt_dir)  # a bad template fails here, not mid-run
        except UserError as exc:
            raise ConfigError("prompt_dir", llm_obj.prompt_dir, str(exc)) from None
    config = ExperimentConfig(experiment, study.env_id, seed, settings_obj, env_dict, llm_obj)
    check_run_size(config)
    return config


#: LLM settings that mean something without a model (a cache mode, a budget for a resume).
_MODEL_FREE_KEYS = ("cache", "concurrency", "budget_calls", "budget_tokens", "budget_usd")


def _check_llm_keys_need_a_model(llm: LLMSettings) -> None:
    """An ``llm.*`` setting changed without ``--model`` would do nothing: refuse it."""
    if llm.model:
        return
    defaults = LLMSettings()
    for f in dataclasses.fields(LLMSettings):
        if f.name in _MODEL_FREE_KEYS or f.name == "model":
            continue
        if getattr(llm, f.name) != getattr(defaults, f.name):
            raise ConfigError(
                f"llm.{f.name}",
                getattr(llm, f.name),
                "its default without --model (LLM settings apply to LLM agents only)",
            )


def _absolute_paths(env: dict[str, Any]) -> dict[str, Any]:
    """Data-file and data-folder keys (``*_file``, ``*_dir``) as absolute paths, so a resume
    from any folder finds them (an empty value keeps meaning "the built-in data")."""
    return {
        k: os.path.abspath(v) if k.endswith(DATA_SUFFIXES) and isinstance(v, str) and v else v
        for k, v in env.items()
    }


#: Env config keys naming data a run reads: their content is part of the run's identity.
DATA_SUFFIXES = ("_file", "_dir")


def _check_llm_keys_the_study_uses(study: Study, llm: LLMSettings) -> None:
    if study.llm is None:
        return
    defaults = LLMSettings()
    for key in study.llm.unused_settings:
        if getattr(llm, key) != getattr(defaults, key):
            raise ConfigError(
                f"llm.{key}", getattr(llm, key), f"its default: {study.env_id}'s agents ignore it"
            )


def _value(item: str) -> str:
    return item.partition("=")[2]


def _dealias(study: Study, values: Mapping[str, Any]) -> dict[str, Any]:
    return {study.aliases.get(k, k): v for k, v in values.items()}


def _check_evolution_keys(study: Study, values: Mapping[str, Any]) -> None:
    if study.evolution:
        return
    defaults = {f.name: f.default for f in dataclasses.fields(RunSettings)}
    for key in EVOLUTION_KEYS:
        if key in values and values[key] != defaults[key]:
            raise ConfigError(
                f"run.{key}", values[key], f"not set: {study.env_id} has no evolution"
            )


def setting_keys(study: Study) -> dict[str, list[str]]:
    """The ``--set`` keys of a study's runs, by namespace."""
    run_keys = [k for k in field_names(RunSettings) if study.evolution or k not in EVOLUTION_KEYS]
    return {
        "run": run_keys + sorted(study.aliases),
        "env": field_names(study.config),
        "llm": field_names(LLMSettings),
    }


def _section_of(
    study: Study, sections: Mapping[str, tuple[type, dict[str, Any]]], item: str
) -> tuple[str, str]:
    """The section and (de-aliased) key of a ``key=value`` override."""
    key, sep, _ = item.partition("=")
    key = key.strip()
    keys = setting_keys(study)
    every = sorted(f"{ns}.{k}" for ns, ks in keys.items() for k in ks)
    if not sep or not key:
        raise ConfigError("--set", item, "key=value with key one of " + ", ".join(every))
    namespace, dot, bare = key.partition(".")
    if dot and namespace in keys:
        if namespace == "run" and bare in EVOLUTION_KEYS and not study.evolution:
            raise ConfigError(key, _value(item), f"not set: {study.env_id} has no evolution")
        if bare not in keys[namespace]:
            raise ConfigError.unknown_key(key, every)
        return namespace, study.aliases.get(bare, bare) if namespace == "run" else bare
    owners = [ns for ns, ks in keys.items() if key in ks]
    bare_key = key.rpartition(".")[2]
    if not owners and bare_key in EVOLUTION_KEYS and not study.evolution:
        raise ConfigError(
            f"run.{bare_key}", _value(item), f"not set: {study.env_id} has no evolution"
        )
    if not owners:
        raise ConfigError.unknown_key(key, every)
    if len(owners) > 1:
        raise ConfigError(
            key, _value(item), "a namespaced key: " + ", ".join(f"{ns}.{key}" for ns in owners)
        )
    namespace = owners[0]
    return namespace, study.aliases.get(key, key) if namespace == "run" else key


def check_env_requirements(
    parts: Iterable[tuple[str, Mapping[str, Any], int]],
    env: Mapping[str, Any],
    experiment: str,
    env_id: str | None = None,
) -> None:
    """Refuse member parameters that cannot act under the env's config.

    An agent class lists such parameters in ``ENV_REQUIREMENTS`` (``param -> (env key,
    value)``): e.g. ``image_scoring[punish=0.3]`` needs ``punishment=costly``; elsewhere its
    punishments would be recorded as decisions the env never carried out.

    Args:
        parts: the population's ``(kind, params, count)`` parts (``population_parts``).
        env: the env's config.
        experiment: the experiment's name, for the message.

    Raises:
        ConfigError: naming the member, the parameter and the fix.
    """
    for kind, params, count in parts:
        if not count:
            continue
        # Optional class data of the agent (agents need not inherit from anything).
        requirements: Mapping[str, tuple[str, Any]] = getattr(
            type(make_agent(kind, env=env_id, **params)), "ENV_REQUIREMENTS", {}
        )
        for param, (key, needed) in requirements.items():
            if params.get(param) and env.get(key) != needed:
                raise ConfigError(
                    f"population member {kind}: {param}",
                    params[param],
                    f"0 with {key}={env.get(key)} ({param} > 0 acts only with {key}={needed}): "
                    f"--set {key}={needed}, or drop {param} from the population of {experiment}",
                )


# Sizes measured on donor-game runs (events.jsonl bytes, peak RSS), rounded up; the
# estimate is meant to be right within a factor of about 2, to catch runs that are
# orders of magnitude bigger than their user expects.
_DECISION_BYTES = 480  # record=full: one decision and one transfer record per donation
_MEMBER_BYTES = 280  # per member and episode: seats, selection, reproduction, statistics
_LLM_CALL_BYTES = 2_500  # per LLM call record (reply text and metadata), at both levels
_BASE_MEMORY = 80e6
_MEMBER_MEMORY = 5_000  # observations, agents and per-seat state of one generation


@dataclass(frozen=True)
class RunSize:
    """A rough estimate of what a run writes and holds (see :func:`estimate_run_size`).

    Attributes:
        events_bytes: ``events.jsonl`` at the run's record level.
        summary_events_bytes: the same run with ``record=summary``.
        memory_bytes: peak memory of the process.
    """

    events_bytes: float
    summary_events_bytes: float
    memory_bytes: float

    def describe(self) -> str:
        """One line for messages: events and memory in GB."""
        return (
            f"about {self.events_bytes / 1e9:.3g} GB of events "
            f"({self.summary_events_bytes / 1e9:.3g} GB with record=summary) and "
            f"{self.memory_bytes / 1e9:.3g} GB of memory"
        )


def estimate_run_size(config: ExperimentConfig) -> RunSize:
    """Estimate a run's event log and memory from seats x decisions x episodes.

    The study says how many decisions an episode has (``Study.decisions_per_episode``).

    Example:
        >>> size = estimate_run_size(make_config("donor-game", 0))
        >>> 1e5 < size.events_bytes < 1e7, size.summary_events_bytes < size.events_bytes
        (True, True)
    """
    study, settings = config.study, config.settings
    env_obj = study.config(**config.env)
    seats = study.seats(env_obj)
    decisions = study.decisions_per_episode(env_obj)
    llm_members = sum(
        n for kind, _, n in population_parts(settings.population, config.env_id) if kind == "llm"
    )
    llm_calls = decisions * llm_members / max(seats, 1)
    per_episode = seats * _MEMBER_BYTES + llm_calls * _LLM_CALL_BYTES
    summary = settings.episodes * per_episode
    full = summary + settings.episodes * decisions * _DECISION_BYTES
    events = full if settings.record == "full" else summary
    return RunSize(events, summary, _BASE_MEMORY + seats * _MEMBER_MEMORY)


def check_run_size(config: ExperimentConfig) -> None:
    """Refuse, before anything is written, a run whose event log would exceed the limit.

    Raises:
        ConfigError: naming ``record`` when ``record=summary`` would fit, otherwise
            ``max_events_gb`` (the override), with the estimate.
    """
    settings = config.settings
    size = estimate_run_size(config)
    limit = settings.max_events_gb * 1e9
    if size.events_bytes <= limit:
        return
    needed = f"--set max_events_gb={math.ceil(size.events_bytes / 1e9)}"
    if settings.record == "full" and size.summary_events_bytes <= limit:
        raise ConfigError(
            "record",
            settings.record,
            f"summary for a run this size ({size.describe()}; "
            f"max_events_gb={settings.max_events_gb:g}): --set record=summary, or {needed} "
            "to keep every decision",
        )
    raise ConfigError(
        "max_events_gb",
        settings.max_events_gb,
        f"at least the run's size ({size.describe()}): fewer episodes or seats, or {needed}",
    )


def scale_population(spec: str, n: int) -> str:
    """A ``kind:count,...`` mix rescaled to ``n`` members (largest remainders), in order.

    Example:
        >>> scale_population("trace_average:4,image_scoring:2,standing:2,defector:4", 6)
        'trace_average:2,image_scoring:1,standing:1,defector:2'
    """
    parts = [p.strip().rpartition(":") for p in spec.split(",")]
    counts = [int(c) for _, _, c in parts]
    total = sum(counts)
    if total == n or total == 0:
        return spec
    exact = [c * n / total for c in counts]
    scaled = [int(x) for x in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (scaled[i] - exact[i], i))
    for i in by_remainder[: n - sum(scaled)]:
        scaled[i] += 1
    return ",".join(f"{kind}:{c}" for (kind, _, _), c in zip(parts, scaled, strict=True) if c)


def run_name(config: ExperimentConfig, stamp: str) -> str:
    """Run directory name: experiment, seed and time."""
    return f"{config.experiment}-seed{config.seed}-{stamp}"
