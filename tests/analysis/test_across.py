"""Across-runs statistics: hand-made summaries through a fake Runs, and real tiny runs."""

import asyncio
import json
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from analysis.across import (
    AcrossSection,
    across_sections,
    across_statistics,
    across_text,
    register_across,
    scalar_figures,
    unregister_across,
)
from analysis.stats import Interval


class FakeRuns:
    """The parts of analysis.runs.Runs the generic statistics read."""

    def __init__(self, rows):
        # rows: (env_id, condition, status, summary)
        self.rows = rows
        self.paths = []

    def runs(self):
        col = lambda i: np.array([r[i] for r in self.rows], dtype=object)  # noqa: E731
        return {
            "run": np.array([f"r{i}" for i in range(len(self.rows))], dtype=object),
            "env_id": col(0),
            "condition": col(1),
            "status": col(2),
        }

    def conditions(self):
        return ["env.k"] if any(r[1] for r in self.rows) else []

    def summaries(self):
        return [r[3] for r in self.rows]

    def subset(self, rows):
        return FakeRuns([self.rows[i] for i in rows])


def _summary(final, gens, cost=0.5, status="completed"):
    return {
        "env_id": "toy_v0",
        "status": status,
        "stop_reason": None,
        "episodes_completed": len(gens),
        "final": final,
        "label": "text is not a figure",
        "flag": True,
        "rates": {"a": final / 10, "b": None},
        "generations": [
            {"generation": g + 1, "score": s, "survivors": ["x"]} for g, s in enumerate(gens)
        ],
        "decisions": {"ok": 2, "fallback": 1},
        "llm": {"calls": 3, "errors": 1, "cost_usd": cost},
    }


def _toy():
    return FakeRuns(
        [
            ("toy_v0", "env.k=1", "completed", _summary(1.0, [1.0, 2.0])),
            ("toy_v0", "env.k=1", "completed", _summary(3.0, [3.0, 4.0])),
            ("toy_v0", "env.k=2", "completed", _summary(5.0, [5.0])),
            ("toy_v0", "env.k=2", "stopped", _summary(9.0, [7.0, 8.0], cost=None)),
        ]
    )


def test_scalar_figures_flattens_and_skips_accounting():
    figures = scalar_figures(_summary(2.0, [1.0]))
    assert figures == {"final": 2.0, "rates.a": 0.2}


def test_figures_by_condition_hand_computed():
    env = across_statistics(_toy(), resamples=500)["envs"]["toy_v0"]
    assert env["conditions"] == ["env.k=1", "env.k=2"]
    assert env["baseline"] == "env.k=1"
    k1 = env["figures"]["env.k=1"]["final"]
    assert (k1["mean"], k1["n"]) == (2.0, 2)
    assert k1["ci95"] == Interval(1.0, 3.0)  # resample means of [1, 3]: 1, 2, 3
    assert env["figures"]["env.k=2"]["rates.a"]["mean"] == pytest.approx(0.7)


def test_series_matched_by_generation_number():
    series = across_statistics(_toy(), resamples=500)["envs"]["toy_v0"]["series"]
    rows = series["generations"]["score"]["env.k=2"]
    assert [(r["index"], r["mean"], r["n"]) for r in rows] == [(1, 6.0, 2), (2, 8.0, 1)]
    assert rows[1]["ci95"] is None  # one run: no interval rather than a zero-width one
    assert "generation" not in series["generations"]  # the index is not a figure


def test_status_accounting_and_comparison():
    env = across_statistics(_toy(), resamples=500)["envs"]["toy_v0"]
    assert env["status"] == {"env.k=1": {"completed": 2}, "env.k=2": {"completed": 1, "stopped": 1}}
    assert env["accounting"]["env.k=1"] == {
        "llm_calls": 6,
        "llm_errors": 2,
        "cost_usd": 1.0,
        "decisions": {"fallback": 2, "ok": 4},
    }
    assert env["accounting"]["env.k=2"]["cost_usd"] is None  # one run's cost is unknown
    final = env["comparisons"]["env.k=2"]["final"]
    assert final["difference"] == 5.0  # 7 - 2
    assert final["n"] == [2, 2]
    # a = [5, 9], b = [1, 3]: pooled SD sqrt((8 + 2) / 2), d = 5 / sqrt(5), J(m=2) = 0.5642
    assert final["hedges_g"] == pytest.approx(5 / np.sqrt(5) * 0.564190, rel=1e-4)
    assert "env.k=1" not in env["comparisons"]


