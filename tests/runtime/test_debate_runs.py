"""debate_v0 through the study contract: CLI runs, report, concurrency, stop/resume, replay."""

import json
import sqlite3
from pathlib import Path

import pytest

from agentsim.cli import main
from agentsim.core.records import load_records

VOLATILE = ("latency_s", "run_id", "cached", "attempts", "resumed_from")


def _run(tmp_path: Path, name: str, *args: str) -> Path:
    out = tmp_path / name
    assert main(["run", *args, "--out", str(out), "--quiet"]) == 0
    (run_dir,) = out.iterdir()
    return run_dir


def _events(run_dir: Path) -> list[dict]:
    records = []
    for r in load_records(run_dir / "events.jsonl"):
        if r["type"] in ("run_start", "run_end"):
            continue
        records.append({k: v for k, v in r.items() if k not in VOLATILE})
    return records


def test_scripted_debate_runs_summarises_and_reports(tmp_path, capsys):
    run_dir = _run(tmp_path, "a", "debate", "--set", "episodes=3", "--set", "iterations=3")
    out = capsys.readouterr().out
    assert "debate   1 gun_violence: republican" in out and "status: completed; debates: 3" in out
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["env_id"] == "debate_v0" and summary["episodes_completed"] == 3
    assert [row["episode"] for row in summary["episodes"]] == [1, 2, 3]
    records = load_records(run_dir / "events.jsonl")
    starts = [r for r in records if r["type"] == "episode_start"]
    assert [r["episode"] for r in starts] == [1, 2, 3]
    surveys = [r for r in records if r["type"] == "survey"]
    # Three debaters surveyed before the debate and after each of 3 utterances, 3 debates.
    assert len(surveys) == 3 * 3 * 4 and all(r["score"] is not None for r in surveys)
    decisions = [r for r in records if r["type"] == "decision"]
    assert all(r["observation"]["transcript"] == {"rendered_from_records": True} for r in decisions)
    assert main(["report", str(run_dir)]) == 0
    report = capsys.readouterr().out
    assert "debate gun violence" in report and "republican" in report
    assert main(["report", str(run_dir), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["env_id"] == "debate_v0" and "debate" in stats and "persuasion" in stats


def test_concurrent_episodes_write_the_events_of_sequential_ones(tmp_path):
    args = ["debate", "--seed", "4", "--model", "offline/debate", "--set", "episodes=4"]
    args += ["--set", "iterations=3"]
    one = _run(tmp_path, "one", *args, "--set", "concurrent_episodes=1")
    four = _run(tmp_path, "four", *args, "--set", "concurrent_episodes=4")
    assert _events(one) == _events(four)
    calls = [r for r in load_records(four / "events.jsonl") if r["type"] == "llm_call"]
    assert calls and {r["episode"] for r in calls} == {1, 2, 3, 4}


def test_a_debate_stopped_by_its_budget_resumes_to_the_same_events_paying_nothing_twice(
    tmp_path, capsys
):
    args = ["debate", "--seed", "1", "--model", "offline/debate", "--set", "episodes=3"]
    args += ["--set", "iterations=2", "--set", "concurrent_episodes=1"]
    full = _run(tmp_path, "full", *args)
    paid_full = sum(
        1
        for r in load_records(full / "events.jsonl")
        if r["type"] == "llm_call" and not r["cached"]
    )
    out = tmp_path / "cut"
    # Each debate makes 2 utterances + 3 x 3 surveys = 11 calls: stop inside debate 2.
    assert main(["run", *args, "--out", str(out), "--quiet", "--set", "budget_calls=15"]) == 3
    (cut,) = out.iterdir()
    assert main(["run", "--resume", str(cut), "--quiet", "--set", "budget_calls=1000"]) == 0
    assert _events(cut) == _events(full)
    calls = [r for r in load_records(cut / "events.jsonl") if r["type"] == "llm_call"]
    # The partial debate's calls were paid before the stop and answered from the cache
    # after it: the provider answered each distinct call once, as in the uninterrupted run.
    assert any(r["cached"] for r in calls) and len(calls) == paid_full
    assert _cached_replies(cut) == _cached_replies(full) == paid_full


def _cached_replies(run_dir: Path) -> int:
    with sqlite3.connect(run_dir / "llm_cache.sqlite") as db:
        return int(db.execute("select count(*) from responses").fetchone()[0])


def test_a_debate_replays_from_its_cache_with_no_provider_call(tmp_path, capsys):
    run_dir = _run(tmp_path, "a", "persuasion", "--model", "offline/debate", "--set", "episodes=2")
    capsys.readouterr()
    assert main(["replay", str(run_dir), "--quiet"]) == 0
    assert "0 provider calls" in capsys.readouterr().out


def test_evolution_settings_are_refused_for_a_study_without_evolution(tmp_path, capsys):
    assert main(["run", "debate", "--out", str(tmp_path), "--set", "selection=random"]) == 2
    err = capsys.readouterr().err
    assert "run.selection" in err and "debate_v0 has no evolution" in err


@pytest.mark.parametrize(
    ("item", "needle"),
    [
        ("rounds=3", "unknown key 'rounds'"),
        ("env.episodes=3", "unknown key 'env.episodes'"),
        ("run.iterations=3", "unknown key 'run.iterations'"),
    ],
)
def test_namespaced_keys_name_their_section(tmp_path, capsys, item, needle):
    assert main(["run", "debate", "--out", str(tmp_path), "--set", item]) == 2
    assert needle in capsys.readouterr().err


def test_a_bad_prompt_template_is_refused_before_a_run_directory_exists(tmp_path, capsys):
    prompts = tmp_path / "prompts"
    prompts.mkdir()
    (prompts / "debate_speak.txt").write_text("Say something about $nosuch\n")
    out = tmp_path / "runs"
    args = ["run", "debate", "--model", "offline/debate", "--out", str(out)]
    assert main([*args, "--set", f"prompt_dir={prompts}"]) == 2
    err = capsys.readouterr().err
    assert "debate_speak.txt" in err and "nosuch" in err and not out.exists()


def test_model_written_personas_are_kept_in_the_run_and_used_by_the_debates(tmp_path):
    args = ["debate", "--model", "offline/debate", "--set", "persona_source=model"]
    args += ["--set", "episodes=2", "--set", "iterations=2", "--set", "concurrent_episodes=1"]
    full = _run(tmp_path, "full", *args)
    pools = json.loads((full / "personas.json").read_text())["personas"]
    assert set(pools) == {"republican", "democrat", "default"}
    assert all(len(pool) == 40 for pool in pools.values())
    records = load_records(full / "events.jsonl")
    written = [r for r in records if r["type"] == "personas"]
    assert {r["role"] for r in written} == set(pools)
    assert {r["source"] for r in written} == {"model"}
    start = next(r for r in records if r["type"] == "debate_start")
    names = {p["name"] for pool in pools.values() for p in pool}
    assert set(start["personas"].values()) <= names
    # Stopped inside the first debate (3 persona calls + 2 of the debate), then resumed:
    out = tmp_path / "cut"
    assert main(["run", *args, "--out", str(out), "--quiet", "--set", "budget_calls=5"]) == 3
    (cut,) = out.iterdir()
    assert main(["run", "--resume", str(cut), "--quiet", "--set", "budget_calls=1000"]) == 0
    assert _events(cut) == _events(full)
    assert (cut / "personas.json").read_text() == (full / "personas.json").read_text()


def test_a_changed_data_file_is_refused_on_resume(tmp_path, capsys):
    topics = tmp_path / "topics.json"
    entry = {"id": "taxes", "name": "taxes", "question": "How serious are taxes? Answer 0-10."}
    topics.write_text(json.dumps({"topics": [entry]}))
    args = ["debate", "--set", f"topics_file={topics}", "--set", "topic=taxes"]
    run_dir = _run(tmp_path, "a", *args, "--set", "episodes=2", "--set", "iterations=2")
    topics.write_text(json.dumps({"topics": [{**entry, "name": "INFLATION"}]}))
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--set", "episodes=3", "--quiet"]) == 2
    assert "the content of env.topics_file" in capsys.readouterr().err


def test_an_edited_model_written_persona_file_is_refused_on_resume(tmp_path, capsys):
    args = ["debate", "--model", "offline/debate", "--set", "persona_source=model"]
    run_dir = _run(tmp_path, "a", *args, "--set", "episodes=1", "--set", "iterations=1")
    personas = run_dir / "personas.json"
    personas.write_text(personas.read_text().replace('"name": "', '"name": "X', 1))
    capsys.readouterr()
    assert main(["run", "--resume", str(run_dir), "--set", "episodes=2", "--quiet"]) == 2
    assert "personas.json is not the file this run's model wrote" in capsys.readouterr().err


def test_extending_a_finished_debate_run_replays_nothing_and_equals_a_longer_run(tmp_path):
    args = ["debate", "--seed", "3", "--model", "offline/debate", "--set", "iterations=2"]
    short = _run(tmp_path, "short", *args, "--set", "episodes=2")
    assert main(["run", "--resume", str(short), "--set", "episodes=4", "--quiet"]) == 0
    longer = _run(tmp_path, "long", *args, "--set", "episodes=4")
    assert _events(short) == _events(longer)
    calls = [r for r in load_records(short / "events.jsonl") if r["type"] == "llm_call"]
    assert not any(r["cached"] for r in calls)  # the finished debates were not played again


def test_scripted_listeners_hear_an_llm_speaker_through_its_last_survey(tmp_path):
    run_dir = _run(
        tmp_path,
        "a",
        "debate",
        "--model",
        "offline/debate",
        "--set",
        "population=llm:1,degroot:2",
        "--set",
        "episodes=1",
        "--set",
        "iterations=3",
    )
    records = load_records(run_dir / "events.jsonl")
    utterances = [r for r in records if r["type"] == "utterance"]
    by_llm = [r for r in utterances if r["agent"] == "debater_0"]
    assert by_llm and all(r["stated_source"] == "survey" for r in by_llm)
    first_survey = next(r for r in records if r["type"] == "survey" and r["agent"] == "debater_0")
    assert by_llm[0]["stated"] == first_survey["score"]
    assert {r["stated_source"] for r in utterances if r["agent"] != "debater_0"} == {"marker"}


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["debate", "--set", "population=persuader:3"], "play protocol=salvi only"),
        (["persuasion", "--set", "population=persuadee:1,persuader:1"], "seat 0 (persuader)"),
        (["persuasion", "--set", "population=degroot:2"], "seat 0 (persuader)"),
        (["debate", "--set", "persona_source=model"], "package without --model"),
        (["debate", "--set", "temperature=0.5"], "llm.temperature"),
        (["debate", "--set", "roles_file=."], "a readable JSON file"),
        (
            ["debate", "--model", "offline/debate", "--set", "advice_order=population"],
            "debate_v0's agents ignore it",
        ),
    ],
)
def test_combinations_that_cannot_work_are_refused_up_front(tmp_path, capsys, args, needle):
    out = tmp_path / "runs"
    assert main(["run", *args, "--out", str(out), "--quiet"]) == 2
    assert needle in capsys.readouterr().err and not out.exists()
