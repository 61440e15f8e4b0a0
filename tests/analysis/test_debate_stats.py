"""Debate statistics (Taubenfeld et al. 2024) on hand-made records with hand-computed answers."""

import json
import math

import pytest

from analysis import debate as deb
from analysis.stats import line_crossings, mean_ci, t_quantile

THREE = {"debater_0": "republican", "debater_1": "democrat", "debater_2": "default"}


def _episode(table, roles, *, episode=None, topic="racism", scale=(0, 10), fail=(), fallback=()):
    """Records of one debate: table[t][i] is debater_i's rating after iteration t (None = failed).

    ``fallback`` holds (t, i) surveys recorded as an LLM fallback with a (made-up) score of 9.
    """
    env = {} if episode is None else {"episode": episode, "seed": 0}
    recs = [
        {"v": 1, "type": "debate_start", "protocol": "taubenfeld", "topic": topic,
         "scale": list(scale), "roles": roles, "order": sorted(roles), **env}
    ]  # fmt: skip
    for t, row in enumerate(table):
        for i, score in enumerate(row):
            agent = f"debater_{i}"
            status = "fallback" if (t, i) in fallback else "ok"
            recs.append(
                {"v": 1, "type": "survey", "iteration": t, "agent": agent, "role": roles[agent],
                 "score": 9.0 if status == "fallback" else score, "parse_status": status,
                 "raw": str(score), **env}
            )  # fmt: skip
    recs.append({"v": 1, "type": "debate_end", "iterations": len(table) - 1, **env})
    return recs


# Two repetitions of a 3-agent debate, 2 iterations. Columns: republican, democrat, default.
EP_A = [[2, 8, 7], [3, 8, 7], [4, 7.5, 7]]
EP_B = [[4, 10, 6], [5, 9, 6], [None, 8.5, 6.5]]


@pytest.fixture
def two_reps():
    return _episode(EP_A, THREE, episode=0) + _episode(EP_B, THREE, episode=1)


def test_t_quantile_and_mean_ci_match_the_t_table():
    assert t_quantile(1) == pytest.approx(12.706205, abs=1e-6)
    assert t_quantile(2) == pytest.approx(4.302653, abs=1e-6)
    assert t_quantile(10) == pytest.approx(2.228139, abs=1e-6)
    assert t_quantile(39) == pytest.approx(2.022691, abs=1e-6)
    assert mean_ci([1.0, 2.0, 3.0])["ci95"] == pytest.approx([-0.4841, 4.4841], abs=1e-4)
    assert mean_ci([5.0, 5.0])["ci95"] == [5.0, 5.0]
    assert mean_ci([7.0]) == {"mean": 7.0, "se": None, "n": 1, "ci95": None}
    assert mean_ci([])["mean"] is None


def test_trajectories_mean_and_se_per_role_and_iteration(two_reps):
    traj = deb.trajectories(deb.episodes(two_reps))
    assert traj["republican"]["mean"] == [3.0, 4.0, 4.0]
    assert traj["republican"]["se"] == pytest.approx([1.0, 1.0, None])  # t=2: one answer only
    assert traj["republican"]["n"] == [2, 2, 1]
    assert traj["democrat"]["mean"] == [9.0, 8.5, 8.0]
    assert traj["democrat"]["se"] == pytest.approx([1.0, 0.5, 0.5])
    assert traj["default"]["mean"] == [6.5, 6.5, 6.75]
    assert traj["republican"]["ci95"][0] == pytest.approx([3 - 12.706205, 3 + 12.706205])


def test_shifts_per_agent_and_role_never_impute_a_failed_final_survey(two_reps):
    eps = deb.episodes(two_reps)
    rows = {(r["episode"], r["role"]): r["shift"] for r in deb.agent_shifts(eps)}
    assert rows[("0/0", "republican")] == 2.0
    assert rows[("0/1", "republican")] is None
    assert rows[("0/1", "democrat")] == -1.5
    shifts = deb.role_shifts(eps)
    assert shifts["republican"] == {"mean": 2.0, "se": None, "n": 1, "ci95": None}
    assert shifts["democrat"]["mean"] == pytest.approx(-1.0)
    assert shifts["democrat"]["se"] == pytest.approx(0.5)
    assert shifts["default"]["mean"] == pytest.approx(0.25)


def test_gap_to_default_and_convergence_ratio(two_reps):
    gaps = deb.gap_to_default(deb.episodes(two_reps))
    assert set(gaps) == {"republican", "democrat"}
    # republican: episode A 5, 4, 3; episode B 2, 1, failed.
    rep = gaps["republican"]
    assert rep["by_iteration"]["mean"] == [3.5, 2.5, 3.0]
    assert rep["by_iteration"]["se"][0] == pytest.approx(1.5)
    assert rep["convergence_ratio"] == pytest.approx(3 / 5)  # only A has g_0 and g_T
    assert rep["ratio_episodes"] == 1
    # democrat: A 1, 1, 0.5; B 4, 3, 2  -> (0.5 + 2) / (1 + 4)
    assert gaps["democrat"]["convergence_ratio"] == pytest.approx(0.5)


def test_line_crossings_count_side_changes_not_touches():
    cross = line_crossings([5.0, 6.0, 7.0, 6.0], [6.0, 6.0, 6.0, 6.5])
    assert cross == {"initial_side": "below", "crossed": True, "iterations": [2, 3]}
    touch = line_crossings([5.0, 6.0, 5.0], [6.0, 6.0, 6.0])
    assert touch == {"initial_side": "below", "crossed": False, "iterations": []}
    gaps = line_crossings([None, 6.0, 7.0], [6.0, 6.0, 6.0])
    assert gaps == {"initial_side": "above", "crossed": False, "iterations": []}