def test_json_ready_and_text():
    stats = across_statistics(_toy(), resamples=200)
    again = json.loads(json.dumps(stats))
    assert again["envs"]["toy_v0"]["figures"]["env.k=1"]["final"]["ci95"] == [1.0, 3.0]
    text = across_text(again)  # the text works from the JSON round trip too
    assert "#1 = env.k=1" in text
    assert "stopped 1" in text and "cost unknown" in text
    assert "(no CI)" in text
    assert "t 95% CI" in text


def test_mixed_envs_are_grouped_by_env():
    runs = _toy()
    runs.rows.append(("other_v0", "", "completed", {"env_id": "other_v0", "x": 4.0}))
    stats = across_statistics(runs, resamples=200)
    assert set(stats["envs"]) == {"toy_v0", "other_v0"}
    assert stats["envs"]["other_v0"]["figures"] == {
        "": {"x": pytest.approx({"mean": 4.0, "ci95": None, "t_ci95": None, "n": 1})}
    }
    assert stats["envs"]["toy_v0"]["runs"] == 4
    assert stats["envs"]["other_v0"]["condition_keys"] == []  # env.k varies in toy_v0 only
    assert stats["envs"]["toy_v0"]["condition_keys"] == ["env.k"]


@settings(max_examples=25, deadline=None)
@given(st.permutations(range(4)))
def test_run_order_does_not_change_the_statistics(order):
    rows = _toy().rows
    a = across_statistics(FakeRuns(rows), resamples=200)["envs"]["toy_v0"]
    b = across_statistics(FakeRuns([rows[i] for i in order]), resamples=200)["envs"]["toy_v0"]
    assert a["figures"] == b["figures"]
    assert a["series"] == b["series"]
    assert a["status"] == b["status"]


def test_sections_register_replace_and_run():
    seen = []
    section = AcrossSection(
        "count", lambda runs: seen.append(runs) or {"n": 7}, lambda s: f"count section {s['n']}"
    )
    try:
        register_across("toy_v0", section)
        register_across("toy_v0", section)  # same name replaces
        assert [s.name for s in across_sections("toy_v0")] == ["count"]
        runs = _toy()
        stats = across_statistics(runs, resamples=100)
        assert stats["envs"]["toy_v0"]["sections"] == {"count": {"n": 7}}
        assert seen == [runs]  # one env: the section sees the same runs
        assert "count section 7" in across_text(stats)
    finally:
        unregister_across("toy_v0")
    assert across_sections("toy_v0") == []
    assert across_sections(None) == []


def test_builtin_sections_load_before_a_first_registration():
    # A fresh process: registering first must not hide the donor game's built-in section.
    code = (
        "from analysis.across import AcrossSection, register_across, across_sections\n"
        "register_across('x_v0', AcrossSection('s', lambda r: {}, lambda s: ''))\n"
        "print([s.name for s in across_sections('donor_game_v0')])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['donor']"


# ---- real runs --------------------------------------------------------------------------


def _run(root, name, experiment, seed, overrides):
    config = make_config(experiment, seed, overrides)
    run = RunDir.create(root, name, config.to_json())
    asyncio.run(run_experiment(run, config))
    return run.path


@pytest.fixture(scope="module")
def mixed_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    for seed in (1, 2):
        for mult in ("2", "3"):
            _run(
                root,
                f"d{mult}-{seed}",
                "donor-game",
                seed,
                ["generations=2", "env.agents=4", f"env.multiplier={mult}"],
            )
    _run(root, "ns-1", "norm-society", 1, ["run.episodes=2"])
    return root


def test_end_to_end_on_real_runs(mixed_runs):
    from analysis.runs import load_runs

    stats = across_statistics(load_runs(mixed_runs), resamples=200)
    assert set(stats["envs"]) == {"donor_game_v0", "norm_society_v0"}
    donor = stats["envs"]["donor_game_v0"]
    assert donor["runs"] == 4
    assert len(donor["conditions"]) == 2
    assert all("env.multiplier=" in c for c in donor["conditions"])
    first = donor["conditions"][0]
    assert donor["figures"][first]["final_mean_resources"]["n"] == 2
    gens = donor["series"]["generations"]["mean_final_resources"][first]
    assert [r["index"] for r in gens] == [1, 2]
    # The donor section ran over the donor runs only (the norm run was reloaded apart).
    section = donor["sections"]["donor"]
    assert set(section["trend"]) == set(donor["conditions"])
    # ... and the norm society's section over its one run only.
    assert (
        stats["envs"]["norm_society_v0"]["sections"]["fitness_by_step"]["conditions"][""]["runs"]
        == 1
    )
    assert "final_mean_score" in stats["envs"]["norm_society_v0"]["figures"][""]
    text = across_text(json.loads(json.dumps(stats)))
    assert "== donor_game_v0: 4 runs, 2 condition(s)" in text
    assert "donor game across runs" in text
