"""The report's generic part (status, stop reason, parse failures, LLM accounting) and the
report of many runs, on tiny real runs of every env (issue 10)."""

from __future__ import annotations

import atexit
import functools
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from agentsim.cli import main
from analysis.report import (
    generic_statistics,
    llm_accounting,
    report_json,
    report_runs_json,
    report_runs_text,
    report_text,
    text_report,
)

ESC = "\x1b"
_TINY = ["--set", "run.generations=2", "--set", "env.agents=4", "--set", "env.rounds=3"]
#: One tiny LLM run (offline models) per env: the four studies' report parts and transcripts.
EXPERIMENTS = {
    "donor": ["donor-game", "--model", "offline/donor", *_TINY],
    "debate": ["debate", "--model", "offline/debate", "--set", "episodes=1",
               "--set", "env.iterations=2"],
    "norm": ["norm-society", "--model", "offline/norm_society", "--set", "observer=llm",
             "--set", "episodes=4", "--set", "env.n_agents=4", "--set", "env.steps_per_era=2"],
    "shop": ["web-shop", "--model", "offline/web_shop", "--set", "episodes=3"],
}  # fmt: skip


def _run(parent: Path, args: list[str], seed: int = 0) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    before = set(parent.iterdir())
    assert main(["run", *args, "--seed", str(seed), "--out", str(parent), "--quiet"]) == 0
    (new,) = set(parent.iterdir()) - before
    return new


@functools.cache
def tiny_runs() -> dict[str, Path]:
    """One finished tiny run per env, made once per test process (copy before changing one)."""
    parent = Path(tempfile.mkdtemp(prefix="agentsim-report-"))
    atexit.register(shutil.rmtree, parent, True)
    return {env: _run(parent / env, args) for env, args in EXPERIMENTS.items()}


@functools.cache
def donor_runs() -> Path:
    """A folder of four scripted donor runs: seeds 0 and 1 x multiplier 2 and 3."""
    parent = Path(tempfile.mkdtemp(prefix="agentsim-report-many-"))
    atexit.register(shutil.rmtree, parent, True)
    for multiplier in ("2", "3"):
        for seed in (0, 1):
            _run(parent, ["donor-game", *_TINY, "--set", f"env.multiplier={multiplier}"], seed)
    return parent


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("env", sorted(EXPERIMENTS))
def test_llm_accounting_agrees_with_summary_json(env):
    run = tiny_runs()[env]
    stats = report_json([run])
    summary = _summary(run)
    llm = stats["run"]["llm"]
    for key in ("calls", "attempts", "errors", "cached", "prompt_tokens", "completion_tokens"):
        assert llm[key] == summary["llm"][key], key
    assert llm["cost_usd"] == pytest.approx(summary["llm"]["cost_usd"])
    assert llm["calls"] > 0 and llm["latency_n"] == llm["calls"]
    assert llm["latency_mean_s"] >= 0 and llm["latency_p95_s"] >= 0
    assert stats["run"]["status"] == summary["status"] == "completed"
    assert stats["run"]["decisions"] == {k: v for k, v in summary["decisions"].items() if v}


@pytest.mark.parametrize("env", sorted(EXPERIMENTS))
def test_text_report_shows_status_parse_failures_llm_and_headline(env):
    run = tiny_runs()[env]
    text = report_text([run])
    assert "status completed; episodes" in text
    assert "parse failures: 0 decisions, 0 judgements" in text
    assert f"LLM calls {_summary(run)['llm']['calls']} (" in text
    assert "latency mean" in text and "p95" in text
    if env == "donor":
        assert "headline: final_mean_resources " in text  # summary.json's figures
    config = json.loads((run / "config.json").read_text(encoding="utf-8"))
    # the sections and header are today's report's
    assert text_report(run / "events.jsonl", config).splitlines()[0] == text.splitlines()[0]


