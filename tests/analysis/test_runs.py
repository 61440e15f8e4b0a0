"""analysis.runs: tidy tables over many real runs, read by DuckDB, against load_records."""

import json
import math
import shutil

import numpy as np
import pytest

from agentsim.cli import main
from agentsim.core.errors import UserError
from agentsim.core.records import RECORD_FIELDS, MalformedRecord, load_records
from analysis.runs import NoRuns, load_runs

pytest.importorskip("duckdb")

TINY = ["--set", "run.generations=2", "--set", "env.agents=4", "--set", "env.rounds=2"]


def _run(out, experiment, seed, *settings):
    """One real run through the CLI; returns its run directory (the only child of ``out``)."""
    argv = ["run", experiment, "--seed", str(seed), "--out", str(out), "--quiet"]
    assert main([*argv, *settings]) == 0
    (run,) = out.iterdir()
    return run


@pytest.fixture(scope="module")
def donor_runs(tmp_path_factory):
    """Four donor-game runs: seeds 0, 1 x env.multiplier 2, 3, under one folder."""
    root = tmp_path_factory.mktemp("donor")
    for multiplier in (2, 3):
        for seed in (0, 1):
            out = root / f"m{multiplier}" / f"s{seed}"
            _run(out, "donor-game", seed, *TINY, "--set", f"env.multiplier={multiplier}")
    return root


@pytest.fixture(scope="module")
def runs(donor_runs):
    return load_runs(donor_runs)


@pytest.fixture(scope="module")
def other_envs(tmp_path_factory):
    """One tiny run each of the debate, the norm society and the web shop."""
    root = tmp_path_factory.mktemp("envs")
    _run(root / "debate", "debate", 0, "--set", "run.episodes=1")
    _run(root / "norms", "norm-society", 0, "--set", "run.steps=2", "--set", "env.n_agents=4")
    _run(root / "shop", "web-shop", 0, "--set", "run.episodes=1")
    return root


