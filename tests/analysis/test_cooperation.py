"""Cooperation statistics on hand-made records, and on a real run."""

import asyncio

import pytest

import agentsim.envs.donor_game  # noqa: F401  (registers the donor record types)
from agentsim.core.records import load_records, make_record
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from analysis import cooperation as coop
from analysis.report import run_statistics, text_report


def _gen_end(g, fractions, res=10.0, punish=0, decisions=12):
    return make_record(
        "generation_end",
        generation=g,
        mean_final_resources=res,
        mean_donation_fraction=fractions,
        punishments=punish,
        donor_decisions=decisions,
    )


def _transfer(g, shown, fraction, kind="donate"):
    return make_record(
        "transfer",
        generation=g,
        game=0,
        round=1,
        donor="a",
        recipient="b",
        kind=kind,
        fraction=fraction,
        amount=1.0,
        donor_before=1.0,
        recipient_before=1.0,
        shown_fraction=shown,
    )


def test_selection_differential_rewards_cooperators():
    records = [
        _gen_end(1, {"1_1": 0.8, "1_2": 0.6, "1_3": 0.2, "1_4": 0.0}),
        make_record(
            "selection",
            generation=1,
            method="top",
            scores={},
            survivors=["1_1", "1_2"],
            removed=["1_3", "1_4"],
        ),
    ]
    # (0.7 - 0.1) / 0.4
    assert coop.selection_differential(records)[1] == pytest.approx(1.5)


def test_punishment_frequency_and_trend():
    records = [
        _gen_end(1, {"a": 0.2}, punish=3, decisions=12),
        _gen_end(2, {"a": 0.4}),
        _gen_end(3, {"a": 0.6}),
    ]
    assert coop.punishment_frequency(records) == {1: 0.25, 2: 0.0, 3: 0.0}
    assert coop.donation_trend(records) == pytest.approx(0.2)


def test_reciprocity_correlation_sees_conditional_donors():
    records = [_transfer(1, s, s) for s in (0.0, 0.2, 0.5, 0.9)]
    records += [_transfer(1, None, 0.3), _transfer(1, 0.7, 0.4, kind="punish")]
    result = coop.reciprocity_correlation(records)
    assert result["overall"]["n"] == 5
    assert 0.4 < result["overall"]["r"] < 1.0
    assert coop.pearson([(0, 1), (1, 1), (2, 1)]) is None  # no variance


def test_across_seeds_mean_and_standard_error():
    out = coop.across_seeds([{1: 10.0, 2: 20.0}, {1: 30.0, 2: 20.0}])
    assert out[1] == {"mean": 20.0, "se": 10.0, "n": 2.0}
    assert out[2]["se"] == 0.0


def test_statistics_of_a_real_run(tmp_path):
    config = make_config("donor-game", 3, ["generations=3"])
    run = RunDir.create(tmp_path, "r", config.to_json())
    summary = asyncio.run(run_experiment(run, config))
    stats = run_statistics(run.file("events.jsonl"))["cooperation"]
    assert list(stats["mean_final_resources"].values()) == [
        g["mean_final_resources"] for g in summary["generations"]
    ]
    assert stats["reciprocity_correlation"]["overall"]["n"] > 0
    assert set(stats["selection_differential"]) == {1, 2}
    transfers = load_records(run.file("events.jsonl"), "transfer")
    first = [t["fraction"] for t in transfers if t["generation"] == 1]
    assert stats["mean_donation_fraction"][1] == pytest.approx(sum(first) / len(first))
    assert "mean final res" in text_report(run.file("events.jsonl"))
