"""Config checks: numpy scalars are numbers, bools and absurd values are not (issue 6 #22, #25)."""

import numpy as np
import pytest

from agentsim.core.config import build_config, check_number, plain_scalar
from agentsim.core.errors import ConfigError
from agentsim.games.donor import DonorGameConfig


@pytest.mark.parametrize("value", [12, np.int64(12), np.int32(12), np.uint8(12)])
def test_integers_of_any_kind_pass(value):
    check_number("agents", value, low=2, high=100, integer=True)


@pytest.mark.parametrize("value", [0.5, np.float64(0.5), np.float32(0.5), np.int64(0)])
def test_numbers_of_any_kind_pass(value):
    check_number("fraction", value, low=0.0, high=1.0)


@pytest.mark.parametrize(
    ("value", "integer"),
    [
        (True, True),
        (np.bool_(True), True),
        (np.bool_(False), False),
        (np.float64(12.0), True),
        ("12", True),
        (complex(1, 0), False),
        (float("nan"), False),
        (np.float64("inf"), False),
        (10**400, False),  # an int beyond float range is not a finite number
    ],
)
def test_non_numbers_and_non_finite_values_fail(value, integer):
    with pytest.raises(ConfigError):
        check_number("key", value, low=0, integer=integer)


def test_huge_integers_fail_the_range_check_with_a_short_message():
    with pytest.raises(ConfigError) as err:
        check_number("agents", 10**5000, low=2, high=1_000_000, integer=True)
    assert len(str(err.value)) < 200 and "bits" in str(err.value)


def test_build_config_stores_plain_python_numbers():
    cfg = build_config(DonorGameConfig, {"agents": np.int64(6), "endowment": np.float32(2.5)})
    assert type(cfg.agents) is int and type(cfg.endowment) is float
    assert plain_scalar(np.float64(0.25)) == 0.25 and plain_scalar("x") == "x"
