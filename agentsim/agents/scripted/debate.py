"""Scripted debaters for ``debate_v0``: opinion dynamics that speak in templates.

Each debater holds an attitude on the survey scale (0-10 in Taubenfeld et al. 2024; 1-5
in Salvi et al. 2024). Unless given ``initial`` (used exactly), it starts near its role's
reference rating of the topic (:data:`agentsim.games.debate.TOPIC_PRIORS`; the scale's
midpoint for unknown topics or roles): the rating plus a normal jitter of SD
``initial_sd`` (0-10 units, scaled to the survey scale; default 0.5), clipped to the scale
and drawn from the debater's own RNG, which ``reset(seed=...)`` seeds. Personas of one role
differ (Taubenfeld et al. draw 40 per party), so repetitions of a condition differ too and
standard errors over debates are not 0; one seed still gives one trajectory. Whenever an
observation shows new utterances, it updates once from the attitudes the other debaters
last stated (the ``stated`` observation, filled from ``[attitude: x]`` markers), with its
model's rule from :mod:`agentsim.games.debate` (the utterance schedule). It speaks a
template sentence for its stance followed by its attitude marker, and answers surveys
with its attitude as a number.

Kinds: ``degroot``, ``bounded_confidence`` (Hegselmann-Krause or Deffuant),
``drift_to_prior`` and ``stubborn``.

Example:
    >>> import numpy as np
    >>> obs = {"phase": 1, "iteration": np.array([0]), "role": "democrat",
    ...        "topic": "racism", "extra": "scale: 0-10", "self_index": 0,
    ...        "stated": np.zeros(2, np.float32), "stated_mask": np.zeros(2, np.int8)}
    >>> d = DeGroot(initial_sd=0.0)
    >>> d.reset(seed=0)
    >>> d.act(obs).action
    'My rating: 9.00'
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from agentsim.agents.base import Decision
from agentsim.core.errors import ConfigError
from agentsim.games import debate as rules

#: Template sentences per stance band (lowest first) for "how serious is <topic>".
SERIOUSNESS_BANK: tuple[tuple[str, ...], ...] = (
    (
        "Honestly, I think the worries about {topic} are greatly exaggerated.",
        "I don't see {topic} as a serious problem for this country.",
        "People talk about {topic} as if it were a crisis, but the facts don't support that.",
    ),
    (
        "{Topic} exists, but I think it is a smaller problem than people claim.",
        "There is something to the concern about {topic}, though it is not a top priority.",
        "I'd put {topic} fairly low on the list of problems we face.",
    ),
    (
        "I can see both sides: {topic} is a real issue, but not the most urgent one.",
        "{Topic} deserves attention, and I think the truth lies somewhere in the middle.",
        "I'm torn; {topic} matters, but some of the claims about it go too far.",
    ),
    (
        "{Topic} is a serious problem, and we should be doing more about it.",
        "I think the evidence shows that {topic} is hurting a lot of people.",
        "We can disagree on solutions, but {topic} is clearly a real and serious issue.",
    ),
    (
        "{Topic} is one of the most serious problems this country faces.",
        "I believe {topic} is a crisis that demands action now.",
        "Every day we wait, {topic} does more damage; it is an extremely serious problem.",
    ),
)

#: Template sentences per stance band (lowest first) for agreement with a proposition.
AGREEMENT_BANK: tuple[tuple[str, ...], ...] = (
    (
        "I strongly disagree with this proposition.",
        "I can't accept this proposition; the arguments against it are much stronger.",
        "In my view, this proposition is simply wrong.",
    ),
    (
        "I mostly disagree, although I see a point or two on the other side.",
        "I lean against this proposition.",
        "I'm not convinced; on balance I disagree.",
    ),
    (
        "I'm undecided; both sides have reasonable arguments.",
        "I could go either way on this proposition.",
        "There are good points on each side, and I haven't made up my mind.",
    ),
    (
        "I lean toward agreeing with this proposition.",
        "On balance, I think the proposition is right.",
        "I mostly agree, though I have some reservations.",
    ),
    (
        "I strongly agree with this proposition.",
        "The case for this proposition is compelling.",
        "I'm convinced that the proposition is right.",
    ),
)


def reference_rating(topic: str, role: str, scale: tuple[float, float]) -> float | None:
    """The role's reference 0-10 rating of a known topic, mapped onto ``scale``; else None."""
    ratings = rules.TOPIC_PRIORS.get(topic.strip().lower())
    if ratings is None or role not in ratings:
        return None
    lo, hi = scale
    return lo + (hi - lo) * ratings[role] / 10.0


