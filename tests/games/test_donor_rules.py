"""Properties of the pure donor-game rules."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentsim.core.errors import ConfigError
from agentsim.games import donor
from agentsim.games.donor import DonorGameConfig
from agentsim.testing.strategies import donor_configs, signed_fractions


@pytest.mark.parametrize(
    ("pairing", "expected"), [("paper", 30_720.0), ("released_code", 15_360.0)]
)
def test_all_donate_everything_gives_the_known_maximum(pairing, expected):
    assert donor.max_mean_final_resources(DonorGameConfig(pairing=pairing)) == expected


@settings(max_examples=200, deadline=None)
@given(cfg=donor_configs(), data=st.data())
@example(cfg=DonorGameConfig(punishment="costly", agents=2, rounds=1), data=None).via("regression")
def test_resources_change_exactly_by_the_rules(cfg, data):
    state = donor.new_state(cfg)
    for r in range(cfg.rounds):
        donors, recipients = donor.round_pairs(cfg, 0, r)
        actions = (
            np.full(len(donors), -1.0)
            if data is None
            else np.array(data.draw(signed_fractions(len(donors))))
        )
        total_before = state.resources.sum()
        res = donor.resolve_round(cfg, state, donors, recipients, actions, round_index=r)
        donated = res.amount[~res.punish].sum()
        spent = res.amount[res.punish].sum()
        lost = np.minimum(res.recipient_before, cfg.punishment_loss * res.amount)[res.punish].sum()
        expected = total_before + (cfg.multiplier - 1) * donated - spent - lost
        assert state.resources.sum() == pytest.approx(expected, rel=1e-9, abs=1e-9)
        assert (state.resources >= 0).all()
        if cfg.punishment == "off":
            assert not res.punish.any()


@settings(max_examples=100, deadline=None)
@given(cfg=donor_configs())
def test_pairings_are_valid_for_every_schedule(cfg):
    n, h = cfg.agents, cfg.agents // 2
    seen = set()
    previous_donors = None
    for game in range(cfg.games):
        for r in range(cfg.rounds):
            donors, recipients = donor.round_pairs(cfg, game, r)
            everyone = np.concatenate([donors, recipients])
            assert sorted(everyone.tolist()) == list(range(n))  # each agent once per round
            # Donors and recipients are always in opposite groups.
            assert ((donors < h) != (recipients < h)).all()
            if cfg.pairing == "paper":
                if previous_donors is not None and r > 0:
                    assert set(donors.tolist()).isdisjoint(previous_donors)  # strict alternation
                if game == 0 and r < n:
                    pairs = set(zip(donors.tolist(), recipients.tolist(), strict=True))
                    assert not pairs & seen  # no repeated ordered pair within a game
                    seen |= pairs
            previous_donors = set(donors.tolist())


def test_released_code_schedule_breaks_alternation_between_rounds_6_and_7():
    cfg = DonorGameConfig(pairing="released_code")
    h = cfg.agents // 2
    b_donates = [bool((donor.round_pairs(cfg, 0, r)[0] >= h).all()) for r in range(12)]
    assert b_donates == [
        False,
        True,
        False,
        True,
        False,
        True,
        True,
        False,
        True,
        False,
        True,
        False,
    ]


def test_second_game_reverses_every_pair():
    cfg = DonorGameConfig()
    for r in range(cfg.rounds):
        d0, r0 = donor.round_pairs(cfg, 0, r)
        d1, r1 = donor.round_pairs(cfg, 1, r)
        assert (d0 == r1).all() and (r0 == d1).all()


def test_traces_chain_the_recipients_history_newest_first():
    cfg = DonorGameConfig(agents=4, trace_depth=3)
    state = donor.new_state(cfg)
    for r, fraction in enumerate([0.1, 0.2, 0.3, 0.4]):
        d, rc = donor.round_pairs(cfg, 0, r)
        donor.resolve_round(cfg, state, d, rc, np.full(len(d), fraction), round_index=r)
    # Whoever donated in round 3 (index) shows 0.4, then the chain of its recipient.
    last_donors, _ = donor.round_pairs(cfg, 0, 3)
    for a in last_donors:
        assert state.chain_len[a] == 3
        assert state.chain_fraction[a].tolist() == [0.4, 0.3, 0.2]
        assert state.chain_round[a].tolist() == [3, 2, 1]


def test_punishment_loss_is_floored_at_the_recipients_resources():
    cfg = DonorGameConfig(agents=2, punishment="costly", punishment_loss=10.0)
    state = donor.new_state(cfg)
    d, rc = donor.round_pairs(cfg, 0, 0)
    res = donor.resolve_round(cfg, state, d, rc, np.array([-1.0]), round_index=0)
    assert res.punish.all()
    assert state.resources[d[0]] == 0.0 and state.resources[rc[0]] == 0.0


@pytest.mark.parametrize(
    ("score", "expected"), [("paper", [15.0, 5.0]), ("released_code", [40.0, 0.0])]
)
def test_selection_scores(score, expected):
    cfg = DonorGameConfig(agents=2, selection_score=score)
    finals = np.array([[10.0, 10.0], [20.0, 0.0]])
    assert donor.generation_scores(cfg, finals).tolist() == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("agents", 3),
        ("agents", 0),
        ("rounds", 0),
        ("pairing", "zigzag"),
        ("punishment", "yes"),
        ("selection_score", "best"),
        ("trace_depth", -1),
        ("multiplier", "2"),
        ("agents", True),
    ],
)
def test_invalid_config_names_the_key(key, value):
    with pytest.raises(ConfigError, match=key):
        DonorGameConfig(**{key: value})


@settings(max_examples=100, deadline=None)
@given(cfg=donor_configs(), data=st.data())
def test_each_transfer_moves_resources_between_its_own_pair(cfg, data):
    state = donor.new_state(cfg)
    for r in range(cfg.rounds):
        donors, recipients = donor.round_pairs(cfg, 0, r)
        actions = np.array(data.draw(signed_fractions(len(donors))))
        before = state.resources.copy()
        res = donor.resolve_round(cfg, state, donors, recipients, actions, round_index=r)
        signed = np.clip(actions, -1.0 if cfg.punishment == "costly" else 0.0, 1.0)
        for k, (d, c) in enumerate(zip(donors, recipients, strict=True)):
            amount = abs(signed[k]) * before[d]
            assert state.resources[d] == pytest.approx(before[d] - amount)
            if signed[k] < 0:
                expected = max(before[c] - cfg.punishment_loss * amount, 0.0)
            else:
                expected = before[c] + cfg.multiplier * amount
            assert state.resources[c] == pytest.approx(expected)
            assert res.amount[k] == pytest.approx(amount)


@pytest.mark.parametrize("agents", [6, 8, 10, 12, 20])
def test_paper_schedule_never_repeats_a_dyad_in_consecutive_rounds(agents):
    cfg = DonorGameConfig(agents=agents, rounds=agents)
    previous: set[frozenset[int]] = set()
    for r in range(cfg.rounds):
        dyads = {frozenset(p) for p in zip(*donor.round_pairs(cfg, 0, r), strict=True)}
        assert not dyads & previous, r
        previous = dyads
