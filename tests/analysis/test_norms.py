"""Norm-violation statistics (analysis/norms.py) on hand-written records, answers by hand.

The run: 4 agents on a ring 0-1-2-3-0, two eras of three steps (2000s: steps 1-3, norm 0.3;
2010s: steps 4-6, norm 0.7). Seats 2 and 3 get new members from step 4 on, and judgement
records arrive in reverse seat order, so a mix-up of members and graph nodes shows.
"""

import doctest
import json
import math

import networkx as nx
import pytest

import analysis.norms
from analysis import norms
from analysis.report import run_statistics, sections_of, text_report
from analysis.stats import cohen_kappa, mean_ci

# The primary ("rule") judge's scores per step, by seat (graph node).
RULE = {1: [6, 6, 5, 4], 2: [7, 6, 6, 5], 3: [7, 7, 6, 6], 4: [3, 2, 4, 3], 5: [5, 4, 3, 4],
        6: [7, 6, 6, 5]}  # fmt: skip
# An audit ("llm") judge on steps 1 and 4: (score, label, parse_status); seat 3 of step 4 fell back.
AUDIT = {
    1: [(6, "adheres", "ok"), (5, "adheres", "ok"), (5, "adheres", "ok"), (4.5, "partly", "ok")],
    4: [(3, "violates", "ok"), (2, "violates", "ok"), (5, "adheres", "ok"),
        (4, "partly", "fallback")],
}  # fmt: skip
RING = [[0, 1], [1, 2], [2, 3], [3, 0]]


def _seats(g):
    return ["m0", "m1", "m2", "m3"] if g <= 3 else ["m0", "m1", "m4", "m5"]


def _label(score):
    return "adheres" if score >= 5 else "violates" if score <= 3 else "partly"


def _judgement(judge, g, seat, score, label, status="rule"):
    return {"v": 1, "type": "judgement", "judge": judge, "item": f"{g}/agent_{seat}",
            "score": score, "label": label, "parse_status": status, "rationale": "",
            "agent": _seats(g)[seat], "generation": g}  # fmt: skip


def _end(g, **extra):
    scores = RULE[g]
    rec = {"v": 1, "type": "generation_end", "generation": g, "era": "2000s" if g <= 3 else "2010s",
           "year": 2000 + 2 * (g - 1), "mean_score": sum(scores) / 4, "best_score": max(scores),
           "violation_rate": 0.5 if g == 4 else 0.1 * g,
           "adherence_rate": sum(s >= 5 for s in scores) / 4, "diversity": 0.05 * g,
           "norm_distance": 0.2}  # fmt: skip
    if g == 1:
        del rec["diversity"]  # recomputed from the statements
    return {**rec, **extra}


def _step(g, audit=True):
    recs = [{"v": 1, "type": "generation_start", "generation": g, "seats": _seats(g),
             "kinds": ["evolutionary"] * 4}]  # fmt: skip
    if g in (1, 4):
        era, norm = ("2000s", [0.3, 0.3]) if g == 1 else ("2010s", [0.7, 0.7])
        recs.append({"v": 1, "type": "norms", "era": era, "year": 2000 + 2 * (g - 1),
                     "norm": norm, "text": "...", "schedule": "bank", "episode": g})  # fmt: skip
    if g == 1:
        recs.append({"v": 1, "type": "network", "kind": "ring", "nodes": 4, "edges": RING,
                     "episode": 1})  # fmt: skip
        for seat, vec in enumerate([[0, 0], [1, 0], [0, 1], [1, 1]]):
            recs.append({"v": 1, "type": "statement", "agent": _seats(1)[seat], "vector": vec,
                         "episode": 1})  # fmt: skip
    if g == 4:  # 8 behaviours, 5 violating: the rate 0.625 replaces generation_end's 0.5
        for i, label in enumerate(["violates"] * 5 + ["partly", "adheres", "partly"]):
            recs.append({"v": 1, "type": "behaviour", "agent": _seats(4)[i % 4], "round": i // 4,
                         "situation": 0, "option": "A", "vector": [0.1, 0.1], "score": 2.0,
                         "label": label, "episode": 4})  # fmt: skip
    for seat in reversed(range(4)):
        recs.append(_judgement("rule", g, seat, RULE[g][seat], _label(RULE[g][seat])))
    for seat, (score, label, status) in enumerate(AUDIT.get(g, []) if audit else []):
        recs.append(_judgement("llm", g, seat, score, label, status))
    omit = ("assortativity", "violator_clustering")  # absent: recomputed from the network
    end = _end(g)
    return [*recs, {k: v for k, v in end.items() if k not in omit}]


