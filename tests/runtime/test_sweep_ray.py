"""The same sweep on a local Ray cluster gives the same cells as on local processes."""

import pytest

from agentsim.cli import main

ray = pytest.importorskip("ray")

ARGS = [
    "--seeds",
    "0..1",
    "--set",
    "env.multiplier=2,3",
    "--set",
    "run.generations=2",
    "--set",
    "env.agents=4",
    "--set",
    "env.rounds=2",
    "--quiet",
]


def _summaries(out, *backend):
    assert main(["sweep", "donor-game", *ARGS, "--out", str(out), *backend]) == 0
    (path,) = out.iterdir()
    return {c.name: (c / "summary.json").read_text() for c in sorted(path.glob("c*"))}


@pytest.mark.slow  # starting a local Ray cluster takes 10-20 s
def test_ray_and_local_backends_give_identical_cells(tmp_path):
    local = _summaries(tmp_path / "local", "--workers", "1")
    on_ray = _summaries(tmp_path / "ray", "--backend", "ray", "--workers", "2")
    assert len(local) == 4
    assert on_ray == local
    assert not ray.is_initialized()  # the cluster the sweep started is shut down
