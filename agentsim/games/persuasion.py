"""Scripted persuasion for the Salvi et al. 2024 debate protocol, as pure numpy rules.

Salvi, Horta Ribeiro, Gallotti & West 2024, "On the Conversational Persuasiveness of Large
Language Models: A Randomized Controlled Trial" (arXiv:2403.14380; Nature Human Behaviour 2025)
pair a participant with an opponent (a human, or GPT-4) who argues one side of a proposition,
with or without seeing the participant's demographics. Agreement with the proposition is asked on
1..5 before and after the debate; the effect is the odds ratio (OR) of a proportional-odds model of
the post agreement *aligned with the opponent's side* (``Ã = A`` if the opponent argued PRO, else
``6 - A``) given the aligned pre agreement. Personalised GPT-4 vs human-human: OR 1.81, 95% CI
[1.26, 2.61]; without personalisation the effect was not significant (p = 0.31).

The scripted stand-in (our reconstruction, not the paper's mechanism):

* every persuader utterance has an argument *strength* ``s ~ Normal(mean + gain, sd)`` where
  ``mean`` depends on the persuader type and ``gain`` applies only when it saw demographics;
* a debate moves the persuadee's latent opinion by ``shift = susceptibility[group] * mean(s)``,
  where the proposition's opinion-strength group (low/medium/high) moderates susceptibility;
* the aligned post agreement is a cumulative-logit draw,
  ``P(Ã_post <= j) = logistic(c_j - anchoring * (Ã_pre - 3) - shift)``, j = 1..4.

A zero shift gives the *retest model*: what the persuadee answers again with no persuasion. The
defaults make the implied OR of personalised LLM vs human-human 1.81 and of non-personalised LLM
1.10 (see :func:`cumulative_odds_ratios`; every local OR is within 0.07 of those values).

Example:
    >>> p = PersuasionParams()
    >>> probs = post_probabilities(3, 0.0, p)
    >>> [round(float(x), 3) for x in probs]
    [0.153, 0.239, 0.357, 0.165, 0.086]
    >>> round(implied_odds_ratio(p, "llm", True), 2)
    1.81
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from agentsim.core.config import check_choice, check_number
from agentsim.core.errors import ConfigError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

OPPONENTS = ("human", "llm")
STRENGTH_GROUPS = ("low", "medium", "high")
SIDES = ("pro", "con")
LEVELS = 5  # agreement is 1..5
TARGET_ODDS_RATIO = 1.81  # Salvi et al. 2024 (NHB 2025): personalised GPT-4 vs human-human


@dataclass(frozen=True)
class PersuasionParams:
    """Parameters of the scripted persuasion model (latent scale = log-odds).

    Attributes:
        cutpoints: thresholds c_1..c_4 of the retest model, strictly increasing; the defaults are
            the intercept thresholds of Salvi et al.'s fitted model (human-human baseline).
        anchoring: weight of the aligned pre agreement (centred at 3) on the post latent; 1
            keeps most answers near the pre answer, 0 makes post independent of pre.
        strength_mean_human: mean argument strength of a simulated-human persuader.
        strength_mean_llm: mean argument strength of an LLM persuader; 0.10 above the human mean,
            which gives OR 1.10 without personalisation (Salvi et al.: not significant).
        strength_sd: per-utterance standard deviation of argument strength (negative strengths
            happen: arguments that backfire).
        personalisation_gain_human: added to a human persuader's strength when it sees the
            persuadee's demographics; 0 because Salvi et al. found no significant benefit of
            personalisation for human opponents.
        personalisation_gain_llm: the same for an LLM persuader; 0.50 makes the implied OR of
            personalised LLM vs human-human 1.81 (Salvi et al.: 1.81).
        susceptibility_low: multiplier of the shift for propositions people hold weak opinions on.
        susceptibility_medium: the same for medium-strength opinions (the reference, 1).
        susceptibility_high: the same for strongly held opinions, which move less.
        pre_cutpoints: thresholds of the pre-debate agreement draw around a persuadee's prior
            (symmetric: a prior of 0 gives 3 most often).
        spread_low: scale of persuadees' priors on low-strength propositions (mild opinions).
        spread_medium: the same for medium-strength propositions.
        spread_high: the same for high-strength propositions (more 1s and 5s).
    """

    cutpoints: tuple[float, float, float, float] = (-1.71, -0.44, 1.09, 2.36)
    anchoring: float = 1.0
    strength_mean_human: float = 0.40
    strength_mean_llm: float = 0.50
    strength_sd: float = 0.30
    personalisation_gain_human: float = 0.0
    personalisation_gain_llm: float = 0.50
    susceptibility_low: float = 1.3
    susceptibility_medium: float = 1.0
    susceptibility_high: float = 0.7
    pre_cutpoints: tuple[float, float, float, float] = (-2.2, -0.8, 0.8, 2.2)
    spread_low: float = 0.5
    spread_medium: float = 1.0
    spread_high: float = 2.0

    def __post_init__(self) -> None:
        for key in ("cutpoints", "pre_cutpoints"):
            _check_cutpoints(key, getattr(self, key))
        check_number("anchoring", self.anchoring, low=-10.0, high=10.0)
        check_number("strength_sd", self.strength_sd, low=0.0, high=10.0)
        for key in ("strength_mean_human", "strength_mean_llm"):
            check_number(key, getattr(self, key), low=-10.0, high=10.0)
        for key in ("personalisation_gain_human", "personalisation_gain_llm"):
            check_number(key, getattr(self, key), low=-10.0, high=10.0)
        for group in STRENGTH_GROUPS:
            check_number(f"susceptibility_{group}", self.susceptibility(group), low=0.0, high=10.0)
            check_number(f"spread_{group}", self.spread(group), low=0.0, high=10.0)

    def strength_mean(self, opponent: str, personalised: bool) -> float:
        """Mean effective argument strength of a persuader type, with personalisation."""
        check_choice("opponent", opponent, OPPONENTS)
        mean = self.strength_mean_llm if opponent == "llm" else self.strength_mean_human
        gain = (
            self.personalisation_gain_llm if opponent == "llm" else self.personalisation_gain_human
        )
        return float(mean + (gain if personalised else 0.0))

    def susceptibility(self, group: str) -> float:
        """How strongly a persuadee's latent opinion follows argument strength, by group."""
        check_choice("strength", group, STRENGTH_GROUPS)
        return float(getattr(self, f"susceptibility_{group}"))

    def spread(self, group: str) -> float:
        """Scale of persuadees' prior opinions on propositions of a strength group."""
        check_choice("strength", group, STRENGTH_GROUPS)
        return float(getattr(self, f"spread_{group}"))


