"""Resume checks the event log and config against the checkpoint; extension of finished runs."""

import asyncio
import json
import threading

import pytest

from agentsim.core.errors import UserError
from agentsim.core.records import load_records
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import RunInterrupted, run_experiment
from agentsim.runtime.rundir import RunDir

SMALL = ["agents=4", "rounds=3"]


def _config(generations, *extra, seed=2):
    return make_config("donor-game", seed, [*SMALL, f"generations={generations}", *extra])


def _events(run):
    return [r for r in load_records(run.file("events.jsonl")) if r["type"] != "run_start"]


def _full(tmp_path, generations, name="full"):
    config = _config(generations)
    run = RunDir.create(tmp_path, name, config.to_json())
    return run, asyncio.run(run_experiment(run, config))


def _interrupted(tmp_path, config, after, name="cut", run=None):
    """A run stopped right after the checkpoint of generation ``after`` (as by Ctrl-C)."""
    run = run or RunDir.create(tmp_path, name, config.to_json())
    stop = threading.Event()

    def progress(done, total):
        if done == after:
            stop.set()

    with pytest.raises(RunInterrupted, match="--resume"):
        asyncio.run(run_experiment(run, config, progress=progress, stop=stop))
    assert json.loads(run.file("checkpoint.json").read_text())["generation"] == after
    return run


def _checkpoint(run):
    return json.loads(run.file("checkpoint.json").read_text())


def _edit_checkpoint(run, **changes):
    state = {**_checkpoint(run), **changes}
    run.file("checkpoint.json").write_text(json.dumps(state))


def _refused(run, config, match):
    """Resuming is refused and touches neither the log nor the checkpoint."""
    files = ("events.jsonl", "checkpoint.json", "config.json")
    before = {f: run.file(f).read_bytes() for f in files if run.file(f).exists()}
    with pytest.raises(UserError, match=match):
        asyncio.run(run_experiment(run, config))
    assert {f: run.file(f).read_bytes() for f in files if run.file(f).exists()} == before


def test_an_interrupted_run_resumes_to_the_uninterrupted_events(tmp_path):
    full, summary = _full(tmp_path, 4)
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    assert asyncio.run(run_experiment(run, config)) == summary
    assert _events(run) == _events(full)


def test_a_log_cut_short_of_the_checkpoint_is_refused_not_padded(tmp_path):
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    events = run.file("events.jsonl")
    events.write_bytes(events.read_bytes()[: _checkpoint(run)["events_offset"] - 50])
    _refused(run, config, r"events\.jsonl is \d+ bytes, shorter than")
    assert b"\0" not in events.read_bytes()


def test_a_missing_log_is_refused(tmp_path):
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    run.file("events.jsonl").unlink()
    _refused(run, config, r"events\.jsonl is missing")
    assert not run.file("events.jsonl").exists()


def test_a_finished_run_without_its_log_is_not_reported_completed(tmp_path):
    run, _ = _full(tmp_path, 2)
    run.file("events.jsonl").unlink()
    _refused(run, _config(2), "missing")


def test_an_absurd_offset_is_refused_without_growing_the_log(tmp_path):
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    size = run.file("events.jsonl").stat().st_size
    _edit_checkpoint(run, events_offset=10**12)
    _refused(run, config, "shorter than the 1000000000000 bytes")
    assert run.file("events.jsonl").stat().st_size == size
    for bad in (-5, "12", True, None):
        _edit_checkpoint(run, events_offset=bad)
        _refused(run, config, "is not a byte length")


def test_a_log_with_a_different_prefix_is_refused(tmp_path):
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    events = run.file("events.jsonl")
    data = events.read_bytes()
    i = data.index(b'"amount":') + len(b'"amount":')
    events.write_bytes(data[:i] + (b"9" if data[i : i + 1] != b"9" else b"8") + data[i + 1 :])
    _refused(run, config, "sha256 differs")


def test_a_checkpoint_generation_the_log_does_not_end_with_is_refused(tmp_path):
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    for generation in (0, 1, 3):
        _edit_checkpoint(run, generation=generation)
        _refused(run, config, "checkpoint and log disagree")
    _edit_checkpoint(run, generation="2")
    _refused(run, config, "is not a generation")


