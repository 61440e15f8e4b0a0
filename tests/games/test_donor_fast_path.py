"""The batched, pointer-logged rules agree bit for bit with a plain re-implementation,
pinned numbers cannot move, and configs whose results could overflow are refused."""

import math
import re

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import agentsim
from agentsim.agents.scripted.donor import (
    Defector,
    FixedFraction,
    ImageScoring,
    Standing,
    TraceAverage,
)
from agentsim.core.errors import ConfigError
from agentsim.games import donor
from agentsim.games.donor import DonorGameConfig
from agentsim.testing.strategies import donor_configs
from tests.games import reference_donor as ref


def _same(a, b):
    return np.asarray(a).tobytes() == np.asarray(b).tobytes()


@st.composite
def long_configs(draw):
    """Small configs, some with games long enough to compact the action log."""
    cfg = draw(donor_configs())
    rounds = draw(st.sampled_from([cfg.rounds, 40, 90]))
    return DonorGameConfig(**{**cfg.__dict__, "rounds": rounds})


@settings(max_examples=60, deadline=None)
@given(cfg=long_configs(), seed=st.integers(0, 2**32 - 1))
@example(cfg=DonorGameConfig(agents=4, rounds=90, trace_depth=2, punishment="costly"), seed=1)
@example(cfg=DonorGameConfig(agents=2, rounds=50, trace_depth=4), seed=2)
def test_rules_match_the_reference_bit_for_bit(cfg, seed):
    rng = np.random.default_rng(seed)
    for game in range(cfg.games):
        state, oracle = donor.new_state(cfg), ref.new_state(cfg)
        for r in range(cfg.rounds):
            d, c = donor.round_pairs(cfg, game, r)
            actions = rng.uniform(-1.3, 1.3, len(d))
            actions[rng.random(len(d)) < 0.2] = 0.0
            got = donor.resolve_round(cfg, state, d, c, actions, round_index=r)
            want = ref.resolve_round(cfg, oracle, d, c, actions, r)
            fields = ("punish", "fraction", "amount", "donor_before", "recipient_before")
            for name, expected in zip((*fields, "shown_fraction"), want, strict=True):
                assert _same(getattr(got, name), expected), (r, name)
            assert _same(state.resources, oracle.resources)
            assert _same(state.chain, oracle.chain)
            assert _same(state.chain_len, oracle.chain_len)
            assert _same(state.last_fraction, oracle.last_fraction)


def test_long_games_keep_the_action_log_bounded():
    cfg = DonorGameConfig(agents=6, rounds=400, trace_depth=3)
    state = donor.new_state(cfg)
    for r in range(cfg.rounds):
        d, c = donor.round_pairs(cfg, 0, r)
        donor.resolve_round(cfg, state, d, c, np.full(3, 0.5), round_index=r)
    # Live entries are at most agents * depth; the log never grows beyond a few times that.
    assert len(state.log_prev) <= 4 * (cfg.agents * cfg.trace_depth + cfg.agents)
    assert state.chain_round[:, 0].max() == cfg.rounds - 1


def _trace_policy(plan, lengths, fractions):
    """Depends on the traces, so any error in the side-by-side state shows up."""
    seen = np.where(lengths > 0, np.abs(fractions[:, :1]).sum(axis=1), 0.7)
    return seen * 0.9 - 0.05 * (plan.labels[:, 1] % 3)


@settings(max_examples=40, deadline=None)
@given(cfg=donor_configs())
def test_side_by_side_games_equal_games_played_one_by_one(cfg):
    batched = donor.play_games(cfg, _trace_policy)
    for game in range(cfg.games):
        state = donor.new_state(cfg)
        for r in range(cfg.rounds):
            d, c = donor.round_pairs(cfg, game, r)
            single = donor.RoundPlan(r, d, c, np.stack([np.full(len(d), float(r)), d, c], 1))
            lengths, fractions = donor.recipient_traces(state, single)
            donor.apply_round(cfg, state, single, _trace_policy(single, lengths, fractions))
        rows = slice(game * cfg.agents, (game + 1) * cfg.agents)
        assert _same(batched.resources[rows], state.resources)
        assert _same(batched.traces(np.arange(cfg.agents) + game * cfg.agents), state.chain)


def test_reordered_plans_give_the_same_generation():
    cfg = DonorGameConfig(agents=20, punishment="costly")
    plans = [donor.plan_round(cfg, r, cfg.games) for r in range(cfg.rounds)]
    shuffled = [
        p.take(np.random.default_rng(r).permutation(len(p.donors))) for r, p in enumerate(plans)
    ]
    assert _same(
        donor.play_games(cfg, _trace_policy, plans).resources,
        donor.play_games(cfg, _trace_policy, shuffled).resources,
    )


# -- pinned numbers (computed with the first release's rules; they must never move) -----


def test_pinned_rules_outcome_for_a_fixed_action_stream():
    cfg = DonorGameConfig(punishment="costly")
    rng = np.random.default_rng(2024)
    amounts, finals = [], []
    for game in range(cfg.games):
        state = donor.new_state(cfg)
        for r in range(cfg.rounds):
            d, c = donor.round_pairs(cfg, game, r)
            actions = rng.uniform(-1.2, 1.2, len(d))
            amounts += donor.resolve_round(cfg, state, d, c, actions, round_index=r).amount.tolist()
        finals.append(state.resources.tolist())
    assert (sum(amounts), amounts[5], amounts[-1]) == (
        280.3082438244977,
        8.586436433278756,
        1.5330058698896767,
    )
    assert finals[1][:4] == [0.260696134459959, 0.0, 0.8501193144838401, 0.0]
    assert state.chain_fraction[0].tolist() == [
        -0.6462968303507647,
        -0.31206109956778116,
        -0.2606308354167004,
    ]