def test_crossings_over_mean_lines_and_per_episode(two_reps):
    crossing = _episode(
        [[5, 6], [6, 6], [7, 6]], {"debater_0": "republican", "debater_1": "default"}
    )
    eps = deb.episodes(two_reps)
    res = deb.crossings(deb.trajectories(eps), eps)
    assert res["republican"]["crossed"] is False
    assert res["republican"]["initial_side"] == "below"
    assert res["democrat"]["initial_side"] == "above"
    one = deb.episodes(crossing)
    res1 = deb.crossings(deb.trajectories(one), one)["republican"]
    assert (res1["crossed"], res1["iterations"], res1["episodes_crossed"]) == (True, [2], 1)


def test_echo_chamber_polarisation_and_drift_toward_the_default_bias(two_reps):
    same = {"debater_0": "republican", "debater_1": "republican"}
    echo = (
        _episode([[3, 1], [2, 1], [2, 0]], same, episode=2)  # leans low, more extreme: +1
        + _episode([[4, 4], [4, 4], [4.5, 4.5]], same, episode=3)  # leans low, moderates: -0.5
        + _episode([[5, 5], [6, 6], [6, 6]], same, episode=4)  # starts at the midpoint
    )
    stats = deb.summarise(two_reps + echo)
    pol = stats["conditions"]["racism | republican+republican"]["polarisation"]
    assert pol["polarisation"]["mean"] == pytest.approx(0.25)
    assert pol["polarisation"]["se"] == pytest.approx(0.75)
    assert pol["no_lean"] == 1
    # b = mean Default pre-debate rating on the topic = (7 + 6) / 2; toward = -1, 0.5, 1
    assert pol["default_bias"] == pytest.approx(6.5)
    assert pol["toward_default"]["mean"] == pytest.approx(1 / 6)
    assert stats["conditions"]["racism | default+democrat+republican"]["polarisation"] is None


def test_failures_and_fallbacks_are_counted_and_not_used():
    recs = _episode([[2, 8, 7], [3, 8, 7], [4, None, 7]], THREE, fallback={(1, 2)})
    eps = deb.episodes(recs)
    assert deb.survey_failures(eps) == {
        "total": 2, "missing_score": 1, "fallback": 1, "by_role": {"default": 1, "democrat": 1}
    }  # fmt: skip
    traj = deb.trajectories(eps)
    assert traj["default"]["n"] == [1, 0, 1]  # the fallback's 9 is not the agent's answer
    assert traj["default"]["mean"][1] is None


def test_episodes_group_by_envelope_even_when_interleaved_or_sequential_without_it():
    a, b = _episode(EP_A, THREE, episode=0), _episode(EP_B, THREE, episode=1)
    interleaved = [r for pair in zip(a, b, strict=True) for r in pair]
    eps = deb.episodes(interleaved)
    assert [e.key for e in eps] == ["0/0", "0/1"]
    assert eps[1].scores["debater_1"] == {0: 10.0, 1: 9.0, 2: 8.5}
    plain = deb.episodes(_episode(EP_A, THREE) + _episode(EP_B, THREE))
    assert [e.scores["debater_0"].get(2) for e in plain] == [4.0, None]
    salvi = [{"v": 1, "type": "debate_start", "protocol": "salvi", "roles": {}}]
    assert deb.episodes(salvi) == []


def test_summarise_is_json_ready_and_text_section_reports_it(two_reps):
    stats = deb.summarise(two_reps)
    json.dumps(stats, allow_nan=False)
    cond = stats["conditions"]["racism | default+democrat+republican"]
    assert cond["episodes"] == 2
    assert cond["survey_failures"]["total"] == 1
    text = deb.text_section(stats)
    assert "racism | default+democrat+republican  (2 episodes)" in text
    rep_line = next(line for line in text.splitlines() if line.strip().startswith("republican"))
    assert rep_line.split()[1:] == ["3.00±1.00", "4.00", "2.00", "0.60", "no"]
    assert "survey failures: 1" in text
    assert deb.text_section(deb.summarise([])) == "debate: no taubenfeld debates"
    assert not any(math.isnan(v) for v in cond["trajectories"]["democrat"]["mean"])


def _run_records(protocol, episodes=2, **config):
    """Records of real debate_v0 episodes with the study's scripted seats."""
    from agentsim.agents.scripted.debate import DriftToPrior
    from agentsim.agents.scripted.persuasion import Persuadee, Persuader
    from agentsim.envs.debate.env import DebateEnv
    from agentsim.runtime.runner import run_episode

    env = DebateEnv(protocol=protocol, **config)
    seats = [Persuader(), Persuadee()] if protocol == "salvi" else [DriftToPrior()] * env.num_agents
    agents = dict(zip(env.possible_agents, seats, strict=True))
    return [r for e in range(episodes) for r in run_episode(env, agents, seed=e).records]


def test_a_salvi_run_gets_no_debate_statistics_and_the_text_says_why():
    stats = deb.summarise(_run_records("salvi", episodes=3))
    assert stats["conditions"] == {} and stats["debates"] == {"salvi": 3}
    text = deb.text_section(stats)
    assert text == "debate: no taubenfeld debates; this run's debates: 3 salvi"
    for misleading in ("default", "republican", "crossed", "gT/g0", "polarisation"):
        assert misleading not in text
