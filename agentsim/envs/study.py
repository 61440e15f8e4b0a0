"""The study: one registered bundle per environment, the only thing the runtime knows of an env.

The runtime, the CLI, the record schema, the offline model, the dry-run estimate and the
report work from a :class:`Study` alone; none of them names an environment. Adding an
environment is one package and one :func:`register_study` call, from inside agentsim or
from outside it.

What the runtime needs from an env beyond PettingZoo's API is declared, not probed:
every env of a study implements :class:`EpisodeResults`; a study with evolution also
implements :class:`Scored` (selection scores per seat). Both are checked once when the
study is registered.

Example:
    >>> from agentsim.envs.study import get_study, study_ids
    >>> "donor_game_v0" in study_ids()
    True
    >>> get_study("donor_game_v0").evolution
    True
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from agentsim.agents import registry as agent_registry
from agentsim.agents.registry import register_agent, unregister_kinds
from agentsim.core.errors import ConfigError
from agentsim.core.records import (
    FieldType,
    Record,
    register_record_type,
    unregister_record_type,
)
from agentsim.core.registry import Registry
from agentsim.llm.offline import register_offline_policy, unregister_offline_policy


@runtime_checkable
class EpisodeResults(Protocol):
    """Results the runtime reads from an env, besides PettingZoo's own API.

    ``pop_records`` is called after every step and returns (and forgets) the records the
    step produced; ``episode_records`` and ``episode_stats`` are read once the episode is
    over. ``ids`` maps seat order to the ids of the members sitting there, so records can
    name members rather than seats.
    """

    def pop_records(self) -> list[Record]: ...

    def episode_records(self, ids: Sequence[str]) -> list[Record]: ...

    def episode_stats(self, ids: Sequence[str]) -> dict[str, Any]: ...


@runtime_checkable
class Scored(Protocol):
    """An env whose episodes score every seat (for selection between generations)."""

    def scores(self) -> np.ndarray: ...


@runtime_checkable
class Bindable(Protocol):
    """An agent that needs the run's shared LLM context (the study's LLM agents)."""

    def bind(self, context: Any) -> None: ...


@runtime_checkable
class Carries(Protocol):
    """An agent with state that outlives an episode (memory, traits shaped by feedback).

    After every episode the loop merges ``carried()`` (JSON data) into the member's
    params, so the next episode's agent, a checkpoint and a resume all start from it.
    """

    def carried(self) -> dict[str, Any]: ...


@runtime_checkable
class PersistentState(Protocol):
    """An env of a study with evolution whose state outlives a generation (the norm
    society's current norms; one env plays every generation of a run).

    The loop keeps ``env_state()`` (JSON data) in every checkpoint and gives it back
    through ``restore_env_state`` when a run resumes, so a resumed run is identical.
    """

    def env_state(self) -> dict[str, Any]: ...

    def restore_env_state(self, state: dict[str, Any]) -> None: ...


@runtime_checkable
class BatchCapable(Protocol):
    """An agent that can decide for many seats at once (the scripted donor strategies).

    Declaring ``decide_batch`` promises that deciding a batch gives, row by row, what
    ``act`` gives for each observation alone. When every agent of an episode is
    batch-capable and the study has a :attr:`Study.batch`, the loop plays the study's
    vectorised episode instead of the PettingZoo one (same records, same results).
    """

    def decide_batch(self, batch: Any) -> Any: ...


@dataclass(frozen=True)
class BatchStep:
    """One step of a vectorised episode, as the PettingZoo path records it.

    Attributes:
        decisions: ``(seat, Decision, observation)`` of the acting agents, in the order
            the runner would ask them (empty when the run does not record decisions).
        records: the env's records of the step (``pop_records``), seats not yet renamed.
    """

    decisions: Sequence[tuple[str, Any, Any]] = ()
    records: Sequence[Record] = ()


#: A vectorised episode: yields its steps and returns the episode's results.
BatchPlay = Generator[BatchStep, None, EpisodeResults]


class BatchEpisode(Protocol):
    """A study's vectorised episode (its env's rules played as arrays).

    ``batch(env, agents, *, seed, options, record, reset)`` plays the episode ``env``
    would play with ``agents`` and returns a generator of its steps whose return value
    holds the results (an :class:`EpisodeResults`, and :class:`Scored` for a study with
    evolution), or None when it cannot play these agents (the runner then plays the
    PettingZoo episode). ``reset(seat)`` resets a seat's agent with the seed the
    PettingZoo episode gives it; the batch calls it (before its first step) for every
    agent whose ``reset`` does something (deriving a seed is not free, and most scripted
    agents ignore it). ``record`` is False when the run keeps no per-step records: the
    steps may then be empty. A study whose env keeps state across episodes
    (:class:`PersistentState`) leaves that state in ``env`` as the PettingZoo episode would.
    """

    def __call__(
        self,
        env: Any,
        agents: Mapping[str, Any],
        *,
        seed: int | None,
        options: Mapping[str, Any],
        record: bool,
        reset: Callable[[str], None],
    ) -> BatchPlay | None: ...


@runtime_checkable
class SeatNames(Protocol):
    """An LLM context that shows agents the member ids of the seats (the donor game's
    prompts name the partners); the loop sets ``names`` before each episode."""

    names: list[str]


@dataclass(frozen=True)
class Experiment:
    """A named, runnable configuration of a study.

    Attributes:
        name: the CLI name (``agentsim run NAME``).
        description: one line for ``agentsim experiments``.
        env: env config values that differ from the env config's defaults.
        run: run settings (``run.*`` keys) that differ from the defaults.
    """

    name: str
    description: str
    env: Mapping[str, Any] = field(default_factory=dict)
    run: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Crossover:
    """Reproduction by two-parent crossover and per-trait mutation, as a study declares it.

    A study's ``reproducer`` factory may return this instead of a reproducer (the envs
    layer cannot import ``agentsim.evolution``); the runtime builds
    :class:`agentsim.evolution.crossover.CrossoverReproducer` from it, with
    ``run.mutation`` as the per-trait mutation rate.

    Attributes:
        traits: params inherited trait by trait (list-valued: element by element).
        mutate: ``mutate(key, value, parents, child_id, rng) -> value`` (may be async).
        fresh: params a child does not inherit, for all kinds or per kind.
    """

    traits: tuple[str, ...]
    mutate: Callable[..., Any] | None = None
    fresh: tuple[str, ...] | Mapping[str, tuple[str, ...]] = ()


@dataclass(frozen=True)
class Estimate:
    """A dry-run estimate of one run's LLM use (no call is made to produce it)."""

    calls: int
    prompt_tokens: int
    completion_tokens: int
    detail: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LLMBinding:
    """How a study's LLM agents are built and fed.

    Attributes:
        context: ``context(model, settings, env_config, seeds) -> ctx``: what the study's
            LLM agents of one run share (prompts, rules, the model stack).
        write_strategy: for studies with evolution, the cultural transmission of LLM
            members: ``await write_strategy(ctx, member_id, generation, advice)`` returns
            a child's params (its strategy written from the survivors' advice) and usage;
            the runtime wraps it in :class:`~agentsim.evolution.transmission.LLMTransmission`.
            None keeps scripted mutation only.
        estimate: ``estimate(env_config, run_settings, llm_settings, n_llm) -> Estimate``.
        offline_policy: ``policy(messages) -> reply`` answering this study's prompts with
            no network; served as the LiteLLM model ``offline/<offline_name>`` (None: the
            offline provider's built-in behaviours answer, as for the donor game).
        offline_name: the name under ``offline/`` (default: the env id without ``_v0``).
        check_prompts: ``check_prompts(prompt_dir)`` loads the study's templates (with a
            user's replacements) and raises UserError for a bad one; called before a run
            directory exists.
        prepare: ``await prepare(ctx, env_config, run_dir, fresh) -> (env_overrides,
            records)``: material the run's model writes once before episode 1 (kept in the
            run directory; ``fresh`` is False on a resume, which reuses it). The overrides
            apply to the envs of this run; the records go to the event log.
        unused_settings: ``llm.*`` keys this study's agents ignore (another study's prompt
            switches); a run that sets one is refused rather than silently unaffected.
    """

    context: Callable[..., Any]
    estimate: Callable[..., Estimate]
    offline_policy: Callable[[Sequence[Mapping[str, str]]], str] | None = None
    write_strategy: Callable[..., Any] | None = None
    offline_name: str | None = None
    check_prompts: Callable[[str | None], Any] | None = None
    prepare: Callable[..., Awaitable[tuple[dict[str, Any], list[Record]]]] | None = None
    unused_settings: tuple[str, ...] = ()


