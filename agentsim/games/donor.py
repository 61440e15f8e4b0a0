"""The iterated donor game (Vallinder & Hughes 2024, arXiv:2412.10270), as pure numpy rules.

A population of ``n`` agents is split into two halves A and B. In every round
each agent of one half donates to a partner in the other half: the donor gives
up ``fraction`` of its resources and the recipient receives ``multiplier``
times that amount. With costly punishment enabled a donor may instead spend
``x`` units to take ``punishment_loss * x`` from the recipient (floored at 0).

Donors see the recipient's *trace*: the recipient's own latest action, and the
chain of actions of that action's recipient before it, up to ``trace_depth``
entries, newest first (the ``traces`` mechanism of the paper's released notebook;
the indirect-reciprocity setting of Nowak & Sigmund 1998, Nature 393:573).

Everything here works on the whole population at once: one call to
:func:`resolve_round` applies all transfers of a round with array operations.
The games of a generation are independent, so :func:`new_state` and
:func:`plan_round` can also lay several games side by side and play their rounds
together (:func:`play_games`). The module knows nothing of PettingZoo, Gymnasium or LLMs.

Example:
    >>> cfg = DonorGameConfig()
    >>> state = new_state(cfg)
    >>> donors, recipients = round_pairs(cfg, game=0, round_index=0)
    >>> _ = resolve_round(cfg, state, donors, recipients, np.ones(len(donors)), round_index=0)
    >>> float(state.resources.sum())
    180.0
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from agentsim.core.config import check_choice, check_number
from agentsim.core.errors import ConfigError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


PAIRINGS = ("paper", "released_code")
SELECTION_SCORES = ("paper", "released_code")
PUNISHMENTS = ("off", "costly")
#: Bound on a game's total resources, far enough below float64's 1.8e308 that sums over
#: games and generations, doubled scores and rewards (differences) stay finite too.
MAX_TOTAL_RESOURCES = 1e300


@dataclass(frozen=True)
class DonorGameConfig:
    """Rules of one donor-game generation; defaults follow Vallinder & Hughes 2024.

    Numeric values may be Python or numpy scalars (``np.int64(12)``); they are
    stored as Python numbers. Values whose results could not stay finite are
    refused: ``agents * endowment * max(multiplier, 1) ** rounds`` (times
    ``max(punishment_loss, 1)`` with costly punishment) must be at most 1e300.

    Attributes:
        agents: population size (even, >= 2).
        rounds: rounds per game (the paper: 12; agents are not told).
        games: games per generation; odd-numbered games reverse every pair (paper: 2).
        endowment: resources each agent starts every game with.
        multiplier: what the recipient gets per unit donated.
        trace_depth: how many chain entries a donor sees (paper: 3; ablations 1, 2).
        punishment: ``"off"`` or ``"costly"`` (donor pays x, recipient loses loss*x).
        punishment_loss: the loss factor of costly punishment.
        pairing: ``"paper"`` strict role alternation where no ordered donor->recipient
            pair repeats within a game (as long as rounds <= agents; a dyad meets at most
            twice, with roles swapped and, from 6 agents up, never in consecutive rounds), or
            ``"released_code"``, the notebook's bipartite round robin extended with
            reversed pairs (group B donates in both rounds 6 and 7).
        selection_score: ``"paper"`` (mean of the games' final resources) or
            ``"released_code"`` (2 x the last game's final resources, the notebook's bug).
    """

    agents: int = 12
    rounds: int = 12
    games: int = 2
    endowment: float = 10.0
    multiplier: float = 2.0
    trace_depth: int = 3
    punishment: str = "off"
    punishment_loss: float = 2.0
    pairing: str = "paper"
    selection_score: str = "paper"

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.generic):  # np.bool_ becomes bool and is refused below
                object.__setattr__(self, f.name, value.item())
        check_number("agents", self.agents, low=2, high=1_000_000, integer=True)
        if self.agents % 2:
            raise ConfigError("agents", self.agents, "an even integer >= 2")
        check_number("rounds", self.rounds, low=1, high=10_000, integer=True)
        check_number("games", self.games, low=1, high=1000, integer=True)
        check_number("endowment", self.endowment, low=0)
        check_number("multiplier", self.multiplier, low=0)
        check_number("trace_depth", self.trace_depth, low=0, high=64, integer=True)
        check_choice("punishment", self.punishment, PUNISHMENTS)
        check_number("punishment_loss", self.punishment_loss, low=0)
        check_choice("pairing", self.pairing, PAIRINGS)
        check_choice("selection_score", self.selection_score, SELECTION_SCORES)
        _check_results_stay_finite(self)


def _log10_total(
    agents: int, endowment: float, multiplier: float, rounds: int, loss: float
) -> float:
    """log10 of the bound on a game's total resources (and on any punishment's loss term)."""
    if endowment == 0:
        return -math.inf
    growth = rounds * math.log10(max(multiplier, 1.0))
    return math.log10(agents) + math.log10(endowment) + growth + math.log10(max(loss, 1.0))


def _check_results_stay_finite(cfg: DonorGameConfig) -> None:
    """Refuse values that could overflow float64 in some game.

    Every round multiplies a game's total resources by at most max(multiplier, 1), and a
    punishment's loss term is at most punishment_loss times the total. The error blames
    the multiplier if a multiplier of 1 would do, else the punishment loss if a loss of 1
    would do, else the endowment, with the largest value the other settings allow.
    """
    loss = cfg.punishment_loss if cfg.punishment == "costly" else 1.0
    limit = math.log10(MAX_TOTAL_RESOURCES)

    def log_total(endowment: float, multiplier: float, loss: float) -> float:
        return _log10_total(cfg.agents, endowment, multiplier, cfg.rounds, loss)

    if log_total(cfg.endowment, cfg.multiplier, loss) <= limit:
        return
    if cfg.multiplier > 1 and log_total(cfg.endowment, 1.0, loss) <= limit:
        key, exponent = "multiplier", (limit - log_total(cfg.endowment, 1.0, loss)) / cfg.rounds
    elif loss > 1 and log_total(cfg.endowment, cfg.multiplier, 1.0) <= limit:
        key, exponent = "punishment_loss", limit - log_total(cfg.endowment, cfg.multiplier, 1.0)
    else:
        key, exponent = "endowment", limit - log_total(1.0, cfg.multiplier, loss)
    rule = (
        "results must stay finite: agents * endowment * max(multiplier, 1) ** rounds"
        + (" * max(punishment_loss, 1)" if cfg.punishment == "costly" else "")
        + f" <= {MAX_TOTAL_RESOURCES:g}"
    )
    others = ("agents", "endowment", "multiplier", "rounds", "punishment", "punishment_loss")
    context = ", ".join(f"{k}={getattr(cfg, k)!r}" for k in others if k != key)
    allowed = f"a number in [0, {_round_down(10.0**exponent)}] with {context} ({rule})"
    raise ConfigError(key, getattr(cfg, key), allowed)


def _round_down(x: float) -> str:
    """``x`` to 4 significant digits, rounded down so the printed bound is itself allowed."""
    if x < 1e-300:  # only 0 would do
        return "0"
    exponent = math.floor(math.log10(x)) - 3
    return f"{math.floor(x / 10.0**exponent) * 10.0**exponent:.4g}"


@dataclass
class DonorState:
    """Mutable state of one game (or of several games side by side) for the whole population.

    Row ``g * agents + i`` is agent ``i`` of game ``g`` (one game: row = agent). Every
    action is logged once (row 0 of the log is the empty entry ``(-1, -1, -1, 0)``);
    each agent points at its latest action and each action at what its recipient had
    last done, so a trace is ``trace_depth`` pointer hops and a round writes one block
    of the log instead of copying every donor's whole chain. Negative fractions are
    punishments.
    """

    depth: int
    resources: FloatArray
    chain_len: IntArray  # valid trace entries per row (0 .. depth)
    last_fraction: FloatArray  # latest signed fraction per row; NaN before its first action
    latest: IntArray  # log row of each row's latest action; 0 = none yet
    log_prev: IntArray  # per logged action: the recipient's latest action at the time
    log_label: FloatArray  # per logged action: (round, donor, recipient)
    log_fraction: FloatArray  # per logged action: the signed fraction
    log_size: int = 1

    def copy(self) -> DonorState:
        arrays = {
            f.name: getattr(self, f.name).copy()
            for f in dataclasses.fields(self)
            if isinstance(getattr(self, f.name), np.ndarray)
        }
        return DonorState(depth=self.depth, log_size=self.log_size, **arrays)

    def trace_rows(self, rows: IntArray) -> IntArray:
        """``(depth, len(rows))`` log rows of each row's trace, newest first (0 = empty).

        Depth-major, so that each pointer hop and each gather through it is contiguous.
        (Fancy indexing: for the few rows of one env step it costs a tenth of ``np.take``.)
        """
        hops = np.empty((self.depth, len(rows)), dtype=np.int64)
        if self.depth:
            hop = hops[0] = self.latest[rows]
            for k in range(1, self.depth):
                hop = hops[k] = self.log_prev[hop]
        return hops

    def traces(self, rows: IntArray) -> FloatArray:
        """``(len(rows), depth, 4)`` trace entries: round, donor, recipient, signed fraction."""
        logged = self.trace_rows(rows).T
        out = np.empty((*logged.shape, 4))
        out[..., :3] = self.log_label[logged]
        out[..., 3] = self.log_fraction[logged]
        return out

    @property
    def chain(self) -> FloatArray:
        """Every row's trace entries, ``(rows, depth, 4)`` (a fresh array)."""
        return self.traces(np.arange(len(self.resources)))

    @property
    def chain_round(self) -> FloatArray:
        return self.chain[..., 0]

    @property
    def chain_donor(self) -> FloatArray:
        return self.chain[..., 1]

    @property
    def chain_recipient(self) -> FloatArray:
        return self.chain[..., 2]

    @property
    def chain_fraction(self) -> FloatArray:
        return self.chain[..., 3]


