"""Persuasion statistics (Salvi et al. 2024): hand-computed shifts and shares, Wilson oracles,
and the proportional-odds model recovering a known odds ratio from synthetic data."""

import json
import math
import sys
import warnings

import numpy as np
import pytest

from agentsim.core.errors import ConfigError, UserError
from analysis import persuasion as per
from analysis.stats import wilson

CUTS = np.array([-1.71, -0.44, 1.09, 2.36])  # Salvi et al.'s fitted thresholds
LOG_OR = math.log(1.8)


def _episode(pre, post, *, side="pro", opponent="human", personalised=False, episode=0, **extra):
    """Records of one salvi debate: persuader debater_0 argued ``side``; the persuadee
    (debater_1) rated ``pre`` and ``post`` (None = failed survey)."""
    env = {"episode": episode, "seed": 0}
    other = "con" if side == "pro" else "pro"
    start = {
        "v": 1, "type": "debate_start", "protocol": "salvi", "topic": "p", "scale": [1, 5],
        "roles": {"debater_0": "persuader", "debater_1": "persuadee"},
        "sides": {"debater_0": side, "debater_1": other}, "persuader": "debater_0",
        "persuadee": "debater_1", "opponent": opponent, "personalised": personalised,
        "strength": extra.get("strength", "low"), "proposition_id": "p1", **env,
    }  # fmt: skip
    surveys = [
        {"v": 1, "type": "survey", "iteration": t, "agent": "debater_1", "role": "persuadee",
         "score": s, "parse_status": "ok", "raw": str(s), **env}
        for t, s in ((0, pre), (6, post))
    ]  # fmt: skip
    persuader = {"v": 1, "type": "survey", "iteration": 0, "agent": "debater_0",
                 "role": "persuader", "score": 5.0, "parse_status": "ok", "raw": "5",
                 **env}  # fmt: skip
    return [start, persuader, *surveys, {"v": 1, "type": "debate_end", "iterations": 6, **env}]


def _synthetic_rows(rng, n, effects, gamma=1.0):
    """Latent-logistic persuadees: y* = beta_c + gamma (pre - 3) + Logistic(0, 1)."""
    names = list(effects)
    cond = rng.integers(0, len(names), n)
    pre = rng.integers(1, 6, n)
    beta = np.array([effects[c] for c in names])[cond]
    latent = beta + gamma * (pre - 3) + rng.logistic(0.0, 1.0, n)
    post = 1 + (latent[:, None] > CUTS).sum(axis=1)
    return [
        {"condition": names[c], "aligned_pre": int(a), "aligned_post": int(b), "shift": int(b - a),
         "scale": [1.0, 5.0]}
        for c, a, b in zip(cond, pre, post, strict=True)
    ]  # fmt: skip


def test_aligned_agreement_mirrors_when_the_opponent_argued_con():
    assert per.aligned(4.0, "pro") == 4.0
    assert per.aligned(4.0, "con") == 2.0
    assert per.aligned(8.0, "con", (0, 10)) == 2.0
    with pytest.raises(ConfigError, match="side='neutral'; allowed: pro, con"):
        per.aligned(3.0, "neutral")


def test_participant_rows_align_with_the_persuaders_side_and_keep_failures():
    recs = _episode(4.0, 2.0, side="con", opponent="llm", personalised=True)
    recs += _episode(2.0, None, episode=1)
    rows = per.participants(recs)
    assert rows[0]["condition"] == "llm/personalised"
    assert (rows[0]["aligned_pre"], rows[0]["aligned_post"], rows[0]["shift"]) == (2.0, 4.0, 2.0)
    assert (rows[1]["condition"], rows[1]["aligned_pre"], rows[1]["shift"]) == (
        "human/plain", 2.0, None
    )  # fmt: skip


@pytest.mark.parametrize(
    ("k", "n", "expected"),
    [(0, 10, (0.0, 0.2775)), (5, 10, (0.2366, 0.7634)), (10, 10, (0.7225, 1.0)),
     (81, 100, (0.7222, 0.8749)), (7, 40, (0.0875, 0.3195))],
)  # fmt: skip
def test_wilson_interval_matches_statsmodels_oracles(k, n, expected):
    assert wilson(k, n) == pytest.approx(list(expected), abs=1e-4)


def test_wilson_is_none_without_trials():
    assert wilson(0, 0) is None


