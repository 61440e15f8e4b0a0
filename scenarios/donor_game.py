"""Vallinder & Hughes 2024, "Cultural Evolution of Cooperation among LLM Agents": the donor game.

The paper's protocol: 12 agents, 12 rounds per game, 2 games per generation (the
second with every pair reversed), endowment 10, multiplier 2, traces 3 deep,
top 50% survive, 6 new agents per generation, 10 generations. Offline, the
population is scripted (trace-averaging reciprocators, image-scoring and
standing discriminators, fixed-fraction donors, defectors) and new agents copy a
survivor's parameters with seeded mutation.

Run:
    python scenarios/donor_game.py --seed 1 --out runs
    python scenarios/donor_game.py --set pairing=released_code --set generations=20
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from agentsim.cli import main as agentsim_main

EXPERIMENT = "donor-game"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario; takes the same options as ``agentsim run donor-game``."""
    return agentsim_main(["run", EXPERIMENT, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
