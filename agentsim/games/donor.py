"""The iterated donor game (Vallinder & Hughes 2024), as pure numpy rules.

A population of ``n`` agents is split into two halves A and B. In every round
each agent of one half donates to a partner in the other half: the donor gives
up ``fraction`` of its resources and the recipient receives ``multiplier``
times that amount. With costly punishment enabled a donor may instead spend
``x`` units to take ``punishment_loss * x`` from the recipient (floored at 0).

Donors see the recipient's *trace*: the recipient's own latest action, and the
chain of actions of that action's recipient before it, up to ``trace_depth``
entries, newest first (the released notebook's ``traces`` mechanism, §1.1 of
reference/seed-protocols.md).

Everything here works on the whole population at once: one call to
:func:`resolve_round` applies all transfers of a round with array operations.
The module knows nothing of PettingZoo, Gymnasium or LLMs.

Example:
    >>> cfg = DonorGameConfig()
    >>> state = new_state(cfg)
    >>> donors, recipients = round_pairs(cfg, game=0, round_index=0)
    >>> _ = resolve_round(cfg, state, donors, recipients, np.ones(len(donors)), round_index=0)
    >>> float(state.resources.sum())
    180.0
"""

from __future__ import annotations

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


@dataclass(frozen=True)
class DonorGameConfig:
    """Rules of one donor-game generation; defaults follow the paper.

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


@dataclass
class DonorState:
    """Mutable state of one game for the whole population.

    ``chain[i, k]`` is entry k (newest first) of agent i's trace as
    ``(round, donor, recipient, signed fraction)``; unused entries are
    ``(-1, -1, -1, 0)``. One array keeps the per-round update to one gather and
    one scatter. Negative fractions are punishments.
    """

    resources: FloatArray
    chain_len: IntArray
    chain: FloatArray
    last_fraction: FloatArray

    def copy(self) -> DonorState:
        return DonorState(
            self.resources.copy(),
            self.chain_len.copy(),
            self.chain.copy(),
            self.last_fraction.copy(),
        )

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


_EMPTY_ENTRY = (-1.0, -1.0, -1.0, 0.0)


def new_state(cfg: DonorGameConfig) -> DonorState:
    """State at the start of a game: every agent holds the endowment, no traces."""
    n, d = cfg.agents, cfg.trace_depth
    chain = np.empty((n, d, 4))
    chain[...] = _EMPTY_ENTRY
    return DonorState(
        resources=np.full(n, float(cfg.endowment)),
        chain_len=np.zeros(n, dtype=np.int64),
        chain=chain,
        last_fraction=np.full(n, np.nan),
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
    low = -1.0 if cfg.punishment == "costly" else 0.0
    signed = np.clip(np.asarray(actions, dtype=np.float64), low, 1.0)
    punish = signed < 0
    fraction = np.abs(signed)
    donor_before = state.resources[donors]
    recipient_before = state.resources[recipients]
    amount = fraction * donor_before
    state.resources[donors] = donor_before - amount
    if punish.any():
        gain = np.where(punish, 0.0, cfg.multiplier * amount)
        loss = np.where(punish, np.minimum(recipient_before, cfg.punishment_loss * amount), 0.0)
        state.resources[recipients] = recipient_before + gain - loss
    else:
        state.resources[recipients] = recipient_before + cfg.multiplier * amount
    if cfg.trace_depth:
        shown = np.where(state.chain_len[recipients] > 0, state.chain[recipients, 0, 3], np.nan)
    else:
        shown = np.full(len(donors), np.nan)
    _extend_chains(cfg, state, donors, recipients, signed, round_index)
    state.last_fraction[donors] = signed
    return RoundResult(
        donors, recipients, punish, fraction, amount, donor_before, recipient_before, shown
    )


def _extend_chains(
    cfg: DonorGameConfig,
    state: DonorState,
    donors: IntArray,
    recipients: IntArray,
    signed: FloatArray,
    round_index: int,
) -> None:
    """Each donor's chain becomes its new action followed by the recipient's chain."""
    d = cfg.trace_depth
    if d == 0:
        return
    new = np.empty((len(donors), d, 4))
    new[:, 0, 0] = round_index
    new[:, 0, 1] = donors
    new[:, 0, 2] = recipients
    new[:, 0, 3] = signed
    new[:, 1:] = state.chain[recipients, : d - 1]
    state.chain[donors] = new
    state.chain_len[donors] = np.minimum(state.chain_len[recipients] + 1, d)


def generation_scores(cfg: DonorGameConfig, final_resources: FloatArray) -> FloatArray:
    """Selection score per agent from the (games, agents) array of final resources."""
    if cfg.selection_score == "paper":
        return np.asarray(final_resources.mean(axis=0), dtype=np.float64)
    # The notebook sums the *current* resources twice after game 2's reset of game 1.
    return np.asarray(2.0 * final_resources[-1], dtype=np.float64)


def max_mean_final_resources(cfg: DonorGameConfig) -> float:
    """Mean final resources when every donor gives everything, every round (game 0)."""
    state = new_state(cfg)
    for r in range(cfg.rounds):
        donors, recipients = round_pairs(cfg, 0, r)
        resolve_round(cfg, state, donors, recipients, np.ones(len(donors)), round_index=r)
    return float(state.resources.mean())
