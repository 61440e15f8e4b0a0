"""Donor-game curves, composition and selection: one run's records and tables of many runs."""

import asyncio
import json
import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import agentsim.envs.donor_game  # noqa: F401  (registers the donor record types)
from agentsim.core.records import load_records
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from analysis import cooperation as coop
from analysis.report import run_statistics, text_report
from analysis.stats import Interval


def _t(g, rnd, fraction, kind="donate"):
    return {"type": "transfer", "generation": g, "round": rnd, "kind": kind, "fraction": fraction}


def _obj(values):
    return np.array(values, dtype=object)


# ---- one run --------------------------------------------------------------------------


def test_donation_by_round_pools_games_and_counts_punishment_as_zero():
    records = [_t(1, 0, 0.5), _t(1, 0, 0.8, "punish"), _t(1, 1, 0.6), _t(2, 0, 1.0)]
    records.append({"type": "decision", "generation": 1})
    assert coop.donation_by_round(records) == {1: {0: 0.25, 1: 0.6}, 2: {0: 1.0}}


def test_kind_composition_counts_members_per_kind():
    records = [
        {"type": "generation_start", "generation": 1, "kinds": {"a": "x", "b": "y", "c": "x"}},
        {"type": "generation_start", "generation": 2, "kinds": {"a": "x"}},
    ]
    assert coop.kind_composition(records) == {1: {"x": 2, "y": 1}, 2: {"x": 1}}


def _generation(g, fractions, survivors, removed):
    return [
        {"type": "generation_end", "generation": g, "mean_donation_fraction": fractions},
        {"type": "selection", "generation": g, "survivors": survivors, "removed": removed},
    ]


def test_survivor_differential_hand_computed():
    records = _generation(1, {"a": 0.8, "b": 0.6, "c": 0.4, "d": 0.2}, ["a", "b"], ["c", "d"])
    records += _generation(2, {"a": 0.1, "b": 0.5}, ["a"], ["b"])
    out = coop.survivor_differential(records)
    assert out[1] == pytest.approx(
        {"population": 0.5, "survivors": 0.7, "removed": 0.3, "differential": 0.2}
    )
    assert out[2]["differential"] == pytest.approx(-0.2)  # selection against donors
    # With half surviving S is half the paper's unnormalised (survivors - removed).
    assert coop.selection_differential(records)[1] == pytest.approx(2 * 0.2 / 0.5)


def test_survivor_differential_without_fractions_is_none():
    records = [{"type": "selection", "generation": 1, "survivors": ["a"], "removed": ["b"]}]
    assert coop.survivor_differential(records)[1]["differential"] is None


@pytest.fixture(scope="module")
def donor_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("donor")
    config = make_config("donor-game", 2, ["generations=3", "env.agents=4"])
    run = RunDir.create(root, "r", config.to_json())
    asyncio.run(run_experiment(run, config))
    return run.path


def test_new_sections_in_the_report_of_a_real_run(donor_run):
    stats = run_statistics(donor_run / "events.jsonl")
    rounds = stats["donation_by_round"]["by_generation"]
    assert sorted(rounds) == [1, 2, 3]
    assert sorted(rounds[1]) == list(range(12))
    assert all(0 <= v <= 1 for row in rounds.values() for v in row.values())
    kinds = stats["kind_composition"]["by_generation"]
    assert all(sum(k.values()) == 4 for k in kinds.values())
    selection = stats["selection"]["by_generation"]
    assert sorted(selection) == [1, 2]  # the last generation is not selected
    records = load_records(donor_run / "events.jsonl")
    assert selection == coop.survivor_differential(records)
    text = text_report(donor_run / "events.jsonl")
    assert "donation by round" in text and "strategy kinds per generation" in text
    assert "selection on donation" in text


# ---- many runs: hand tables -------------------------------------------------------------


