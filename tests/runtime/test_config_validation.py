"""Experiment configs that used to pass validation, then misbehave (issue 6 #4, #22, #25, #27)."""

import asyncio
import json

import numpy as np
import pytest

from agentsim.core.errors import ConfigError
from agentsim.runtime.experiment import estimate_run_size, make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir

# -- #4: parameters that cannot act in the configuration ------------------------------------


@pytest.mark.parametrize(
    "member", ["image_scoring[punish=0.3]", "standing[threshold=0.2;punish=0.01]"]
)
def test_punishing_members_without_punishment_are_refused_naming_member_param_and_fix(member):
    with pytest.raises(ConfigError) as err:
        make_config("donor-game", 0, [f"population={member}:6,defector:6"])
    message = str(err.value)
    assert member.split("[")[0] in message and "punish" in message
    assert "--set punishment=costly" in message


def test_punishing_members_are_fine_where_punishment_is_on():
    make_config("donor-game-punishment", 0)
    make_config("donor-game", 0, ["population=image_scoring[punish=0.3]:12", "punishment=costly"])
    make_config("donor-game", 0, ["population=image_scoring[punish=0]:12"])


def _run_records(tmp_path, overrides):
    config = make_config("donor-game", 0, overrides)
    run = RunDir.create(tmp_path, "run", config.to_json())
    asyncio.run(run_experiment(run, config))
    lines = (run.path / "events.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_no_punishment_decisions_are_recorded_where_punishment_is_off(tmp_path):
    # Mutation used to give image scorers' children punish > 0, whose decisions were then
    # recorded as punishments (negative actions) beside transfers of 0.
    records = _run_records(
        tmp_path,
        ["generations=8", "mutation=0.3", "population=image_scoring:6,standing:6"],
    )
    children = [r for r in records if r["type"] == "reproduction"]
    assert children and all(r["params"]["punish"] == 0 for r in children)
    actions = [r["action"][0] for r in records if r["type"] == "decision"]
    assert actions and min(actions) >= 0


# -- #22 and #25: absurd values and numpy scalars ----------------------------------------------


@pytest.mark.parametrize(
    "population",
    [
        "defector:99999999999999999999999,cooperator:1",  # beyond int64
        "defector:" + "9" * 30,
        "defector:600000,cooperator:600000",  # each fine, together too many
        "defector:-2,cooperator:14",
    ],
)
def test_absurd_population_counts_are_a_config_error(population):
    with pytest.raises(ConfigError, match="population"):
        make_config("donor-game", 0, [f"population={population}"])


@pytest.mark.parametrize(
    "override", ["multiplier=1e30", "endowment=1e308", "endowment=1e400", "rounds=10000"]
)
def test_values_whose_results_cannot_stay_finite_are_refused_up_front(override):
    with pytest.raises(ConfigError):
        make_config("donor-game", 0, [override])


def test_numpy_scalars_are_accepted_and_stored_as_plain_json():
    config = make_config(
        "donor-game",
        np.int64(3),
        run={"generations": np.int64(2), "mutation": np.float64(0.1)},
        env={"agents": np.int64(12), "multiplier": np.float32(1.5)},
    )
    data = json.loads(json.dumps(config.to_json()))
    assert data["seed"] == 3 and data["run"]["episodes"] == 2
    assert data["env"]["agents"] == 12 and data["env"]["multiplier"] == 1.5
    with pytest.raises(ConfigError):
        make_config("donor-game", 0, run={"generations": np.bool_(True)})


# -- #27: the run's size, up front ----------------------------------------------------------


def test_a_million_agents_with_full_records_is_refused_with_the_fix():
    with pytest.raises(ConfigError) as err:
        make_config("donor-game", 0, ["agents=1000000"])
    message = str(err.value)
    assert "record=summary" in message and "max_events_gb" in message and "GB" in message


def test_a_million_agents_run_with_summary_records_or_the_override():
    summary = make_config("donor-game", 0, ["agents=1000000", "record=summary"])
    assert summary.settings.record == "summary"
    full = make_config("donor-game", 0, ["agents=1000000", "max_events_gb=100"])
    size = estimate_run_size(full)
    assert size.events_bytes > 10e9 and size.memory_bytes > 1e9
    with pytest.raises(ConfigError, match="max_events_gb"):
        make_config("donor-game", 0, ["agents=1000000", "record=summary", "generations=1000"])


@pytest.mark.parametrize("record", ["full", "summary"])
def test_the_size_estimate_is_within_a_factor_of_two_of_a_real_run(tmp_path, record):
    overrides = ["agents=200", "rounds=4", "generations=3", f"record={record}"]
    config = make_config("donor-game", 0, overrides)
    run = RunDir.create(tmp_path, "run", config.to_json())
    asyncio.run(run_experiment(run, config))
    actual = (run.path / "events.jsonl").stat().st_size
    estimate = estimate_run_size(config).events_bytes
    assert actual / 2 < estimate < actual * 2
