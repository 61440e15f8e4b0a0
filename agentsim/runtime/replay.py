"""``agentsim replay RUN_DIR``: re-execute a run from its config with the LLM cache in
``replay`` mode (no provider is ever called) and check that it reproduces the events.

The replay is written to ``RUN_DIR/replays/<time>/``. Fields that describe how a reply
was obtained rather than what it was (latency, attempts, the cache flag, the run id)
are left out of the comparison; everything else must be identical.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError
from agentsim.core.records import Record, load_records
from agentsim.runtime.experiment import ExperimentConfig
from agentsim.runtime.loop import RunStopped, run_experiment
from agentsim.runtime.rundir import EVENTS, LLM_CACHE, RunDir

VOLATILE_FIELDS = frozenset({"latency_s", "attempts", "cached", "run_id", "status_code"})


@dataclass(frozen=True)
class ReplayResult:
    """Whether the replay matched, a human-readable account, and where it was written."""

    identical: bool
    message: str
    replay_dir: Path | None


def normalise(records: list[Record]) -> list[Record]:
    """Records as compared by replay: no ``run_start``, no volatile fields."""
    return [
        {k: v for k, v in r.items() if k not in VOLATILE_FIELDS}
        for r in records
        if r["type"] != "run_start"
    ]


def first_difference(a: list[Record], b: list[Record]) -> str | None:
    """Describe the first differing record of two normalised event lists, if any."""
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            keys = sorted(k for k in set(x) | set(y) if x.get(k) != y.get(k))
            return (
                f"record {i} ({x.get('type')}) differs in {', '.join(keys)}: "
                f"recorded {_pick(x, keys)} vs replayed {_pick(y, keys)}"
            )
    if len(a) != len(b):
        return f"recorded {len(a)} records, replayed {len(b)}"
    return None


def _pick(record: Record, keys: list[str]) -> dict[str, Any]:
    return {k: record.get(k) for k in keys}


def replay(path: Path, *, quiet: bool = True) -> ReplayResult:
    """Replay a completed run; see the module docstring."""
    run = RunDir.open(path)
    summary = run.summary()
    if summary is None or summary.get("status") != "completed":
        raise UserError(f"{path} is not a completed run (finish it with --resume first)")
    data = run.config()
    uses_llm = bool(data.get("llm", {}).get("model"))
    config = ExperimentConfig.from_json(data, ["cache=replay"] if uses_llm else [])
    cache = run.file(LLM_CACHE)
    # The cache file now always exists (it also stores the prompts), so ask the config.
    if uses_llm and (not cache.is_file() or data.get("llm", {}).get("cache") == "off"):
        raise UserError(f"{path} has no {LLM_CACHE}; a run with cache=off cannot be replayed")
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    target = RunDir.create(run.path / "replays", stamp, config.to_json())
    try:
        asyncio.run(run_experiment(target, config, cache_path=cache))
    except RunStopped as exc:
        return ReplayResult(False, f"replay failed: {exc}", target.path)
    recorded = load_records(run.file(EVENTS))
    replayed = load_records(target.file(EVENTS))
    provider_calls = sum(1 for r in replayed if r["type"] == "llm_call" and not r["cached"])
    diff = first_difference(normalise(recorded), normalise(replayed))
    if diff is None and provider_calls == 0:
        n_calls = sum(1 for r in replayed if r["type"] == "llm_call")
        return ReplayResult(
            True,
            f"replay identical: {len(normalise(recorded))} records, "
            f"{n_calls} LLM calls answered from the cache, 0 provider calls "
            f"(written to {target.path})",
            target.path,
        )
    reason = diff or f"{provider_calls} calls reached a provider"
    return ReplayResult(False, f"replay differs: {reason} (written to {target.path})", target.path)