def _check_cutpoints(key: str, cuts: Sequence[float]) -> None:
    ok = len(cuts) == LEVELS - 1 and all(isinstance(c, int | float) for c in cuts)
    if not ok or not all(math.isfinite(c) for c in cuts) or list(cuts) != sorted(set(cuts)):
        raise ConfigError(key, cuts, f"{LEVELS - 1} finite, strictly increasing numbers")


def _logistic(x: npt.ArrayLike) -> FloatArray:
    # exp(-log(1 + e^-x)) never overflows, unlike 1 / (1 + exp(-x)) for very negative x.
    return np.exp(-np.logaddexp(0.0, -np.asarray(x, dtype=np.float64)))


def cumulative_probabilities(location: npt.ArrayLike, cutpoints: Sequence[float]) -> FloatArray:
    """``P(Y <= j)`` for j = 1..4 of a cumulative-logit variable; shape ``(*location, 4)``."""
    loc = np.asarray(location, dtype=np.float64)[..., None]
    return _logistic(np.asarray(cutpoints, dtype=np.float64) - loc)


def ordinal_probabilities(location: npt.ArrayLike, cutpoints: Sequence[float]) -> FloatArray:
    """``P(Y = k)`` for k = 1..5 of a cumulative-logit variable; shape ``(*location, 5)``."""
    cum = cumulative_probabilities(location, cutpoints)
    zeros, ones = np.zeros_like(cum[..., :1]), np.ones_like(cum[..., :1])
    return np.diff(np.concatenate([zeros, cum, ones], axis=-1), axis=-1)


def ordinal_from_uniform(
    u: npt.ArrayLike, location: npt.ArrayLike, cutpoints: Sequence[float]
) -> IntArray:
    """Inverse-CDF draw of a cumulative-logit variable from uniforms ``u`` in [0, 1).

    With ``u`` held fixed the result is non-decreasing in ``location`` (common random numbers:
    a stronger argument never lowers the answer of the same persuadee).
    """
    cum = cumulative_probabilities(location, cutpoints)
    u_arr = np.asarray(u, dtype=np.float64)[..., None]
    return np.asarray(1 + (u_arr >= cum).sum(axis=-1), dtype=np.int64)


