"""The paper comparison table (analysis/papers.py): extractors on real tiny runs, across runs,
the disclaimer and the sources."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from agentsim.core.records import load_records
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from analysis import papers as P
from analysis.report import Section, register_section, statistics_of, unregister_sections

ENVS = ("donor_game_v0", "debate_v0", "norm_society_v0", "web_shop_v0")


def _records(tmp: Path, experiment: str, *overrides: str, seed: int = 1) -> list[Any]:
    config = make_config(experiment, seed, overrides)
    run = RunDir.create(tmp, f"{experiment}-{seed}", config.to_json())
    asyncio.run(run_experiment(run, config))
    return load_records(run.file("events.jsonl"))


def _values(stats: Any) -> dict[str, float | None]:
    rows = stats["paper_comparison"]["rows"]
    json.dumps(rows, allow_nan=False)  # JSON-ready (the extract callables are not in the rows)
    return {r["statistic"]: r["this_run"] for r in rows}


# ---------------------------------------------------------------- registration


def test_every_registered_value_has_a_source_unit_and_note() -> None:
    for env_id in ENVS:
        papers = P.papers_of(env_id)
        assert papers, env_id
        for title, values in papers.items():
            assert "arXiv:" in title
            for v in values:
                assert "arXiv:" in v.source and v.unit and v.note, v.statistic
                assert isinstance(v.reported, float | str)


def test_the_table_text_carries_the_disclaimer() -> None:
    rows = P.paper_comparison("donor_game_v0", {})
    text = P.paper_comparison_text(rows)
    assert text.splitlines()[0].endswith(
        "A comparison of protocols, not of models: the paper's figures come from its models "
        "and settings; ours from this run's agents."
    )
    assert "30,720.00" in text and "ours -" in text  # no statistics: every value absent
    assert P.DISCLAIMER in P.paper_comparison_text([])  # an env with no papers: header too


def test_register_paper_adds_a_table_and_a_failing_extractor_gives_none() -> None:
    def broken(stats: Any) -> float | None:
        return float(stats["nope"]["x"])

    P.register_paper("toy_v0", "Toy 2024, arXiv:0000.00000", [
        P.PaperValue("ok", 1.0, "x", "Toy 2024, arXiv:0000.00000", "n", lambda s: s["v"]),
        P.PaperValue("bad", 2.0, "x", "Toy 2024, arXiv:0000.00000", "n", broken),
        P.PaperValue("nan", 3.0, "x", "Toy 2024, arXiv:0000.00000", "n", lambda s: float("nan")),
    ])  # fmt: skip
    try:
        rows = P.paper_comparison("toy_v0", {"v": 5})
    finally:
        P.PAPERS.unregister("toy_v0")
    assert [(r["statistic"], r["paper_value"], r["this_run"]) for r in rows] == [
        ("ok", 1.0, 5.0),
        ("bad", 2.0, None),
        ("nan", 3.0, None),
    ]


def test_the_section_computes_only_the_sections_its_extractors_read() -> None:
    def boom(records: Any) -> dict[str, Any]:
        raise AssertionError("a section no extractor reads was computed")

    register_section("toy_v1", Section("boom", boom, str))
    register_section("toy_v1", P._section("toy_v1"))
    P.register_paper("toy_v1", "Toy", [
        P.PaperValue("records", 0.0, "n", "Toy, arXiv:0", "n",
                     lambda s: float(sum(s["run"]["records"].values()))),
    ])  # fmt: skip
    try:
        stats = P.LazyStatistics([{"type": "run_end", "status": "completed"}], "toy_v1")
        assert P.paper_comparison("toy_v1", stats)[0]["this_run"] == 1.0
        assert list(stats) == ["env_id", "run", "boom"]
    finally:
        unregister_sections("toy_v1")
        P.PAPERS.unregister("toy_v1")


def test_slope_and_dig() -> None:
    assert P.slope([(1, 1.0), (2, 3.0), (3, 5.0)]) == 2.0
    assert P.slope([(1, 1.0)]) is None
    assert P.dig({"a": [{"b": 2}]}, "a", 0, "b") == 2
    assert P.dig({"a": []}, "a", 0, "b") is None


# ---------------------------------------------------------------- real runs


def test_donor_game_values_on_a_real_run(tmp_path: Path) -> None:
    recs = _records(tmp_path, "donor-game-punishment", "run.generations=3", "env.agents=4")
    stats = statistics_of(recs)
    got = _values(stats)
    coop = stats["cooperation"]
    last = list(coop["mean_final_resources"].values())[-1]
    assert got["mean final resources, last generation (Claude 3.5 Sonnet)"] == last
    assert got["donation change per generation (GPT-4o)"] == pytest.approx(
        100 * coop["donation_trend_per_generation"]
    )
    first = next(iter(coop["mean_donation_fraction"].values()))
    assert got["generation-1 mean donation (Claude 3.5 Sonnet)"] == pytest.approx(100 * first)
    assert got["punishment frequency (GPT-4o)"] is not None
    assert got["cost per run (GPT-4o)"] is None  # scripted agents: no LLM, nothing to compare
    assert "ours" in P.paper_comparison_text(stats["paper_comparison"]["rows"])


def test_debate_values_on_a_real_racism_run(tmp_path: Path) -> None:
    stats = statistics_of(_records(tmp_path, "debate", "run.episodes=2", "env.topic=racism"))
    got = _values(stats)
    (cond,) = stats["debate"]["conditions"].values()
    final = cond["trajectories"]["default"]["mean"][-1]
    assert got["Default agent's final rating, topic racism (Mistral 7B base)"] == final
    assert got["partisan roles whose mean line crosses the Default's"] is not None
    assert got["partisans' gap to the Default agent, end / start"] is not None
    assert got["odds ratio, GPT-4 personalised vs human-human"] is None  # no persuasion


def test_salvi_odds_ratio_on_two_pooled_persuasion_runs(tmp_path: Path) -> None:
    pytest.importorskip("statsmodels")
    recs = []
    for i, (opponent, personalised) in enumerate([("llm", "true"), ("human", "false")]):
        sets = ("run.episodes=20", f"env.opponent={opponent}", f"env.personalised={personalised}")
        for r in _records(tmp_path, "persuasion", *sets, seed=1 + i):
            # Both runs number their episodes from 1: keep the debates apart.
            recs.append({**r, "episode": r["episode"] + 1000 * i} if "episode" in r else r)
    stats = statistics_of(recs)
    got = _values(stats)
    cell = stats["persuasion"]["odds_ratios"]["conditions"]["llm/personalised"]
    assert got["odds ratio, GPT-4 personalised vs human-human"] == cell["odds_ratio"]
    assert got["odds ratio, GPT-4 not personalised vs human-human"] is None  # not in the run


def test_norm_society_values_on_a_real_run(tmp_path: Path) -> None:
    stats = statistics_of(_records(tmp_path, "norm-society", "run.episodes=8"))
    got = _values(stats)
    assert stats["norms"]["boundaries"]  # one norm change at step 6
    assert got["fitness drop at a norm change"] == stats["norms"]["boundaries"][0]["drop"]
    assert got["fitness trend over the run"] is not None


@pytest.mark.parametrize(
    ("split", "rate"), [("s1_violate", "AC-R"), ("s1_adhere", "Help-R"), ("s2", "Vio-R")]
)
def test_web_shop_values_on_real_runs(tmp_path: Path, split: str, rate: str) -> None:
    stats = statistics_of(_records(tmp_path, "web-shop", "run.episodes=2", f"env.split={split}"))
    got = _values(stats)
    (judge,) = stats["web_shop"]["judges"].values()
    expected = judge["pooled"][rate]["rate"]
    assert expected is not None
    assert got[f"{rate} (original prompt, GPT-4o)"] == pytest.approx(100 * expected)
    assert got[f"{rate} (CA-Upd.+2SE, GPT-4o)"] == pytest.approx(100 * expected)


# ---------------------------------------------------------------- many runs


def _across(figures: dict[str, float], series: dict[str, list[float]]) -> dict[str, Any]:
    """An ``analysis.across.across_statistics`` result of one condition "env.x=1" (2 runs)."""
    return {"runs": 2, "envs": {"donor_game_v0": {
        "conditions": ["env.x=1"],
        "status": {"env.x=1": {"completed": 2}},
        "accounting": {"env.x=1": {"llm_calls": 4, "cost_usd": 3.0}},
        "figures": {"env.x=1": {k: {"mean": v, "n": 2} for k, v in figures.items()}},
        "series": {"generations": {f: {"env.x=1": [{"index": i + 1, "mean": v, "n": 2}
                                                   for i, v in enumerate(vs)]}
                                   for f, vs in series.items()}},
    }}}  # fmt: skip


def test_across_runs_one_row_per_condition_from_the_generic_figures() -> None:
    stats = _across(
        {"final_mean_resources": 99.0},
        {"mean_donation_fraction": [0.5, 0.6, 0.7], "mean_final_resources": [10.0, 20.0, 30.0],
         "punishments": [1.0, 0.0, 1.0], "donor_decisions": [10.0, 10.0, 10.0]},
    )  # fmt: skip
    rows = P.paper_comparison("donor_game_v0", stats)
    got = {r["statistic"]: r for r in rows}
    assert all(r["condition"] == "env.x=1" and r["runs"] == 2 for r in rows)
    assert got["mean final resources, last generation (Claude 3.5 Sonnet)"]["this_run"] == 30.0
    assert got["donation change per generation (GPT-4o)"]["this_run"] == pytest.approx(10.0)
    assert got["generation-1 mean donation (Claude 3.5 Sonnet)"]["this_run"] == 50.0
    assert got["punishment frequency (GPT-4o)"]["this_run"] == pytest.approx(100 * 2 / 30)
    assert got["cost per run (GPT-4o)"]["this_run"] == 1.5
    assert "[env.x=1, 2 runs]" in P.paper_comparison_text(rows)


def test_across_runs_of_another_env_or_missing_parts_give_no_rows_or_none() -> None:
    assert P.paper_comparison("debate_v0", _across({}, {})) == []  # no debate runs
    rows = P.paper_comparison("donor_game_v0", _across({}, {}))
    assert {r["this_run"] for r in rows} == {None} | {1.5}  # only the cost is known


def test_across_on_real_runs(tmp_path: Path) -> None:
    runs_mod = pytest.importorskip("analysis.runs")
    across_mod = pytest.importorskip("analysis.across")
    for seed in (1, 2):
        _records(tmp_path, "donor-game", "run.generations=2", "env.agents=4", seed=seed)
    stats = across_mod.across_statistics(runs_mod.load_runs(tmp_path))
    got = {r["statistic"]: r["this_run"] for r in P.paper_comparison("donor_game_v0", stats)}
    assert got["generation-1 mean donation (Claude 3.5 Sonnet)"] is not None
    assert got["donation change per generation (GPT-4o)"] is not None
