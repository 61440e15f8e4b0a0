"""The command line: happy paths and user errors (one line, exit 2, no traceback)."""

import json
import subprocess
import sys

import pytest

from agentsim.cli import main


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "agentsim", *args], capture_output=True, text=True, timeout=120
    )


def test_envs_lists_the_donor_game(capsys):
    assert main(["envs"]) == 0
    assert "donor_game_v0" in capsys.readouterr().out


def test_run_then_report(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                "donor-game",
                "--seed",
                "1",
                "--out",
                str(tmp_path),
                "--quiet",
                "--set",
                "generations=3",
                "--set",
                "pairing=released_code",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "run directory:" in out and "summary.json" in out
    (run_dir,) = tmp_path.iterdir()
    config = json.loads((run_dir / "config.json").read_text())
    assert config["env"]["pairing"] == "released_code" and config["run"]["episodes"] == 3
    assert main(["report", str(run_dir)]) == 0
    report = capsys.readouterr().out
    assert "mean final res" in report and "reciprocity" in report
    assert main(["report", str(run_dir), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert set(stats["cooperation"]["mean_final_resources"]) == {"1", "2", "3"}


def test_dry_run_calls_nothing_and_writes_nothing(tmp_path, capsys):
    assert main(["run", "donor-game", "--out", str(tmp_path), "--dry-run"]) == 0
    assert "0 LLM calls" in capsys.readouterr().out
    assert not any(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "donor-game", "--set", "pairing=zigzag"], "pairing"),
        (["run", "donor-game", "--set", "generations=ten"], "generations"),
        (["run", "donor-game", "--set", "nonsense=1"], "unknown key 'nonsense'"),
        (["run", "donor-game", "--set", "noequals"], "key=value"),
        (["run", "donor-game", "--set", "population=defector:3"], "agents=12"),
        (["run", "donor-game", "--set", "population=hawk:12"], "image_scoring"),
        (["run", "no-such-game"], "donor-game"),
        (["run", "donor-game", "--seed", "-1"], "seed"),
        (["run", "donor-game", "--seed", "x"], "--seed"),
        (["report", "/nonexistent/run"], "not a run directory"),
        (["run", "donor-game", "--resume", "/nonexistent/run"], "not a run directory"),
        (["frobnicate"], "invalid choice"),
        (["run", "donor-game", "--set", "multiplier=nan"], "finite"),
        (["run", "donor-game", "--set", "endowment=inf"], "finite"),
        (["run", "donor-game", "--model", "m", "--set", "temperature=nan"], "finite"),
        (["run", "donor-game", "--model", "m", "--set", "prompt_dir=/nonexistent"], "prompt_dir"),
        (["run", "donor-game", "--set", "population=defector:12:3"], "population"),
        (["run", "donor-game", "--set", "population=image_scoring[punish=x]:12"], "population"),
        (["run"], "name an experiment"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(args, needle):
    result = _cli(*args)
    assert result.returncode == 2, result
    assert needle in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_resume_of_a_finished_run_is_a_no_op_with_the_same_summary(tmp_path, capsys):
    assert (
        main(["run", "donor-game", "--out", str(tmp_path), "--quiet", "--set", "generations=2"])
        == 0
    )
    (run_dir,) = tmp_path.iterdir()
    before = (run_dir / "summary.json").read_text()
    assert main(["run", "donor-game", "--resume", str(run_dir), "--quiet"]) == 0
    assert (run_dir / "summary.json").read_text() == before


def test_dry_run_with_a_model_estimates_calls_tokens_and_cost(tmp_path, capsys):
    assert (
        main(
            [
                "run",
                "donor-game",
                "--model",
                "gpt-4o-2024-08-06",
                "--dry-run",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    # 10 generations x 2 games x 12 rounds x 6 donors, + 12 + 9 x 6 strategies
    assert "LLM calls:  1506 (1440 decisions, 66 strategies" in out
    assert "$" in out and "nothing was called" in out
    assert not any(tmp_path.iterdir())
    assert main(["run", "donor-game", "--model", "openai/unpriced", "--dry-run"]) == 0
    assert "unknown" in capsys.readouterr().out


def test_llm_run_replay_and_resume_rules_through_the_cli(tmp_path, capsys):
    args = ["--set", "agents=4", "--set", "rounds=3", "--set", "generations=2", "--quiet"]
    assert (
        main(["run", "donor-game", "--model", "offline/donor", "--out", str(tmp_path), *args]) == 0
    )
    (run_dir,) = tmp_path.iterdir()
    assert (run_dir / "llm_cache.sqlite").is_file()
    capsys.readouterr()
    assert main(["replay", str(run_dir)]) == 0
    assert "replay identical" in capsys.readouterr().out
    assert main(["run", "donor-game", "--resume", str(run_dir), "--set", "agents=6"]) == 2
    assert "only budget_calls" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["run", "donor-game", "--set", "population=llm:12"], "model"),
        (["run", "donor-game", "--model", "m", "--set", "cache=sometimes"], "cache"),
        (["run", "donor-game", "--model", "m", "--set", "temperature=hot"], "temperature"),
        (["replay", "/nonexistent/run"], "not a run directory"),
    ],
)
def test_llm_user_errors(args, needle):
    result = _cli(*args)
    assert result.returncode == 2 and needle in result.stderr, result
    assert "Traceback" not in result.stderr


def _finished_run(tmp_path):
    assert (
        main(["run", "donor-game", "--out", str(tmp_path), "--quiet", "--set", "generations=2"])
        == 0
    )
    (run_dir,) = tmp_path.iterdir()
    return run_dir


def test_resume_rules(tmp_path, capsys):
    run_dir = _finished_run(tmp_path)
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0  # no experiment needed
    for extra, needle in ((["--seed", "3"], "--seed"), (["--out", "x"], "--out")):
        assert main(["run", "--resume", str(run_dir), *extra]) == 2
        assert needle in capsys.readouterr().err
    assert main(["run", "donor-game-punishment", "--resume", str(run_dir)]) == 2
    assert "is a donor-game run" in capsys.readouterr().err
    assert main(["run", "--resume", str(run_dir), "--dry-run"]) == 0
    assert "2 of 2 generations done" in capsys.readouterr().out


def test_broken_run_directories_give_one_line_errors(tmp_path):
    run_dir = _finished_run(tmp_path)
    events = run_dir / "events.jsonl"
    events.write_text(events.read_text() + '{"v": 1, "type": "decis')  # killed mid-line
    assert _cli("report", str(run_dir)).returncode == 0
    events.write_text("not json\n" + events.read_text())
    result = _cli("report", str(run_dir))
    assert result.returncode == 2 and "not a JSON record" in result.stderr
    (run_dir / "config.json").write_text("{}")
    result = _cli("run", "--resume", str(run_dir))
    assert result.returncode == 2 and "malformed" in result.stderr
    (run_dir / "config.json").write_text("{")
    result = _cli("run", "--resume", str(run_dir))
    assert result.returncode == 2 and "cannot be read" in result.stderr
    assert "Traceback" not in result.stderr


def test_runs_started_in_the_same_second_get_distinct_directories(tmp_path):
    for _ in range(2):
        assert (
            main(["run", "donor-game", "--out", str(tmp_path), "--quiet", "--set", "generations=1"])
            == 0
        )
    assert len(list(tmp_path.iterdir())) == 2


def test_a_lock_file_left_by_a_dead_process_does_not_block_a_resume(tmp_path, capsys):
    """The lock is an flock held by a live process (see tests/runtime/test_rundir_concurrency.py);
    a leftover file, whatever pid it names, is free."""
    run_dir = _finished_run(tmp_path)
    for content in ("1", "999999999", "garbage"):
        (run_dir / "run.lock").write_text(content)
        assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
        assert "already completed" in capsys.readouterr().out
