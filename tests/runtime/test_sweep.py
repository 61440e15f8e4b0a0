"""``agentsim sweep``: planning, the index, cells equal to ``agentsim run``, resume, errors."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentsim.cli import main
from agentsim.core.errors import ConfigError, UserError
from agentsim.core.records import load_records
from agentsim.runtime import sweep
from agentsim.runtime.session import RunTask, execute

TINY = ["--set", "run.generations=2", "--set", "env.agents=4", "--set", "env.rounds=2"]
GRID = ["--seeds", "0..1", "--set", "env.multiplier=2,3", *TINY]


def _sweep(out, *args, workers=1):
    code = main(["sweep", "donor-game", *args, "--out", str(out), "--workers", str(workers)])
    (path,) = out.iterdir()
    return code, path


def _summaries(path):
    return {c.name: (c / "summary.json").read_text() for c in sorted(path.glob("c*"))}


def _events(run_dir):
    records = load_records(run_dir / "events.jsonl")
    return [{k: v for k, v in r.items() if k != "run_id"} for r in records]


@pytest.fixture(scope="module")
def grid_sweep(tmp_path_factory):
    """The 2 seeds x 2 multipliers sweep, run once in-process (workers=1)."""
    code, path = _sweep(tmp_path_factory.mktemp("grid"), *GRID, "--quiet")
    assert code == 0
    return path


# --- planning ------------------------------------------------------------------------------


@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 5)), min_size=1, max_size=5))
def test_seed_specs_round_trip(ranges):
    # Disjoint, increasing ranges written as "a..b" (or "a" alone) parse back to their seeds.
    seeds, parts, start = [], [], 0
    for gap, length in ranges:
        first, last = start + gap, start + gap + length
        seeds += range(first, last + 1)
        parts.append(f"{first}..{last}" if length else str(first))
        start = last + 1
    assert sweep.parse_seeds(",".join(parts)) == seeds


@pytest.mark.parametrize("spec", ["", "a", "3..1", "-1", "0..2,2", "1...3", "0..1000000"])
def test_bad_seed_specs_name_the_flag(spec):
    with pytest.raises(ConfigError, match="--seeds"):
        sweep.parse_seeds(spec)


def test_sets_split_into_axes_and_fixed_values():
    grid, fixed = sweep.parse_sets(
        [
            "env.multiplier=2,3",
            "run.generations=2",
            "run.population=a:6,b:6|a:4,b:8",
            "population=a:6,b:6|",
        ]
    )
    assert grid == {"env.multiplier": ["2", "3"], "run.population": ["a:6,b:6", "a:4,b:8"]}
    assert fixed == ["run.generations=2", "population=a:6,b:6"]


@pytest.mark.parametrize(
    ("items", "match"),
    [
        (["env.rounds=2", "env.rounds=3"], "one --set per key"),
        (["env.rounds=2,2"], "distinct values"),
        (["llm.budget_calls=5,10"], "share one budget"),
        (["rounds"], "KEY=VALUE"),
    ],
)
def test_bad_sets_are_refused(items, match):
    with pytest.raises(ConfigError, match=match):
        sweep.parse_sets(items)


@given(
    st.dictionaries(
        st.sampled_from(["env.a", "env.b", "run.c"]),
        st.lists(st.text("xyz", min_size=1, max_size=3), min_size=1, max_size=3, unique=True),
        max_size=3,
    ),
    st.lists(st.integers(0, 99), min_size=1, max_size=4, unique=True),
)
def test_the_grid_is_every_combination_times_every_seed(grid, seeds):
    cells = sweep.plan_cells(grid, seeds)
    assert [c.cell for c in cells] == [f"c{i:04d}" for i in range(len(cells))]
    combos = {(tuple(c.settings.items()), c.seed) for c in cells}
    size = len(seeds)
    for values in grid.values():
        size *= len(values)
    assert len(cells) == len(combos) == size
    assert [c.seed for c in cells[: len(seeds)]] == list(seeds)  # seeds are innermost
    assert sweep.plan_cells(grid, seeds) == cells


# --- the sweep directory -------------------------------------------------------------------


def test_the_index_lists_every_cell(grid_sweep):
    index = json.loads((grid_sweep / "sweep.json").read_text())
    assert grid_sweep.name.startswith("donor-game-sweep-")
    assert index["format"] == 1 and index["kind"] == "agentsim-sweep"
    assert index["experiment"] == "donor-game" and index["seeds"] == [0, 1]
    assert index["grid"] == {"env.multiplier": ["2", "3"]}
    assert index["fixed"] == ["run.generations=2", "env.agents=4", "env.rounds=2"]
    assert index["model"] is None
    assert [(c["cell"], c["dir"], c["seed"], c["settings"]) for c in index["cells"]] == [
        ("c0000", "c0000", 0, {"env.multiplier": "2"}),
        ("c0001", "c0001", 1, {"env.multiplier": "2"}),
        ("c0002", "c0002", 0, {"env.multiplier": "3"}),
        ("c0003", "c0003", 1, {"env.multiplier": "3"}),
    ]
    for cell in index["cells"]:
        config = json.loads((grid_sweep / cell["dir"] / "config.json").read_text())
        assert config["seed"] == cell["seed"]
        assert config["env"]["multiplier"] == float(cell["settings"]["env.multiplier"])


def test_a_cell_is_the_run_agentsim_run_writes(grid_sweep, tmp_path, capsys):
    args = ["run", "donor-game", "--seed", "1", "--out", str(tmp_path), *TINY, "--quiet"]
    assert main([*args, "--set", "env.multiplier=3"]) == 0
    (run_dir,) = tmp_path.iterdir()
    cell = grid_sweep / "c0003"
    assert (cell / "summary.json").read_text() == (run_dir / "summary.json").read_text()
    assert _events(cell) == _events(run_dir)
    assert json.loads((cell / "config.json").read_text()) == json.loads(
        (run_dir / "config.json").read_text()
    )
    capsys.readouterr()
    assert main(["report", str(cell)]) == 0
    assert "generation" in capsys.readouterr().out


def test_two_workers_give_the_same_cells_as_one(grid_sweep, tmp_path):
    code, path = _sweep(tmp_path, *GRID, "--quiet", workers=2)
    assert code == 0
    assert _summaries(path) == _summaries(grid_sweep)


def test_the_result_table_names_every_cell(tmp_path, capsys):
    code, _ = _sweep(tmp_path, "--seeds", "3", "--set", "env.multiplier=2,3", *TINY, "--quiet")
    assert code == 0
    out = capsys.readouterr().out
    assert "c0000  3     env.multiplier=2  completed" in out
    assert "c0001  3     env.multiplier=3  completed" in out


def test_a_bad_setting_is_one_error_and_nothing_runs(tmp_path, capsys):
    args = ["sweep", "donor-game", "--seeds", "0..2", "--out", str(tmp_path)]
    assert main([*args, "--set", "env.multiplier=2,banana", *TINY]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "multiplier" in err and "allowed" in err
    assert main([*args, "--set", "env.no_such_key=1,2"]) == 2
    assert "unknown key 'env.no_such_key'" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_dry_run_lists_the_cells_and_the_llm_estimate(tmp_path, capsys):
    args = ["sweep", "donor-game", "--seeds", "0..1", "--out", str(tmp_path), *TINY]
    assert main([*args, "--model", "offline/donor", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "c0001  1" in out and "2 cells with offline/donor" in out
    single = ["run", "donor-game", "--model", "offline/donor", *TINY, "--dry-run"]
    assert main(single) == 0
    calls = int(capsys.readouterr().out.split("LLM calls:")[1].split()[0])
    assert f": {2 * calls} LLM calls" in out
    assert not tmp_path.exists() or not any(tmp_path.iterdir())


# --- resume --------------------------------------------------------------------------------


class _StopAfter:
    """A stop flag that is set from its n-th look on (a Ctrl-C at a round boundary)."""

    def __init__(self, n):
        self.n = n

    def is_set(self):
        self.n -= 1
        return self.n < 0


def test_resume_continues_partial_cells_and_starts_the_others(grid_sweep, tmp_path):
    plan, _ = sweep.plan("donor-game", "0..1", ["env.multiplier=2,3", *TINY[1::2]])
    path = sweep.create(tmp_path, plan)
    first = sweep.tasks(path, plan)
    assert execute(first[0]).status == "completed"
    assert execute(first[1], _StopAfter(3)).status == "interrupted"  # a partial cell
    assert main(["sweep", "--resume", str(path), "--workers", "1", "--quiet"]) == 0
    assert _summaries(path) == _summaries(grid_sweep)


def test_resume_after_a_killed_sweep_gives_the_uninterrupted_cells(tmp_path):
    args = ["--seeds", "0..3", "--set", "run.generations=6", *TINY[2:], "--quiet"]
    full_code, full = _sweep(tmp_path / "full", *args)
    assert full_code == 0
    out = tmp_path / "killed"
    command = [sys.executable, "-m", "agentsim", "sweep", "donor-game", *args]
    proc = subprocess.Popen([*command, "--out", str(out), "--workers", "1"])
    try:
        deadline = time.monotonic() + 120
        while not list(out.glob("*/c0001/checkpoint.json")) and proc.poll() is None:
            assert time.monotonic() < deadline, "the sweep never reached its second cell"
            time.sleep(0.02)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    (path,) = out.iterdir()
    assert main(["sweep", "--resume", str(path), "--workers", "1", "--quiet"]) == 0
    assert _summaries(path) == _summaries(full)


def test_resume_refuses_a_new_grid(grid_sweep, capsys):
    assert main(["sweep", "--resume", str(grid_sweep), "--seeds", "0..5"]) == 2
    assert "--seeds cannot change a resumed sweep" in capsys.readouterr().err
    assert main(["sweep", "--resume", str(grid_sweep), "--set", "env.rounds=3"]) == 2
    assert "only" in capsys.readouterr().err


def test_a_failing_cell_does_not_stop_the_others(tmp_path, capsys):
    plan, _ = sweep.plan("donor-game", "0..1", TINY[1::2])
    path = sweep.create(tmp_path, plan)
    (path / "c0000").mkdir()
    (path / "c0000" / "config.json").write_text("{}")  # a cell that cannot start
    assert main(["sweep", "--resume", str(path), "--workers", "1", "--quiet"]) == 1
    captured = capsys.readouterr()
    assert "c0000  0     -         failed" in captured.out
    assert "c0001  1     -         completed" in captured.out
    assert "config.json is malformed" in captured.err and "(c0000)" in captured.err
    assert (path / "c0001" / "summary.json").is_file()


# --- LLM cells and backends ----------------------------------------------------------------


def test_llm_cells_share_one_budget(tmp_path, capsys):
    # Each cell alone makes fewer calls than the budget; together they make more.
    args = ["--seeds", "0..1", "--model", "offline/donor", *TINY, "--quiet"]
    code, path = _sweep(tmp_path / "free", *args, workers=2)
    assert code == 0
    calls = [json.loads(s)["llm"]["calls"] for s in _summaries(path).values()]
    budget = max(calls) + 2
    limited = [*args, "--set", f"llm.budget_calls={budget}"]
    code, path = _sweep(tmp_path / "budget", *limited, workers=1)
    assert code == 3
    summaries = [json.loads(s) for s in _summaries(path).values()]
    assert [s["status"] for s in summaries] == ["completed", "stopped"]
    paid = sum(s["llm"]["calls"] - s["llm"]["errors"] for s in summaries)
    assert paid <= budget
    assert "budget" in capsys.readouterr().err
    # A resume counts what the completed cell spent: the budget is still spent.
    assert main(["sweep", "--resume", str(path), "--workers", "1", "--quiet"]) == 3
    assert json.loads((path / "c0001" / "summary.json").read_text())["status"] == "stopped"


def test_llm_sweeps_are_refused_on_ray():
    task = RunTask("unused", "donor-game", 0)
    with pytest.raises(UserError, match="--backend local only"):
        sweep.run_cells([task], backend="ray", llm=True)


def test_ray_backend_without_ray_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    with pytest.raises(UserError, match=r"pip install 'agentsim\[ray\]'"):
        sweep.run_cells([RunTask("unused", "donor-game", 0)], backend="ray")


def test_address_needs_the_ray_backend(tmp_path, capsys):
    assert main(["sweep", "donor-game", "--address", "auto", "--out", str(tmp_path)]) == 2
    assert "--backend ray" in capsys.readouterr().err


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
def test_ctrl_c_stops_the_sweep_resumably(tmp_path):
    args = ["--seeds", "0..3", "--set", "run.generations=6", *TINY[2:], "--quiet"]
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "agentsim", "sweep", "donor-game", *args]
    proc = subprocess.Popen([*command, "--out", str(out), "--workers", "1"], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(out.glob("*/c0000/checkpoint.json")) and proc.poll() is None:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    (path,) = out.iterdir()
    assert proc.returncode == 130  # the later cells had not started when the signal landed
    assert b"resume with `agentsim sweep --resume" in err and b"Traceback" not in err
    assert main(["sweep", "--resume", str(path), "--workers", "1", "--quiet"]) == 0


def test_inside_a_sweep_one_limiter_serves_a_provider():
    from agentsim.agents.llm.settings import LLMSettings
    from agentsim.runtime.llm_runtime import shared_budgets, shared_limiter

    a, b = LLMSettings(model="offline/donor"), LLMSettings(model="offline/donor-0.5")
    assert shared_limiter(a) is not shared_limiter(b)  # outside a sweep: per model
    with shared_budgets():
        assert shared_limiter(a) is shared_limiter(b)


def test_resuming_a_finished_sweep_skips_it_and_set_extends_every_cell(tmp_path, capsys):
    code, path = _sweep(tmp_path, "--seeds", "0..1", *TINY, "--quiet")
    assert code == 0
    before = _summaries(path)
    capsys.readouterr()
    assert main(["sweep", "--resume", str(path), "--workers", "1", "--quiet"]) == 0
    assert "completed (earlier)" in capsys.readouterr().out
    assert _summaries(path) == before
    resume = ["sweep", "--resume", str(path), "--workers", "1", "--quiet"]
    assert main([*resume, "--set", "generations=3"]) == 0
    for summary in _summaries(path).values():
        assert len(json.loads(summary)["generations"]) == 3


def test_a_model_axis_makes_an_llm_sweep():
    assert sweep.Sweep("donor-game", [0], {"llm.model": ["offline/donor", "x/y"]}, []).uses_llm()
    assert sweep.Sweep("donor-game", [0], {}, ["model=offline/donor"]).uses_llm()
    assert not sweep.Sweep("donor-game", [0], {"env.rounds": ["2", "3"]}, []).uses_llm()


def test_a_value_with_commas_split_by_mistake_gets_the_bar_hint(tmp_path, capsys):
    population = "image_scoring:2,defector:2"
    args = ["sweep", "donor-game", "--out", str(tmp_path), *TINY, "--dry-run"]
    assert main([*args, "--set", f"run.population={population}"]) == 2
    assert f"--set 'run.population={population}|'" in capsys.readouterr().err
    assert main([*args, "--set", f"run.population={population}|"]) == 0
    assert "1 cell, scripted agents only" in capsys.readouterr().out


def test_a_script_without_a_main_guard_runs_one_sweep_on_worker_processes(tmp_path):
    # Spawned workers import the parent's main script unless it is hidden from them: a
    # script that calls the sweep at top level would start a new sweep in every worker.
    script = tmp_path / "my_sweep.py"
    script.write_text(
        "from agentsim.cli import main\n"
        "main(['sweep', 'donor-game', '--seeds', '0..1', '--workers', '2', '--quiet',\n"
        "      '--set', 'run.generations=2', '--set', 'env.agents=4', '--set', 'env.rounds=2',\n"
        "      '--out', 'out'])\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (sweep_dir,) = (tmp_path / "out").iterdir()  # one sweep, not one per worker
    statuses = [
        json.loads((sweep_dir / c / "summary.json").read_text())["status"]
        for c in ("c0000", "c0001")
    ]
    assert statuses == ["completed", "completed"]


def test_a_resumed_llm_sweep_counts_every_cells_past_spending_before_any_cell_runs(tmp_path):
    # The partial cell comes first in index order: it must not spend the budget that the
    # completed cell after it has already used (its spending is counted before any cell runs).
    plan, _ = sweep.plan("donor-game", "0..1", TINY[1::2], model="offline/donor")
    path = sweep.create(tmp_path, plan)
    first = sweep.tasks(path, plan)
    assert execute(first[1]).status == "completed"
    assert execute(first[0], _StopAfter(3)).status == "interrupted"

    def paid():
        summaries = [json.loads(s) for s in _summaries(path).values()]
        return sum(s["llm"]["calls"] - s["llm"]["errors"] for s in summaries if s)

    budget = paid() + 1  # one call more than both cells have paid so far
    resume = ["sweep", "--resume", str(path), "--set", f"llm.budget_calls={budget}"]
    assert main([*resume, "--workers", "1", "--quiet"]) == 3
    assert json.loads((path / "c0000" / "summary.json").read_text())["status"] == "stopped"
    assert paid() <= budget


def test_resume_refuses_a_bad_backend_before_touching_the_sweep(grid_sweep, capsys):
    index = (grid_sweep / "sweep.json").read_bytes()
    assert main(["sweep", "--resume", str(grid_sweep), "--workers", "0"]) == 2
    out = capsys.readouterr()
    assert "sweep directory" not in out.out and "--workers" in out.err
    assert main(["sweep", "debate", "--resume", str(grid_sweep)]) == 2
    assert "donor-game sweep, not debate" in capsys.readouterr().err
    assert (grid_sweep / "sweep.json").read_bytes() == index