def test_stop_reason_judge_failures_and_accounting_by_hand():
    records = [
        {"type": "decision", "parse_status": "ok"},
        {"type": "decision", "parse_status": "fallback"},
        {"type": "judgement", "judge": "llm", "parse_status": "fallback"},
        {"type": "judgement", "judge": "llm", "parse_status": "ok"},
        {"type": "judgement", "judge": "rule", "parse_status": "rule"},
        {"type": "run_end", "status": "stopped", "reason": "budget", "episodes_completed": 1},
    ]
    s = generic_statistics(records)
    assert (s["status"], s["stop_reason"], s["episodes_completed"]) == ("stopped", "budget", 1)
    assert s["parse_failures"] == {"decisions": 1, "judgements": 1}
    assert s["judgements"] == {"llm": {"fallback": 1, "ok": 1}, "rule": {"rule": 1}}
    base = {"purpose": "p", "prompt_tokens": 1, "completion_tokens": 1}
    calls = [
        {**base, "attempts": 1, "error": None, "cached": False, "latency_s": t, "cost_usd": 0.1}
        for t in (1.0, 2.0, 3.0, 4.0, 5.0)
    ] + [
        {**base, "attempts": 0, "error": None, "cached": True, "latency_s": 0.0, "cost_usd": 0.0},
        {**base, "attempts": 3, "error": "Timeout", "cached": False, "latency_s": 9.0,
         "cost_usd": None},
    ]  # fmt: skip
    a = llm_accounting(calls)
    assert (a["calls"], a["attempts"], a["errors"], a["cached"]) == (7, 8, 1, 1)
    assert a["cost_usd"] == pytest.approx(0.5)  # a failed call's unknown cost is no charge
    # provider calls only (the cache hit is left out): 1 2 3 4 5 9 -> mean 4, p95 = 8
    assert a["latency_n"] == 6 and a["latency_mean_s"] == pytest.approx(4.0)
    assert a["latency_p95_s"] == pytest.approx(8.0)
    unknown = llm_accounting([{**calls[0], "cost_usd": None}])
    assert unknown["cost_usd"] is None


def test_stopped_run_text_names_its_stop_reason(tmp_path):
    run = shutil.copytree(tiny_runs()["donor"], tmp_path / "run")
    events = run / "events.jsonl"
    lines = events.read_text(encoding="utf-8").splitlines()
    end = json.loads(lines[-1])
    assert end["type"] == "run_end"
    lines[-1] = json.dumps({**end, "status": "stopped", "reason": f"budget{ESC}[2J"})
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    text = report_text([run])
    assert "status stopped (stop reason: budget\\x1b[2J)" in text and ESC not in text


def test_many_runs_text_and_json():
    folder = donor_runs()
    stats = report_runs_json([folder])
    json.dumps(stats, allow_nan=False)  # JSON-ready
    assert len(stats["runs"]) == 4 and stats["conditions"] == ["env.multiplier"]
    assert sorted(r["seed"] for r in stats["runs"]) == [0, 0, 1, 1]
    assert {r["status"] for r in stats["runs"]} == {"completed"}
    assert stats["llm"]["runs"] == 4 and stats["llm"]["calls"] == 0
    env = stats["across"]["envs"]["donor_game_v0"]
    assert len(env["conditions"]) == 2
    assert stats["paper_comparison"]["donor_game_v0"]["rows"]
    text = report_runs_text(folder)
    assert "4 runs of donor_game_v0; status: completed 4" in text
    assert "env.multiplier=3" in text and "paper comparison" in text
    assert "LLM over 4 runs: 0 calls" in text
    # several run directories given one by one: the same report
    assert report_text(sorted(p for p in folder.iterdir() if p.is_dir())) == text


def test_a_folder_with_no_runs_or_a_missing_path_is_a_user_error(tmp_path):
    from agentsim.core.errors import UserError

    with pytest.raises(UserError, match=str(tmp_path)):
        report_text([tmp_path])
    for report in (report_text, report_json):
        with pytest.raises(UserError, match="missing is not a run directory"):
            report([tiny_runs()["donor"], tmp_path / "missing"])


def test_a_run_without_summary_reads_no_summary_in_the_runs_table():
    from analysis.report_runs import runs_lines

    rows = [
        {"run": "a", "seed": 0, "status": "completed", "episodes_completed": 2},
        {"run": "b", "seed": 1, "status": "", "episodes_completed": 0},  # still running
    ]
    lines = runs_lines(rows, [])
    assert "status: completed 1, no summary 1" in lines[0]
    assert lines[-1].split()[:3] == ["b", "1", "no"]


def test_a_run_without_run_end_counts_the_episodes_ended_so_far():
    records = [
        {"type": "generation_start", "generation": 1},
        {"type": "generation_end", "generation": 1},
        {"type": "generation_start", "generation": 2},  # still running (or killed) here
    ]
    s = generic_statistics(records)
    assert (s["status"], s["stop_reason"], s["episodes_completed"]) == ("incomplete", None, 1)
    episodes = [{"type": "episode_end", "episode": e} for e in range(3)]
    assert generic_statistics(episodes)["episodes_completed"] == 3