def test_shift_table_means_shares_and_failures():
    # aligned shifts: +1 (pro 2->3), 0, -1 (con: 2->3 is aligned 4->3), +2; one failed post
    recs = (
        _episode(2.0, 3.0, episode=0)
        + _episode(3.0, 3.0, episode=1)
        + _episode(2.0, 3.0, side="con", episode=2)
        + _episode(1.0, 3.0, episode=3)
        + _episode(1.0, None, episode=4)
    )
    table = per.shift_table(per.participants(recs))["human/plain"]
    assert table["shift"]["mean"] == pytest.approx(0.5)
    assert table["shift"]["se"] == pytest.approx(math.sqrt(5 / 3 / 4))
    assert (table["n"], table["failed"]) == (4, 1)
    assert [table[s]["k"] for s in ("toward", "unmoved", "away")] == [2, 1, 1]
    assert table["toward"]["share"] == 0.5
    assert table["toward"]["ci95"] == pytest.approx(wilson(2, 4))


def test_ordinal_model_recovers_a_known_odds_ratio_within_its_ci():
    pytest.importorskip("statsmodels")
    rng = np.random.default_rng(7)
    rows = _synthetic_rows(
        rng, 6000, {per.BASELINE: 0.0, "llm/personalised": LOG_OR, "llm/plain": 0.0}
    )
    res = per.odds_ratios(rows)
    assert res["converged"] and res["levels"] == [1, 2, 3, 4, 5] and res["empty_levels"] == []
    assert not res["degenerate"] and res["degenerate_reason"] is None
    pers, plain = res["conditions"]["llm/personalised"], res["conditions"]["llm/plain"]
    assert pers["ci95"][0] < 1.8 < pers["ci95"][1]
    assert abs(pers["beta"] - LOG_OR) < 4 * pers["se"]
    assert pers["pct_higher_odds"] == pytest.approx(100 * (pers["odds_ratio"] - 1))
    assert plain["ci95"][0] < 1.0 < plain["ci95"][1]
    assert res["pre_coefficients"]["aligned_pre"] == pytest.approx(1.0, abs=0.1)
    assert set(res["conditions"]) == {"llm/personalised", "llm/plain"}  # baseline not a row


def test_ordinal_model_with_pre_agreement_as_a_factor_recovers_it_too():
    pytest.importorskip("statsmodels")
    rows = _synthetic_rows(np.random.default_rng(11), 4000, {per.BASELINE: 0.0, "llm/x": LOG_OR})
    res = per.odds_ratios(rows, pre_as="factor")
    assert res["converged"]
    assert sorted(res["pre_coefficients"]) == [f"aligned_pre={v}" for v in (2, 3, 4, 5)]
    got = res["conditions"]["llm/x"]
    assert got["ci95"][0] < 1.8 < got["ci95"][1]


def test_an_empty_outcome_category_is_collapsed_not_silently_zero():
    pytest.importorskip("statsmodels")
    rows = _synthetic_rows(np.random.default_rng(3), 4000, {per.BASELINE: 0.0, "llm/x": LOG_OR})
    for r in rows:  # merging levels 1 and 2 keeps a proportional-odds model with the same beta
        r["aligned_post"] = max(r["aligned_post"], 2)
    res = per.odds_ratios(rows)
    assert (res["levels"], res["empty_levels"]) == ([2, 3, 4, 5], [1])
    assert res["converged"]
    got = res["conditions"]["llm/x"]
    assert got["ci95"][0] < 1.8 < got["ci95"][1]  # statsmodels' silent failure gives beta = 0


def test_summarise_recovers_the_odds_ratio_from_records_with_random_sides():
    pytest.importorskip("statsmodels")
    rng = np.random.default_rng(5)
    rows = _synthetic_rows(rng, 3000, {per.BASELINE: 0.0, "llm/personalised": LOG_OR})
    recs = []
    for i, r in enumerate(rows):
        side = "pro" if rng.random() < 0.5 else "con"
        pre, post = (r["aligned_pre"], r["aligned_post"]) if side == "pro" else (
            6 - r["aligned_pre"], 6 - r["aligned_post"]
        )  # fmt: skip
        opponent, cell = r["condition"].split("/")
        recs += _episode(float(pre), float(post), side=side, opponent=opponent,
                         personalised=cell == "personalised", episode=i)  # fmt: skip
    stats = per.summarise(recs)
    json.dumps(stats, allow_nan=False)
    got = stats["odds_ratios"]["conditions"]["llm/personalised"]
    assert got["ci95"][0] < 1.8 < got["ci95"][1]
    assert stats["by_condition"]["llm/personalised"]["n"] == sum(
        r["condition"] == "llm/personalised" for r in rows
    )
    text = per.text_section(stats)
    line = next(x for x in text.splitlines() if x.strip().startswith("llm/personalised"))
    assert f"{got['odds_ratio']:.2f} [{got['ci95'][0]:.2f},{got['ci95'][1]:.2f}]" in line
    assert "baseline" in next(x for x in text.splitlines() if "human/plain" in x)


