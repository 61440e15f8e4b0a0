"""``show_decision``: one decision of a real (offline-model) run, as the agent met it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from agentsim.core.errors import UserError
from agentsim.core.records import load_records
from agentsim.runtime.experiment import make_config
from agentsim.runtime.loop import run_experiment
from agentsim.runtime.rundir import RunDir
from agentsim.runtime.show import show_decision


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    overrides = [
        "agents=4",
        "rounds=2",
        "generations=2",
        "population=llm:2,defector:2",
        "model=offline/garbage",  # no reply parses: each decision is asked twice, then falls back
        "max_parse_attempts=2",
        "cache=off",
    ]
    config = make_config("donor-game", 0, overrides)
    run = RunDir.create(tmp_path_factory.mktemp("show"), "run", config.to_json())
    asyncio.run(run_experiment(run, config))
    return run.path


def _decisions(run_dir: Path) -> list[dict[str, object]]:
    return load_records(run_dir / "events.jsonl", "decision")


def test_an_llm_decision_shows_the_messages_replies_and_parse(run_dir: Path) -> None:
    decisions = _decisions(run_dir)
    i = next(i for i, d in enumerate(decisions) if d["parse_status"] == "fallback")
    d = decisions[i]
    text = show_decision(run_dir, i)
    assert text.startswith(f"decision {i} of {len(decisions)}: agent {d['agent']} (llm)")
    assert f"generation {d['generation']}, game {d['game']}, round {d['round']}" in text
    assert "LLM call 1 of 2" in text and "LLM call 2 of 2" in text
    assert "[system]" in text and "Every player starts the game with" in text
    assert "You currently have" in text  # the user prompt, as sent
    assert "[reply]" in text and "llamas" in text  # the replies
    assert "[assistant]" in text  # the second call carries the first reply and the re-ask
    assert "parse status: fallback" in text and f"parse_error: {d['parse_error']}" in text
    assert f"action: {json.dumps(d['action'])}" in text
    assert f"own_resources: {json.dumps(d['observation']['own_resources'])}" in text  # type: ignore[index]


def test_a_scripted_decision_shows_its_observation(run_dir: Path) -> None:
    decisions = _decisions(run_dir)
    i = next(i for i, d in enumerate(decisions) if d["parse_status"] == "scripted")
    text = show_decision(run_dir, i)
    assert "(defector)" in text and "a scripted decision" in text
    assert "partner:" in text and "trace_fraction:" in text
    assert "seats (seat index = member): 0=1_1, 1=1_2, 2=1_3, 3=1_4" in text
    assert "parse status: scripted" in text


def test_out_of_range_decisions_are_user_errors(run_dir: Path) -> None:
    n = len(_decisions(run_dir))
    with pytest.raises(UserError, match=f"has {n} decisions"):
        show_decision(run_dir, n)
    with pytest.raises(UserError, match="from 0"):
        show_decision(run_dir, -1)
    with pytest.raises(UserError, match="not a run directory"):
        show_decision(run_dir / "missing", 0)


def test_terminal_escapes_in_a_reply_are_shown_escaped(run_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    copy.mkdir()
    for name in ("config.json", "llm_cache.sqlite"):
        (copy / name).write_bytes((run_dir / name).read_bytes())
    lines = (run_dir / "events.jsonl").read_text().splitlines()
    i = next(i for i, line in enumerate(lines) if '"type":"decision"' in line)
    record = json.loads(lines[i])
    record["raw"] = "\x1b[2J\x1b[31mred"
    lines[i] = json.dumps(record)
    (copy / "events.jsonl").write_text("\n".join(lines) + "\n")
    text = show_decision(copy, 0)
    assert "\x1b" not in text and "\\x1b[31mred" in text
