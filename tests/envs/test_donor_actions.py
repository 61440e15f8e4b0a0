"""What donor_game_v0's step accepts: clear errors for malformed actions, numpy scalars welcome."""

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import agentsim


def _env(**config):
    env = agentsim.make_env("donor_game_v0", agents=4, rounds=2, games=1, **config)
    _obs, infos = env.reset(seed=0)
    donors = [a for a in env.agents if infos[a]["acting"]]
    recipients = [a for a in env.agents if not infos[a]["acting"]]
    return env, donors, recipients


def _valid(env):
    return {a: np.array([0.5], dtype=np.float32) for a in env.agents}


BAD_ACTIONS = [
    "0.5",
    np.array(["0.5"]),
    True,
    np.bool_(False),
    np.array([True]),
    1 + 2j,
    np.complex64(0.5),
    np.array([0.5 + 0j]),
    None,
    np.array([]),
    [],
    {},
    {"fraction": 0.5},
    np.zeros((1, 1)),
    np.zeros(2),
    [0.1, 0.2],
    [[0.5]],
    [None],
    object(),
    float("nan"),
    np.array([np.inf], dtype=np.float32),
    -np.inf,
]


@pytest.mark.parametrize("role", ["donor", "recipient"])
@pytest.mark.parametrize("action", BAD_ACTIONS, ids=[repr(a)[:30] for a in BAD_ACTIONS])
def test_malformed_actions_name_the_agent_the_action_and_the_space(action, role):
    env, donors, recipients = _env()
    agent = (donors if role == "donor" else recipients)[0]
    actions = {**_valid(env), agent: action}
    with pytest.raises(ValueError) as err:
        env.step(actions)
    message = str(err.value)
    assert f"agent {agent!r}" in message
    assert "Box(0.0, 1.0, (1,), float32)" in message
    assert repr(action)[:20] in message
    # Nothing happened: the round can still be played.
    env.step(_valid(env))


@settings(max_examples=80, deadline=None)
@given(
    action=st.one_of(
        st.text(max_size=5),
        st.booleans(),
        st.complex_numbers(allow_nan=False).filter(lambda z: z.imag != 0),
        st.none(),
        st.dictionaries(st.text(max_size=3), st.floats(0, 1), max_size=2),
        st.lists(st.floats(0, 1), min_size=2, max_size=4),
        st.lists(st.floats(0, 1), max_size=0),
        st.sampled_from([float("nan"), float("inf"), -float("inf")]),
    )
)
def test_anything_malformed_is_a_value_error_never_a_raw_exception(action):
    env, donors, _ = _env()
    with pytest.raises(ValueError, match=re.escape(repr(donors[0]))):
        env.step({**_valid(env), donors[0]: action})


def _transfers_with(action, **config):
    env, donors, _ = _env(**config)
    env.step({**_valid(env), donors[0]: action})
    (record,) = [r for r in env.pop_records() if r["donor"] == donors[0]]
    return record["fraction"], record["kind"]


@pytest.mark.parametrize(
    ("action", "fraction"),
    [
        (np.float32(0.5), 0.5),
        (np.float64(0.25), 0.25),
        (0.25, 0.25),
        (1, 1.0),
        (np.int64(0), 0.0),
        (np.array(0.25), 0.25),
        (np.array([0.25], dtype=np.float16), 0.25),
        (np.array([1], dtype=np.int64), 1.0),
        ([0.25], 0.25),
        ((0.25,), 0.25),
    ],
)
def test_numpy_scalars_and_plain_numbers_are_accepted(action, fraction):
    assert _transfers_with(action) == (fraction, "donate")


@pytest.mark.parametrize(
    ("action", "config", "expected"),
    [
        (1.7, {}, (1.0, "donate")),
        (np.int64(12), {}, (1.0, "donate")),
        (-0.3, {}, (0.0, "donate")),
        (-4.0, {"punishment": "costly"}, (1.0, "punish")),
        (np.array([2.5], dtype=np.float32), {"punishment": "costly"}, (1.0, "donate")),
    ],
)
def test_finite_out_of_range_values_are_clipped_to_the_space(action, config, expected):
    assert _transfers_with(action, **config) == expected


@settings(max_examples=60, deadline=None)
@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_any_finite_float_is_applied_clipped(value):
    assert _transfers_with(value) == (min(max(value, 0.0), 1.0), "donate")


def test_actions_for_unknown_agents_are_refused():
    env, _, _ = _env()
    with pytest.raises(ValueError, match=r"agent 'agent_99'.*live agents: agent_0"):
        env.step({**_valid(env), "agent_99": np.array([0.5])})


@pytest.mark.parametrize("actions", [None, [np.array([0.5])] * 4, "agent_0", 0.5])
def test_step_needs_a_dict_of_actions(actions):
    env, _, _ = _env()
    with pytest.raises(ValueError, match=r"step\(\) takes a dict"):
        env.step(actions)


def test_a_missing_donor_action_names_the_donor_and_the_space():
    env, donors, _ = _env()
    actions = _valid(env)
    del actions[donors[1]]
    with pytest.raises(ValueError, match=rf"donor {donors[1]!r}.*Box\(0.0, 1.0"):
        env.step(actions)


def test_recipients_may_leave_their_action_out():
    env, donors, _ = _env()
    env.step({a: np.array([0.5]) for a in donors})
    assert len(env.pop_records()) == 2


def test_the_gym_view_names_the_learner_for_a_bad_action():
    env = agentsim.make_gym_env("donor_game_v0", learner="agent_2")
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"agent 'agent_2'.*Box"):
        env.step("half")