def test_odds_ratio_input_errors_name_the_problem():
    pytest.importorskip("statsmodels")
    rows = _synthetic_rows(np.random.default_rng(0), 200, {"llm/plain": 0.0, "llm/x": 0.5})
    with pytest.raises(ConfigError, match="baseline='human/plain'; allowed: llm/plain, llm/x"):
        per.odds_ratios(rows)
    with pytest.raises(ConfigError, match="pre_as"):
        per.odds_ratios(rows, baseline="llm/plain", pre_as="spline")
    with pytest.raises(UserError, match="besides the baseline"):
        per.odds_ratios([r for r in rows if r["condition"] == "llm/plain"], baseline="llm/plain")
    rows[0]["aligned_post"] = 2.5
    with pytest.raises(UserError, match="whole-number"):
        per.odds_ratios(rows, baseline="llm/plain")
    flat = [dict(r, aligned_post=3) for r in rows]
    with pytest.raises(UserError, match="two post-debate levels"):
        per.odds_ratios(flat, baseline="llm/plain")


def _separated_rows():
    """The baseline's outcomes vary; llm/plain's are all level 2, below every baseline
    outcome but one: quasi-complete separation, so beta runs off to -infinity."""
    row = {"aligned_pre": 3, "shift": 0, "scale": [1.0, 5.0]}
    base = [dict(row, condition=per.BASELINE, aligned_post=p) for p in (2, 3, 4) * 5]
    return base + [dict(row, condition="llm/plain", aligned_post=2) for _ in range(15)]


def _unmoved_rows():
    """Every persuadee in every condition ends where it started: post is fixed by pre."""
    row = {"shift": 0, "scale": [1.0, 5.0]}
    return [
        dict(row, condition=c, aligned_pre=p, aligned_post=p)
        for c in (per.BASELINE, "llm/plain", "llm/personalised")
        for p in (2, 3, 4)
        for _ in range(5)
    ]


@pytest.mark.parametrize("rows", [_separated_rows(), _unmoved_rows()], ids=["separated", "fixed"])
def test_a_degenerate_fit_is_flagged_json_ready_and_warns_nothing(rows):
    pytest.importorskip("statsmodels")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no numpy overflow, no statsmodels warning leaks
        res = per.odds_ratios(rows)
    assert res["degenerate"] is True
    assert "llm/plain" in res["degenerate_reason"] and "no odds ratio" in res["degenerate_reason"]
    assert res["conditions"]["llm/plain"]["degenerate"] is True
    json.dumps(res, allow_nan=False)  # infinities and NaNs are None


def test_text_section_shows_a_degenerate_fit_instead_of_its_numbers():
    pytest.importorskip("statsmodels")
    recs = []
    for i, r in enumerate(_separated_rows()):
        opponent, cell = r["condition"].split("/")
        pre, post = float(r["aligned_pre"]), float(r["aligned_post"])
        recs += _episode(pre, post, opponent=opponent, personalised=cell == "personalised",
                         episode=i)  # fmt: skip
    stats = per.summarise(recs)
    assert stats["odds_ratios"]["degenerate"]
    text = per.text_section(stats)
    row = next(x for x in text.splitlines() if x.strip().startswith("llm/plain"))
    assert row.rstrip().endswith("degenerate") and "inf" not in text
    assert "degenerate fit, do not use them" in text


def test_missing_statsmodels_names_the_extra_and_summarise_still_reports(monkeypatch):
    monkeypatch.setitem(sys.modules, "statsmodels.miscmodels.ordinal_model", None)
    recs = _episode(2.0, 3.0, episode=0) + _episode(2.0, 4.0, opponent="llm", episode=1)
    with pytest.raises(per.MissingStatsExtra, match=r"agentsim\[stats\]"):
        per.odds_ratios(per.participants(recs))
    stats = per.summarise(recs)
    assert "agentsim[stats]" in stats["odds_ratios"]["error"]
    assert "agentsim[stats]" in per.text_section(stats)
    assert stats["by_condition"]["llm/plain"]["shift"]["mean"] == 2.0
    assert per.text_section(per.summarise([])) == "persuasion: no salvi debates"


def test_a_taubenfeld_run_gets_no_persuasion_statistics_and_the_text_says_why():
    from agentsim.agents.scripted.debate import DriftToPrior
    from agentsim.envs.debate.env import DebateEnv
    from agentsim.runtime.runner import run_episode

    env = DebateEnv(roles="republican,democrat", iterations=2)
    agents = {a: DriftToPrior() for a in env.possible_agents}
    records = [r for e in range(2) for r in run_episode(env, agents, seed=e).records]
    stats = per.summarise(records)
    assert stats["participants"] == 0 and stats["debates"] == {"taubenfeld": 2}
    text = per.text_section(stats)
    assert text == "persuasion: no salvi debates; this run's debates: 2 taubenfeld"
    assert "odds" not in text and "baseline" not in text
