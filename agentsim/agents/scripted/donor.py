"""Scripted donor-game strategies.

Every strategy decides for a whole batch of observations at once
(:meth:`DonorStrategy.decide_batch`) so a population can be run as arrays;
``act`` is the same rule applied to one observation. Strategies are small
dataclasses whose fields are their parameters; ``BOUNDS`` gives the range each
parameter may take under mutation (cultural transmission with variation).

A *trace* is what the donor sees of the recipient (see ``donor_game_v0``):
entry 0 is the recipient's own latest action, entry 1 what that action's
recipient did before it, and so on; fractions are signed (negative = punished).

Example:
    >>> import numpy as np
    >>> s = TraceAverage(initial=0.5)
    >>> s.decide_batch(TraceBatch.empty(2)).tolist()
    [0.5, 0.5]
"""

from __future__ import annotations

import abc
import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, cast

import numpy as np
import numpy.typing as npt

from agentsim.agents.base import Decision

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
_Derived = TypeVar("_Derived")

#: Deepest trace :class:`Standing` decides by table lookup: ``(depth + 1) * 2**depth``
#: entries, and the bit code of ``depth`` comparisons fits a uint8.
_MAX_TABULATED_DEPTH = 8
_BIT_VALUES = (1 << np.arange(_MAX_TABULATED_DEPTH)).astype(np.uint8)


@dataclass(frozen=True)
class TraceBatch:
    """The decision-relevant part of a batch of donor observations."""

    length: npt.NDArray[np.int64]  # (b,) valid trace entries
    fraction: FloatArray  # (b, depth) signed fractions, newest first

    @staticmethod
    def empty(batch: int, depth: int = 3) -> TraceBatch:
        return TraceBatch(np.zeros(batch, dtype=np.int64), np.zeros((batch, depth)))

    @staticmethod
    def from_observations(observations: Sequence[Mapping[str, Any]]) -> TraceBatch:
        return TraceBatch(
            np.array([o["trace_length"] for o in observations], dtype=np.int64),
            np.array([o["trace_fraction"] for o in observations], dtype=np.float64),
        )

    def valid(self) -> npt.NDArray[np.bool_]:
        """(b, depth) mask of valid entries."""
        return np.arange(self.fraction.shape[1])[None, :] < self.length[:, None]