class ScriptedDebater(abc.ABC):
    """Base of the scripted debaters: attitude state, update timing, templates, surveys."""

    kind: ClassVar[str] = ""
    #: Bounds of the numeric parameters; ``initial_sd`` is checked for every kind.
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {}
    initial: float | None
    initial_sd: float

    def __post_init__(self) -> None:
        self.name = self.kind
        for key, (low, high) in {**self.BOUNDS, "initial_sd": (0.0, 10.0)}.items():
            value = getattr(self, key)
            if value is not None and not (isinstance(value, int | float) and low <= value <= high):
                raise ConfigError(f"{self.kind}.{key}", value, f"a number in [{low}, {high}]")
        self._rng = np.random.default_rng(None)
        self.reset()

    def reset(self, *, seed: int | None = None) -> None:
        """Forget the episode; ``seed`` seeds the start jitter and the template choice,
        ``None`` continues the current stream."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._x: float | None = None
        self._x0 = 0.0
        self._seen = 0
        self._scale = rules.TAUBENFELD_SCALE
        self._bank = SERIOUSNESS_BANK

    @property
    def attitude(self) -> float | None:
        """The current attitude (None before the first observation)."""
        return self._x

    def act(self, observation: Mapping[str, Any]) -> Decision:
        if self._x is None:
            self._begin(observation)
        assert self._x is not None  # set by _begin
        iteration = int(np.asarray(observation["iteration"]).reshape(-1)[0])
        if iteration > self._seen:
            self._seen = iteration
            lo, hi = self._scale
            heard = _others_stated(observation)
            self._x = float(np.clip(self.update(self._x, self._x0, heard), lo, hi))
        x = self._x
        if int(observation["phase"]) == 1:
            return Decision(action=f"My rating: {x:.2f}", extra={"attitude": x})
        return Decision(action=self._utterance(observation, x), extra={"attitude": x})

    def _begin(self, observation: Mapping[str, Any]) -> None:
        extra = rules.parse_extra(str(observation.get("extra", "")))
        self._scale = rules.parse_scale(extra.get("scale", "")) or rules.TAUBENFELD_SCALE
        self._bank = AGREEMENT_BANK if extra.get("protocol") == "salvi" else SERIOUSNESS_BANK
        self._topic = str(observation.get("topic", ""))
        role = str(observation.get("role", ""))
        self._x0 = self._start(role)
        self._x = self._x0
        self._seen = int(np.asarray(observation["iteration"]).reshape(-1)[0])
        self._prepare(role)

    def _start(self, role: str) -> float:
        """``initial`` exactly, else the role's reference rating (or the midpoint) plus the
        seeded jitter, clipped to the scale."""
        lo, hi = self._scale
        start = self.initial
        if start is None:
            ref = reference_rating(self._topic, role, self._scale)
            start = (lo + hi) / 2 if ref is None else ref
            if self.initial_sd > 0:
                start += self.initial_sd * (hi - lo) / 10.0 * float(self._rng.standard_normal())
        return float(np.clip(start, lo, hi))

    def _prepare(self, role: str) -> None:  # noqa: B027 (a hook, not abstract)
        """Per-episode setup after the scale and topic are known."""

    def _utterance(self, observation: Mapping[str, Any], x: float) -> str:
        lo, hi = self._scale
        options = self._bank[rules.stance_level(x, lo, hi, len(self._bank))]
        sentence = options[int(self._rng.integers(len(options)))]
        topic = self._topic or "this issue"
        text = sentence.format(topic=topic, Topic=topic[:1].upper() + topic[1:])
        return f"{text} {rules.attitude_marker(x)}"

    @abc.abstractmethod
    def update(self, x: float, x0: float, others: list[float]) -> float:
        """The new attitude from the current one, the initial one and others' stated ones."""

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters (the fields of the dataclass)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}  # type: ignore[arg-type]


def _others_stated(observation: Mapping[str, Any]) -> list[float]:
    stated = np.asarray(observation["stated"], dtype=np.float64)
    known = np.asarray(observation["stated_mask"]).astype(bool)
    known[int(observation["self_index"])] = False
    return [float(v) for v in stated[known]]


@dataclass
class DeGroot(ScriptedDebater):
    """DeGroot averaging (DeGroot 1974, JASA 69:118).

    Keeps ``self_weight`` of its attitude and moves the rest to the mean of the others'
    stated attitudes. Reaches consensus, not a model prior.
    """

    kind: ClassVar[str] = "degroot"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {
        "self_weight": (0.0, 1.0),
        "initial": (-1e6, 1e6),
    }
    self_weight: float = 0.5
    initial: float | None = None
    initial_sd: float = 0.5

    def update(self, x: float, x0: float, others: list[float]) -> float:
        return rules.degroot_listen(x, others, self.self_weight)