def _run(audit=True):
    return [r for g in range(1, 7) for r in _step(g, audit)]


RECORDS = _run()
F = {g: (sum(s) / 4 - 1) / 6 for g, s in RULE.items()}


# ---------------------------------------------------------------- per step


def test_step_table_by_hand():
    rows = {r["generation"]: r for r in norms.step_table(RECORDS)}
    assert list(rows) == [1, 2, 3, 4, 5, 6]
    assert rows[1]["fitness"] == pytest.approx(4.25 / 6)
    assert rows[4]["fitness"] == pytest.approx(2 / 6)
    assert rows[4]["best_score"] == 4 and rows[4]["era"] == "2010s" and rows[4]["year"] == 2006
    assert rows[4]["violation_rate"] == pytest.approx(5 / 8)
    assert rows[4]["violation_source"] == "behaviour"
    assert rows[5]["violation_rate"] == pytest.approx(0.5)
    assert rows[5]["violation_source"] == "generation_end"
    # Statements (0,0), (1,0), (0,1), (1,1): SD 0.5 on both dimensions.
    assert rows[1]["diversity"] == pytest.approx(0.5)
    assert rows[2]["diversity"] == pytest.approx(0.1)


def test_network_measures_recomputed_from_the_ring_by_hand():
    rows = {r["generation"]: r for r in norms.step_table(RECORDS)}
    # Step 1, scores 6 6 5 4 (deviations .75 .75 -.25 -1.25): edge products sum to -0.25,
    # both orientations -0.5; sum of squares 2 * 2.75 = 5.5; r = -1/11.
    assert rows[1]["assortativity"] == pytest.approx(-1 / 11)
    assert rows[1]["violator_clustering"] is None  # nobody violates
    # Step 4, scores 3 2 4 3: violators 0, 1, 3 (share 3/4); of their 6 neighbours 4 violate.
    assert rows[4]["violator_clustering"] == pytest.approx((4 / 6) / (3 / 4))
    # Step 5, scores 5 4 3 4: the lone violator (node 2) has no violating neighbour.
    assert rows[5]["violator_clustering"] == 0.0


def test_assortativity_matches_networkx():
    graph = nx.cycle_graph(4)
    for g, scores in RULE.items():
        nx.set_node_attributes(graph, dict(enumerate(scores)), "score")
        ours = norms.score_assortativity(graph, scores)
        if ours is None:
            continue
        assert ours == pytest.approx(nx.numeric_assortativity_coefficient(graph, "score")), g


def test_assortativity_oracles():
    bipartite = nx.complete_bipartite_graph(3, 4)
    assert norms.score_assortativity(bipartite, [1.0] * 3 + [7.0] * 4) == pytest.approx(-1.0)
    cliques = nx.disjoint_union(nx.complete_graph(3), nx.complete_graph(3))
    assert norms.score_assortativity(cliques, [2.0] * 3 + [6.0] * 3) == pytest.approx(1.0)
    assert norms.score_assortativity(cliques, [4.0] * 6) is None


def test_logged_network_measures_are_kept_even_when_none():
    recs = [r for r in RECORDS if r["type"] != "generation_end"]
    recs += [_end(g, assortativity=0.25 if g == 1 else None, violator_clustering=1.5)
             for g in range(1, 7)]  # fmt: skip
    rows = {r["generation"]: r for r in norms.step_table(recs)}
    assert rows[1]["assortativity"] == 0.25 and rows[2]["assortativity"] is None
    assert rows[4]["violator_clustering"] == 1.5


def test_members_are_mapped_to_graph_nodes_through_the_seats():
    # Step 4 seats m0 m1 m4 m5; the scores follow the member, not the record order.
    got = norms.network_measures(RECORDS)[4]
    assert got["violator_clustering"] == pytest.approx(8 / 9)


# ---------------------------------------------------------------- eras and adaptation


def test_eras_from_norms_records():
    got = norms.eras(RECORDS)
    assert [(e["generation"], e["era"]) for e in got] == [(1, "2000s"), (4, "2010s")]
    assert got[0]["change"] is None
    assert got[1]["change"] == pytest.approx(math.sqrt(0.32))


def test_eras_from_the_era_field_without_norms_records():
    got = norms.eras([r for r in RECORDS if r["type"] == "generation_end"])
    assert [(e["generation"], e["era"]) for e in got] == [(1, "2000s"), (4, "2010s")]