@dataclass(frozen=True)
class Study:
    """Everything the runtime, CLI and report need to know about one environment.

    Attributes:
        env_id: the versioned env id (``donor_game_v0``).
        make_env: ``make_env(**config) -> env`` (a PettingZoo Parallel or AEC env).
        config: the env's frozen config dataclass; its fields are the ``env.*`` keys.
        record_types: the study's own record types and their required fields.
        agent_kinds: agent factories by kind, scoped to this env (``llm`` included when
            the study has LLM agents).
        default_population: ``kind:count,...`` of the seats when none is given.
        summarise: ``summarise(records) -> dict``: the study's headline figures per episode,
            merged into ``summary.json``.
        summary_lines: ``summary_lines(summary) -> list[str]``: what ``agentsim run`` prints.
        experiments: named experiments.
        evolution: whether episodes are generations of an evolving population.
        llm: how LLM agents are built (None: no LLM agents).
        seats: ``seats(env_config) -> int``: the number of seats of an episode.
        episode_name: what one episode is called in output ("generation", "debate").
        aliases: other names of run settings in this study (the donor game calls
            ``episodes`` ``generations``), accepted in ``--set`` and config files.
        member_fields: record fields that name a seat; the loop writes member ids there
            (with evolution, members move between seats across generations).
        seats_key: the env config key that sets the number of seats, if one does.
        unrecorded_observation: observation keys left out of decision records because
            they are rendered from other records (a debate's transcript, from its
            utterances); the decision record marks them ``{"rendered_from_records": true}``.
        decisions_per_episode: ``decisions_per_episode(env_config) -> int``, for the run
            size estimated before a run starts (default: 100).
        check: ``check(env_config, population_parts, llm_settings)`` raises ConfigError for
            a combination the config dataclasses cannot judge alone (kinds that do not fit
            the env's protocol, a setting that needs a model); called by ``make_config``.
        field_types: how the fields of the study's records are checked when a log is read
            (``agentsim.core.records.INTEGER``, ``NUMBER``, ...).
        reproducer: evolution only: ``reproducer(run_settings, env_config, llm_context) ->
            Reproducer | Crossover`` builds the run's reproduction hook (``llm_context``:
            None without a model);
            None: scripted mutation of one parent, plus the LLM binding's
            ``write_strategy`` when a model is set (the donor game).
        fixed_seats: evolution only: seats are places (nodes of a network): survivors keep
            their seat and each child takes the seat of a removed member, instead of the
            survivors-then-children order.
        batch: the study's vectorised episode (:class:`BatchEpisode`), played instead of
            the PettingZoo episode when every agent is :class:`BatchCapable` (None: always
            the PettingZoo episode). Its records and results must equal the PettingZoo
            episode's for the same seed (``AGENTSIM_BATCH=off`` forces that path).
        summary_types: the record types ``summarise`` reads (None: it may read any). When
            the runtime writes a run's summary, records of the other types (and of those the
            runtime tallies itself) are not decoded: a run of 1,000 members writes hundreds
            of ``reproduction`` records per generation that no summary reads.
    """

    env_id: str
    make_env: Callable[..., Any]
    config: type
    record_types: Mapping[str, tuple[str, ...]]
    agent_kinds: Mapping[str, Callable[..., Any]]
    default_population: str
    summarise: Callable[[Iterable[Record]], dict[str, Any]]
    summary_lines: Callable[[Mapping[str, Any]], list[str]]
    experiments: Mapping[str, Experiment]
    seats: Callable[[Any], int]
    evolution: bool = False
    llm: LLMBinding | None = None
    episode_name: str = "episode"
    aliases: Mapping[str, str] = field(default_factory=dict)
    member_fields: tuple[str, ...] = ("agent",)
    seats_key: str | None = None
    unrecorded_observation: tuple[str, ...] = ()
    decisions_per_episode: Callable[[Any], int] = lambda config: 100
    check: Callable[[Any, Sequence[tuple[str, Mapping[str, Any], int]], Any], None] | None = None
    field_types: Mapping[str, FieldType] = field(default_factory=dict)
    reproducer: Callable[[Any, Mapping[str, Any], Any], Any] | None = None
    fixed_seats: bool = False
    batch: BatchEpisode | None = None
    summary_types: frozenset[str] | None = None

    @property
    def offline_name(self) -> str:
        if self.llm is not None and self.llm.offline_name:
            return self.llm.offline_name
        return self.env_id.rsplit("_v", 1)[0]


