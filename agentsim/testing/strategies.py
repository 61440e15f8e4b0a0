"""Hypothesis strategies for agentsim's games and environments (public, for users' tests too).

Example:
    >>> from hypothesis import given
    >>> @given(donor_configs())
    ... def test_config_is_valid(cfg):
    ...     assert cfg.agents % 2 == 0
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from agentsim.games.donor import PAIRINGS, DonorGameConfig


@st.composite
def donor_configs(draw: Any, *, punishment: bool | None = None) -> DonorGameConfig:
    """Valid, small donor-game configs (every pairing, punishment on or off)."""
    punish = draw(st.booleans()) if punishment is None else punishment
    return DonorGameConfig(
        agents=2 * draw(st.integers(1, 8)),
        rounds=draw(st.integers(1, 16)),
        games=draw(st.integers(1, 3)),
        endowment=draw(st.floats(0.0, 100.0, allow_nan=False)),
        multiplier=draw(st.sampled_from([0.0, 1.0, 1.5, 2.0, 3.0])),
        trace_depth=draw(st.integers(0, 4)),
        punishment="costly" if punish else "off",
        punishment_loss=draw(st.sampled_from([0.0, 1.0, 2.0, 3.5])),
        pairing=draw(st.sampled_from(PAIRINGS)),
    )


def signed_fractions(size: int) -> st.SearchStrategy[list[float]]:
    """Actions for ``size`` donors, including out-of-range values the rules must clip."""
    return st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=size, max_size=size)