def test_boundary_by_hand():
    (b,) = norms.boundary_effects(RECORDS)
    f_pre = (F[1] + F[2] + F[3]) / 3  # the whole previous era (3 < window 10)
    assert b["generation"] == 4 and b["era"] == "2010s"
    assert b["drop"] == pytest.approx(F[3] - F[4]) == pytest.approx(3.5 / 6)
    assert b["dip"] == pytest.approx(f_pre - F[4]) == pytest.approx(8.75 / 18)
    # 0.9 * F_pre = 0.7375: steps 4 (0.333) and 5 (0.5) fall short, step 6 (0.833) recovers.
    assert b["lag"] == 2 and not b["censored"]
    assert b["adherence"] == [0.0, 0.25, 1.0]
    assert b["t50"] == 2
    assert b["steps_observed"] == 3


def test_era_table_by_hand():
    got = norms.era_table(RECORDS)
    assert got[0]["fitness"] == pytest.approx((F[1] + F[2] + F[3]) / 3)
    assert got[1]["fitness"] == pytest.approx((F[4] + F[5] + F[6]) / 3)
    assert got[0]["violation_rate"] == pytest.approx((0.1 + 0.2 + 0.3) / 3)
    assert got[1]["violation_rate"] == pytest.approx((5 / 8 + 0.5 + 0.6) / 3)
    assert got[1]["final_adherence"] == 1.0 and got[1]["steps"] == 3


def test_lag_recovers_after_three_steps():
    series = {g: 1.0 for g in range(1, 11)} | {11: 0.5, 12: 0.6, 13: 0.8, 14: 0.95, 15: 1.0}
    lag, dip = norms.adaptation_lag(series, 11)
    assert lag == 3
    assert dip == pytest.approx(0.5)


def test_lag_never_recovers_is_censored_but_has_a_dip():
    series = {g: 0.8 for g in range(1, 11)} | {11: 0.2, 12: 0.4, 13: 0.7}
    lag, dip = norms.adaptation_lag(series, 11)
    assert lag is None
    assert dip == pytest.approx(0.6)


def test_lag_window_takes_fewer_steps_when_the_run_has_fewer():
    # F_pre = mean(0.5, 1.0) = 0.75 over the 2 steps there are: target 0.675.
    series = {1: 0.5, 2: 1.0, 3: 0.6, 4: 0.7}
    assert norms.adaptation_lag(series, 3) == (1, pytest.approx(0.15))
    # With window 1, F_pre = 1.0: 0.7 < 0.9 is censored.
    assert norms.adaptation_lag(series, 3, window=1)[0] is None
    # A recovery at or after ``end`` does not count.
    assert norms.adaptation_lag(series, 3, end=4) == (None, pytest.approx(0.15))
    assert norms.adaptation_lag(series, 1) == (None, None)


def test_a_recovery_in_the_next_era_is_not_credited(tmp_path):
    # Era b (steps 3-4) never recovers; era c starts at 5 with high fitness again.
    recs = [
        {"v": 1, "type": "generation_end", "generation": g, "era": era, "mean_score": score}
        for g, era, score in [(1, "a", 7), (2, "a", 7), (3, "b", 1), (4, "b", 2), (5, "c", 7)]
    ]
    first, second = norms.boundary_effects(recs)
    assert first["lag"] is None and first["steps_observed"] == 2
    assert second["lag"] == 0


def test_the_pre_change_window_stays_inside_the_previous_era():
    # Era b (steps 3-4) sits at F = 0.1; era c starts at F = 0.2. Against era b alone that is
    # recovered (lag 0); a window reaching back into era a (F = 1) would call it censored.
    scores = [(1, "a", 7.0), (2, "a", 7.0), (3, "b", 1.6), (4, "b", 1.6), (5, "c", 2.2)]
    recs = [
        {"v": 1, "type": "generation_end", "generation": g, "era": era, "mean_score": score}
        for g, era, score in scores
    ]
    assert norms.boundary_effects(recs)[1]["lag"] == 0
    assert norms.adaptation_lag({g: (s - 1) / 6 for g, _, s in scores}, 5)[0] is None


# ---------------------------------------------------------------- spread of a new norm