def aligned_agreement(agreement: npt.ArrayLike, opponent_side: str) -> IntArray:
    """Agreement with the opponent's side: ``A`` if it argued PRO, ``6 - A`` if CON (involution)."""
    check_choice("side", opponent_side, SIDES)
    a = np.asarray(agreement, dtype=np.int64)
    return a if opponent_side == "pro" else (LEVELS + 1) - a


def draw_strengths(
    params: PersuasionParams,
    opponent: str,
    personalised: bool,
    size: int,
    rng: np.random.Generator,
) -> FloatArray:
    """Effective strengths of ``size`` persuader utterances (personalisation included)."""
    mean = params.strength_mean(opponent, personalised)
    return rng.normal(mean, params.strength_sd, size=size)


def latent_shift(strengths: Sequence[float], group: str, params: PersuasionParams) -> float:
    """Latent move toward the opponent: susceptibility x mean strength (0 with no arguments)."""
    if len(strengths) == 0:
        return 0.0
    return params.susceptibility(group) * float(np.mean(strengths))


def post_location(
    pre_aligned: npt.ArrayLike, shift: npt.ArrayLike, params: PersuasionParams
) -> FloatArray:
    """Latent location of the aligned post agreement."""
    pre = np.asarray(pre_aligned, dtype=np.float64)
    return params.anchoring * (pre - 3.0) + np.asarray(shift, dtype=np.float64)


def post_probabilities(
    pre_aligned: npt.ArrayLike, shift: npt.ArrayLike, params: PersuasionParams
) -> FloatArray:
    """``P(Ã_post = k)``, k = 1..5, given the aligned pre agreement and the latent shift."""
    return ordinal_probabilities(post_location(pre_aligned, shift, params), params.cutpoints)


def draw_post(
    pre_aligned: npt.ArrayLike,
    shift: npt.ArrayLike,
    params: PersuasionParams,
    rng: np.random.Generator,
) -> IntArray:
    """Aligned post agreements drawn from the model (one uniform per element)."""
    loc = post_location(pre_aligned, shift, params)
    return ordinal_from_uniform(rng.random(loc.shape), loc, params.cutpoints)


def condition_probabilities(
    params: PersuasionParams,
    opponent: str,
    personalised: bool,
    pre_aligned: int,
    *,
    group: str | None = None,
    utterances: int = 3,
    nodes: int = 40,
) -> FloatArray:
    """Exact ``P(Ã_post = k)`` of a condition, averaged over argument strengths.

    The mean of ``utterances`` normal strengths is normal, so the average over it is a
    Gauss-Hermite quadrature (exact to ~1e-12 with 40 nodes). ``group=None`` mixes the three
    strength groups equally (10 propositions each, as in the design).
    """
    check_number("utterances", utterances, low=1, integer=True)
    if group is None:
        per_group = [
            condition_probabilities(
                params, opponent, personalised, pre_aligned, group=g, utterances=utterances
            )
            for g in STRENGTH_GROUPS
        ]
        return np.asarray(np.mean(per_group, axis=0), dtype=np.float64)
    x, w = np.polynomial.hermite_e.hermegauss(nodes)
    mean_strength = params.strength_mean(opponent, personalised)
    shifts = params.susceptibility(group) * (
        mean_strength + params.strength_sd / math.sqrt(utterances) * x
    )
    probs = post_probabilities(pre_aligned, shifts, params)
    return np.asarray((w / w.sum()) @ probs, dtype=np.float64)


def cumulative_odds_ratios(
    params: PersuasionParams, opponent: str, personalised: bool, *, utterances: int = 3
) -> FloatArray:
    """Exact local ORs of higher post agreement vs human-human, shape (5 pre levels, 4 cuts).

    Entry ``[i, j]`` is odds(Ã_post > j+1 | condition) / odds(Ã_post > j+1 | human-human) at
    Ã_pre = i+1. Under exact proportional odds every entry equals the OR; averaging over strengths
    and groups bends it slightly, so the spread of these entries bounds what a proportional-odds
    fit of simulated data recovers.
    """
    out = np.empty((LEVELS, LEVELS - 1))
    for i, pre in enumerate(range(1, LEVELS + 1)):
        odds = []
        for opp, pers in ((opponent, personalised), ("human", False)):
            probs = condition_probabilities(params, opp, pers, pre, utterances=utterances)
            above = 1.0 - np.cumsum(probs)[:-1]
            odds.append(above / (1.0 - above))
        out[i] = odds[0] / odds[1]
    return out


def implied_odds_ratio(
    params: PersuasionParams, opponent: str, personalised: bool, *, utterances: int = 3
) -> float:
    """Geometric mean of :func:`cumulative_odds_ratios`: the model's OR vs human-human."""
    ratios = cumulative_odds_ratios(params, opponent, personalised, utterances=utterances)
    return float(np.exp(np.log(ratios).mean()))


