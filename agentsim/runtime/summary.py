"""``summary.json``: the per-generation headline figures and accounting of a run.

Computed from ``events.jsonl`` alone (so a resumed run and an uninterrupted run
of the same seed give the same summary); deliberately free of wall-clock times.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from agentsim.core.records import PARSE_STATUSES, iter_records


def summarise(events_path: str | Path) -> dict[str, Any]:
    """Aggregate a run's events into its summary."""
    generations: dict[int, dict[str, Any]] = {}
    parse = Counter({s: 0 for s in PARSE_STATUSES})
    llm: Counter[str] = Counter()
    cost, cost_known = 0.0, True
    status, stop_reason = "incomplete", None
    for r in iter_records(events_path):
        t = r["type"]
        if t == "generation_end":
            fractions = list(r.get("mean_donation_fraction", {}).values())
            generations.setdefault(r["generation"], {}).update(
                {
                    "generation": r["generation"],
                    "mean_final_resources": r.get("mean_final_resources"),
                    "mean_donation_fraction": sum(fractions) / len(fractions)
                    if fractions
                    else None,
                    "punishments": r.get("punishments", 0),
                    "donor_decisions": r.get("donor_decisions", 0),
                }
            )
        elif t == "selection":
            generations.setdefault(r["generation"], {})["survivors"] = r["survivors"]
        elif t == "decision":
            parse[r["parse_status"]] += 1
        elif t == "llm_call":
            _count_llm_call(llm, r)
            if r["error"] is not None:
                pass  # failed or refused: nothing was charged
            elif r["cost_usd"] is None:
                cost_known = False
            else:
                cost += r["cost_usd"]
        elif t == "run_end":
            status, stop_reason = r["status"], r.get("reason")
    rows = [generations[g] for g in sorted(generations) if "generation" in generations[g]]
    for row in rows:
        row.setdefault("survivors", None)
    return {
        "status": status,
        "stop_reason": stop_reason,
        "generations_completed": len(rows),
        "generations": rows,
        "final_mean_resources": rows[-1]["mean_final_resources"] if rows else None,
        "decisions": dict(parse),
        "llm": {
            **{k: llm[k] for k in sorted(llm)},
            "cost_usd": round(cost, 10) if cost_known else None,
        },
    }


def _count_llm_call(llm: Counter[str], r: dict[str, Any]) -> None:
    llm["calls"] += 1
    llm["attempts"] += r["attempts"]
    llm["prompt_tokens"] += r["prompt_tokens"] or 0
    llm["completion_tokens"] += r["completion_tokens"] or 0
    llm["cached"] += bool(r["cached"])
    llm["errors"] += r["error"] is not None