def test_a_deleted_checkpoint_does_not_restart_the_run_over_its_log(tmp_path):
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    run.file("checkpoint.json").unlink()
    _refused(run, config, "checkpoint.json is missing")


def test_changed_decision_settings_are_refused_naming_the_keys(tmp_path):
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    _refused(run, _config(4, seed=3), r"changed seed \(2 -> 3\)")
    _refused(run, _config(4, "multiplier=3"), r"env\.multiplier \(2\.0 -> 3\.0\)")
    _refused(run, _config(4, "mutation=0.2"), "run.mutation")


def test_resumable_keys_may_change(tmp_path):
    full, _ = _full(tmp_path, 4)
    run = _interrupted(tmp_path, _config(4), after=2)
    asyncio.run(run_experiment(run, _config(4, "budget_calls=7", "concurrency=3")))
    assert _events(run) == _events(full)


def test_generations_can_grow_but_not_shrink(tmp_path):
    run = _interrupted(tmp_path, _config(4), after=2)
    _refused(run, _config(3), r"\(generations\) can only grow")
    full, _ = _full(tmp_path, 6)
    asyncio.run(run_experiment(run, _config(6)))
    assert _events(run) == _events(full)


def test_a_checkpoint_from_before_the_digests_still_resumes(tmp_path):
    """Old checkpoints (offset, generation, members only) get the length and last-record checks."""
    full, _ = _full(tmp_path, 4)
    config = _config(4)
    run = _interrupted(tmp_path, config, after=2)
    old = {k: _checkpoint(run)[k] for k in ("generation", "members", "events_offset")}
    run.file("checkpoint.json").write_text(json.dumps(old))
    asyncio.run(run_experiment(run, config))
    assert _events(run) == _events(full)
    run = _interrupted(tmp_path, config, after=2, name="cut2")
    run.file("checkpoint.json").write_text(json.dumps({**old, "generation": 1}))
    _refused(run, config, "checkpoint and log disagree")


@pytest.mark.parametrize(("first", "then"), [(2, 4), (1, 3)])
def test_extending_a_finished_run_gives_the_events_of_a_longer_run(tmp_path, first, then):
    full, summary = _full(tmp_path, then)
    run, _ = _full(tmp_path, first, name="short")
    assert asyncio.run(run_experiment(run, _config(then))) == summary
    assert _events(run) == _events(full)
    assert asyncio.run(run_experiment(run, _config(then))) == summary  # now a no-op


def test_an_extension_killed_halfway_resumes_to_the_longer_run(tmp_path):
    full, summary = _full(tmp_path, 5)
    run, _ = _full(tmp_path, 2, name="short")
    _interrupted(tmp_path, _config(5), after=3, run=run)
    assert asyncio.run(run_experiment(run, _config(5))) == summary
    assert _events(run) == _events(full)


def test_an_extension_interrupted_before_its_first_checkpoint_resumes(tmp_path):
    """The rewound checkpoint is written before the log is cut back."""
    full, summary = _full(tmp_path, 3)
    run, _ = _full(tmp_path, 2, name="short")
    stop = threading.Event()
    stop.set()  # stop at the first round boundary
    with pytest.raises(RunInterrupted):
        asyncio.run(run_experiment(run, _config(3), stop=stop))
    assert _checkpoint(run)["generation"] == 1
    assert asyncio.run(run_experiment(run, _config(3))) == summary
    assert _events(run) == _events(full)


def test_an_llm_run_extends_from_its_cache(tmp_path):
    llm = ["model=offline/donor"]
    config = _config(2, *llm)
    full = RunDir.create(tmp_path, "full", config.to_json())
    expected = asyncio.run(run_experiment(full, config))
    run = RunDir.create(tmp_path, "short", _config(1, *llm).to_json())
    asyncio.run(run_experiment(run, _config(1, *llm)))
    resumed = asyncio.run(run_experiment(run, config))
    volatile = {"latency_s", "attempts", "cached", "run_id"}

    def strip(records):
        return [{k: v for k, v in r.items() if k not in volatile} for r in records]

    assert strip(_events(run)) == strip(_events(full))
    assert resumed["generations"] == expected["generations"]