def _transfers():
    rows = [  # run, condition, generation, round, kind, fraction
        ("r1", "A", 1, 0, "donate", 0.5),
        ("r1", "A", 1, 0, "punish", 0.8),
        ("r1", "A", 1, 1, "donate", 0.6),
        ("r2", "A", 1, 0, "donate", 0.75),
        ("r3", "B", 1, 0, "donate", 1.0),
    ]
    cols = list(zip(*rows, strict=True))
    return {
        "run": _obj(cols[0]),
        "condition": _obj(cols[1]),
        "seed": np.arange(len(rows)),
        "generation": np.array(cols[2]),
        "round": np.array(cols[3]),
        "kind": _obj(cols[4]),
        "fraction": np.array(cols[5], dtype=float),
    }


def test_round_curves_hand_computed():
    out = coop.round_curves(_transfers())
    a = {(c["generation"], c["round"]): c for c in out["A"]}
    # r1's round 0: (0.5 + 0) / 2 = 0.25; r2's: 0.75 -> mean 0.5 over two runs.
    assert (a[1, 0]["mean"], a[1, 0]["n"]) == (0.5, 2)
    assert a[1, 0]["ci95"] == Interval(0.25, 0.75)
    assert (a[1, 1]["mean"], a[1, 1]["n"], a[1, 1]["ci95"]) == (0.6, 1, None)
    assert [(c["generation"], c["round"], c["mean"]) for c in out["B"]] == [(1, 0, 1.0)]


def test_round_curves_without_transfers():
    empty = {k: v[:0] for k, v in _transfers().items()}
    assert coop.round_curves(empty) == {}


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(5)))
def test_round_curves_do_not_depend_on_record_order(order):
    table = _transfers()
    shuffled = {k: v[list(order)] for k, v in table.items()}
    assert coop.round_curves(shuffled) == coop.round_curves(table)


def _gens(rows):
    cols = list(zip(*rows, strict=True))  # run, condition, generation, resources, donation
    return {
        "run": _obj(cols[0]),
        "condition": _obj(cols[1]),
        "seed": np.zeros(len(rows), dtype=int),
        "generation": np.array(cols[2]),
        "mean_final_resources": np.array(cols[3], dtype=float),
        "mean_donation_fraction": np.array(cols[4], dtype=float),
    }


def test_generation_trend_and_slopes_hand_computed():
    gens = _gens(
        [
            ("r1", "A", 1, 10.0, 0.5),
            ("r1", "A", 2, 30.0, 0.6),
            ("r1", "A", 3, 50.0, 0.7),
            ("r2", "A", 1, 20.0, 0.4),
            ("r2", "A", 2, 20.0, 0.4),
        ]
    )
    trend = coop.generation_trend(gens)["A"]
    g1 = trend["by_generation"][0]
    assert g1["generation"] == 1
    assert (g1["mean_final_resources"]["mean"], g1["mean_final_resources"]["n"]) == (15.0, 2)
    assert trend["by_generation"][2]["mean_final_resources"]["ci95"] is None  # one run
    assert trend["resources_slope"]["mean"] == pytest.approx(10.0)  # slopes 20 and 0
    assert trend["resources_slope"]["ci95"] == Interval(0.0, 20.0)
    assert trend["donation_slope"]["mean"] == pytest.approx(0.05)


def test_least_squares_slope():
    assert coop.least_squares_slope([1, 2, 3], [10.0, 20.0, 60.0]) == 25.0
    assert coop.least_squares_slope([1, 1], [1.0, 2.0]) is None


def _paper_like():
    # Vallinder & Hughes 2024: Claude runs failed at 44% and 47% first-generation donation
    # and succeeded at 50%, 53% and 54%.
    rows = []
    for i, (d0, final) in enumerate(
        [(0.44, 5.0), (0.47, 7.0), (0.5, 900.0), (0.53, 1000.0), (0.54, 1100.0)]
    ):
        rows += [(f"r{i}", "", 1, 10.0, d0), (f"r{i}", "", 2, final, d0)]
    return _gens(rows)


