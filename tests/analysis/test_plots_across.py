"""Figures of many runs (issue 10) for the debate, the norm society and the web shop: tiny real
runs of 3 seeds each, deterministic PNGs, the plotted means against hand-computed ones, and
the HTML report of a folder of those runs."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import pytest

from analysis.across import across_statistics, across_text
from analysis.plots import across_figures_of
from analysis.plots_across import casa_points, debate_points, norm_points
from analysis.runs import load_runs
from tests.analysis.test_report_runs import _run

PNG = b"\x89PNG\r\n\x1a\n"
SEEDS = (0, 1, 2)
EXPERIMENTS = {
    "debate_v0": ["debate", "--set", "episodes=2", "--set", "env.iterations=3"],
    "norm_society_v0": ["norm-society", "--set", "episodes=4", "--set", "env.n_agents=4",
                        "--set", "env.steps_per_era=2"],
    "web_shop_v0": ["web-shop", "--set", "episodes=12", "--set",
                    "population=user:1,norm_aware:1"],
}  # fmt: skip
TITLES = {
    "debate_v0": ["Attitudes across runs: gun violence | default+democrat+republican"],
    "norm_society_v0": ["Fitness per step across runs (95% CI) with era boundaries"],
    "web_shop_v0": ["CASA rates by country across runs (95% CI) (casa_rule)"],
}


@functools.cache
def runs_folder() -> Path:
    """A folder of 3 scripted runs (seeds 0-2) of each env, made once per test process."""
    parent = Path(tempfile.mkdtemp(prefix="agentsim-plots-across-"))
    atexit.register(shutil.rmtree, parent, True)
    for env, args in EXPERIMENTS.items():
        for seed in SEEDS:
            _run(parent / env, args, seed)
    # Scripted shoppers answer the same items alike on every seed: flip one AC label of the
    # last run so that the runs' rates differ.
    _flip_first_ac_label(sorted((parent / "web_shop_v0").iterdir())[-1] / "events.jsonl")
    return parent


def _flip_first_ac_label(events: Path) -> None:
    lines = events.read_text("utf-8").splitlines()
    for i, line in enumerate(lines):
        r = json.loads(line)
        if r["type"] == "judgement" and r.get("metric") == "AC":
            r["label"] = "No" if r["label"] == "Yes" else "Yes"
            lines[i] = json.dumps(r)
            break
    events.write_text("\n".join(lines) + "\n", "utf-8")


@functools.cache
def _env_stats_json(env: str) -> str:
    return json.dumps(across_statistics(load_runs(runs_folder() / env))["envs"][env])


def env_stats(env: str) -> dict:
    return json.loads(_env_stats_json(env))  # a fresh copy, as it would be after JSON


def _events(env: str) -> list[list[dict]]:
    runs = sorted((runs_folder() / env).iterdir())
    assert len(runs) == len(SEEDS)
    return [
        [json.loads(line) for line in (run / "events.jsonl").read_text("utf-8").splitlines()]
        for run in runs
    ]


@pytest.mark.parametrize("env", sorted(EXPERIMENTS))
def test_every_env_draws_its_across_figures_as_deterministic_pngs(env):
    pytest.importorskip("matplotlib")
    figures = across_figures_of(env_stats(env), env)
    assert [f.title for f in figures] == TITLES[env]
    for f in figures:
        assert f.png.startswith(PNG) and len(f.png) > 2000 and f.alt
        assert b"Software" not in f.png and b"matplotlib" not in f.png.lower()
    # the same runs give the same statistics and the same bytes
    again = across_statistics(load_runs(runs_folder() / env))["envs"][env]
    assert [f.png for f in across_figures_of(again, env)] == [f.png for f in figures]


def test_debate_curves_are_the_means_of_run_means_default_dashed():
    pytest.importorskip("matplotlib")
    ((caption, roles),) = debate_points(env_stats("debate_v0"))
    assert caption == "gun violence | default+democrat+republican"
    assert sorted(roles) == ["default", "democrat", "republican"]
    assert roles["default"]["x"] == [0, 1, 2, 3]
    # by hand: the Default agent's survey at iteration 3, averaged over a run's 2 episodes,
    # then over the 3 runs
    run_means = [
        statistics.fmean(
            r["score"]
            for r in records
            if r["type"] == "survey" and r["role"] == "default" and r["iteration"] == 3
        )
        for records in _events("debate_v0")
    ]
    assert roles["default"]["mean"][-1] == pytest.approx(statistics.fmean(run_means))
    assert len(set(run_means)) > 1  # the seeds differ: the band has width
    for c in roles.values():
        assert all(lo <= m <= hi for lo, m, hi in zip(c["lo"], c["mean"], c["hi"], strict=True))
    (figure,) = across_figures_of(env_stats("debate_v0"), "debate_v0")
    assert "default dashed" in figure.alt


def test_norm_curve_is_the_mean_fitness_and_the_eras_are_marked():
    pytest.importorskip("matplotlib")
    curves, marks = norm_points(env_stats("norm_society_v0"))
    (curve,) = curves.values()
    assert curve["x"] == [1, 2, 3, 4]
    # by hand: F = (mean score - 1) / 6 of step 3's generation_end, averaged over the runs
    fitness = [
        next((r["mean_score"] - 1) / 6 for r in records
             if r["type"] == "generation_end" and r["generation"] == 3)
        for records in _events("norm_society_v0")
    ]  # fmt: skip
    assert curve["mean"][2] == pytest.approx(statistics.fmean(fitness))
    assert curve["lo"][2] <= curve["mean"][2] <= curve["hi"][2]
    # 4 steps of 2 per era: one norm change, at step 3, in every run
    era = next(
        r["era"] for r in _events("norm_society_v0")[0]
        if r["type"] == "generation_end" and r["generation"] == 3
    )  # fmt: skip
    assert marks == [(3, era)]
    (cond,) = env_stats("norm_society_v0")["sections"]["fitness_by_step"]["conditions"].values()
    assert cond["boundaries"] == [{"generation": 3, "era": era, "runs": 3}]


def _ac_rate(records: list[dict], country: str) -> float:
    episodes = {
        r["episode"] for r in records
        if r["type"] == "web_outcome" and r["split"] == "s1_violate" and r["country"] == country
    }  # fmt: skip
    labels = [
        r["label"] for r in records
        if r["type"] == "judgement" and r["metric"] == "AC" and r["episode"] in episodes
    ]  # fmt: skip
    return labels.count("Yes") / len(labels)


def test_casa_bars_are_the_mean_rate_of_the_runs():
    pytest.importorskip("matplotlib")
    ((caption, countries),) = casa_points(env_stats("web_shop_v0"))
    assert caption == "casa_rule"
    records = _events("web_shop_v0")
    flipped = next(r["country"] for r in records[-1] if r.get("metric") == "AC")
    rates = [_ac_rate(run, flipped) for run in records]
    assert len(set(rates)) == 2  # the flipped run differs
    cell = countries[flipped]["AC-R"]
    assert cell["mean"] == pytest.approx(statistics.fmean(rates)) and cell["n"] == 3
    assert cell["ci95"][0] < cell["mean"] < cell["ci95"][1]


def test_sections_print_in_the_across_text():
    text = across_text(across_statistics(load_runs(runs_folder())))
    assert "debate attitude across runs" in text
    assert "norm-society fitness F = (score-1)/6 across runs" in text
    assert "CASA rates across runs" in text and "judge casa_rule" in text


def test_html_report_of_the_folder_has_every_across_figure(tmp_path):
    pytest.importorskip("matplotlib")
    from analysis.html import write_html_report

    folder = shutil.copytree(runs_folder(), tmp_path / "runs")
    html = write_html_report([folder]).read_text("utf-8")
    for env, titles in TITLES.items():
        assert f"<h2>Figures: {env}</h2>" in html
        for title in titles:
            assert f"<figcaption>{title}</figcaption>" in html


def test_without_matplotlib_no_across_figures(monkeypatch):
    stats = env_stats("debate_v0")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert across_figures_of(stats, "debate_v0") == []


def test_a_parquet_export_gives_the_same_sections(tmp_path):
    runs = load_runs(runs_folder())
    export = runs.export_parquet(tmp_path / "export")
    sections = {e: s["sections"] for e, s in across_statistics(runs)["envs"].items()}
    again = {e: s["sections"] for e, s in across_statistics(load_runs(export))["envs"].items()}
    assert json.dumps(again, sort_keys=True) == json.dumps(sections, sort_keys=True)
