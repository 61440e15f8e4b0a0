"""Scripted persuader and persuadee for the Salvi et al. 2024 protocol of ``debate_v0``.

Offline stand-ins for the 2x2 design of Salvi, Horta Ribeiro, Gallotti & West 2024 ("On the
Conversational Persuasiveness of Large Language Models", arXiv:2403.14380): the opponent is a
simulated human or an LLM, with or without the persuadee's demographics. The persuasion itself is
the model in :mod:`agentsim.games.persuasion`; these classes only read observations and write
text:

* :class:`Persuader` argues the side named in ``extra``, as the opponent type named there
  (``opponent: human|llm``) unless given one, with template utterances, each carrying
  its argument strength as ``[strength: 0.62]``; it personalises (stronger arguments, a line
  addressed to the persuadee's background) when ``extra`` holds the persuadee's demographics
  (``demographics:`` or ``persuadee_demographics:``, as JSON or ``key: value; ...`` text).
* :class:`Persuadee` answers the first survey with a pre agreement drawn around its prior, and
  later surveys with the model's post agreement given the strengths it read in the transcript.

Observations follow ``debate_v0``: ``phase`` 0 = speak, 1 = survey; ``extra`` holds
``side: pro|con``, ``phase: opening|rebuttal|conclusion`` and, for the persuader only,
``opponent: human|llm`` and, when personalised, the persuadee's demographics; transcript
lines are ``Name (role or side): text``.

Example:
    >>> obs = {"phase": 0, "iteration": [0], "role": "persuader", "persona": "Ann: a teacher",
    ...        "topic": "Should X?", "transcript": "",
    ...        "extra": "side: pro\\nphase: opening\\nopponent: llm"}
    >>> p = Persuader()
    >>> p.reset(seed=1)
    >>> p.act(obs).action.endswith("[strength: 0.60]")
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from agentsim.agents.base import Decision
from agentsim.core.config import check_choice, check_number
from agentsim.games import persuasion as model

SPEAK, SURVEY = 0, 1
AGREEMENT_WORDS = ("", "strongly disagree", "disagree", "neutral", "agree", "strongly agree")

_ARGUMENTS: Mapping[tuple[str, str, str], str] = {
    ("human", "pro", "opening"): "Honestly, my answer to '{topic}' is yes. It would make "
    "everyday life better for most people, and the costs are smaller than they sound.",
    ("human", "con", "opening"): "I'd say no to '{topic}'. It sounds good on paper, but "
    "ordinary people end up paying for changes like this.",
    ("human", "pro", "rebuttal"): "I hear the worries, but they are overstated. Places "
    "that tried something like this mostly got used to it quickly.",
    ("human", "con", "rebuttal"): "The other side skips over who pays for this, and the "
    "examples they mention do not carry over to the whole country.",
    ("human", "pro", "conclusion"): "So I still say yes: the upside is real and the "
    "downside is manageable.",
    ("human", "con", "conclusion"): "So I still say no: the risks are real and the "
    "promised benefits are uncertain.",
    ("llm", "pro", "opening"): "There are three strong reasons to answer yes to '{topic}': "
    "evidence from places that have tried it, the hidden costs of the status quo, and fairness "
    "to the people most affected.",
    ("llm", "con", "opening"): "There are three strong reasons to answer no to '{topic}': "
    "the costs fall on people who did not choose them, the evidence is mixed, and better "
    "alternatives exist.",
    ("llm", "pro", "rebuttal"): "My opponent's concerns are understandable, but the "
    "evidence points the other way: where this was tried, the feared harms were small and the "
    "benefits measurable.",
    ("llm", "con", "rebuttal"): "My opponent's case rests on optimistic assumptions; "
    "the studies they rely on are small, and the trade-offs they leave out are large.",
    ("llm", "pro", "conclusion"): "Weighing the evidence, the benefits, and fairness "
    "together, the case for yes is the stronger one.",
    ("llm", "con", "conclusion"): "Weighing the costs, the uncertain evidence, and the "
    "alternatives together, the case for no is the stronger one.",
}


def _context(observation: Mapping[str, Any], agent: str) -> dict[str, str]:
    extra = model.parse_extra(str(observation.get("extra", "")))
    side = extra.get("side", "")
    if side not in model.SIDES:
        raise ValueError(
            f"{agent} needs 'side: pro' or 'side: con' in observation['extra'] (debate_v0 with "
            f"protocol=salvi); got {side!r}"
        )
    return extra


def _argument(style: str, side: str, phase: str, observation: Mapping[str, Any]) -> str:
    """The template utterance of a style and side for a debate phase (opening if unknown)."""
    template = _ARGUMENTS.get((style, side, phase), _ARGUMENTS[(style, side, "opening")])
    return template.format(topic=str(observation.get("topic", "")).strip())


def _demographics(extra: Mapping[str, str]) -> str | None:
    # The schema names the key "demographics"; debate_v0 writes "persuadee_demographics".
    return extra.get("demographics") or extra.get("persuadee_demographics")


def _survey_reply(agreement: int) -> str:
    # The score must be the reply's first number (games/debate.py parse_survey).
    return f"{agreement} ({AGREEMENT_WORDS[agreement]})"


def _personal_line(profile: Mapping[str, str]) -> str:
    labels = {"age": "aged {}"}
    keys = ("age", "gender", "education", "employment", "political_affiliation")
    facts = [labels.get(k, "{}").format(profile[k]) for k in keys if profile.get(k)]
    return f" Given your background ({', '.join(facts)}), this touches your own life directly."


@dataclass
class Persuader:
    """A scripted persuader whose utterances carry their argument strength.

    Each utterance's strength is drawn from :func:`agentsim.games.persuasion.draw_strengths`
    for the opponent type it plays (an LLM argues more strongly than a simulated human on
    average; Salvi et al. 2024); seeing the persuadee's demographics adds the personalisation
    gain.

    Attributes:
        opponent: ``"human"`` (a simulated-human persona) or ``"llm"``; ``None`` (the default)
            plays the condition the env names in the observation's ``extra``
            (``opponent: human|llm``, which ``debate_v0`` shows the persuader only), so
            ``agentsim run persuasion --set opponent=human`` argues as a human. An explicit
            value wins over ``extra``.
    """

    kind: ClassVar[str] = "persuader"
    opponent: str | None = None

    def __post_init__(self) -> None:
        if self.opponent is not None:
            check_choice("persuader.opponent", self.opponent, model.OPPONENTS)
        self.name = self.kind
        self._model = model.PersuasionParams()
        self._rng = np.random.default_rng(None)

    def reset(self, *, seed: int | None = None) -> None:
        """Re-seed the strength draws; ``None`` continues the current stream."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)

    def act(self, observation: Mapping[str, Any]) -> Decision:
        extra = _context(observation, "persuader")
        side = extra["side"]
        if int(observation["phase"]) == SURVEY:
            return Decision(action=_survey_reply(4 if side == "pro" else 2))
        opponent = self._opponent(extra)
        profile = model.parse_profile(_demographics(extra))
        strength = float(
            model.draw_strengths(self._model, opponent, profile is not None, 1, self._rng)[0]
        )
        text = _argument(opponent, side, extra.get("phase", ""), observation)
        if profile is not None:
            text += _personal_line(profile)
        text = f"{text} {model.strength_marker(strength)}"
        info = {"strength": strength, "personalised": profile is not None, "opponent": opponent}
        return Decision(action=text, extra=info)

    def _opponent(self, extra: Mapping[str, str]) -> str:
        """The opponent type it plays: its parameter, else the env's ``opponent`` line."""
        if self.opponent is not None:
            return self.opponent
        named = extra.get("opponent")
        if named is None or named not in model.OPPONENTS:
            raise ValueError(
                "persuader needs 'opponent: human' or 'opponent: llm' in observation['extra'] "
                f"(debate_v0 with protocol=salvi) or an opponent parameter; got {named!r}"
            )
        return named

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {"opponent": self.opponent}