def test_initial_cooperation_threshold_hand_computed():
    out = coop.initial_cooperation(_paper_like())[""]
    assert out["n"] == 5
    assert out["threshold"] == pytest.approx(0.485)
    assert out["below"] == {"n": 2, "mean_final_resources": 6.0, "improved": 0.0}
    assert out["above"] == {"n": 3, "mean_final_resources": 1000.0, "improved": 1.0}
    x, y = [0.44, 0.47, 0.5, 0.53, 0.54], [5.0, 7.0, 900.0, 1000.0, 1100.0]
    r = np.corrcoef(x, y)[0, 1]
    assert out["r"] == pytest.approx(r)
    half = 1.959964 / math.sqrt(2)
    assert out["r_ci95"].low == pytest.approx(math.tanh(math.atanh(r) - half), abs=1e-6)
    assert [p["run"] for p in out["runs"]] == ["r0", "r1", "r2", "r3", "r4"]


def test_fisher_ci_oracle_and_edge_cases():
    # atanh(0.5) = 0.549306, half-width 1.959964 / 5 = 0.391993.
    assert [round(v, 4) for v in coop.fisher_ci(0.5, 28)] == [0.156, 0.7358]
    assert coop.fisher_ci(0.5, 3) is None
    assert coop.fisher_ci(1.0, 10) is None
    assert coop.fisher_ci(None, 10) is None


def test_best_split_with_one_distinct_value():
    x = np.array([0.5, 0.5])
    assert coop.best_split(x, np.array([1.0, 2.0]), np.array([True, False]))["threshold"] is None


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1e4)), min_size=2, max_size=15))
@example([(0.0, 0.0), (5e-324, 0.0)])  # the midpoint of 0 and the next float is 0
def test_best_split_beats_every_other_split(points):
    x = np.array([p[0] for p in points])
    y = np.array([p[1] for p in points])
    out = coop.best_split(x, y, y > 0)
    if out["threshold"] is None:
        return
    assert out["below"]["n"] == (x < out["threshold"]).sum()
    assert out["above"]["n"] == (x >= out["threshold"]).sum()

    def sse(t):
        lo, hi = y[x < t], y[x >= t]
        return ((lo - lo.mean()) ** 2).sum() + ((hi - hi.mean()) ** 2).sum()

    best = sse(out["threshold"])
    for t in np.unique(x)[1:]:
        assert best <= sse(t) + 1e-6 * (1 + best)


def _ends_and_selections():
    ends = {
        "run": _obj(["r1", "r2"]),
        "condition": _obj(["A", "A"]),
        "seed": np.array([1, 2]),
        "generation": np.array([1, 1]),
        "mean_donation_fraction": _obj(
            [json.dumps({"a": 0.8, "b": 0.6, "c": 0.4, "d": 0.2}), json.dumps({"a": 0.5, "b": 0.5})]
        ),
    }
    selections = {
        "run": _obj(["r1", "r2"]),
        "condition": _obj(["A", "A"]),
        "seed": np.array([1, 2]),
        "generation": np.array([1, 1]),
        "survivors": _obj(['["a", "b"]', '["a"]']),
        "removed": _obj(['["c", "d"]', '["b"]']),
    }
    return ends, selections


def test_selection_by_generation_hand_computed():
    out = coop.selection_by_generation(*_ends_and_selections())["A"]
    assert len(out) == 1 and out[0]["generation"] == 1
    # r1: S = 0.7 - 0.5 = 0.2, paper (0.7 - 0.3) / 0.5 = 0.8; r2: 0 and 0.
    assert out[0]["differential"]["mean"] == pytest.approx(0.1)
    assert out[0]["normalised"]["mean"] == pytest.approx(0.4)
    assert out[0]["differential"]["n"] == 2


def _starts():
    return {
        "run": _obj(["r1", "r2"]),
        "condition": _obj(["A", "A"]),
        "seed": np.array([1, 2]),
        "generation": np.array([1, 1]),
        "kinds": _obj([json.dumps({"a": "x", "b": "x", "c": "y", "d": "y"}), {"a": "x"}]),
    }