def _load_builtins(registry: Registry[Study]) -> None:
    # Each built-in env package registers its study on import.
    import agentsim.envs.debate.study
    import agentsim.envs.donor_study
    import agentsim.envs.norm_society.study  # (registers norm_society_v0)
    import agentsim.envs.web_shop.study  # noqa: F401  (registers norm_society_v0, web_shop_v0)


STUDIES: Registry[Study] = Registry("env", _load_builtins)


def register_study(study: Study) -> Study:
    """Register a study (and its record types, env id and offline policy).

    Checks the declared seams once, on an env built with the default config: every env
    must implement :class:`EpisodeResults`, and envs of studies with evolution
    :class:`Scored`.

    Raises:
        TypeError: when the env lacks a declared method (the message names it).
    """
    if not dataclasses.is_dataclass(study.config):
        raise TypeError(f"{study.env_id}: config must be a dataclass, not {study.config!r}")
    env = study.make_env()
    missing = [p.__name__ for p in _required(study) if not isinstance(env.unwrapped, p)]
    env.close()
    if missing:
        raise TypeError(f"{study.env_id}: its env does not implement {', '.join(missing)}")
    for name, fields in study.record_types.items():
        register_record_type(name, fields, study.field_types)
    for kind, factory in study.agent_kinds.items():
        register_agent(kind, factory, env=study.env_id)
    if study.llm is not None and study.llm.offline_policy is not None:
        register_offline_policy(study.offline_name, study.llm.offline_policy)
    STUDIES.register(study.env_id, study)
    return study


