"""A user's own agent, defined here, plugs in through the public API only."""

import json
import subprocess
import sys

import numpy as np

import agentsim


class GenerousToTheGenerous:
    """Donates the recipient's last shown fraction, or everything in the first round."""

    def __init__(self) -> None:
        self.name = "mine"
        self.calls = 0

    def reset(self, *, seed=None):
        self.calls = 0

    def act(self, observation):
        self.calls += 1
        shown = observation["trace_fraction"][0] if observation["trace_length"] else 1.0
        return agentsim.Decision(
            action=np.array([max(shown, 0.0)], dtype=np.float32), rationale="mirror the recipient"
        )


class AsyncHalf:
    name = "async-half"

    def reset(self, *, seed=None):
        pass

    def act(self, observation):
        raise AssertionError("the runner must prefer aact")

    async def aact(self, observation):
        return agentsim.Decision(action=np.array([0.5], dtype=np.float32))


def test_custom_agents_play_a_whole_episode_with_records():
    env = agentsim.make_env("donor_game_v0")
    mine = GenerousToTheGenerous()
    agents = {a: (mine if i % 2 else AsyncHalf()) for i, a in enumerate(env.possible_agents)}
    assert isinstance(mine, agentsim.Agent)
    result = agentsim.run_episode(env, agents, seed=7)
    assert result.steps == 24
    assert mine.calls > 0
    decisions = [r for r in result.records if r["type"] == "decision"]
    assert len(decisions) == 24 * 6
    assert {"rationale", "generation", "game", "round"} <= set(decisions[0])
    assert sum(result.returns.values()) > 0


# The README's example, run as a user would: a fresh interpreter whose first use of the
# registry is a registration (issue 6 item 2: that used to hide the built-in kinds).
_FRESH_PROCESS_SCRIPT = """
import json, sys
from pathlib import Path

import numpy as np

import agentsim


class Mirror:
    name = "mirror"

    def reset(self, *, seed=None):
        pass

    def act(self, obs):
        shown = obs["trace_fraction"][0] if obs["trace_length"] else 1.0
        return agentsim.Decision(action=np.array([max(shown, 0.0)], dtype=np.float32))


agentsim.register_agent("mirror", Mirror)
out = sys.argv[1]
args = ["run", "donor-game", "--out", out, "--quiet"]
args += ["--set", "population=mirror:6,defector:6", "--set", "generations=3"]
status = agentsim.cli.main(args)
print(json.dumps({"status": status, "kinds": agentsim.agent_kinds()}))
"""


def test_custom_agent_kind_registered_first_in_a_fresh_process(tmp_path):
    script = tmp_path / "mirror_run.py"
    script.write_text(_FRESH_PROCESS_SCRIPT, encoding="utf-8")
    out = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, str(script), str(out)], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["status"] == 0
    assert {"mirror", "defector", "image_scoring", "llm"} <= set(result["kinds"])
    (run_dir,) = out.iterdir()
    starts = [
        json.loads(line)
        for line in (run_dir / "events.jsonl").read_text(encoding="utf-8").splitlines()
        if '"generation_start"' in line
    ]
    assert len(starts) == 3
    assert sorted(starts[0]["kinds"].values()) == ["defector"] * 6 + ["mirror"] * 6