class DonorStrategy(abc.ABC):
    """Base of scripted donor strategies: batch rule, per-agent ``act``, mutation."""

    kind: ClassVar[str] = ""
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {}
    #: Parameters that can act only under one env setting: ``param -> (env key, value)``.
    #: Elsewhere the parameter must be 0 (an experiment's config refuses anything else), and
    #: mutation keeps a 0 at 0, so no decision asks for what the env cannot do.
    ENV_REQUIREMENTS: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def __post_init__(self) -> None:
        self.name = self.kind
        for key, (low, high) in self.BOUNDS.items():
            value = getattr(self, key)
            if not low <= value <= high:
                from agentsim.core.errors import ConfigError

                raise ConfigError(f"{self.kind}.{key}", value, f"a number in [{low}, {high}]")

    def _derived(self, build: Callable[[int], _Derived], depth: int) -> _Derived:
        """``build(depth)``, computed once per trace depth and kept until an attribute changes.

        Batch decisions run every round on a few hundred rows, where rebuilding per-depth
        constants (weights, tables) costs more than the decision itself. The cache holds the
        attributes it was built from and is dropped when they differ (an attribute set
        since); a check per call, where a ``__setattr__`` hook would cost every agent built
        (a thousand per generation) one call per parameter.
        """
        state = self.__dict__
        held = state.get("_derived_cache")
        now = {k: v for k, v in state.items() if k != "_derived_cache"}
        if held is None or not _equal(held[0], now):
            held = state["_derived_cache"] = (now, {})
        cache: dict[int, Any] = held[1]
        if depth not in cache:
            cache[depth] = build(depth)
        return cast(_Derived, cache[depth])

    @abc.abstractmethod
    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        """Signed donation fractions for a batch of donor observations."""

    def reset(self, *, seed: int | None = None) -> None:  # noqa: B027 (a default, not abstract)
        """Deterministic strategies keep no state between episodes."""

    def act(self, observation: Mapping[str, Any]) -> Decision:
        if not observation["is_donor"]:
            return Decision(action=np.zeros(1, dtype=np.float32))
        value = self.decide_batch(TraceBatch.from_observations([observation]))[0]
        return Decision(action=np.array([value], dtype=np.float32))

    def reusable(self) -> bool:
        """Whether this agent may play its member's next episode instead of a fresh one.

        A built-in kind keeps nothing from an episode but what :meth:`reset` sets again
        (and its derived constants, which depend on its parameters only), so the runtime
        reuses it for a survivor instead of rebuilding a thousand agents per generation.
        A subclass may keep state: it gets a fresh agent, as before.
        """
        return type(self) in _BUILT_IN

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters (the fields of the dataclass)."""
        return {name: getattr(self, name) for name in _field_names(type(self))}

    def mutated_params(self, rng: np.random.Generator, sigma: float) -> dict[str, Any]:
        """Parameters of a child: each bounded parameter moved by N(0, sigma*width), clipped.

        A parameter of :attr:`ENV_REQUIREMENTS` that is 0 stays 0: mutation varies how
        strongly a lineage punishes, it does not invent punishment (which the env may not
        allow). The random draws are the same either way, so streams stay aligned.
        """
        return self._mutate(self.params(), rng, sigma)

    @classmethod
    def mutate_params(
        cls, params: Mapping[str, Any], rng: np.random.Generator, sigma: float
    ) -> dict[str, Any] | None:
        """What ``cls(**params).mutated_params(rng, sigma)`` returns, without building the
        agent (reproduction makes hundreds of children per generation); None for a subclass
        that changes :meth:`params` or :meth:`mutated_params` (build one and ask it).

        Parameters missing from ``params`` take their defaults, as building would; a name
        that is not a parameter also gives None (building reports it).
        """
        plan = _plan(cls)
        if plan is None or not plan.names.issuperset(params):  # building would refuse them
            return None
        full = {n: params.get(n, d) for n, d in plan.defaults}
        return cls._mutate(full, rng, sigma)

    @classmethod
    def _mutate(
        cls, params: dict[str, Any], rng: np.random.Generator, sigma: float
    ) -> dict[str, Any]:
        bounds = _bounds(cls)
        if not bounds:
            return params
        # The numbers rng.normal(0.0, scale) draws, one per parameter in order (numpy's
        # normal is loc + scale * standard normal), without its per-call cost; Python
        # floats multiply and add as numpy's float64 arrays do, bit for bit.
        scales = _scales(cls, sigma)
        normals = rng.standard_normal(len(scales)).tolist()
        for (key, low, high, keeps_zero), scale, z in zip(bounds, scales, normals, strict=True):
            if keeps_zero and params[key] == 0:
                continue
            params[key] = float(min(max(params[key] + (0.0 + scale * z), low), high))
        return params


@dataclass(frozen=True)
class _Plan:
    """What :meth:`DonorStrategy.mutate_params` needs of a class, looked up once."""

    names: frozenset[str]
    defaults: tuple[tuple[str, Any], ...]  # (parameter, default) in field order


@functools.cache
def _plan(cls: type[DonorStrategy]) -> _Plan | None:
    """None for a class whose children need an agent (see ``mutate_params``)."""
    if cls.params is not DonorStrategy.params or (
        cls.mutated_params is not DonorStrategy.mutated_params
    ):
        return None
    fields = _fields(cls)
    if any(f.default is dataclasses.MISSING for f in fields):
        return None  # a required parameter: building decides what happens
    return _Plan(frozenset(f.name for f in fields), tuple((f.name, f.default) for f in fields))


@functools.cache
def _bounds(cls: type[DonorStrategy]) -> tuple[tuple[str, float, float, bool], ...]:
    """``(parameter, low, high, a 0 stays 0)`` per bounded parameter (class constants)."""
    return tuple(
        (key, low, high, key in cls.ENV_REQUIREMENTS) for key, (low, high) in cls.BOUNDS.items()
    )


def _equal(before: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether an agent's attributes are those it had (an array attribute replaced by
    another counts as a change: its ``==`` has no single truth value)."""
    try:
        return bool(before == now)
    except ValueError:
        return False


@functools.lru_cache(maxsize=256)
def _scales(cls: type[DonorStrategy], sigma: float) -> tuple[float, ...]:
    """Each bounded parameter's mutation scale, ``sigma`` times its range."""
    return tuple(float(sigma * (high - low)) for _, low, high, _ in _bounds(cls))


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in _fields(cls))