def unregister_study(env_id: str) -> None:
    """Undo :func:`register_study`: the study, its kinds, record types and offline policy.

    For tests and notebooks that define a study and must leave the process as they found
    it; the report sections of the env are separate (``analysis.report``).
    """
    if env_id not in STUDIES:
        return
    study = STUDIES.get(env_id)
    STUDIES.unregister(env_id)
    unregister_kinds(env_id)
    for name in study.record_types:
        unregister_record_type(name)
    if study.llm is not None and study.llm.offline_policy is not None:
        unregister_offline_policy(study.offline_name)


def _required(study: Study) -> list[type]:
    return [EpisodeResults, Scored] if study.evolution else [EpisodeResults]


def get_study(env_id: str) -> Study:
    """The study of an env id; unknown ids raise ConfigError listing the known ones."""
    return STUDIES.get(env_id)


def study_ids() -> list[str]:
    """Env ids of all registered studies."""
    return STUDIES.names()


def find_experiment(name: str) -> tuple[Study, Experiment]:
    """The study and experiment of an experiment name, across all studies."""
    for _, study in STUDIES.items():
        if name in study.experiments:
            return study, study.experiments[name]
    raise ConfigError("experiment", name, sorted(all_experiments()))


def all_experiments() -> dict[str, tuple[Study, Experiment]]:
    """Every experiment name with its study."""
    return {n: (s, e) for _, s in STUDIES.items() for n, e in s.experiments.items()}


def make_agent(kind: str, *, env: str | None = None, name: str | None = None, **params: Any) -> Any:
    """Build an agent of a kind of ``env`` (or a kind only one env has, or a global kind).

    Example:
        >>> make_agent("degroot", env="debate_v0").kind
        'degroot'
    """
    STUDIES.names()  # the built-in studies register their kinds
    return agent_registry.make_agent(kind, env=env, name=name, **params)


def agent_kinds(env: str | None = None) -> list[str]:
    """Kinds usable in ``env`` (all kinds when None), built-in studies included."""
    STUDIES.names()
    return agent_registry.agent_kinds(env)
