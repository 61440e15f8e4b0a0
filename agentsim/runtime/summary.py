"""``summary.json``: a run's status, headline figures and accounting.

Computed from ``events.jsonl`` alone (so a resumed run and an uninterrupted run
of the same seed give the same summary); deliberately free of wall-clock times. The
generic part (status, episodes, decisions by parse status, LLM accounting) is the
runtime's; the headline figures per episode are the study's (``Study.summarise``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from agentsim.core.records import PARSE_STATUSES, Record, iter_records
from agentsim.envs.study import Study

#: The summary keys the runtime owns; a study's figures may not replace them.
GENERIC_KEYS = frozenset(
    {"env_id", "status", "stop_reason", "episodes_completed", "decisions", "llm"}
)


def summarise(events_path: str | Path, study: Study) -> dict[str, Any]:
    """Aggregate a run's events into its summary."""
    counts = _Counts()
    types = None if study.summary_types is None else study.summary_types | _Counts.TYPES
    records = iter_records(events_path, types)
    figures = study.summarise(counts.observe(records))
    taken = sorted(set(figures) & GENERIC_KEYS)
    if taken:
        raise TypeError(f"{study.env_id}: its summarise() returns the runtime's keys {taken}")
    return {
        "env_id": study.env_id,
        "status": counts.status,
        "stop_reason": counts.stop_reason,
        "episodes_completed": counts.episodes,
        **figures,
        "decisions": dict(counts.parse),
        "llm": {
            **{k: counts.llm[k] for k in sorted(counts.llm)},
            "cost_usd": round(counts.cost, 10) if counts.cost_known else None,
        },
    }


class _Counts:
    """The generic tallies, taken while the study's summariser reads the same records."""

    #: The record types the tallies read.
    TYPES = frozenset({"decision", "llm_call", "checkpoint", "run_end"})

    def __init__(self) -> None:
        self.parse: Counter[str] = Counter({s: 0 for s in PARSE_STATUSES})
        self.llm: Counter[str] = Counter()
        self.cost, self.cost_known = 0.0, True
        self.status, self.stop_reason = "incomplete", None
        self.episodes = 0

    def observe(self, records: Iterator[Record]) -> Iterator[Record]:
        for r in records:
            t = r["type"]
            if t == "decision":
                self.parse[r["parse_status"]] += 1
            elif t == "llm_call":
                self._count_llm_call(r)
            elif t == "checkpoint":
                self.episodes = max(self.episodes, int(r.get("episode", 0)))
            elif t == "run_end":
                self.status, self.stop_reason = r["status"], r.get("reason")
            yield r

    def _count_llm_call(self, r: Record) -> None:
        llm = self.llm
        llm["calls"] += 1
        llm["attempts"] += r["attempts"]
        llm["prompt_tokens"] += r["prompt_tokens"] or 0
        llm["completion_tokens"] += r["completion_tokens"] or 0
        llm["cached"] += bool(r["cached"])
        llm["errors"] += r["error"] is not None
        if r["error"] is not None:
            return  # failed or refused: nothing was charged
        if r["cost_usd"] is None:
            self.cost_known = False
        else:
            self.cost += r["cost_usd"]