def _ring_spread_records(via_judgements):
    """Era a (steps 1-5), then era b from step 6 with A(t) = (2 + 2t)/100, t = 0..49."""
    recs = []
    for g in range(1, 56):
        t = g - 6
        share = 1.0 if t < 0 else (2 + 2 * t) / 100
        end = {"v": 1, "type": "generation_end", "generation": g, "era": "a" if t < 0 else "b",
               "mean_score": 4.0}  # fmt: skip
        if via_judgements and t >= 0:
            recs += [
                {"v": 1, "type": "judgement", "judge": "rule", "item": f"{g}/agent_{i}",
                 "score": 6.0 if i < 2 + 2 * t else 2.0, "parse_status": "rule"}
                for i in range(100)
            ]  # fmt: skip
        else:
            end["adherence_rate"] = share
        recs.append(end)
    return recs


@pytest.mark.parametrize("via_judgements", [False, True])
def test_t50_on_a_ring_is_24(via_judgements):
    (b,) = norms.boundary_effects(_ring_spread_records(via_judgements))
    assert b["generation"] == 6
    assert b["adherence"][0] == pytest.approx(0.02) and b["adherence"][49] == pytest.approx(1.0)
    assert b["t50"] == 24


def test_t50_never_reached_is_none():
    assert norms.t50([0.1, 0.2, 0.49]) is None
    assert norms.t50([None, 0.6]) == 1


# ---------------------------------------------------------------- judges and agreement


def test_parse_failures_per_judge():
    assert norms.parse_failures(RECORDS) == {
        "rule": {"judgements": 24, "fallback": 0},
        "llm": {"judgements": 8, "fallback": 1},
    }


def test_agreement_by_hand():
    (cell,) = norms.agreement(RECORDS, n_boot=200).values()
    assert list(norms.agreement(RECORDS, n_boot=10)) == ["rule|llm"]
    assert cell["items"] == 7  # the fallback item is left out
    # Rounded pairs (6,6) (6,5) (5,5) (4,5) (3,3) (2,2) (4,5): p_o = 4/7; margins rule
    # 6:2 5:1 4:2 3:1 2:1, llm 6:1 5:4 3:1 2:1: p_e = 8/49; kappa = 20/41. 4.5 rounds up to 5.
    assert cell["unweighted"]["kappa"] == pytest.approx(20 / 41)
    # Labels: 6 of 7 agree; margins A3 P2 V2 vs A4 P1 V2: p_e = 18/49; kappa = 24/31.
    assert cell["labels"]["kappa"] == pytest.approx(24 / 31)
    rule = [6, 6, 5, 4, 3, 2, 4]
    llm = [6, 5, 5, 5, 3, 2, 5]
    for weights in ("linear", "quadratic"):
        expected = cohen_kappa(rule, llm, range(1, 8), weights)
        assert cell[weights]["kappa"] == pytest.approx(expected)
    lo, hi = cell["linear"]["ci95"]
    assert lo <= cell["linear"]["kappa"] <= hi


def test_two_rule_judges_are_told_apart_by_role_and_the_observer_is_primary():
    # Both judges are named "rule"; the audit's records come first, and it says everyone adheres.
    recs = []
    for g in (1, 2):
        for seat in range(4):
            audit = _judgement("rule", g, seat, 6.0, "adheres")
            recs.append({**audit, "role": "audit"})
            observer = _judgement("rule", g, seat, RULE[g][seat], _label(RULE[g][seat]))
            recs.append({**observer, "role": "observer"})
    assert norms.judges(recs) == ["observer:rule", "audit:rule"]
    assert norms.adherence(recs) == {1: 0.75, 2: 1.0}
    (pair,) = norms.agreement(recs, n_boot=10)
    assert pair == "observer:rule|audit:rule"
    assert norms.parse_failures(recs)["audit:rule"] == {"judgements": 8, "fallback": 0}


def test_fallback_judgements_do_not_count_as_adherence():
    recs = [_judgement("rule", 1, i, 6.0, "adheres") for i in range(3)]
    recs.append(_judgement("rule", 1, 3, 4.0, "partly", "fallback"))
    assert norms.adherence(recs) == {1: 1.0}


def test_no_second_judge_no_agreement():
    assert norms.agreement(_run(audit=False)) == {}


# ---------------------------------------------------------------- several runs (seeds)


def _seed_run(shift):
    """A copy of the run with every score shifted by ``shift`` (kept inside 1..7)."""
    out = []
    for r in RECORDS:
        r = dict(r)
        if r["type"] == "generation_end":
            r["mean_score"] += shift
        out.append(r)
    return out


