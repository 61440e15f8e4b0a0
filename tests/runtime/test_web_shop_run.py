"""web_shop_v0 through the CLI, each command in a fresh process: scripted shoppers offline,
the report's rates, the offline model end to end, and the dry-run price."""

import json
import subprocess
import sys
from pathlib import Path

from agentsim.core.records import load_records


def agentsim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentsim", *args], capture_output=True, text=True, timeout=600
    )


def run_dir(out: Path) -> Path:
    (found,) = out.iterdir()
    return found


def test_scripted_shoppers_run_offline_and_the_report_shows_the_rates(tmp_path):
    out = tmp_path / "d"
    done = agentsim("run", "web-shop", "--seed", "1", "--out", str(out), "--set", "episodes=24")
    assert done.returncode == 0, done.stderr
    assert "AC-R" in done.stdout and "status: completed; items: 24" in done.stdout
    summary = json.loads((run_dir(out) / "summary.json").read_text())
    assert summary["env_id"] == "web_shop_v0" and sum(summary["items"].values()) == 24
    assert summary["judge"] == "casa_rule" and summary["decisions"]["scripted"] >= 48
    records = load_records(run_dir(out) / "events.jsonl")
    outcomes = [r for r in records if r["type"] == "web_outcome"]
    assert outcomes and all(r["split"] in ("s1_violate", "s1_adhere", "s2") for r in outcomes)
    verdicts = [r for r in records if r["type"] == "judgement"]
    assert {r["metric"] for r in verdicts} <= {"AC", "Edu", "Help", "Vio"} and verdicts
    report = agentsim("report", str(run_dir(out)))
    assert report.returncode == 0, report.stderr
    assert "AC-R" in report.stdout and "pooled" in report.stdout


def test_the_offline_model_plays_the_agent_end_to_end(tmp_path):
    out = tmp_path / "m"
    done = agentsim(
        "run", "web-shop-ca-2s", "--seed", "2", "--model", "offline/web_shop", "--out", str(out),
        "--set", "episodes=12",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = load_records(run_dir(out) / "events.jsonl")
    calls = [r for r in records if r["type"] == "llm_call"]
    decisions = [r for r in records if r["type"] == "decision" and r["agent"] == "assistant"]
    assert calls and all(d["parse_status"] == "ok" for d in decisions)
    assert all("```" in d["action"] for d in decisions)
    assert len([r for r in records if r["type"] == "web_outcome" and r["round"] == 1]) == 12


def test_dry_run_prices_the_run_and_calls_nothing(tmp_path):
    done = agentsim(
        "run", "web-shop", "--model", "offline/web_shop", "--set", "episodes=20", "--dry-run",
        "--out", str(tmp_path / "x"),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "LLM calls:" in done.stdout and "assistant" in done.stdout
    assert "nothing was called" in done.stdout and not (tmp_path / "x").exists()


def test_a_shopper_on_the_user_seat_is_refused_with_the_fix(tmp_path):
    done = agentsim(
        "run", "web-shop", "--set", "population=naive:1,user:1", "--out", str(tmp_path / "y")
    )
    assert done.returncode == 2 and "user:1,naive:1" in done.stderr


def test_llm_judges_and_a_rule_audit_judge_the_same_items(tmp_path):
    # Needs the runner to await an AEC env's asettle() after each step (Settles).
    out = tmp_path / "j"
    done = agentsim(
        "run", "web-shop", "--seed", "3", "--model", "offline/web_shop", "--out", str(out),
        "--set", "episodes=10", "--set", "judge=llm", "--set", "audit_judge=rule",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    records = load_records(run_dir(out) / "events.jsonl")
    verdicts = [r for r in records if r["type"] == "judgement"]
    by_judge = {j: {(r["item"], r["metric"], r["round"]) for r in verdicts if r["judge"] == j}
                for j in ("casa_llm", "casa_rule")}  # fmt: skip
    assert by_judge["casa_llm"] and by_judge["casa_rule"]
    assert all(r["raw"] and r["prompt_hashes"] for r in verdicts if r["judge"] == "casa_llm")
    calls = [r for r in records if r["type"] == "llm_call" and r["purpose"].startswith("judge")]
    assert calls
    report = agentsim("report", str(run_dir(out)))
    assert "agreement casa_llm vs casa_rule" in report.stdout