def new_state(cfg: DonorGameConfig, games: int = 1) -> DonorState:
    """State at the start of ``games`` side-by-side games: endowments, no traces."""
    rows, d = games * cfg.agents, cfg.trace_depth
    # Enough log for every round of a default game; longer games compact the log.
    capacity = 1 + (rows // 2) * min(cfg.rounds, 4 * d + 4) if d else 1
    label = np.empty((capacity, 3))
    label[0] = -1.0
    fraction = np.empty(capacity)
    fraction[0] = 0.0
    return DonorState(
        depth=d,
        resources=np.full(rows, float(cfg.endowment)),
        chain_len=np.zeros(rows, dtype=np.int64),
        last_fraction=np.full(rows, np.nan),
        latest=np.zeros(rows, dtype=np.int64),
        log_prev=np.zeros(capacity, dtype=np.int64),
        log_label=label,
        log_fraction=fraction,
    )


def _b_shift(h: int) -> int:
    return max(h // 2, 2) if h >= 3 else h // 2


def _base_pairs(cfg: DonorGameConfig, round_index: int) -> tuple[IntArray, IntArray]:
    """Donor and recipient *group positions* of a round in game 0 (A = 0..h-1, B = h..n-1)."""
    h = cfg.agents // 2
    a = np.arange(h, dtype=np.int64)
    if cfg.pairing == "paper":
        k, b_donates = divmod(round_index, 2)
        # A-rounds use offsets 0,1,2..; B-rounds are shifted by s, so a dyad meets again in
        # the next round only if s = 0 (A-round k, B-round k) or s = 1 (B-round k, A-round
        # k+1) modulo h: any s in [2, h-1] avoids both (possible from h = 3, i.e. 6 agents).
        offset = (k + (_b_shift(h) if b_donates else 0)) % h
        partner = h + (a + offset) % h
        return (partner, a) if b_donates else (a, partner)
    # released_code: bipartiteRoundRobin (h rotations, alternating sides) + extendRounds.
    cycle_index = round_index % (2 * h)
    base, second_half = cycle_index % h, cycle_index >= h
    rotated_b = h + (a - base) % h  # rotated_B = B[-i:] + B[:-i]
    b_donates = (base % 2 == 1) != second_half
    return (rotated_b, a) if b_donates else (a, rotated_b)


def round_pairs(cfg: DonorGameConfig, game: int, round_index: int) -> tuple[IntArray, IntArray]:
    """Donor and recipient group positions of a round; odd games reverse every pair.

    Positions index the generation's seating order (the env shuffles seats into
    positions at reset, as the notebook shuffles agents into groups A and B).
    """
    donors, recipients = _base_pairs(cfg, round_index)
    return (recipients, donors) if game % 2 else (donors, recipients)


@dataclass(frozen=True)
class RoundPlan:
    """One round's pairs as state rows, and the labels their actions carry in traces."""

    round_index: int
    donors: IntArray
    recipients: IntArray
    labels: FloatArray  # (pairs, 3): round, donor, recipient as traces show them

    def take(self, order: IntArray) -> RoundPlan:
        """The same round with its pairs in ``order`` (e.g. donors grouped by strategy)."""
        return RoundPlan(
            self.round_index, self.donors[order], self.recipients[order], self.labels[order]
        )


def _labels(round_index: int, donors: IntArray, recipients: IntArray) -> FloatArray:
    labels = np.empty((len(donors), 3))
    labels[:, 0] = round_index
    labels[:, 1] = donors
    labels[:, 2] = recipients
    return labels


def plan_round(cfg: DonorGameConfig, round_index: int, games: int = 1) -> RoundPlan:
    """Round ``round_index`` of games ``0 .. games-1`` side by side (see :func:`new_state`)."""
    pairs = [round_pairs(cfg, g, round_index) for g in range(games)]
    offsets = [g * cfg.agents for g in range(games)]
    donors = np.concatenate([d for d, _ in pairs])
    recipients = np.concatenate([r for _, r in pairs])
    return RoundPlan(
        round_index,
        np.concatenate([d + o for (d, _), o in zip(pairs, offsets, strict=True)]),
        np.concatenate([r + o for (_, r), o in zip(pairs, offsets, strict=True)]),
        _labels(round_index, donors, recipients),
    )


@dataclass(frozen=True)
class RoundResult:
    """What happened in one round, aligned with the donors array."""

    donors: IntArray
    recipients: IntArray
    punish: npt.NDArray[np.bool_]
    fraction: FloatArray  # of the donor's resources, in [0, 1]
    amount: FloatArray  # units the donor gave up
    donor_before: FloatArray
    recipient_before: FloatArray
    shown_fraction: FloatArray  # recipient's latest shown donation fraction; NaN if none


def resolve_round(
    cfg: DonorGameConfig,
    state: DonorState,
    donors: IntArray,
    recipients: IntArray,
    actions: FloatArray,
    *,
    round_index: int,
) -> RoundResult:
    """Apply one round's donations (or punishments) for every pair at once.

    ``actions`` are signed fractions of each donor's current resources: positive
    donates, negative punishes (only with ``punishment="costly"``; otherwise
    negative values count as 0). Values are clipped to [-1, 1]. Pairs must be
    disjoint, which every schedule guarantees.
    """
    plan = RoundPlan(round_index, donors, recipients, _labels(round_index, donors, recipients))
    return apply_round(cfg, state, plan, actions)


def apply_round(
    cfg: DonorGameConfig, state: DonorState, plan: RoundPlan, actions: FloatArray
) -> RoundResult:
    """:func:`resolve_round` for a precomputed plan (the same rules, fewer array calls).

    Called once per env step, so it counts array calls: the clip ufunc is called directly
    (``np.clip`` reaches the same ufunc after ~2 us of argument handling) and gathers use
    fancy indexing, several times cheaper than ``np.take`` on a few rows.
    """
    donors, recipients, resources = plan.donors, plan.recipients, state.resources
    costly = cfg.punishment == "costly"
    signed = np.asarray(actions, dtype=np.float64).clip(-1.0 if costly else 0.0, 1.0)
    punish = signed < 0.0
    fraction = np.abs(signed)
    donor_before = resources[donors]
    recipient_before = resources[recipients]
    amount = fraction * donor_before
    resources[donors] = donor_before - amount
    if costly and punish.any():
        gain = np.where(punish, 0.0, cfg.multiplier * amount)
        loss = np.where(punish, np.minimum(recipient_before, cfg.punishment_loss * amount), 0.0)
        resources[recipients] = recipient_before + gain - loss
    else:
        resources[recipients] = recipient_before + cfg.multiplier * amount
    # A recipient's latest action is entry 0 of its trace: nothing to show without a trace.
    if state.depth:
        shown = state.last_fraction[recipients]
        state.last_fraction[donors] = signed
        _log_actions(state, plan, signed)
    else:
        shown = np.full(len(donors), np.nan)
        state.last_fraction[donors] = signed
    return RoundResult(
        donors, recipients, punish, fraction, amount, donor_before, recipient_before, shown
    )


def _log_actions(state: DonorState, plan: RoundPlan, signed: FloatArray) -> None:
    """Each donor's trace becomes its new action followed by the recipient's trace."""
    m = len(plan.donors)
    if state.log_size + m > len(state.log_prev):
        _compact_log(state, m)
    start = state.log_size
    stop = state.log_size = start + m
    state.log_fraction[start:stop] = signed
    state.log_label[start:stop] = plan.labels
    state.log_prev[start:stop] = state.latest[plan.recipients]
    state.chain_len[plan.donors] = _next_length(state.depth)[state.chain_len[plan.recipients]]
    state.latest[plan.donors] = np.arange(start, stop)


@functools.cache
def _next_length(depth: int) -> IntArray:
    """Trace length after one more action, by the length before: ``min(length + 1, depth)``.

    (A lookup table: one gather instead of two ufunc calls with scalar arguments.)
    """
    return np.minimum(np.arange(depth + 1, dtype=np.int64) + 1, depth)


def _compact_log(state: DonorState, room: int) -> None:
    """Keep only logged actions some trace still shows, with ``room`` free rows after them.

    An action at trace position k moves to k+1 or further in later traces, so what no
    current trace shows can never be shown again; a pointer leaving the kept set is the
    end of every trace through it and becomes the empty entry.
    """
    kept = np.union1d([0], state.trace_rows(np.arange(len(state.resources))))
    size = len(kept)
    capacity = max(len(state.log_prev), 2 * (size + room))
    prev = state.log_prev[kept]
    where = np.minimum(np.searchsorted(kept, prev), size - 1)
    state.log_prev = np.zeros(capacity, dtype=np.int64)
    state.log_prev[:size] = np.where(kept[where] == prev, where, 0)
    state.log_label = _resized(state.log_label[kept], capacity)
    state.log_fraction = _resized(state.log_fraction[kept], capacity)
    state.latest = np.searchsorted(kept, state.latest).astype(np.int64)
    state.log_size = size


def _resized(kept: FloatArray, capacity: int) -> FloatArray:
    out = np.empty((capacity, *kept.shape[1:]))
    out[: len(kept)] = kept
    return out


def recipient_traces(state: DonorState, plan: RoundPlan) -> tuple[IntArray, FloatArray]:
    """What a round's donors see: recipients' trace lengths and ``(pairs, depth)`` fractions.

    The fractions are a transposed (column-major) view: gathering them depth-major and
    not copying them back to row-major is several times faster at large populations.
    """
    fractions = state.log_fraction[state.trace_rows(plan.recipients)]
    return state.chain_len[plan.recipients], fractions.T


#: A batch policy: (plan, recipients' trace lengths, trace fractions) -> signed actions.
BatchPolicy = Callable[[RoundPlan, IntArray, FloatArray], FloatArray]


def play_games(
    cfg: DonorGameConfig, policy: BatchPolicy, plans: list[RoundPlan] | None = None
) -> DonorState:
    """Play all ``cfg.games`` games of a generation side by side; returns the final state.

    The games are independent (each starts from the endowment), so round r of every
    game is one array step. ``plans`` (default :func:`plan_round` for every round) may
    reorder pairs within a round. Final resources are ``state.resources.reshape(games, agents)``.
    """
    plans = plans or [plan_round(cfg, r, cfg.games) for r in range(cfg.rounds)]
    state = new_state(cfg, cfg.games)
    for plan in plans:
        lengths, fractions = recipient_traces(state, plan)
        apply_round(cfg, state, plan, policy(plan, lengths, fractions))
    return state


def reset_rows(cfg: DonorGameConfig, state: DonorState, rows: IntArray) -> None:
    """Start a new game on ``rows`` of a side-by-side state (endowments, no traces).

    For games that do not run in step (a batch of independent episodes): the other rows
    keep their resources and traces; the log keeps what their traces still show.
    """
    state.resources[rows] = float(cfg.endowment)
    state.chain_len[rows] = 0
    state.last_fraction[rows] = np.nan
    state.latest[rows] = 0


def schedule(cfg: DonorGameConfig) -> tuple[IntArray, IntArray]:
    """Donor and recipient positions of every round of a generation, ``(games * rounds,
    agents // 2)`` each, row ``game * rounds + round`` (see :func:`round_pairs`)."""
    pairs = [round_pairs(cfg, g, r) for g in range(cfg.games) for r in range(cfg.rounds)]
    return np.stack([d for d, _ in pairs]), np.stack([r for _, r in pairs])


def generation_scores(cfg: DonorGameConfig, final_resources: FloatArray) -> FloatArray:
    """Selection score per agent from the (games, agents) array of final resources."""
    if cfg.selection_score == "paper":
        return np.asarray(final_resources.mean(axis=0), dtype=np.float64)
    # The notebook sums the *current* resources twice after game 2's reset of game 1.
    return np.asarray(2.0 * final_resources[-1], dtype=np.float64)


def max_mean_final_resources(cfg: DonorGameConfig) -> float:
    """Mean final resources when every donor gives everything, every round (game 0)."""
    plans = [plan_round(cfg, r) for r in range(cfg.rounds)]
    state = new_state(cfg)
    for plan in plans:
        apply_round(cfg, state, plan, np.ones(len(plan.donors)))
    return float(state.resources.mean())
