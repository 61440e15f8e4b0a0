"""Resuming through the command line: finished runs, extensions, and Ctrl-C."""

import json
import signal
import subprocess
import sys
import time

from agentsim.cli import main
from agentsim.core.records import load_records

SMALL = ["--set", "agents=4", "--set", "rounds=3", "--quiet"]


def _run(out, generations, *extra):
    args = ["run", "donor-game", "--seed", "4", "--out", str(out), *SMALL, *extra]
    assert main([*args, "--set", f"generations={generations}"]) == 0
    (run_dir,) = out.iterdir()
    return run_dir


def _events(run_dir):
    return [r for r in load_records(run_dir / "events.jsonl") if r["type"] != "run_start"]


def test_resuming_a_finished_run_says_so_and_writes_nothing(tmp_path, capsys):
    run_dir = _run(tmp_path, 2)
    files = {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()}
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "already completed (2 generations); nothing to do" in out
    assert "mean final resources" not in out  # not the table again
    assert {p.name: p.read_bytes() for p in run_dir.iterdir() if p.is_file()} == files


def test_set_generations_extends_a_finished_run(tmp_path, capsys):
    full = _run(tmp_path / "full", 4)
    run_dir = _run(tmp_path / "short", 2)
    assert main(["run", "--resume", str(run_dir), "--set", "run.generations=3", "--quiet"]) == 0
    assert main(["run", "--resume", str(run_dir), "--set", "generations=4", "--quiet"]) == 0
    assert _events(run_dir) == _events(full)
    assert json.loads((run_dir / "config.json").read_text())["run"]["episodes"] == 4
    summary = (run_dir / "summary.json").read_text()
    assert summary == (full / "summary.json").read_text()
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--set", "generations=3"]) == 2
    assert "(generations) can only grow" in capsys.readouterr().err


def test_an_edited_config_is_refused_naming_the_key(tmp_path, capsys):
    run_dir = _run(tmp_path, 2)
    config = json.loads((run_dir / "config.json").read_text())
    config["env"]["multiplier"] = 3.0
    (run_dir / "config.json").write_text(json.dumps(config))
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--set", "generations=3"]) == 2
    assert "env.multiplier (2.0 -> 3.0)" in capsys.readouterr().err


def test_one_ctrl_c_stops_at_a_round_boundary_and_the_run_resumes(tmp_path):
    generations = 60
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "agentsim", "run", "donor-game", "--seed", "4", "--out", str(out),
         *SMALL, "--set", f"generations={generations}"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        events = list(out.glob("*/events.jsonl"))
        if events and b'"type":"checkpoint"' in events[0].read_bytes():
            break
        time.sleep(0.01)  # polling the log for progress
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, (stdout, stderr)
    (run_dir,) = out.iterdir()
    assert f"agentsim run --resume {run_dir}" in stderr
    assert "Traceback" not in stderr
    stopped = json.loads((run_dir / "summary.json").read_text())
    assert stopped["status"] == "stopped" and stopped["stop_reason"] == "interrupted (Ctrl-C)"
    assert 1 <= stopped["generations_completed"] < generations
    assert main(["run", "--resume", str(run_dir), "--quiet"]) == 0
    full = _run(tmp_path / "full", generations)
    assert _events(run_dir) == _events(full)