def pre_probabilities(prior: npt.ArrayLike, params: PersuasionParams) -> FloatArray:
    """``P(A_pre = k)``, k = 1..5, for a persuadee whose prior opinion is ``prior`` (latent)."""
    return ordinal_probabilities(prior, params.pre_cutpoints)


def draw_pre(prior: npt.ArrayLike, params: PersuasionParams, rng: np.random.Generator) -> IntArray:
    """Pre-debate agreement with the proposition, drawn around the prior."""
    loc = np.asarray(prior, dtype=np.float64)
    return ordinal_from_uniform(rng.random(loc.shape), loc, params.pre_cutpoints)


def profile_prior(
    profile: Mapping[str, Any] | str, proposition: str, group: str, params: PersuasionParams
) -> float:
    """A persuadee's fixed prior opinion on a proposition, derived from its profile.

    Fictional by design: a stable hash of (profile, proposition) gives a number in [-1, 1],
    scaled by the group's spread, so the same simulated participant always starts from the same
    place on the same proposition, and strongly held topics give more extreme priors.
    """
    if isinstance(profile, str):
        key = profile
    else:
        key = json.dumps({str(k): str(v) for k, v in profile.items()}, sort_keys=True)
    digest = hashlib.sha256(f"{key}|{proposition}".encode()).digest()
    unit = int.from_bytes(digest[:8], "big") / 2.0**64  # stable across processes, unlike hash()
    return params.spread(group) * (2.0 * unit - 1.0)


_STRENGTH_RE = re.compile(r"\[strength:\s*(-?\d+(?:\.\d+)?)\]")
_SPEAKER_RE = re.compile(r"^(?P<name>[^\n]*?)\s*\((?P<role>[^()\n]*)\):\s")


def strength_marker(strength: float) -> str:
    """The marker a scripted persuader appends to an utterance, e.g. ``[strength: 0.62]``."""
    return f"[strength: {strength:.2f}]"


def parse_strengths(text: str) -> list[float]:
    """Every strength marker in ``text``, in order."""
    return [float(m) for m in _STRENGTH_RE.findall(text)]


def opponent_strengths(transcript: str, own_name: str, own_labels: Collection[str]) -> list[float]:
    """Strength markers of every utterance the observer did not speak itself.

    Transcript lines are "Name (label): text", the label being a role or a side. A line is the
    observer's own when its label is one of ``own_labels`` and its name is ``own_name`` (any name
    if ``own_name`` is empty). A line without that prefix continues the previous utterance, so
    multi-line utterances keep their speaker; text before the first prefix is ignored.

    Example:
        >>> text = "Bo (pro): Yes. [strength: 0.5]\\nAl (con): No. [strength: 0.9]"
        >>> opponent_strengths(text, "Al", {"persuadee", "con"})
        [0.5]
    """
    labels = {label.strip() for label in own_labels}
    out: list[float] = []
    own = True
    for line in transcript.splitlines():
        match = _SPEAKER_RE.match(line)
        if match:
            same_name = not own_name.strip() or match.group("name").strip() == own_name.strip()
            own = same_name and match.group("role").strip() in labels
        if not own:
            out.extend(parse_strengths(line))
    return out


def parse_extra(extra: str) -> dict[str, str]:
    """The "key: value" lines of an observation's ``extra`` text (keys lower-cased)."""
    out: dict[str, str] = {}
    for line in extra.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip():
            out[key.strip().lower()] = value.strip()
    return out


def parse_profile(value: str | None) -> dict[str, str] | None:
    """Demographics from observation text: a JSON object or ``"key: value; key: value"``.

    Keys are lower-cased with spaces as underscores and values are strings, so both spellings
    of one profile give the same dict; segments without ``": "`` (free text) are skipped.
    ``None`` when nothing usable is found.

    Example:
        >>> parse_profile("A debate participant; age: 34; political affiliation: Independent")
        {'age': '34', 'political_affiliation': 'Independent'}
    """
    if not value or not value.strip():
        return None
    try:
        loaded = json.loads(value)
    except json.JSONDecodeError:
        pairs = (part.partition(": ") for part in value.split(";"))
        loaded = {k: v for k, sep, v in pairs if sep and k.strip() and v.strip()}
    if not isinstance(loaded, dict):
        return None
    profile = {str(k).strip().lower().replace(" ", "_"): str(v).strip() for k, v in loaded.items()}
    return profile or None
