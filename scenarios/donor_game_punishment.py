"""Vallinder & Hughes 2024, costly-punishment variant of the donor game.

A donor may instead spend x units to take 2x from the recipient (floored at 0),
following the paper's semantics (Vallinder & Hughes 2024, arXiv:2412.10270): the
released notebook's punishment branch cannot run (in
github.com/aronvallinder/llm-donor-game, ``Donor_Game_with_Cultural_Evolution.ipynb``,
a valid "Punish, x" reply falls into the donation branch and fails). The offline
population adds punishing image scorers (``punish`` > 0) to the discriminators.

Run:
    python scenarios/donor_game_punishment.py --seed 1 --out runs
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from agentsim.cli import main as agentsim_main

EXPERIMENT = "donor-game-punishment"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the scenario; takes the same options as ``agentsim run donor-game-punishment``."""
    return agentsim_main(["run", EXPERIMENT, *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
