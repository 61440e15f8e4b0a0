"""Network statistics against hand-computed graphs and values (analysis/networks.py)."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from analysis import networks as N
from analysis.norms import score_assortativity
from analysis.report import run_statistics, sections_of

# ---------------------------------------------------------------- donor game


def _transfer(donor: str, recipient: str, kind: str, amount: float, fraction: float) -> Any:
    return {"type": "transfer", "generation": 1, "game": 0, "round": 0, "donor": donor,
            "recipient": recipient, "kind": kind, "amount": amount, "fraction": fraction,
            "donor_before": 10.0, "recipient_before": 10.0, "shown_fraction": None}  # fmt: skip


def _decision(agent: str, trace_donor: list[int], length: int) -> Any:
    obs = {"trace_length": length, "trace_donor": trace_donor + [-1] * (3 - len(trace_donor))}
    return {"type": "decision", "generation": 1, "agent": agent, "step": 0, "action": [0.5],
            "parse_status": "scripted", "observation": obs}  # fmt: skip


FRACTIONS = {"a": 0.2, "b": 0.4, "c": 0.6, "d": 0.8}
DONOR = [
    {"type": "generation_start", "generation": 1, "seats": ["a", "b", "c", "d"]},
    _transfer("a", "b", "donate", 5.0, 0.5),
    _transfer("a", "b", "donate", 2.0, 0.2),
    _transfer("b", "c", "donate", 4.0, 0.4),
    _transfer("c", "a", "punish", 3.0, 0.3),
    _transfer("d", "a", "donate", 0.0, 0.0),
    _decision("b", [0, 3], 2),  # b was shown a's and d's actions
    _decision("c", [1, 0], 1),  # only the first trace_length entries count: b's
    _decision("d", [0], 1),
    _decision("a", [], 0),
    {"type": "generation_end", "generation": 1, "mean_donation_fraction": FRACTIONS},
]


def test_donation_edges_sum_amount_and_count_of_donations_only() -> None:
    assert N.donation_edges(DONOR, 1) == [
        {"donor": "a", "recipient": "b", "amount": 7.0, "count": 2},
        {"donor": "b", "recipient": "c", "amount": 4.0, "count": 1},
        {"donor": "d", "recipient": "a", "amount": 0.0, "count": 1},
    ]


def test_trace_flow_runs_from_the_shown_member_to_the_donor() -> None:
    assert N.trace_flow_edges(DONOR, 1, ["a", "b", "c", "d"]) == [
        {"source": "a", "target": "b", "count": 1},
        {"source": "a", "target": "d", "count": 1},
        {"source": "b", "target": "c", "count": 1},
        {"source": "d", "target": "b", "count": 1},
    ]
    stats = N.donor_networks(DONOR)["generations"][1]
    assert stats["shown"] == {"a": 2, "b": 1, "d": 1}
    assert stats["most_shown"] == "a"


def test_trace_flow_is_not_available_without_decisions() -> None:
    summary_only = [r for r in DONOR if r["type"] != "decision"]
    stats = N.donor_networks(summary_only)
    assert stats["generations"][1]["trace_flow"] is None
    assert stats["trace_flow"].startswith("not available")
    assert "not available" in N.donor_text(stats)


def test_cooperation_assortativity_is_pearson_over_donor_recipient_pairs() -> None:
    # Pairs (source, target) fractions: (0.2, 0.4), (0.4, 0.6), (0.8, 0.2); by hand r = -0.6547.
    r = N.cooperation_assortativity(N.donation_edges(DONOR, 1), FRACTIONS)
    assert r == pytest.approx(-0.08 / math.sqrt(0.56 / 3 * 0.08))
    assert r == pytest.approx(-0.6547, abs=1e-4)


def test_cooperation_assortativity_is_none_when_undefined() -> None:
    edges = N.donation_edges(DONOR, 1)
    assert N.cooperation_assortativity(edges, dict.fromkeys(FRACTIONS, 0.5)) is None
    assert N.cooperation_assortativity([], FRACTIONS) is None


def test_numeric_assortativity_matches_networkx_and_a_hand_pearson() -> None:
    graph = nx.karate_club_graph()
    values = {n: float(n % 5) / 4 for n in graph}
    nx.set_node_attributes(graph, values, "x")
    expected = nx.numeric_assortativity_coefficient(graph, "x")
    assert N.numeric_assortativity(graph, "x") == pytest.approx(expected)
    assert N.numeric_assortativity(graph, "x") == pytest.approx(
        score_assortativity(graph, [values[n] for n in sorted(graph)])
    )


def test_punishers_centrality_against_the_others() -> None:
    # Interaction graph a->b, b->c, c->a (punish), d->a. Betweenness by hand (pairs / 6):
    # a on c->b, d->b, d->c (3); b on a->c, d->c (2); c on b->a (1); d on none.
    got = N.punisher_centrality(DONOR, 1)
    assert got["punishers"] == ["c"]
    assert got["punisher_mean"] == {"in_degree": 1.0, "out_degree": 1.0,
                                    "betweenness": pytest.approx(1 / 6)}  # fmt: skip
    assert got["others_mean"]["in_degree"] == 1.0  # a 2, b 1, d 0
    assert got["others_mean"]["out_degree"] == 1.0
    assert got["others_mean"]["betweenness"] == pytest.approx((3 / 6 + 2 / 6 + 0) / 3)


def test_no_punishers_gives_no_punisher_means() -> None:
    got = N.punisher_centrality([r for r in DONOR if r.get("kind") != "punish"], 1)
    assert got["punishers"] == []
    assert got["punisher_mean"]["betweenness"] is None


def test_member_fractions_fall_back_to_transfers() -> None:
    no_end = [r for r in DONOR if r["type"] != "generation_end"]
    assert N.member_fractions(no_end, 1) == pytest.approx({"a": 0.35, "b": 0.4, "c": 0.0, "d": 0.0})


# ---------------------------------------------------------------- debate


def _survey(t: int, agent: str, score: float | None, status: str = "ok") -> Any:
    return {"type": "survey", "episode": 1, "iteration": t, "agent": agent, "role": "?",
            "score": score, "parse_status": status, "raw": ""}  # fmt: skip


def _utterance(t: int, agent: str, stated: float | None) -> Any:
    return {"type": "utterance", "episode": 1, "iteration": t, "agent": agent, "role": "?",
            "phase": "debate", "text": "", "stated": stated}  # fmt: skip


DEBATE = [
    {"type": "debate_start", "episode": 1, "protocol": "taubenfeld", "topic": "racism",
     "roles": {"x": "republican", "y": "democrat", "z": "default"}},
    _survey(0, "x", 2), _survey(0, "y", 8), _survey(0, "z", 6),
    _utterance(1, "x", 2),
    _survey(1, "x", 2), _survey(1, "y", 7), _survey(1, "z", 5),
    _utterance(2, "y", 7),
    _survey(2, "x", 3), _survey(2, "y", 7), _survey(2, "z", 5),
    _utterance(3, "z", 5),
    _survey(3, "x", 3), _survey(3, "y", 1, "fallback"), _survey(3, "z", 5),
    _utterance(4, "x", 3),
    _survey(4, "x", 3), _survey(4, "y", 5), _survey(4, "z", 5),
]  # fmt: skip


def test_influence_edges_by_hand() -> None:
    # y's fallback at 3 merges (2,3] and (3,4]: its -2 is shared by z's and x's utterances.
    assert N.influence_edges(DEBATE) == [
        {"speaker": "x", "listener": "y", "change": -2.0, "toward": 2.0, "utterances": 2},
        {"speaker": "x", "listener": "z", "change": -1.0, "toward": 1.0, "utterances": 2},
        {"speaker": "y", "listener": "x", "change": 1.0, "toward": 1.0, "utterances": 1},
        {"speaker": "y", "listener": "z", "change": 0.0, "toward": 0.0, "utterances": 1},
        {"speaker": "z", "listener": "x", "change": 0.0, "toward": 0.0, "utterances": 1},
        {"speaker": "z", "listener": "y", "change": -1.0, "toward": 1.0, "utterances": 1},
    ]


def test_moving_away_from_the_speaker_is_negative_influence() -> None:
    recs = [DEBATE[0], _survey(0, "y", 8), _utterance(1, "x", 2), _survey(1, "y", 9)]
    assert N.influence_edges(recs)[0]["toward"] == -1.0


def test_debate_influence_out_strength_and_most_influential() -> None:
    stats = N.debate_influence(DEBATE)
    (debate,) = stats["debates"]
    assert debate["out_strength"] == {"x": 3.0, "y": 1.0, "z": 1.0}
    assert debate["most_influential"] == "x"
    assert stats["role_out_strength"] == {"default": 1.0, "democrat": 1.0, "republican": 3.0}
    assert stats["most_influential_role"] == "republican"
    assert "republican" in N.debate_text(stats)


def test_a_tie_has_no_most_influential_speaker() -> None:
    recs = [DEBATE[0], _survey(0, "x", 5), _survey(0, "y", 5)]
    assert N.debate_influence(recs)["debates"][0]["most_influential"] is None


# ---------------------------------------------------------------- norm society


def _judged(g: int, scores: dict[str, float]) -> list[Any]:
    return [{"type": "judgement", "judge": "rule", "role": "observer", "item": f"{g}/{m}",
             "agent": m, "score": s, "parse_status": "rule", "generation": g}
            for m, s in scores.items()]  # fmt: skip


NORM = [
    {"type": "norms", "generation": 1, "era": "A", "year": 2000, "norm": [0.1], "text": "",
     "schedule": "bank"},
    {"type": "network", "kind": "path", "nodes": 4, "edges": [[0, 1], [1, 2], [2, 3]]},
    {"type": "generation_start", "generation": 1, "seats": ["m0", "m1", "m2", "m3"]},
    *_judged(1, {"m0": 6, "m1": 2, "m2": 6, "m3": 2}),
    {"type": "generation_start", "generation": 2, "seats": ["m1", "m0", "m2", "m4"]},
    *_judged(2, {"m1": 6, "m0": 6, "m2": 2, "m4": 2}),
    {"type": "norms", "generation": 3, "era": "B", "year": 2010, "norm": [0.9], "text": "",
     "schedule": "bank"},
    {"type": "generation_start", "generation": 3, "seats": ["m1", "m0", "m2", "m4"]},
    *_judged(3, {"m1": 6, "m0": 2, "m2": 6, "m4": 2}),
]  # fmt: skip


def test_norm_spread_by_hand() -> None:
    stats = N.norm_spread(NORM)
    s1, s2, s3 = (stats["steps"][g] for g in (1, 2, 3))
    assert [s["adherence"] for s in (s1, s2, s3)] == [0.5, 0.5, 0.5]
    assert s1["assortativity"] == pytest.approx(-1.0)  # alternating on a path
    assert s2["assortativity"] == pytest.approx(1 / 3)
    assert "adopters" not in s1  # no step before the first
    # m1 (neighbours m0, m2 adherent) adopts; m3 left the population and is not counted.
    assert (s2["adopters"], s2["stayers"], s2["adopter_neighbour_share"]) == (1, 0, 1.0)
    assert s2["stayer_neighbour_share"] is None
    # m2 (neighbours m0 yes, m4 no) adopts; m4 (neighbour m2 no) stays.
    assert (s3["adopters"], s3["adopter_neighbour_share"]) == (1, 0.5)
    assert (s3["stayers"], s3["stayer_neighbour_share"]) == (1, 0.0)
    (change,) = stats["changes"]
    assert (change["generation"], change["era"], change["t50"]) == (3, "B", 0)
    assert [r["t"] for r in change["steps"]] == [0]


def test_adherence_assortativity_agrees_with_the_norms_pearson() -> None:
    graph = N.society_graph(NORM[1])
    adheres = {0: True, 1: True, 2: False, 3: False}
    assert N.adherence_assortativity(graph, adheres) == pytest.approx(
        score_assortativity(graph, [float(adheres[i]) for i in range(4)])
    )


def test_norm_spread_not_available_without_network_or_judgements() -> None:
    no_net = N.norm_spread([r for r in NORM if r["type"] != "network"])
    assert not no_net["available"] and "network" in no_net["reason"]
    no_judge = N.norm_spread([r for r in NORM if r["type"] != "judgement"])
    assert not no_judge["available"] and "judgement" in no_judge["reason"]
    assert "not available" in N.norm_text(no_judge)


# ---------------------------------------------------------------- real runs


def real_run(tmp: Path, experiment: str, *overrides: str) -> Path:
    """The events.jsonl of a tiny scripted run of ``experiment`` (seed 1)."""
    config = make_config(experiment, 1, overrides)
    run = RunDir.create(tmp, "r", config.to_json())
    asyncio.run(run_experiment(run, config))
    return Path(run.file("events.jsonl"))


@pytest.mark.parametrize(
    ("experiment", "sets", "env_id"),
    [
        ("donor-game-punishment", ("run.generations=2", "env.agents=4"), "donor_game_v0"),
        ("debate", ("run.episodes=1",), "debate_v0"),
        ("norm-society-network", ("run.episodes=3", "env.n_agents=20"), "norm_society_v0"),
    ],
)
def test_sections_on_real_runs(tmp_path: Path, experiment: str, sets: Any, env_id: str) -> None:
    stats = run_statistics(real_run(tmp_path, experiment, *sets))
    assert "networks" in [s.name for s in sections_of(env_id)]
    json.dumps(stats["networks"], allow_nan=False)  # JSON-ready
    net = stats["networks"]
    if env_id == "donor_game_v0":
        assert net["trace_flow"] == "available"
        assert all(g["donation_edges"] for g in net["generations"].values())
    elif env_id == "debate_v0":
        assert net["debates"][0]["edges"]
    else:
        assert net["available"] and len(net["steps"]) == 3