@functools.cache
def _fields(cls: type) -> tuple[dataclasses.Field[Any], ...]:
    return dataclasses.fields(cls)


@dataclass
class FixedFraction(DonorStrategy):
    """Donates a fixed fraction of its resources, whatever the recipient did.

    The unconditional baseline of the donor game (Vallinder & Hughes 2024, §1.3
    donation fraction); ``fraction=0`` is a defector, ``fraction=1`` a full cooperator.
    """

    kind: ClassVar[str] = "fixed_fraction"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {"fraction": (0.0, 1.0)}
    fraction: float = 0.5

    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        return np.full(len(batch.length), float(self.fraction))


@dataclass
class Defector(DonorStrategy):
    """Always donates nothing (the "always defect" strategy, Axelrod 1984)."""

    kind: ClassVar[str] = "defector"

    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        return np.zeros(len(batch.length))


@dataclass
class Cooperator(DonorStrategy):
    """Always donates everything (the "always cooperate" strategy, Axelrod 1984)."""

    kind: ClassVar[str] = "cooperator"

    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        return np.ones(len(batch.length))


@dataclass
class ImageScoring(DonorStrategy):
    """Image-scoring discriminator (Nowak & Sigmund 1998, Nature 393:573).

    A recipient has a good image if its latest shown action gave at least
    ``threshold`` of its resources. Good (or unknown, first round) recipients get
    ``generosity`` (``initial`` when unknown); bad ones get nothing, or are
    punished with fraction ``punish`` where costly punishment is enabled.
    """

    kind: ClassVar[str] = "image_scoring"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {
        "threshold": (0.0, 1.0),
        "generosity": (0.0, 1.0),
        "initial": (0.0, 1.0),
        "punish": (0.0, 1.0),
    }
    ENV_REQUIREMENTS: ClassVar[Mapping[str, tuple[str, str]]] = {"punish": ("punishment", "costly")}
    threshold: float = 0.3
    generosity: float = 0.6
    initial: float = 0.6
    punish: float = 0.0

    def good(self, batch: TraceBatch) -> npt.NDArray[np.bool_]:
        return (
            batch.fraction[:, 0] >= self.threshold
            if batch.fraction.shape[1]
            else (np.ones(len(batch.length), dtype=bool))
        )

    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        known = batch.length > 0
        good = self.good(batch)
        out = np.where(good, self.generosity, -self.punish)
        return np.where(known, out, self.initial)


@dataclass
class Standing(ImageScoring):
    """Standing discriminator (Sugden 1986; Leimar & Hammerstein 2001).

    Like image scoring, but a recipient that withheld help from a partner in bad
    standing keeps good standing: a low donation is *justified* when the trace
    shows its recipient was itself in bad standing. Standing is computed along
    the visible chain, oldest entry first; entries beyond the trace count as good.
    """

    kind: ClassVar[str] = "standing"

    def good(self, batch: TraceBatch) -> npt.NDArray[np.bool_]:
        valid = batch.valid()
        depth = batch.fraction.shape[1]
        next_good = np.ones(len(batch.length), dtype=bool)  # beyond the chain: good
        for k in range(depth - 1, -1, -1):
            helped = batch.fraction[:, k] >= self.threshold
            good_k = helped | ~next_good
            next_good = np.where(valid[:, k], good_k, True)
        return next_good

    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        """The rule of :meth:`good`, looked up in a table of every case it can tell apart.

        The rule sees only the trace length and which entries reach ``threshold``, so one
        comparison, a bit code and a gather replace its per-entry loop; the table is the
        rule itself, evaluated once per depth, so results are identical. A subclass with
        its own :meth:`good` is decided by that rule directly.
        """
        depth = batch.fraction.shape[1]
        if not 0 < depth <= _MAX_TABULATED_DEPTH or type(self).good is not Standing.good:
            return super().decide_batch(batch)
        helped = batch.fraction >= self.threshold
        code = helped.view(np.uint8) @ _BIT_VALUES[:depth]
        index = np.minimum(batch.length, depth)  # longer traces read as full ones
        index <<= depth
        index += code
        # A negative length lands below 0 and is clipped to the empty-trace entry, as it should.
        return self._derived(self._outcome_table, depth).take(index, mode="clip")

    def _outcome_table(self, depth: int) -> FloatArray:
        """Decisions for length ``L`` and helped-bits ``c`` at index ``L << depth | c``."""
        codes = np.arange(1 << depth)
        helped = (codes[:, None] >> np.arange(depth)) & 1
        fraction = np.where(helped == 1, np.inf, -np.inf)  # >= any threshold, or below it
        every_case = TraceBatch(
            np.repeat(np.arange(depth + 1), len(codes)), np.tile(fraction, (depth + 1, 1))
        )
        table = super().decide_batch(every_case)
        table.flags.writeable = False
        return table