@dataclass
class Persuadee:
    """A scripted persuadee: pre agreement around a prior, post agreement from the model.

    The prior is ``prior`` if given, else :func:`agentsim.games.persuasion.profile_prior` of its
    profile: ``profile: ...`` in ``extra``, else the ``key: value; ...`` demographics in its persona
    background (as ``debate_v0`` writes them), else the persona text itself. The strength
    group (susceptibility) is ``group`` if given, else ``strength: low|medium|high`` in ``extra``,
    else medium. One uniform drawn with the pre answer fixes the post draw (common random numbers),
    so stronger arguments never lower its answer. Until it has heard an opponent's argument it
    repeats its pre answer.

    Attributes:
        prior: latent prior opinion on the proposition (``None``: from the profile).
        group: opinion-strength group of the proposition (``None``: from ``extra``).
    """

    kind: ClassVar[str] = "persuadee"
    prior: float | None = None
    group: str | None = None

    def __post_init__(self) -> None:
        if self.prior is not None:
            check_number("persuadee.prior", self.prior, low=-10.0, high=10.0)
        if self.group is not None:
            check_choice("persuadee.group", self.group, model.STRENGTH_GROUPS)
        self.name = self.kind
        self._model = model.PersuasionParams()
        self._rng = np.random.default_rng(None)
        self._pre: int | None = None
        self._u = 0.0

    def reset(self, *, seed: int | None = None) -> None:
        """Forget the episode's agreement; ``seed`` re-seeds, ``None`` continues the stream."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._pre = None

    def act(self, observation: Mapping[str, Any]) -> Decision:
        extra = _context(observation, "persuadee")
        if int(observation["phase"]) == SPEAK:
            # It argues plainly, with no strength marker: only the persuader's arguments count.
            return Decision(
                action=_argument("human", extra["side"], extra.get("phase", ""), observation)
            )
        group = self._group(extra)
        pre = self._pre_agreement(observation, extra, group)
        name, labels = _me(observation, extra)
        strengths = model.opponent_strengths(str(observation.get("transcript", "")), name, labels)
        agreement, shift = pre, 0.0
        if strengths:
            agreement, shift = self._post_agreement(pre, extra["side"], strengths, group)
        info = {"pre": pre, "agreement": agreement, "shift": shift, "arguments": len(strengths)}
        return Decision(action=_survey_reply(agreement), extra=info)

    def _group(self, extra: Mapping[str, str]) -> str:
        group = self.group or extra.get("strength", "medium")
        return group if group in model.STRENGTH_GROUPS else "medium"

    def _pre_agreement(
        self, observation: Mapping[str, Any], extra: Mapping[str, str], group: str
    ) -> int:
        if self._pre is None:
            prior = self.prior
            if prior is None:
                profile = self._profile(observation, extra)
                prior = model.profile_prior(
                    profile, str(observation.get("topic", "")), group, self._model
                )
            self._pre = int(model.draw_pre(prior, self._model, self._rng))
            self._u = float(self._rng.random())
        return self._pre

    @staticmethod
    def _profile(
        observation: Mapping[str, Any], extra: Mapping[str, str]
    ) -> Mapping[str, str] | str:
        """Its own profile: ``profile:`` in extra, else its persona's demographics, else persona."""
        persona = str(observation.get("persona", ""))
        found = model.parse_profile(extra.get("profile")) or model.parse_profile(
            persona.partition(":")[2]
        )
        return found if found is not None else persona

    def _post_agreement(
        self, pre: int, own_side: str, strengths: list[float], group: str
    ) -> tuple[int, float]:
        opponent_side = "con" if own_side == "pro" else "pro"
        shift = model.latent_shift(strengths, group, self._model)
        pre_aligned = model.aligned_agreement(pre, opponent_side)
        location = model.post_location(pre_aligned, shift, self._model)
        post_aligned = model.ordinal_from_uniform(self._u, location, self._model.cutpoints)
        return int(model.aligned_agreement(post_aligned, opponent_side)), shift

    def params(self) -> dict[str, Any]:
        """JSON-ready parameters."""
        return {"prior": self.prior, "group": self.group}


def _me(observation: Mapping[str, Any], extra: Mapping[str, str]) -> tuple[str, set[str]]:
    """The observer's transcript name (persona text before its first colon) and labels."""
    name = str(observation.get("persona", "")).partition(":")[0].strip()
    # debate_v0 labels salvi lines with the side, the schema with the role: accept either.
    return name, {str(observation.get("role", "")).strip(), extra["side"]}


AGENTS: tuple[type[Persuader] | type[Persuadee], ...] = (Persuader, Persuadee)