def test_across_three_seeds_equals_mean_ci_of_per_seed_values():
    runs = [_seed_run(s) for s in (0.0, 0.3, -0.6)]
    got = norms.summarise_runs(runs)
    assert got["runs"] == 3
    for row in got["steps"]:
        g = row["generation"]
        per_seed = [F[g] + s / 6 for s in (0.0, 0.3, -0.6)]
        expected = mean_ci(per_seed)
        assert row["fitness"]["mean"] == pytest.approx(expected["mean"])
        assert row["fitness"]["ci95"] == pytest.approx(expected["ci95"])
    era_means = [(F[1] + F[2] + F[3]) / 3 + s / 6 for s in (0.0, 0.3, -0.6)]
    assert got["eras"][0]["fitness"]["ci95"] == pytest.approx(mean_ci(era_means)["ci95"])


def test_across_seeds_median_lag_and_censored_fraction():
    base = norms.summarise(RECORDS)["boundaries"]
    stuck = [dict(r) for r in RECORDS]
    for r in stuck:  # step 6 as bad as step 5: never recovers
        if r["type"] == "generation_end" and r["generation"] == 6:
            r["mean_score"] = 4.0
    runs = [RECORDS, RECORDS, stuck]
    (b,) = norms.summarise_runs(runs)["boundaries"]
    assert base[0]["lag"] == 2
    assert b["median_lag"] == 2.0 and b["lag_censored"] == pytest.approx(1 / 3)
    assert b["median_t50"] == 2.0 and b["t50_censored"] == 0.0
    assert b["drop"]["mean"] == pytest.approx(F[3] - F[4])
    (b,) = norms.summarise_runs([RECORDS, stuck, stuck])["boundaries"]
    assert b["median_lag"] is None and b["lag_censored"] == pytest.approx(2 / 3)


def test_censored_median():
    assert norms.censored_median([1, 3, None, None]) is None  # upper middle censored
    assert norms.censored_median([1, 3, 5, None]) == 4.0
    assert norms.censored_median([None]) is None


def test_agreement_and_failures_across_runs():
    got = norms.summarise_runs([RECORDS, RECORDS])
    cell = got["agreement"]["rule|llm"]
    assert cell["runs"] == 2 and cell["items"] == 14
    assert cell["unweighted"]["mean"] == pytest.approx(20 / 41)
    assert got["judges"]["llm"] == {"judgements": 16, "fallback": 2}


# ---------------------------------------------------------------- report


def _write(path, records):
    start = {"v": 1, "type": "run_start", "run_id": "r", "experiment": "norm-society",
             "env": "norm_society_v0", "seed": 1, "resumed_from": None}  # fmt: skip
    lines = [json.dumps(r) for r in [start, *records]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_report_section_is_registered_and_json_ready(tmp_path):
    # Other analysis modules (networks, paper comparison) add their sections too.
    assert {"norms", "networks", "paper_comparison"} <= {
        s.name for s in sections_of("norm_society_v0")
    }
    stats = run_statistics(_write(tmp_path / "events.jsonl", RECORDS))
    json.dumps(stats, allow_nan=False)
    assert stats["norms"]["boundaries"][0]["lag"] == 2


def test_text_report_shows_the_table_and_the_norm_change(tmp_path):
    text = text_report(_write(tmp_path / "events.jsonl", RECORDS))
    assert "step 4 (2010s): drop 0.583, dip 0.486, lag 2 steps, t50 2" in text
    assert "network: ring, 4 nodes, 4 edges" in text
    assert "judge llm: 8 judgements, 1 fallback" in text
    assert "agreement rule|llm on 7 items" in text


def test_summary_level_run_needs_only_generation_end(tmp_path):
    ends = [r for r in RECORDS if r["type"] == "generation_end"]
    stats = norms.summarise(ends)
    (b,) = stats["boundaries"]
    assert b["lag"] == 2 and b["adherence"] == [0.0, 0.25, 1.0]
    assert stats["steps"][3]["violation_rate"] == 0.5  # generation_end's own
    assert stats["steps"][0]["assortativity"] is None and stats["network"] is None


def test_runs_statistics_and_text_over_run_directories(tmp_path):
    for seed in (1, 2):
        (tmp_path / str(seed)).mkdir()
        _write(tmp_path / str(seed) / "events.jsonl", _seed_run(0.1 * seed))
    stats = norms.runs_statistics([tmp_path / "1", tmp_path / "2"])
    text = norms.text_runs(stats)
    assert stats["runs"] == 2
    assert "change at step 4 (2010s)" in text and "median lag 2.0 (censored 0%)" in text


def test_docstring_examples_run():
    assert doctest.testmod(analysis.norms).failed == 0
