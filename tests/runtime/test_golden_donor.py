"""The donor game's events and summaries are pinned to the ones an older version wrote.

The digests below are those of runs written by commit 539c609, before the batch runtime path,
the faster env step and the compact checkpoints: every later change that claims to keep
results bit for bit is held to it, on the PettingZoo path and on the batch path. A change of
dynamics (a new env version) must update them, and say so in the CHANGELOG.
"""

import hashlib
import json

import pytest

from agentsim.cli import main

CONFIGS = [
    (["--seed", "3", "--set", "generations=3", "--set", "agents=8"], "6d94c2fe68ef4732"),
    (
        [
            "--seed",
            "4",
            "--set",
            "generations=3",
            "--set",
            "agents=8",
            "--set",
            "punishment=costly",
            "--set",
            "population=trace_average:2,image_scoring[punish=0.3]:2,"
            "standing[punish=0.2]:2,random:2",
        ],
        "20e563b5e569c06c",
    ),
    (
        [
            "--seed",
            "5",
            "--set",
            "generations=2",
            "--set",
            "agents=6",
            "--set",
            "pairing=released_code",
            "--set",
            "games=3",
        ],
        "d3084411c2faeac6",
    ),
]
SUMMARIES = ["d748b93901fa1012", "a3c8efe929041273", "bf55942d00ae62a2"]


@pytest.mark.parametrize("batch", ["off", "auto"])
@pytest.mark.parametrize("index", range(len(CONFIGS)))
def test_events_and_summary_match_the_pinned_version(index, batch, tmp_path, monkeypatch):
    monkeypatch.setenv("AGENTSIM_BATCH", batch)
    args, events_digest = CONFIGS[index]
    assert main(["run", "donor-game", "--out", str(tmp_path), "--quiet", *args]) == 0
    (run,) = tmp_path.iterdir()
    with open(run / "events.jsonl", encoding="utf-8") as fh:
        lines = [line for line in fh if '"run_start"' not in line]  # its run id has a time
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256("".join(lines).encode()).hexdigest()[:16]
    summary_digest = hashlib.sha256(json.dumps(summary, sort_keys=True).encode()).hexdigest()
    assert (digest, summary_digest[:16]) == (events_digest, SUMMARIES[index])