def _scripted_generation(seed, punish, **config):
    env = agentsim.make_env("donor_game_v0", **config)
    kinds = [TraceAverage()] * 4 + [ImageScoring(punish=punish)] * 2
    kinds += [Standing(punish=punish)] * 2 + [FixedFraction()] * 2 + [Defector()] * 2
    result = agentsim.run_episode(
        env, dict(zip(env.possible_agents, kinds, strict=True)), seed=seed
    )
    transfers = [r for r in result.records if r["type"] == "transfer"]
    return env, transfers


def test_pinned_transfers_of_a_scripted_generation():
    env, transfers = _scripted_generation(3, 0.0)
    assert len(transfers) == 144
    assert sum(t["amount"] for t in transfers) == 2917.2150167422456
    assert [(t["donor"], t["recipient"], t["amount"]) for t in transfers[-2:]] == [
        ("agent_0", "agent_4", 135.51733614156694),
        ("agent_1", "agent_6", 197.10838469731746),
    ]
    assert env.final_resources[1][3] == 442.3079073493858


def test_pinned_transfers_of_a_scripted_generation_with_punishment():
    env, transfers = _scripted_generation(7, 0.3, punishment="costly")
    assert sum(t["amount"] for t in transfers) == 1897.841193679245
    assert transfers[-1]["amount"] == 2.7391996892173207
    assert env.final_resources[0][:2].tolist() == [151.6065754264662, 179.36496948014306]


# -- item 22: results stay finite; numpy scalars --------------------------------------------


@pytest.mark.parametrize(
    ("values", "key"),
    [
        ({"multiplier": 1e30}, "multiplier"),
        ({"endowment": 1e308}, "endowment"),
        ({"multiplier": 2.0, "rounds": 2000}, "multiplier"),
        ({"punishment": "costly", "punishment_loss": 1e300}, "punishment_loss"),
        ({"agents": 1_000_000, "endowment": 1e295}, "endowment"),
    ],
)
def test_values_whose_results_could_overflow_are_refused(values, key):
    with pytest.raises(ConfigError, match=rf"invalid {key}=") as err:
        DonorGameConfig(**values)
    assert "max(multiplier, 1) ** rounds" in str(err.value) and "1e+300" in str(err.value)
    assert err.value.key == key


@pytest.mark.parametrize(
    "values",
    [
        {"multiplier": 1e30},
        {"endowment": 1e308},
        {"multiplier": 2.0, "rounds": 2000},
        {"punishment": "costly", "punishment_loss": 1e300},
    ],
)
def test_the_printed_bound_is_allowed(values):
    with pytest.raises(ConfigError) as err:
        DonorGameConfig(**values)
    high = float(re.search(r"in \[0, ([^\]]+)\]", str(err.value)).group(1))
    DonorGameConfig(**{**values, err.value.key: high})  # accepted
    with pytest.raises(ConfigError):
        DonorGameConfig(**{**values, err.value.key: high * 1.01})


def test_make_env_refuses_an_overflowing_multiplier():
    with pytest.raises(ValueError, match="multiplier"):
        agentsim.make_env("donor_game_v0", multiplier=1e30)


@settings(max_examples=60, deadline=None)
@given(
    log_endowment=st.floats(-3, 300),
    multiplier=st.floats(0, 1e6),
    rounds=st.integers(1, 300),
    agents=st.sampled_from([2, 4, 12]),
    loss=st.floats(0, 1e6),
)
def test_every_accepted_config_stays_finite_at_full_cooperation_and_punishment(
    log_endowment, multiplier, rounds, agents, loss
):
    try:
        cfg = DonorGameConfig(
            agents=agents,
            rounds=rounds,
            endowment=10.0**log_endowment,
            multiplier=multiplier,
            punishment="costly",
            punishment_loss=loss,
            trace_depth=1,
        )
    except ConfigError:
        return
    with np.errstate(over="raise", invalid="raise"):
        for actions in (1.0, -1.0):
            state = donor.new_state(cfg)
            for r in range(cfg.rounds):
                d, c = donor.round_pairs(cfg, 0, r)
                donor.resolve_round(cfg, state, d, c, np.full(len(d), actions), round_index=r)
            finals = np.array([state.resources, state.resources])
            assert np.isfinite(donor.generation_scores(cfg, finals)).all()
            assert math.isfinite(finals.mean()) and math.isfinite(finals.sum())


def test_numpy_scalars_are_accepted_and_stored_as_python_numbers():
    cfg = DonorGameConfig(
        agents=np.int64(4), rounds=np.int32(3), multiplier=np.float32(1.5), pairing=np.str_("paper")
    )
    assert (cfg.agents, cfg.rounds, cfg.multiplier) == (4, 3, 1.5)
    assert type(cfg.agents) is int and type(cfg.multiplier) is float and type(cfg.pairing) is str
    env = agentsim.make_env("donor_game_v0", agents=np.int64(4), endowment=np.float64(5))
    assert env.possible_agents == ["agent_0", "agent_1", "agent_2", "agent_3"]


@pytest.mark.parametrize(
    "value", [np.bool_(True), np.float64(np.nan), np.int64(3), np.complex128(2)]
)
def test_bad_numpy_scalars_are_refused(value):
    key = "rounds" if isinstance(value, np.bool_) else "agents"
    with pytest.raises(ConfigError, match=key):
        DonorGameConfig(**{key: value})
