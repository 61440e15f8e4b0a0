"""`agentsim report` on hostile run directories: escaped output, file:line errors (issue 6 #24)."""

import asyncio
import json
import shutil

import pytest

from agentsim.cli import main
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir

ESC = "\x1b"


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    parent = tmp_path_factory.mktemp("runs")
    config = make_config("donor-game", 0, ["generations=2", "agents=4", "rounds=4"])
    run = RunDir.create(parent, "r", config.to_json())
    asyncio.run(run_experiment(run, config))
    return run.path


@pytest.fixture
def run_dir(finished_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(finished_run, copy)
    return copy


def _report(run_dir, capsys, *extra):
    status = main(["report", str(run_dir), *extra])
    out, err = capsys.readouterr()
    return status, out, err


def test_report_escapes_terminal_control_characters_from_config(run_dir, capsys):
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    config["experiment"] = f"{ESC}]0;owned{ESC}\\{ESC}[2Jdonor\u202egame"
    config["env"]["pairing"] = f"{ESC}[31mred"
    (run_dir / "config.json").write_text(json.dumps(config), encoding="utf-8")
    status, out, _ = _report(run_dir, capsys)
    assert status == 0
    assert ESC not in out and "\u202e" not in out
    assert "\\x1b]0;owned" in out and "\\u202e" in out
    assert " gen " in out  # the report itself is still there


def _replace_line(run_dir, index, text):
    """Write ``text`` (str or bytes) as line ``index`` (0-based) of events.jsonl; 1-based lineno."""
    path = run_dir / "events.jsonl"
    lines = path.read_bytes().splitlines(keepends=True)
    lines[index] = (text if isinstance(text, bytes) else text.encode("utf-8")) + b"\n"
    path.write_bytes(b"".join(lines))
    return f"events.jsonl:{index + 1}"


def _line_of_type(run_dir, record_type):
    lines = (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if json.loads(line)["type"] == record_type)
    return index, json.loads(lines[index])


def _without(record, key):
    return {k: v for k, v in record.items() if k != key}


BAD_RECORDS = {
    "missing required field": lambda r: _without(r, "recipient"),
    "generation not an integer": lambda r: {**r, "generation": "1; rm -rf /"},
    "amount not a number": lambda r: {**r, "amount": [1, 2]},
    "shown_fraction a string": lambda r: {**r, "shown_fraction": f"{ESC}[2J"},
    "no type": lambda r: _without(r, "type"),
}


@pytest.mark.parametrize("damage", sorted(BAD_RECORDS))
def test_malformed_transfer_records_are_a_clear_error_naming_file_and_line(run_dir, capsys, damage):
    index, record = _line_of_type(run_dir, "transfer")
    where = _replace_line(run_dir, index, json.dumps(BAD_RECORDS[damage](record)))
    for extra in ((), ("--json",)):
        status, _, err = _report(run_dir, capsys, *extra)
        assert status == 2, err
        assert where in err and "Traceback" not in err
        assert ESC not in err


def test_wrong_typed_statistics_and_missing_statistics(run_dir, capsys):
    index, record = _line_of_type(run_dir, "generation_end")
    where = _replace_line(run_dir, index, json.dumps({**record, "mean_final_resources": "lots"}))
    status, _, err = _report(run_dir, capsys)
    assert status == 2 and where in err and "mean_final_resources" in err
    # An env that adds no statistics is not an error: the generation just has no figures.
    _replace_line(run_dir, index, json.dumps({"v": 1, "type": "generation_end", "generation": 1}))
    status, _, err = _report(run_dir, capsys)
    assert status == 0, err


HOSTILE_LINES = {
    "deeply nested array": "[" * 100_000 + "]" * 100_000,
    "nested record field": json.dumps(
        {"v": 1, "type": "checkpoint", "generation": 1, "x": json.loads("[" * 40 + "]" * 40)}
    ),
    "not JSON": "this is not json",
    "a JSON array": "[1, 2, 3]",
    "NaN": '{"v": 1, "type": "checkpoint", "generation": NaN}',
    "schema version": '{"v": 99, "type": "checkpoint", "generation": 1}',
}


@pytest.mark.parametrize("name", sorted(HOSTILE_LINES))
def test_hostile_lines_are_a_clear_error_naming_file_and_line(run_dir, capsys, name):
    where = _replace_line(run_dir, 3, HOSTILE_LINES[name])
    status, _, err = _report(run_dir, capsys)
    assert status == 2, err
    assert where in err and "Traceback" not in err


def test_non_utf8_line_names_its_line(run_dir, capsys):
    where = _replace_line(
        run_dir, 2, b'{"v": 1, "type": "checkpoint", "generation": 1, "x": "\xff"}'
    )
    status, _, err = _report(run_dir, capsys)
    assert status == 2 and where in err


def test_a_derived_section_reads_the_other_sections_without_computing_them_again():
    from analysis.report import Section, register_section, statistics_of, unregister_sections

    calls = []

    def counted(records):
        calls.append(1)
        return {"n": len(records)}

    env = "toy_derived_v0"
    register_section(env, Section("base", counted, str))
    register_section(
        env,
        Section(
            "derived", lambda r: {}, str, derive=lambda stats: {"twice": 2 * stats["base"]["n"]}
        ),
    )
    try:
        stats = statistics_of([{"v": 1, "type": "run_end", "status": "completed"}], env)
    finally:
        unregister_sections(env)
    assert stats["derived"] == {"twice": 2} and len(calls) == 1
    assert list(stats) == ["env_id", "run", "base", "derived"]
