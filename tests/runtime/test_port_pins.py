"""The study-contract port must not move scripted donor results.

The per-generation figures below were measured at commit b6919fc, before the runtime
learned to work from studies (issue 7), with ``--seed 5 --set generations=4``.
"""

import json

import pytest

from agentsim.cli import main

PINNED = {
    "donor-game": [171.24238301062476, 420.3432968192116, 101.13882833170483, 20.531384059755233],
    "donor-game-punishment": [
        35.92414579511438,
        1097.0457510262515,
        1353.8100853829935,
        1047.1999362000145,
    ],
}


@pytest.mark.parametrize("experiment", sorted(PINNED))
def test_scripted_donor_results_are_those_of_before_the_port(experiment, tmp_path):
    args = ["run", experiment, "--seed", "5", "--out", str(tmp_path), "--quiet"]
    assert main([*args, "--set", "generations=4"]) == 0
    (run_dir,) = tmp_path.iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    got = [g["mean_final_resources"] for g in summary["generations"]]
    assert got == PINNED[experiment]