@dataclass
class BoundedConfidence(ScriptedDebater):
    """Bounded confidence: listens only to attitudes within ``epsilon`` of its own.

    ``model="hk"``: Hegselmann & Krause (2002, JASSS 5(3)): the mean of itself and every
    stated attitude within epsilon. ``model="deffuant"``: Deffuant, Neau, Amblard &
    Weisbuch (2000, Adv. Complex Syst. 3): moves ``mu`` of the way to each stated attitude
    closer than epsilon, one after another. ``epsilon`` is in scale units.
    """

    kind: ClassVar[str] = "bounded_confidence"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {
        "epsilon": (0.0, 100.0),
        "mu": (0.0, 0.5),
        "initial": (-1e6, 1e6),
    }
    model: str = "hk"
    epsilon: float = 3.0
    mu: float = 0.3
    initial: float | None = None
    initial_sd: float = 0.5

    def __post_init__(self) -> None:
        if self.model not in ("hk", "deffuant"):
            raise ConfigError(f"{self.kind}.model", self.model, ["hk", "deffuant"])
        super().__post_init__()

    def update(self, x: float, x0: float, others: list[float]) -> float:
        if self.model == "hk":
            return rules.hk_listen(x, others, self.epsilon)
        return rules.deffuant_listen(x, others, self.epsilon, self.mu)


@dataclass
class DriftToPrior(ScriptedDebater):
    """Drift toward a model prior: x' = a (W x)_i + s x_i(0) + g b, a = 1 - s - g.

    Our model of Taubenfeld et al.'s (2024, arXiv:2402.04049) finding that LLM debaters
    drift toward the model's inherent view b whatever persona they play, and that the
    partisans' lines approach the Default agent's without crossing it: Friedkin-Johnsen
    (1990) anchoring ``anchor`` (s) to the initial attitude plus a pull ``drift`` (g)
    toward ``prior`` (b; default: the Default role's reference rating of the topic, the
    "inherent bias"). With ``drift=0`` this is Friedkin-Johnsen. ``self_weight`` (w) is the
    weight of its own attitude inside the averaging term (W = w on itself, 1 - w split over
    the speakers known so far); ``None`` weighs itself like each known speaker (W = J/n).

    Defaults (s, g, w) = (0.1, 0.2, 0.95): the drift dominates and listening is damped
    (others get a (1 - w) = 0.035 per update). Under the synchronous round schedule with
    W = J/n the gaps between agents are exactly s times their initial gaps, so no line ever
    crosses another (modelling: Friedkin-Johnsen with a stubborn model node). In the env
    each debater hears only the attitudes stated so far, one utterance at a time, so agents
    hear different things; with undamped listening (w = None) the Default agent is dragged
    toward the first speaker and the partisans overshoot it. With the defaults each
    partisan's gap to the Default agent shrinks monotonically to about s / (s + g) of its
    start over 9 utterances and the Default agent stays within a few tenths of b.
    """

    kind: ClassVar[str] = "drift_to_prior"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {
        "anchor": (0.0, 1.0),
        "drift": (0.0, 1.0),
        "self_weight": (0.0, 1.0),
        "prior": (-1e6, 1e6),
        "initial": (-1e6, 1e6),
    }
    prior: float | None = None
    anchor: float = 0.1
    drift: float = 0.2
    self_weight: float | None = 0.95
    initial: float | None = None
    initial_sd: float = 0.5

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.anchor + self.drift > 1.0:
            raise ConfigError(
                f"{self.kind}.anchor+drift", self.anchor + self.drift, "a sum of at most 1"
            )

    def reset(self, *, seed: int | None = None) -> None:
        super().reset(seed=seed)
        self._b = float("nan")  # known once the first observation names the topic

    def _prepare(self, role: str) -> None:
        lo, hi = self._scale
        b = self.prior
        if b is None:
            b = reference_rating(self._topic, "default", self._scale)
        self._b = float(np.clip((lo + hi) / 2 if b is None else b, lo, hi))

    @property
    def target(self) -> float:
        """The prior b this episode drifts toward (NaN before the first observation)."""
        return self._b

    def update(self, x: float, x0: float, others: list[float]) -> float:
        return rules.drift_listen(
            x,
            x0,
            others,
            self._b,
            anchor=self.anchor,
            drift=self.drift,
            self_weight=self.self_weight,
        )


@dataclass
class Stubborn(ScriptedDebater):
    """Never changes its attitude (a stubborn node, w_kk = 1, in DeGroot 1974 terms)."""

    kind: ClassVar[str] = "stubborn"
    BOUNDS: ClassVar[Mapping[str, tuple[float, float]]] = {"initial": (-1e6, 1e6)}
    initial: float | None = None
    initial_sd: float = 0.5

    def update(self, x: float, x0: float, others: list[float]) -> float:
        return x


#: The scripted debater kinds, for registration.
DEBATERS: tuple[type[ScriptedDebater], ...] = (DeGroot, BoundedConfidence, DriftToPrior, Stubborn)