def _json(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _same_value(value, original, as_json):
    if as_json and value is not None:
        return json.loads(value) == original  # objects, lists and mixed fields: JSON text
    if isinstance(value, float) and math.isnan(value):
        return original is None
    return value == original


def _is_json_column(originals):
    kinds = {type(o) for o in originals if o is not None}
    return not (kinds <= {int, float} or kinds == {str} or kinds == {bool})


def _assert_records_match(runs, record_type, table):
    """``table`` (Runs.records) has load_records' records of the type, row for row."""
    names = dict(zip(runs.runs()["path"], runs.runs()["run"], strict=True))
    expected = [
        (names[str(path)], _json(path / "config.json")["seed"], record)
        for path in runs.paths
        for record in load_records(path / "events.jsonl", record_type)
    ]
    assert all(len(column) == len(expected) for column in table.values())
    assert table["run"].tolist() == [name for name, _, _ in expected]
    assert table["seed"].tolist() == [seed for _, seed, _ in expected]
    for field in [c for c in table if c not in ("run", "condition", "seed")]:
        originals = [r.get(field.removeprefix("record.")) for _, _, r in expected]
        as_json = _is_json_column(originals)
        for row, (value, original) in enumerate(zip(table[field], originals, strict=True)):
            assert _same_value(value, original, as_json), (record_type, row, field)


def test_runs_table_has_one_row_per_run_from_config_and_summary(runs):
    table = runs.runs()
    assert len(runs) == 4 and len(table["run"]) == 4
    assert runs.conditions() == ["env.multiplier"]
    for i, path in enumerate(runs.paths):
        config, summary = _json(path / "config.json"), _json(path / "summary.json")
        assert str(path).endswith("/" + table["run"][i]) and table["path"][i] == str(path)
        assert table["env_id"][i] == config["env_id"] == "donor_game_v0"
        assert table["experiment"][i] == "donor-game"
        assert table["seed"][i] == config["seed"]
        assert table["status"][i] == summary["status"] == "completed"
        assert table["stop_reason"][i] == "" and table["cell"][i] == ""
        assert table["episodes_completed"][i] == summary["episodes_completed"] == 2
        assert table["env.multiplier"][i] == config["env"]["multiplier"]
        assert table["condition"][i] == f"env.multiplier={config['env']['multiplier']:g}"
    # folders are searched in path order: m2/s0, m2/s1, m3/s0, m3/s1
    assert table["seed"].tolist() == [0, 1, 0, 1]
    assert table["env.multiplier"].tolist() == [2.0, 2.0, 3.0, 3.0]
    assert table["seed"].dtype == np.int64 and table["run"].dtype == object
    assert len(set(table["run"])) == 4  # unique even where two runs started the same second
    assert runs.summaries() == [_json(p / "summary.json") for p in runs.paths]


def test_series_of_generations_is_summary_json_long(runs):
    table = runs.series("generations")
    expected = [
        (name, g)
        for name, path in zip(runs.runs()["run"], runs.paths, strict=True)
        for g in _json(path / "summary.json")["generations"]
    ]
    assert table["run"].tolist() == [name for name, _ in expected]
    for field in ("generation", "mean_final_resources", "mean_donation_fraction"):
        assert table[field].tolist() == [g[field] for _, g in expected]
    assert "survivors" not in table  # a list, not a numeric scalar
    assert table["generation"].dtype == np.int64
    assert set(table["condition"]) == {"env.multiplier=2", "env.multiplier=3"}
    assert "generations" in runs.series_keys()
    assert len(runs.series("no_such_key")["run"]) == 0


@pytest.mark.parametrize("record_type", ["transfer", "decision", "selection", "run_start"])
def test_records_are_those_load_records_parses_in_the_same_order(runs, record_type):
    table = runs.records(record_type)
    expected = [*RECORD_FIELDS[record_type], "episode"]
    if record_type == "transfer":
        assert [c for c in table if c not in ("run", "condition", "seed")] == expected
        assert table["fraction"].dtype == np.float64 and table["round"].dtype == np.int64
    if record_type == "run_start":  # the record's own seed does not hide the run's
        assert "record.seed" in table
    _assert_records_match(runs, record_type, table)


def test_records_with_chosen_fields_and_a_type_no_run_has(runs):
    table = runs.records("generation_end", ["generation", "mean_final_resources", "absent"])
    _assert_records_match(runs, "generation_end", table)
    assert all(v is None for v in table["absent"])
    empty = runs.records("no_such_type")
    assert list(empty) == ["run", "condition", "seed"] and len(empty["run"]) == 0


def test_records_of_a_type_not_registered_take_every_key_in_first_seen_order(donor_runs, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(next(donor_runs.glob("m2/s0/*")), copy)
    with open(copy / "events.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"type":"probe_x","b":"text","a":1}\n')
        fh.write('{"v":1,"type":"probe_x","a":2.5,"c":[1,2]}\n')
    table = load_runs(copy).records("probe_x")
    assert [c for c in table if c not in ("run", "condition", "seed")] == ["b", "a", "c"]
    assert table["b"].tolist() == ["text", None]
    assert table["a"].tolist() == [1.0, 2.5] and table["a"].dtype == np.float64
    assert table["c"][0] is None and json.loads(table["c"][1]) == [1, 2]


def test_sql_sees_the_runs_and_events_views(runs):
    per_run = runs.sql("SELECT run, count(*) AS n FROM events GROUP BY run ORDER BY run")
    expected = {
        name: len(load_records(path / "events.jsonl"))
        for name, path in zip(runs.runs()["run"], runs.paths, strict=True)
    }
    assert dict(zip(per_run["run"], per_run["n"], strict=True)) == expected
    joined = runs.sql(
        "SELECT r.\"env.multiplier\" AS m, avg((e.record->>'$.fraction')::DOUBLE) AS f "
        "FROM events e JOIN runs r USING (run) WHERE e.type = 'transfer' GROUP BY 1 ORDER BY 1"
    )
    assert joined["m"].tolist() == [2.0, 3.0] and np.all(np.isfinite(joined["f"]))
    assert runs.sql("SELECT * FROM runs")["run"].tolist() == runs.runs()["run"].tolist()


def _assert_same_table(a, b):
    assert list(a) == list(b)
    for name in a:
        assert a[name].dtype == b[name].dtype, name
        np.testing.assert_array_equal(a[name], b[name])


def test_parquet_export_loads_back_the_same_tables(runs, tmp_path):
    out = runs.export_parquet(tmp_path / "parquet")
    manifest = _json(out / "manifest.json")
    assert (out / "runs.parquet").is_file() and (out / "events-transfer.parquet").is_file()
    back = load_runs(out)
    assert back.paths == runs.paths and back.conditions() == runs.conditions()
    assert back.summaries() == runs.summaries()
    _assert_same_table(back.runs(), runs.runs())
    _assert_same_table(back.series("generations"), runs.series("generations"))
    assert back.record_types() == runs.record_types() == sorted(manifest["types"])
    for record_type in runs.record_types():
        _assert_same_table(back.records(record_type), runs.records(record_type))
    query = "SELECT run, type, generation, episode, line, record FROM events ORDER BY run, line"
    _assert_same_table(back.sql(query), runs.sql(query))


def _sweep(root, donor_runs, cells):
    """A sweep directory per the sweep.json schema; ``cells``: (cell id, dir, source run)."""
    root.mkdir()
    for _, directory, source in cells:
        shutil.copytree(source, root / directory)
    index = {
        "format": 1,
        "kind": "agentsim-sweep",
        "experiment": "donor-game",
        "seeds": [0, 1],
        "grid": {"env.multiplier": ["2", "3"]},
        "fixed": ["run.generations=2"],
        "model": None,
        "cells": [
            {"cell": c, "dir": d, "seed": 0, "settings": {"env.multiplier": "2"}}
            for c, d, _ in cells
        ],
    }
    (root / "sweep.json").write_text(json.dumps(index), encoding="utf-8")
    return root


def test_sweep_directory_expands_to_its_cells_in_index_order(donor_runs, tmp_path):
    sources = [next(donor_runs.glob(f"m{m}/s0/*")) for m in (2, 3)]
    cells = [("c0000", "zz", sources[0]), ("c0001", "aa", sources[1])]
    sweep = _sweep(tmp_path / "sweep", donor_runs, cells)
    index = _json(sweep / "sweep.json")
    index["cells"].append({"cell": "c0002", "dir": "not-run-yet", "seed": 1, "settings": {}})
    (sweep / "sweep.json").write_text(json.dumps(index), encoding="utf-8")
    runs = load_runs(sweep)
    assert runs.paths == [(sweep / "zz").resolve(), (sweep / "aa").resolve()]
    table = runs.runs()
    assert table["cell"].tolist() == ["c0000", "c0001"]
    assert table["run"].tolist() == ["zz", "aa"]
    assert table["condition"].tolist() == ["env.multiplier=2", "env.multiplier=3"]


def test_runs_sharing_a_directory_name_are_told_apart_by_their_parent(donor_runs, tmp_path):
    source = next(donor_runs.glob("m2/s0/*"))
    a = _sweep(tmp_path / "a", donor_runs, [("c0000", "c0000", source)])
    b = _sweep(tmp_path / "b", donor_runs, [("c0000", "c0000", source)])
    runs = load_runs([a, b, a / "c0000"])  # the third is the first again: kept once
    assert runs.runs()["run"].tolist() == ["a/c0000", "b/c0000"]
    assert len(runs.records("run_end")["run"]) == 2


def test_a_path_without_runs_is_a_user_error_naming_it(tmp_path):
    (tmp_path / "empty").mkdir()
    for path in (tmp_path / "empty", tmp_path / "missing"):
        with pytest.raises(NoRuns, match=str(path)) as info:
            load_runs(path)
        assert isinstance(info.value, UserError) and isinstance(info.value, ValueError)
    with pytest.raises(NoRuns):
        load_runs([])


@pytest.mark.parametrize(
    "bad", [b'{"v":1,"type":"transfer","generation":1,', b'{"v":1,"type":"transfer","x":"\xff"}']
)
def test_a_corrupt_line_is_a_value_error_naming_file_and_line(donor_runs, tmp_path, bad):
    copy = tmp_path / "run"
    shutil.copytree(next(donor_runs.glob("m2/s1/*")), copy)
    events = copy / "events.jsonl"
    lines = events.read_bytes().splitlines(keepends=True)
    lines[6] = bad + b"\n"
    events.write_bytes(b"".join(lines))
    with pytest.raises(MalformedRecord) as expected:
        load_records(events)
    runs = load_runs(copy)
    for read in (lambda: runs.records("transfer"), lambda: runs.sql("SELECT * FROM events")):
        with pytest.raises(ValueError, match=f"{events}:7: ") as got:
            read()
        assert str(got.value) == str(expected.value)


def test_a_run_path_duckdb_would_read_as_a_glob_is_a_user_error(donor_runs, tmp_path):
    copy = tmp_path / "run[1]"
    shutil.copytree(next(donor_runs.glob("m2/s1/*")), copy)
    with pytest.raises(NoRuns, match=r"run\[1\]"):
        load_runs(copy)


def test_a_parquet_export_is_loaded_on_its_own(runs, donor_runs, tmp_path):
    out = runs.export_parquet(tmp_path / "parquet")
    with pytest.raises(NoRuns, match="on its own"):
        load_runs([out, donor_runs])


def test_a_last_line_still_being_written_is_not_a_record(donor_runs, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(next(donor_runs.glob("m3/s0/*")), copy)
    with open(copy / "events.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"type":"run_end","status":"comp')
    runs = load_runs(copy)
    assert len(runs.records("run_end")["run"]) == 1
    per_type = runs.sql("SELECT count(*) AS n FROM events")
    assert per_type["n"][0] == len(load_records(copy / "events.jsonl"))


def test_tables_work_for_every_env(other_envs):
    runs = load_runs(other_envs)
    assert sorted(runs.runs()["env_id"]) == ["debate_v0", "norm_society_v0", "web_shop_v0"]
    assert runs.conditions() == []  # one run per env: nothing varies within an env
    types = runs.record_types()
    for study_type in ("utterance", "survey", "behaviour", "statement", "web_outcome"):
        assert study_type in types
    for record_type in types:
        table = runs.records(record_type)
        registered = RECORD_FIELDS[record_type]
        assert [c.removeprefix("record.") for c in table][3 : 3 + len(registered)] == list(
            registered
        )
        _assert_records_match(runs, record_type, table)


def test_a_subset_keeps_names_and_rows_on_jsonl_and_parquet(runs, tmp_path):
    back = load_runs(runs.export_parquet(tmp_path / "parquet"))
    names = runs.runs()["run"]
    for source in (runs, back):
        part = source.subset([3, 1])
        assert part.runs()["run"].tolist() == [names[3], names[1]]
        assert part.conditions() == ["env.multiplier"]
        transfers = part.records("transfer")
        assert sorted(set(transfers["run"])) == sorted([names[3], names[1]])
        assert transfers["run"][0] == names[3]
        full = runs.records("transfer")
        assert sum(full["run"] == names[3]) == sum(transfers["run"] == names[3])
    assert runs.subset([0]).conditions() == []


def test_settings_that_do_not_change_decisions_make_no_condition(donor_runs, tmp_path):
    # A sweep resumed with a larger budget rewrites only the cells it runs again: the
    # budget (and any other resumable setting) must not split the runs into conditions.
    source = next(donor_runs.glob("m2/s0/*"))
    for i, (budget, gb) in enumerate([(None, 5.0), (5.0, 2.0)]):
        copy = tmp_path / f"run{i}"
        shutil.copytree(source, copy)
        config = _json(copy / "config.json")
        config["llm"]["budget_usd"], config["run"]["max_events_gb"] = budget, gb
        (copy / "config.json").write_text(json.dumps(config), encoding="utf-8")
    runs = load_runs(tmp_path)
    assert runs.conditions() == []
    assert runs.runs()["condition"].tolist() == ["", ""]


def test_the_settings_left_out_of_conditions_are_the_resumable_ones():
    from agentsim.runtime.experiment import RESUMABLE_KEYS
    from analysis.runs import NON_CONDITION_KEYS

    assert {k.partition(".")[2] for k in NON_CONDITION_KEYS} == set(RESUMABLE_KEYS)


def test_a_run_path_with_a_quote_reads_and_exports(runs, donor_runs, tmp_path):
    copy = tmp_path / "it's a run"
    shutil.copytree(next(donor_runs.glob("m2/s1/*")), copy)
    quoted = load_runs(copy)
    assert len(quoted.records("transfer")["run"]) == len(
        load_records(copy / "events.jsonl", "transfer")
    )
    again = load_runs(quoted.export_parquet(tmp_path / "it's parquet"))
    assert (
        again.records("transfer")["fraction"].tolist()
        == quoted.records("transfer")["fraction"].tolist()
    )


def test_a_setting_varying_in_one_env_makes_no_condition_in_another(
    donor_runs, other_envs, tmp_path
):
    source = next(donor_runs.glob("m2/s0/*"))
    for episodes in (2, 3):  # run.episodes varies between the donor runs only
        copy = tmp_path / f"donor{episodes}"
        shutil.copytree(source, copy)
        config = _json(copy / "config.json")
        config["run"]["episodes"] = episodes
        (copy / "config.json").write_text(json.dumps(config), encoding="utf-8")
    shutil.copytree(next((other_envs / "debate").iterdir()), tmp_path / "debate")
    runs = load_runs(tmp_path)
    assert runs.conditions() == ["run.episodes"]
    table = runs.runs()
    by_env = dict(zip(table["run"], table["condition"], strict=True))
    assert by_env == {"donor2": "run.episodes=2", "donor3": "run.episodes=3", "debate": ""}
    from analysis.across import across_statistics

    stats = across_statistics(runs, resamples=50)
    assert stats["envs"]["debate_v0"]["condition_keys"] == []
    assert stats["envs"]["donor_game_v0"]["condition_keys"] == ["run.episodes"]