@dataclass
class TraceAverage(DonorStrategy):
    """Trace-averaging reciprocator: donates what the recipient's chain gave, on average.

    The rule the paper's best LLM strategies converge to (Vallinder & Hughes 2024,
    Table 1, Claude 3.5 Sonnet generation 10: a weighted average of the A/B/C
    entries, plus a bonus, between a floor and a cap). Entry k has weight
    ``decay**k``; punishments count as 0; ``initial`` is used without a trace.
    """

    kind: ClassVar[str] = "trace_average"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {
        "initial": (0.0, 1.0),
        "decay": (0.0, 1.0),
        "bonus": (-0.5, 0.5),
        "floor": (0.0, 1.0),
        "cap": (0.0, 1.0),
    }
    initial: float = 0.5
    decay: float = 0.25
    bonus: float = 0.1
    floor: float = 0.0
    cap: float = 1.0

    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        per_length = self._derived(self._weights_by_length, batch.fraction.shape[1])
        weighted = per_length.weights_for(batch.length)
        np.multiply(weighted, batch.fraction.clip(0.0, 1.0), out=weighted)  # punished: 0
        mean = np.add.reduce(weighted, axis=1)
        mean /= per_length.divisor.take(batch.length, mode="clip")
        mean += self.bonus
        mean.clip(min(self.floor, self.cap), max(self.floor, self.cap), out=mean)
        return np.where(per_length.known.take(batch.length, mode="clip"), mean, self.initial)

    def _weights_by_length(self, depth: int) -> _TraceWeights:
        return _TraceWeights.build(self.decay, depth)


#: numpy adds fewer than this many values along a row one after another (pairwise summation
#: starts at 8), so below it a sum over entries may run entry-major (vectorised across rows)
#: and still give the row-major sum's bits.
_SEQUENTIAL_SUM_DEPTH = 8


@dataclass(frozen=True)
class _TraceWeights:
    """:class:`TraceAverage`'s weights for every trace length ``L`` in ``0 .. depth`` (row L)."""

    weights: FloatArray  # (depth + 1, depth): decay**k for entries k < L, else 0
    by_entry: FloatArray  # (depth, depth + 1): the same, transposed and contiguous
    divisor: FloatArray  # (depth + 1,): the row's total weight, 1.0 where it is 0
    known: BoolArray  # (depth + 1,): the row's total weight is > 0

    @staticmethod
    def build(decay: float, depth: int) -> _TraceWeights:
        valid = np.arange(depth)[None, :] < np.arange(depth + 1)[:, None]
        weights = np.asarray(decay ** np.arange(depth) * valid, dtype=np.float64)
        # Summed as a batch's rows are (C order, same length), so totals match bit for bit.
        total = weights.sum(axis=1)
        known = total > 0
        tables = _TraceWeights(
            weights, np.ascontiguousarray(weights.T), np.where(known, total, 1.0), known
        )
        for array in (tables.weights, tables.by_entry, tables.divisor, tables.known):
            array.flags.writeable = False
        return tables

    def weights_for(self, length: npt.NDArray[np.int64]) -> FloatArray:
        """A fresh ``(len(length), depth)`` array of each row's weights.

        Lengths outside ``0 .. depth`` read as the nearest valid one, as a validity mask
        would. Below :data:`_SEQUENTIAL_SUM_DEPTH` the array is entry-major (Fortran order),
        which makes the sum over entries several times faster on a few hundred rows.
        """
        if self.by_entry.shape[0] < _SEQUENTIAL_SUM_DEPTH:
            return self.by_entry.take(length, axis=1, mode="clip").T
        return self.weights.take(length, axis=0, mode="clip")


