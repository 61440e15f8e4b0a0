"""One root seed, split into independent, addressable streams.

Every stream is derived from the root seed and a fixed *address* (stream kind,
generation, index, ...) with :class:`numpy.random.SeedSequence`'s ``spawn_key``,
so the seed an agent or an LLM call gets does not depend on the order in which
work is dispatched, on concurrency, or on the number of workers.

Example:
    >>> s = SeedStreams(7)
    >>> s.env(1) == SeedStreams(7).env(1)
    True
    >>> s.env(1) != s.env(2)
    True
"""

from __future__ import annotations

import numpy as np

_ENV, _AGENT, _GENERATION, _LLM = 0, 1, 2, 3


class SeedStreams:
    """Addressable seed streams below one root seed."""

    def __init__(self, root: int) -> None:
        if not isinstance(root, int) or isinstance(root, bool) or root < 0:
            raise ValueError(f"seed must be a non-negative int, got {root!r}")
        self.root = root

    def _seed(self, *address: int) -> int:
        seq = np.random.SeedSequence(entropy=self.root, spawn_key=address)
        return int(seq.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))

    def env(self, generation: int) -> int:
        """Seed for the environment's ``reset`` in a generation (or episode)."""
        return self._seed(_ENV, generation)

    def agent(self, generation: int, index: int) -> int:
        """Seed for one agent's ``reset`` in a generation."""
        return self._seed(_AGENT, generation, index)

    def llm(self, generation: int, index: int, call: int = 0) -> int:
        """Seed passed to a provider for one LLM call (honoured where supported)."""
        return self._seed(_LLM, generation, index, call)

    def generation_rng(self, generation: int) -> np.random.Generator:
        """Generator for a generation's selection, seat shuffle and reproduction."""
        return np.random.default_rng(self._seed(_GENERATION, generation))


def seat_seed(seed: int | None, index: int) -> int | None:
    """The seed the agent of seat ``index`` gets in an episode seeded ``seed``.

    The ``index``-th child of the episode seed's ``SeedSequence``, derived alone: what
    ``agentsim.run_episode`` gives that seat, and what the Gymnasium views give it (so a
    view plays ``run_episode``'s episode, and copies seeded ``s`` and ``s + 1`` never
    share a seat's random stream).

    Example:
        >>> seat_seed(3, 0) == seat_seed(3, 0) != seat_seed(3, 1)
        True
    """
    if seed is None:
        return None
    return int(np.random.SeedSequence(seed, spawn_key=(index,)).generate_state(1)[0])
