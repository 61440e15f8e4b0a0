"""Figures of the report (issue 10): non-empty deterministic PNGs for every env, registries,
and no figures (with a note) where matplotlib is missing."""

from __future__ import annotations

import sys

import pytest

from analysis.plots import (
    NO_PLOTS,
    Figure,
    across_figures_of,
    figures_of,
    lineage,
    register_figures,
    render,
)
from analysis.report import report_runs_json, run_statistics
from tests.analysis.test_report_runs import donor_runs, tiny_runs

PNG = b"\x89PNG\r\n\x1a\n"
TITLES = {
    "donor": {
        "Mean final resources per generation",
        "Donation fraction by member and generation",
        "Donations per round",
    },
    "debate": {"Attitude trajectories: gun violence | default+democrat+republican"},
    "norm": {"Fitness per step with era boundaries"},
    "shop": {"CASA rates by country (casa_rule)"},
}


def _stats(env):
    return run_statistics(tiny_runs()[env] / "events.jsonl")


@pytest.mark.parametrize("env", sorted(TITLES))
def test_every_env_draws_its_figures_as_deterministic_pngs(env):
    pytest.importorskip("matplotlib")
    stats = _stats(env)
    figures = figures_of(stats)
    assert {f.title for f in figures} == TITLES[env]
    for f in figures:
        assert f.png.startswith(PNG) and len(f.png) > 2000 and f.alt
        assert b"Software" not in f.png and b"matplotlib" not in f.png.lower()
    assert [f.png for f in figures_of(stats)] == [f.png for f in figures]


def test_norm_figure_marks_the_era_boundaries():
    stats = _stats("norm")["norms"]
    # 4 steps of 2 per era: one norm change, at step 3
    assert [b["generation"] for b in stats["boundaries"]] == [3]


def test_donor_across_figure_has_a_band_per_condition():
    pytest.importorskip("matplotlib")
    across = report_runs_json([donor_runs()])["across"]["envs"]["donor_game_v0"]
    (figure,) = across_figures_of(across, "donor_game_v0")
    assert figure.png.startswith(PNG)
    assert "env.multiplier=2" in figure.alt and "env.multiplier=3" in figure.alt


def test_lineage_puts_children_after_their_parent():
    records = [
        {"type": "generation_start", "seats": ["1_1", "1_2", "1_3"]},
        {"type": "reproduction", "child": "2_1", "parents": ["1_3"]},
        {"type": "reproduction", "child": "2_2", "parents": ["1_1"]},
        {"type": "generation_start", "seats": ["1_1", "1_3", "2_1", "2_2"]},
        {"type": "reproduction", "child": "3_1", "parents": ["2_2"]},
    ]
    out = lineage(records)
    assert out["order"] == ["1_1", "2_2", "3_1", "1_2", "1_3", "2_1"]
    assert out["parents"] == {"2_1": "1_3", "2_2": "1_1", "3_1": "2_2"}


def test_a_registered_env_gets_its_figures():
    pytest.importorskip("matplotlib")
    seen = []

    def toy(stats):
        seen.append(stats["x"])
        return [render("toy", "a line", lambda ax: ax.plot([0, 1], [stats["x"], 1]))]

    register_figures("toy_report_v0", toy)
    (figure,) = figures_of({"env_id": "toy_report_v0", "x": 0.5})
    assert seen == [0.5] and isinstance(figure, Figure) and figure.png.startswith(PNG)


def test_without_matplotlib_no_figures_and_the_html_says_how_to_get_them(monkeypatch, tmp_path):
    from analysis.html import write_html_report

    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    assert figures_of(_stats("donor")) == []
    html = write_html_report([tiny_runs()["donor"]], tmp_path / "r.html").read_text("utf-8")
    assert NO_PLOTS in html and "data:image/png" not in html