@dataclass
class RandomDonor(DonorStrategy):
    """Donates a uniformly random fraction in [low, high] (a noise baseline)."""

    kind: ClassVar[str] = "random"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {"low": (0.0, 1.0), "high": (0.0, 1.0)}
    low: float = 0.0
    high: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self._rng = np.random.default_rng(None)

    def reset(self, *, seed: int | None = None) -> None:
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def decide_batch(self, batch: TraceBatch) -> FloatArray:
        low, high = min(self.low, self.high), max(self.low, self.high)
        return self._rng.uniform(low, high, size=len(batch.length))


#: A rule that decides each row of a batch by its own agent's parameters:
#: ``rule(params, batch)`` with ``params[name]`` a ``(b,)`` array of that parameter per row.
RowRule = Callable[[Mapping[str, FloatArray], TraceBatch], FloatArray]


def row_rule(kind: type) -> RowRule | None:
    """The rule of a built-in stateless kind vectorised over agents (None for others).

    Row ``i`` of ``rule(params, batch)`` is, bit for bit, what an agent of exactly this
    kind with the parameters of row ``i`` decides for that row alone (its ``act``), so a
    population whose members all differ (after mutation) is still decided in one call
    per kind. Subclasses get None: they may change the rule.
    """
    return _ROW_RULES.get(kind)


def _fixed_rows(params: Mapping[str, FloatArray], batch: TraceBatch) -> FloatArray:
    return np.array(params["fraction"], dtype=np.float64)


def _constant_rows(value: float) -> RowRule:
    def rule(params: Mapping[str, FloatArray], batch: TraceBatch) -> FloatArray:
        return np.full(len(batch.length), value)

    return rule


def _image_rows(
    good: npt.NDArray[np.bool_], params: Mapping[str, FloatArray], batch: TraceBatch
) -> FloatArray:
    out = np.where(good, params["generosity"], -params["punish"])
    return np.where(batch.length > 0, out, params["initial"])


def _image_scoring_rows(params: Mapping[str, FloatArray], batch: TraceBatch) -> FloatArray:
    if batch.fraction.shape[1]:
        good = batch.fraction[:, 0] >= params["threshold"]
    else:
        good = np.ones(len(batch.length), dtype=bool)
    return _image_rows(good, params, batch)


def _standing_rows(params: Mapping[str, FloatArray], batch: TraceBatch) -> FloatArray:
    # Standing.good with a threshold per row (its table is this rule, tabulated).
    valid = batch.valid()
    next_good = np.ones(len(batch.length), dtype=bool)
    for k in range(batch.fraction.shape[1] - 1, -1, -1):
        good_k = (batch.fraction[:, k] >= params["threshold"]) | ~next_good
        next_good = np.where(valid[:, k], good_k, True)
    return _image_rows(next_good, params, batch)


def _trace_average_rows(params: Mapping[str, FloatArray], batch: TraceBatch) -> FloatArray:
    # TraceAverage.decide_batch with _TraceWeights built per row: the same operations on
    # the same layouts, so each row's bits are those of its agent's own call.
    depth = batch.fraction.shape[1]
    length = np.clip(batch.length, 0, depth)
    entries = np.arange(depth)
    weights = params["decay"][:, None] ** entries * (entries[None, :] < length[:, None])
    total = weights.sum(axis=1)
    known = total > 0
    if depth < _SEQUENTIAL_SUM_DEPTH:
        weights = np.asfortranarray(weights)
    np.multiply(weights, batch.fraction.clip(0.0, 1.0), out=weights)
    mean = np.add.reduce(weights, axis=1)
    mean /= np.where(known, total, 1.0)
    mean += params["bonus"]
    floor, cap = params["floor"], params["cap"]
    mean.clip(np.minimum(floor, cap), np.maximum(floor, cap), out=mean)
    return np.where(known, mean, params["initial"])


STRATEGIES: tuple[type[DonorStrategy], ...] = (
    FixedFraction,
    Defector,
    Cooperator,
    ImageScoring,
    Standing,
    TraceAverage,
    RandomDonor,
)

_BUILT_IN = frozenset(STRATEGIES)

_ROW_RULES: dict[type, RowRule] = {
    FixedFraction: _fixed_rows,
    Defector: _constant_rows(0.0),
    Cooperator: _constant_rows(1.0),
    ImageScoring: _image_scoring_rows,
    Standing: _standing_rows,
    TraceAverage: _trace_average_rows,
}
