"""A user's own agent, defined here, plugs in through the public API only."""

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


def test_custom_agent_kind_evolves_in_a_population(tmp_path):
    agentsim.register_agent("mirror", GenerousToTheGenerous)
    from agentsim.cli import main

    assert (
        main(
            [
                "run",
                "donor-game",
                "--out",
                str(tmp_path),
                "--quiet",
                "--set",
                "population=mirror:6,defector:6",
                "--set",
                "generations=3",
            ]
        )
        == 0
    )
