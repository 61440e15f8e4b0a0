"""The run lock and run-directory creation under real concurrent processes."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from agentsim.cli import main
from agentsim.core.errors import UserError
from agentsim.runtime.rundir import RunDir

N_PROCESSES = 4

# Contenders wait for a "go" file, then all try the lock at once. A winner holds it until
# every contender has tried, so a correct lock has exactly one winner.
CONTENDER = """
import os, sys, time
from pathlib import Path
from agentsim.core.errors import UserError
from agentsim.runtime.rundir import RunDir
run, box, n = RunDir(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
(box / f"ready-{os.getpid()}").touch()
while not (box / "go").exists():
    time.sleep(0.001)
try:
    with run.lock():
        (box / f"won-{os.getpid()}").touch()
        (box / f"tried-{os.getpid()}").touch()
        while len(list(box.glob("tried-*"))) < n:
            time.sleep(0.001)
except UserError:
    (box / f"tried-{os.getpid()}").touch()
"""

CREATOR = """
import sys, time
from pathlib import Path
from agentsim.runtime.rundir import RunDir
parent, box = Path(sys.argv[1]), Path(sys.argv[2])
(box / f"ready-{sys.argv[3]}").touch()
while not (box / "go").exists():
    time.sleep(0.001)
for _ in range(20):
    RunDir.create(parent, "same-name", {"seed": 0}, unique=True)
"""

HOLDER = """
import sys
from agentsim.runtime.rundir import RunDir
with RunDir(sys.argv[1]).lock():
    print("locked", flush=True)
    sys.stdin.readline()
"""


def _python(script, *args, **kwargs):
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], **kwargs)


def _start_together(tmp_path, script, args_for):
    box = tmp_path / "box"
    box.mkdir()
    procs = [_python(script, *args_for(i, box)) for i in range(N_PROCESSES)]
    while len(list(box.glob("ready-*"))) < N_PROCESSES:  # all imported: start at once
        if any(p.poll() not in (None, 0) for p in procs):
            break
        time.sleep(0.01)  # polling, not a timing assumption
    (box / "go").touch()
    assert [p.wait(120) for p in procs] == [0] * N_PROCESSES
    return box


def test_exactly_one_of_many_simultaneous_processes_gets_the_lock(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    box = _start_together(tmp_path, CONTENDER, lambda i, box: (run_dir, box, N_PROCESSES))
    assert len(list(box.glob("won-*"))) == 1
    assert not (run_dir / "run.lock").exists()  # released


def test_concurrent_runs_of_one_name_get_distinct_directories(tmp_path):
    parent = tmp_path / "runs"
    _start_together(tmp_path, CREATOR, lambda i, box: (parent, box, i))
    made = sorted(parent.iterdir())
    assert len(made) == 20 * N_PROCESSES
    assert all(json.loads((d / "config.json").read_text()) == {"seed": 0} for d in made)


@pytest.fixture
def finished_run(tmp_path):
    settings = ["--set", "generations=1", "--set", "agents=4", "--set", "rounds=2"]
    assert main(["run", "donor-game", "--out", str(tmp_path / "runs"), "--quiet", *settings]) == 0
    (run_dir,) = (tmp_path / "runs").iterdir()
    return run_dir


def test_a_live_run_is_refused_before_anything_is_written(finished_run, capsys):
    holder = _python(HOLDER, finished_run, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        files = {p.name: p.read_bytes() for p in finished_run.iterdir() if p.is_file()}
        code = main(["run", "--resume", str(finished_run), "--set", "budget_calls=5"])
        assert code == 2
        assert f"in use by process {holder.pid}" in capsys.readouterr().err
        assert {p.name: p.read_bytes() for p in finished_run.iterdir() if p.is_file()} == files
    finally:
        holder.stdin.close()
        holder.wait(60)


def test_the_lock_of_a_killed_process_is_free(finished_run, capsys):
    holder = _python(HOLDER, finished_run, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait(60)
    assert (finished_run / "run.lock").read_text().strip() == str(holder.pid)  # left behind
    assert main(["run", "--resume", str(finished_run)]) == 0
    assert "already completed" in capsys.readouterr().out


def test_a_lock_is_not_taken_twice_in_one_process(tmp_path):
    run = RunDir(tmp_path)
    in_use = pytest.raises(UserError, match=f"in use by process {os.getpid()}")
    with run.lock(), in_use, run.lock():
        pass
    with run.lock():  # released after the first
        pass
