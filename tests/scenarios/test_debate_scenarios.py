"""scenarios/debate.py and scenarios/persuasion.py, each run as a user would: a fresh process."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentsim.games.debate import TOPIC_PRIORS

ROOT = Path(__file__).resolve().parents[2]


def _scenario(script, *args, cwd, pythonpath=None):
    # No provider key: scripted runs and dry runs must need none.
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [pythonpath, env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, str(ROOT / "scenarios" / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )


def _records(run_dir, record_type):
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["type"] == record_type]


def test_debate_scenario_runs_each_condition_and_prints_pooled_statistics(tmp_path):
    out = tmp_path / "runs"
    args = ["--out", str(out), "--quiet", "--kind", "degroot", "--conditions", "3way,echo"]
    result = _scenario(
        "debate.py", *args, "--set", "episodes=2", "--set", "iterations=3", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert len(list(out.iterdir())) == 3  # 3-way, Republican echo, Democrat echo
    # Pooled runs share seed and episode numbers: each condition must still have its own 2.
    for roles in ("default+democrat+republican", "democrat+democrat", "republican+republican"):
        assert f"gun violence | {roles}: attitude by iteration, mean±SE over 2 debates" in text
    prior = TOPIC_PRIORS["gun violence"]
    block = text.split("default+democrat+republican: attitude by iteration")[1]
    row0 = re.search(r"^ +0((?: +\d+\.\d\d±\d+\.\d\d){5})$", block, re.M)
    cells = [tuple(map(float, c.split("±"))) for c in row0.group(1).split()]
    # Iteration 0: each role near its reference rating (default first), jittered per debate
    # (the seeded start jitter), so the standard errors over debates are not 0.
    for (mean, se), role in zip(cells, ("default", "democrat", "republican"), strict=False):
        assert abs(mean - prior[role]) < 1.5 and se > 0, (role, mean, se)
    for needle in ("gap:republican", "gT/g0", "debates cross", "polarisation", "shift"):
        assert needle in text


def test_persuasion_scenario_runs_the_2x2_design_and_prints_odds_ratios(tmp_path):
    out = tmp_path / "runs"
    args = ["--out", str(out), "--quiet", "--set", "episodes=10"]
    result = _scenario("persuasion.py", *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert "persuasion (baseline human/plain; 40 persuadees)" in text
    for condition in ("human/personalised", "llm/plain", "llm/personalised"):
        assert f"  {condition}: OR " in text  # each against the baseline, with its CI
    assert "scripted model's OR 1.81" in text
    runs = sorted(out.iterdir())
    assert len(runs) == 4
    for run in runs:
        # The scripted persuader must argue as the env's opponent: the human conditions'
        # openings are the simulated human's, the LLM conditions' the LLM's.
        opponent = _records(run, "debate_start")[0]["opponent"]
        openings = [
            u["text"]
            for u in _records(run, "utterance")
            if u["role"] == "persuader" and u["phase"] == "opening"
        ]
        llm_style = [t.startswith("There are three strong reasons") for t in openings]
        assert len(openings) == 10
        assert all(llm_style) if opponent == "llm" else not any(llm_style)


def test_persuasion_without_statsmodels_prints_the_shift_table_and_how_to_get_odds_ratios(
    tmp_path,
):
    blocked = tmp_path / "blocked"
    (blocked / "statsmodels").mkdir(parents=True)
    (blocked / "statsmodels" / "__init__.py").write_text("raise ImportError('not installed')\n")
    args = ["--conditions", "human/plain,llm/personalised", "--set", "episodes=3", "--quiet"]
    result = _scenario(
        "persuasion.py",
        *args,
        "--out",
        str(tmp_path / "runs"),
        cwd=tmp_path,
        pythonpath=str(blocked),
    )
    assert result.returncode == 0, result.stderr
    assert re.search(r"^  llm/personalised +3 +[+-]", result.stdout, re.M)  # the shift table
    assert "pip install 'agentsim[stats]'" in result.stdout
    assert "OR " not in result.stdout


@pytest.mark.parametrize("script", ["debate.py", "persuasion.py"])
def test_dry_run_prices_every_condition_and_creates_no_run_directory(script, tmp_path):
    out = tmp_path / "runs"
    result = _scenario(
        script, "--model", "openai/gpt-4o-mini", "--dry-run", "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for needle in ("LLM calls", "prompt tokens", "completion tokens", "cost", "total", "$"):
        assert needle in text
    assert "nothing was called" in text
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # nor a default runs/ folder


@pytest.mark.parametrize(
    ("script", "item", "named"),
    [
        ("debate.py", "bogus=1", "unknown key 'bogus'"),
        ("persuasion.py", "bogus=1", "unknown key 'bogus'"),
        ("debate.py", "roles=republican,republican", "--conditions"),
        ("persuasion.py", "opponent=human", "--conditions"),
    ],
)
def test_a_bad_set_key_is_one_line_and_exit_status_2(script, item, named, tmp_path):
    result = _scenario(script, "--set", item, "--out", str(tmp_path / "runs"), cwd=tmp_path)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"scenarios/{script}: error: ")
    assert named in lines[0]
    assert list(tmp_path.iterdir()) == []


def test_resume_extends_one_run_of_the_scenario_and_reports_it(tmp_path):
    out = tmp_path / "runs"
    first = _scenario("debate.py", "--out", str(out), "--set", "episodes=1", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (run,) = out.iterdir()
    result = _scenario("debate.py", "--resume", str(run), "--set", "episodes=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "mean±SE over 2 debates" in result.stdout
    assert list(out.iterdir()) == [run]


def test_a_human_condition_run_resumes_with_plain_agentsim_run(tmp_path):
    out = tmp_path / "runs"
    args = ["--conditions", "human/personalised", "--set", "episodes=1", "--quiet"]
    first = _scenario("persuasion.py", *args, "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (run,) = out.iterdir()
    # A fresh `agentsim` process, which knows only the registered kinds: the run's seats must
    # be plain `persuader` and `persuadee`, the human condition coming from env.opponent.
    agentsim = Path(sys.executable).with_name("agentsim")
    resumed = subprocess.run(
        [str(agentsim), "run", "--resume", str(run), "--set", "episodes=2", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert resumed.returncode == 0, resumed.stderr
    starts = _records(run, "debate_start")
    assert [s["opponent"] for s in starts] == ["human", "human"]
    openings = [
        u["text"]
        for u in _records(run, "utterance")
        if u["role"] == "persuader" and u["phase"] == "opening"
    ]
    assert len(openings) == 2
    assert not any(t.startswith("There are three strong reasons") for t in openings)
