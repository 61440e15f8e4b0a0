"""Reading events.jsonl: a malformed line is a MalformedRecord naming file:line (issue 6 #24)."""

import json

import pytest

import agentsim.envs.debate.study
import agentsim.envs.donor_game  # noqa: F401  (registers the donor game's record types)
from agentsim.core.errors import UserError
from agentsim.core.records import (
    MAX_NESTING,
    RECORD_FIELDS,
    MalformedRecord,
    dumps,
    iter_records,
    load_records,
    make_record,
    parse_record,
    register_record_type,
)

GOOD = make_record("game_end", generation=1, game=0, final_resources={"1_1": 3.5, "1_2": 0})


def test_good_records_round_trip():
    assert parse_record(dumps(GOOD), "x:1") == GOOD
    assert parse_record(dumps(GOOD).encode(), "x:1") == GOOD


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("not json", "not a JSON record"),
        ("[1, 2]", "JSON object"),
        ('"text"', "JSON object"),
        ('{"v": 1, "type": "checkpoint", "generation": Infinity}', "not a JSON record"),
        ('{"v": 2, "type": "checkpoint", "generation": 1}', "schema version"),
        ('{"v": 1, "generation": 1}', "no type"),
        ('{"v": 1, "type": 7}', "no type"),
        ('{"v": 1, "type": "game_end", "generation": 1, "game": 0}', "final_resources"),
        ('{"v": 1, "type": "checkpoint", "episode": "2"}', "'episode' must be"),
        ('{"v": 1, "type": "checkpoint", "episode": true}', "'episode' must be"),
        ('{"v": 1, "type": "game_end", "generation": 1, "game": 0, "final_resources": [1]}',
         "final_resources"),
        ('{"v": 1, "type": "selection", "generation": 1, "method": "top", "scores": {},'
         ' "survivors": [1], "removed": []}', "survivors"),
        ("[" * 50_000 + "]" * 50_000, "nested"),
        (json.dumps({"v": 1, "type": "checkpoint", "episode": 1,
                     "x": json.loads("[" * (MAX_NESTING + 1) + "]" * (MAX_NESTING + 1))}),
         "nested"),
        (b'{"v": 1, "type": "checkpoint", "generation": 1, "x": "\xff"}', "not a JSON record"),
    ],
)  # fmt: skip
def test_malformed_lines_name_where_and_what(line, words):
    with pytest.raises(MalformedRecord) as err:
        parse_record(line, "events.jsonl:7")
    assert str(err.value).startswith("events.jsonl:7: ") and words in str(err.value)
    assert isinstance(err.value, UserError) and isinstance(err.value, ValueError)


def test_hostile_values_are_escaped_in_messages():
    line = '{"v": 1, "type": "checkpoint", "generation": "\\u001b[2J\\u202e"}'
    with pytest.raises(MalformedRecord) as err:
        parse_record(line, "e:1")
    assert "\x1b" not in str(err.value) and "\u202e" not in str(err.value)


def test_unknown_types_are_open_schema_but_still_checked():
    rec = parse_record('{"v": 1, "type": "someones_own", "step": 3, "x": {"y": [1]}}', "e:1")
    assert rec["x"] == {"y": [1]}
    with pytest.raises(MalformedRecord, match="step"):
        parse_record('{"v": 1, "type": "someones_own", "step": "3"}', "e:1")


def test_iter_records_names_the_file_and_line_and_skips_a_torn_last_line(tmp_path):
    path = tmp_path / "events.jsonl"
    path.write_text(dumps(GOOD) + "\n\n" + dumps(GOOD) + "\n" + '{"v": 1, "ty', encoding="utf-8")
    assert load_records(path) == [GOOD, GOOD]
    path.write_text(dumps(GOOD) + "\n" + '{"v": 1, "type": "checkpoint"}\n', encoding="utf-8")
    with pytest.raises(MalformedRecord, match=rf"{path.name}:2: 'checkpoint' record is missing"):
        list(iter_records(path))


def test_register_record_type_adds_required_fields_and_refuses_conflicts():
    name = "test_records_vote"
    try:
        register_record_type(name, ("voter", "choice"))
        register_record_type(name, ("voter", "choice"))  # the same again: a no-op
        assert make_record(name, voter="a", choice=1)["type"] == name
        with pytest.raises(MalformedRecord, match="choice"):
            parse_record(json.dumps({"v": 1, "type": name, "voter": "a"}), "e:1")
        with pytest.raises(ValueError, match="already registered"):
            register_record_type(name, ("voter",))
    finally:
        RECORD_FIELDS.pop(name, None)


@pytest.mark.parametrize(
    ("line", "needle"),
    [
        (
            '{"v": 1, "type": "survey", "iteration": "x", "agent": "a", "role": "r", "score": 1, '
            '"parse_status": "ok", "raw": "1"}',
            "'iteration' must be",
        ),
        (
            '{"v": 1, "type": "survey", "iteration": 1, "agent": "a", "role": "r", "score": 1e308, '
            '"parse_status": "ok", "raw": "1"}',
            "'score' must be",
        ),
    ],
)
def test_debate_fields_are_checked_on_read(tmp_path, line, needle):
    path = tmp_path / "events.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(MalformedRecord, match=needle):
        load_records(path)