def test_composition_by_generation_counts_a_missing_kind_as_zero():
    out = coop.composition_by_generation(_starts())["A"]
    assert out[0]["generation"] == 1
    assert out[0]["kinds"]["x"]["mean"] == pytest.approx(0.75)
    assert out[0]["kinds"]["y"]["mean"] == pytest.approx(0.25)
    assert out[0]["kinds"]["y"]["n"] == 2


class FakeDonorRuns:
    def series(self, key):
        assert key == "generations"
        return _paper_like()

    def records(self, type, fields=None):
        ends, selections = _ends_and_selections()
        tables = {
            "transfer": _transfers(),
            "generation_end": ends,
            "selection": selections,
            "generation_start": _starts(),
        }
        return tables[type]


def test_donor_across_statistics_and_text():
    stats = coop.donor_across_statistics(FakeDonorRuns())
    assert set(stats) == {
        "trend",
        "donation_by_round",
        "initial_cooperation",
        "selection",
        "composition",
    }
    text = coop.donor_across_text(json.loads(json.dumps(stats)))
    assert "best split at gen-1 donation 0.485" in text
    assert "selection differential" in text and "strategy kinds" in text
    assert "donation by round" in text


# ---- many runs: real runs ----------------------------------------------------------------


def test_donor_across_on_real_runs(tmp_path):
    from analysis.runs import load_runs

    for seed in (1, 2, 3):
        config = make_config("donor-game", seed, ["generations=3", "env.agents=4"])
        run = RunDir.create(tmp_path, f"s{seed}", config.to_json())
        asyncio.run(run_experiment(run, config))
    runs = load_runs(tmp_path)
    stats = coop.donor_across_statistics(runs)
    trend = stats["trend"][""]
    assert [r["generation"] for r in trend["by_generation"]] == [1, 2, 3]
    assert trend["by_generation"][0]["mean_final_resources"]["n"] == 3
    summaries = runs.summaries()
    gen1 = np.mean([s["generations"][0]["mean_final_resources"] for s in summaries])
    assert trend["by_generation"][0]["mean_final_resources"]["mean"] == pytest.approx(gen1)
    assert trend["resources_slope"]["n"] == 3
    curves = stats["donation_by_round"][""]
    assert len(curves) == 3 * 12 and all(c["n"] == 3 for c in curves)
    # Each run's per-round curve equals the single-run statistic of its records.
    one = coop.donation_by_round(load_records(runs.paths[0] / "events.jsonl"))
    assert set(one) == {1, 2, 3}
    assert stats["initial_cooperation"][""]["n"] == 3
    assert [r["generation"] for r in stats["selection"][""]] == [1, 2]
    shares = stats["composition"][""][0]["kinds"]
    assert sum(c["mean"] for c in shares.values()) == pytest.approx(1.0)


def test_conditions_are_plain_strings():
    stats = coop.donor_across_statistics(FakeDonorRuns())
    for part in stats.values():
        assert all(type(c) is str for c in part)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["r1", "r2", "r3"]),
            st.integers(1, 5),
            st.one_of(st.floats(0, 1e4), st.just(float("nan"))),
        ),
        max_size=20,
    )
)
def test_vectorised_slopes_match_one_fit_per_run(rows):
    table = {
        "run": _obj([r[0] for r in rows]),
        "generation": np.array([r[1] for r in rows], dtype=np.int64),
        "y": np.array([r[2] for r in rows], dtype=float),
    }
    expected = []
    for run in dict.fromkeys(r[0] for r in rows if not math.isnan(r[2])):
        pts = [(g, y) for name, g, y in rows if name == run and not math.isnan(y)]
        slope = coop.least_squares_slope([p[0] for p in pts], [p[1] for p in pts])
        if slope is not None:
            expected.append(slope)
    got = coop._run_slopes(table, "y")
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-6)
