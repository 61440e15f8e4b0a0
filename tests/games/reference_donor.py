"""An independent, deliberately plain re-implementation of the donor-game rules (test oracle).

It keeps every agent's whole trace as a ``(depth, 4)`` array and copies it on each
donation, as the first release of ``agentsim.games.donor`` did; the library's
pointer-based log must agree with it bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from agentsim.games.donor import DonorGameConfig

EMPTY = (-1.0, -1.0, -1.0, 0.0)


@dataclass
class ReferenceState:
    resources: np.ndarray
    chain_len: np.ndarray
    chain: np.ndarray
    last_fraction: np.ndarray


def new_state(cfg: DonorGameConfig) -> ReferenceState:
    chain = np.empty((cfg.agents, cfg.trace_depth, 4))
    chain[...] = EMPTY
    return ReferenceState(
        np.full(cfg.agents, float(cfg.endowment)),
        np.zeros(cfg.agents, dtype=np.int64),
        chain,
        np.full(cfg.agents, np.nan),
    )


def resolve_round(cfg, state, donors, recipients, actions, round_index):
    """Returns (punish, fraction, amount, donor_before, recipient_before, shown)."""
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
    d = cfg.trace_depth
    if d:
        shown = np.where(state.chain_len[recipients] > 0, state.chain[recipients, 0, 3], np.nan)
        new = np.empty((len(donors), d, 4))
        new[:, 0] = np.stack([np.full(len(donors), round_index), donors, recipients, signed], 1)
        new[:, 1:] = state.chain[recipients, : d - 1]
        state.chain[donors] = new
        state.chain_len[donors] = np.minimum(state.chain_len[recipients] + 1, d)
    else:
        shown = np.full(len(donors), np.nan)
    state.last_fraction[donors] = signed
    return punish, fraction, amount, donor_before, recipient_before, shown
