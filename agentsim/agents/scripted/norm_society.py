"""Scripted members of ``norm_society_v0``: agents as trait vectors (the offline mode).

The offline stand-in for Li et al. (2024, arXiv:2401.04620, EvolutionaryAgent): an agent is
a trait vector z in [0, 1]^d over the bank's dimensions (tradition, collectivism, digital,
sustainability, formality). In a situation round it acts ``clip(z + N(0, noise^2))`` (the
env maps the vector to the nearest option); it answers the questionnaire with z; the
feedback round's action is ignored. A member without ``traits`` draws U(0, 1)^d from its
reset seed at its first observation. ``carried()`` hands the traits (and a reflective
agent's memory) to the next step, so the evolution loop keeps them in the member's params.

Kinds (the paper's baselines and its population):

* ``evolutionary`` (noise, conformity): the evolving population; with ``conformity`` k > 0
  each situation round that shows its neighbours' mean behaviour pulls the traits toward
  it, z <- (1-k) z + k mean (DeGroot 1974, JASA 69:118).
* ``static`` (noise): fixed traits, no memory, no feedback: the paper's direct baseline.
* ``reflective`` (noise, lr): keeps the observer's feedback: after each step its traits
  move along the observer's advice, z <- clip(z + lr * 0.5 * advice), and the last score is
  its ``memory`` (a Reflexion-style baseline; Shinn et al. 2023, arXiv:2303.11366).

Example:
    >>> import numpy as np
    >>> obs = {"phase": 1, "neighbours": np.full(2, 0.5, np.float32), "neighbours_known": 0,
    ...        "advice": np.zeros(2, np.float32), "score": np.array([4.0], np.float32)}
    >>> a = Static(traits=[0.2, 0.9])
    >>> a.reset(seed=0)
    >>> [round(float(x), 3) for x in a.act(obs).action]
    [0.2, 0.9]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from agentsim.agents.base import Decision
from agentsim.core.errors import ConfigError

#: Observation phases (the env's ``phase``).
SITUATION, QUESTIONNAIRE, FEEDBACK = 0, 1, 2


@dataclass
class TraitAgent:
    """Base of the scripted kinds: trait vector, behaviour noise, carried state."""

    kind: ClassVar[str] = ""
    #: Bounds of the numeric tunables (``params()``).
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {"noise": (0.0, 1.0)}
    traits: list[float] | None = None
    noise: float = 0.1

    def __post_init__(self) -> None:
        self.name = self.kind
        for key, (low, high) in self.BOUNDS.items():
            value = getattr(self, key)
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if not (ok and low <= value <= high):
                raise ConfigError(f"{self.kind}.{key}", value, f"a number in [{low}, {high}]")
        if self.traits is not None:
            z = np.asarray(self.traits, dtype=np.float64) if _is_vector(self.traits) else None
            if z is None or not np.all((z >= 0) & (z <= 1)):
                raise ConfigError(
                    f"{self.kind}.traits", self.traits, "a list of numbers in [0, 1], or None"
                )
        self._rng = np.random.default_rng(None)
        self.reset()

    def reset(self, *, seed: int | None = None) -> None:
        """Start a step from the member's traits (or a fresh draw from ``seed``)."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._z: np.ndarray | None = (
            None if self.traits is None else np.asarray(self.traits, dtype=np.float64)
        )

    @property
    def current_traits(self) -> np.ndarray | None:
        """The traits as they stand now (None before the first observation without traits)."""
        return None if self._z is None else self._z.copy()

    def act(self, observation: Mapping[str, Any]) -> Decision:
        z = self._ensure(observation)
        phase = int(observation["phase"])
        if phase == SITUATION:
            z = self._z = self.before_situation(z, observation)
            shaken = z + self._rng.normal(0.0, self.noise, z.shape)
            return Decision(action=np.clip(shaken, 0.0, 1.0).astype(np.float32))
        if phase == FEEDBACK:
            self._z = self.after_feedback(z, observation)
            return Decision(action=np.zeros(z.shape, np.float32))
        return Decision(action=z.astype(np.float32))

    def decide_batch(self, observations: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Actions for a sequence of this agent's observations, one after another (as
        ``act``; the agent's state moves along). For a whole population at once, see
        :func:`act_population`."""
        return np.stack([self.act(o).action for o in observations])

    def _ensure(self, observation: Mapping[str, Any]) -> np.ndarray:
        d = int(np.asarray(observation["neighbours"]).reshape(-1).shape[0])
        if self._z is None:
            self._z = self._rng.random(d)
        if self._z.shape != (d,):
            raise ConfigError(
                f"{self.kind}.traits", self._z.tolist(), f"{d} numbers (the env has {d} dimensions)"
            )
        return self._z

    def before_situation(self, z: np.ndarray, observation: Mapping[str, Any]) -> np.ndarray:
        """The traits a situation round acts from (a hook; default: unchanged)."""
        return z

    def after_feedback(self, z: np.ndarray, observation: Mapping[str, Any]) -> np.ndarray:
        """The traits after the observer's feedback (a hook; default: unchanged)."""
        return z

    def params(self) -> dict[str, Any]:
        """The numeric tunables (traits and memory travel as carried state)."""
        return {key: float(getattr(self, key)) for key in self.BOUNDS}

    def carried(self) -> dict[str, Any]:
        """The traits (drawn or changed this step) for the member's next step."""
        return {} if self._z is None else {"traits": [float(x) for x in self._z]}


def _is_vector(value: Any) -> bool:
    return isinstance(value, list | tuple) and all(
        isinstance(x, int | float) and not isinstance(x, bool) for x in value
    )


@dataclass
class Evolutionary(TraitAgent):
    """A member of the evolving population, optionally conforming to its neighbours."""

    kind: ClassVar[str] = "evolutionary"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {
        "noise": (0.0, 1.0),
        "conformity": (0.0, 1.0),
    }
    conformity: float = 0.0

    def before_situation(self, z: np.ndarray, observation: Mapping[str, Any]) -> np.ndarray:
        if self.conformity > 0 and int(observation["neighbours_known"]):
            mean = np.asarray(observation["neighbours"], dtype=np.float64)
            return (1.0 - self.conformity) * z + self.conformity * mean
        return z


@dataclass
class Static(TraitAgent):
    """Fixed traits; ignores its neighbours and the observer (the direct baseline)."""

    kind: ClassVar[str] = "static"


@dataclass
class Reflective(TraitAgent):
    """Learns from the observer's advice after every step and remembers its last score."""

    kind: ClassVar[str] = "reflective"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {"noise": (0.0, 1.0), "lr": (0.0, 2.0)}
    lr: float = 0.3
    memory: float | None = None

    def after_feedback(self, z: np.ndarray, observation: Mapping[str, Any]) -> np.ndarray:
        advice = np.asarray(observation["advice"], dtype=np.float64)
        self.memory = float(np.asarray(observation["score"]).reshape(-1)[0])
        # The advice is the norm gap over 0.5 (clipped): 0.5 * advice undoes that scale.
        return np.clip(z + self.lr * 0.5 * advice, 0.0, 1.0)

    def carried(self) -> dict[str, Any]:
        return {**super().carried(), "memory": self.memory}


#: The scripted kinds, for registration.
NORM_AGENTS: tuple[type[TraitAgent], ...] = (Evolutionary, Static, Reflective)


def act_population(agents: Sequence[TraitAgent], observations: Sequence[Mapping[str, Any]]) -> Any:
    """Every agent's action for its observation of one round, as a ``(n, d)`` float32 array.

    Row ``i`` is, bit for bit, ``agents[i].act(observations[i]).action``, and each agent's
    state (traits, generator, memory) ends where ``act`` leaves it: each agent draws its
    own noise from its own generator; everything else is done for all rows at once. All
    observations must be of the same phase (the env's rounds are). Agents of other
    classes than the built-in kinds (subclasses may change the hooks) act one by one.
    """
    out: list[Any] = [None] * len(agents)
    rows = [i for i, a in enumerate(agents) if type(a) in _VECTORISED]
    for i in (i for i, a in enumerate(agents) if type(a) not in _VECTORISED):
        out[i] = agents[i].act(observations[i]).action
    if rows:
        vectors = _act_rows([agents[i] for i in rows], [observations[i] for i in rows])
        for i, row in zip(rows, vectors, strict=True):
            out[i] = row
    return np.stack(out)


def _act_rows(agents: list[TraitAgent], observations: list[Mapping[str, Any]]) -> Any:
    z = np.stack([a._ensure(o) for a, o in zip(agents, observations, strict=True)])
    phase = int(observations[0]["phase"])
    if phase == SITUATION:
        z = _conform(agents, observations, z)
        noise = [a._rng.normal(0.0, a.noise, z.shape[1:]) for a in agents]
        action = np.clip(z + np.stack(noise), 0.0, 1.0).astype(np.float32)
    elif phase == FEEDBACK:
        z = _reflect(agents, observations, z)
        action = np.zeros(z.shape, np.float32)
    else:
        action = z.astype(np.float32)
    for a, row in zip(agents, z, strict=True):
        a._z = row
    return action


def _conform(agents: list[TraitAgent], observations: list[Mapping[str, Any]], z: Any) -> Any:
    """:meth:`Evolutionary.before_situation` for every row that conforms this round."""
    moves = [
        i
        for i, (a, o) in enumerate(zip(agents, observations, strict=True))
        if isinstance(a, Evolutionary) and a.conformity > 0 and int(o["neighbours_known"])
    ]
    if not moves:
        return z
    k = np.array([agents[i].conformity for i in moves])[:, None]  # type: ignore[attr-defined]
    means = np.stack([np.asarray(observations[i]["neighbours"], np.float64) for i in moves])
    z = z.copy()
    z[moves] = (1.0 - k) * z[moves] + k * means
    return z


def _reflect(agents: list[TraitAgent], observations: list[Mapping[str, Any]], z: Any) -> Any:
    """:meth:`Reflective.after_feedback` for every reflective row."""
    rows = [i for i, a in enumerate(agents) if isinstance(a, Reflective)]
    if not rows:
        return z
    advice = np.stack([np.asarray(observations[i]["advice"], np.float64) for i in rows])
    lr = np.array([agents[i].lr for i in rows])[:, None]  # type: ignore[attr-defined]
    for i in rows:
        score = observations[i]["score"]
        agents[i].memory = float(np.asarray(score).reshape(-1)[0])  # type: ignore[attr-defined]
    z = z.copy()
    z[rows] = np.clip(z[rows] + lr * 0.5 * advice, 0.0, 1.0)
    return z


_VECTORISED = frozenset(NORM_AGENTS)
