"""``DebateConfig``: the validated, frozen settings of ``debate_v0``.

Example:
    >>> cfg = DebateConfig(roles="republican,republican", topic="racism")
    >>> cfg.role_list, cfg.seats
    (('republican', 'republican'), 2)
    >>> DebateConfig(protocol="oxford")
    Traceback (most recent call last):
    ...
    agentsim.core.errors.ConfigError: invalid protocol='oxford'; allowed: taubenfeld, salvi
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from agentsim.core.config import check_choice, check_number
from agentsim.core.errors import ConfigError
from agentsim.envs.debate import catalogue
from agentsim.games.debate import PROTOCOLS, SALVI_PHASES

OPPONENTS = ("human", "llm")
#: Keys only one protocol reads.
_TAUBENFELD_KEYS = ("roles", "roles_file", "topic", "topics_file", "iterations", "persona_source")
_SALVI_KEYS = (
    "opponent",
    "personalised",
    "proposition",
    "strength",
    "propositions_file",
    "demographics_file",
)
PERSONA_SOURCES = ("package", "model")
STRENGTH_CHOICES = ("any", *catalogue.STRENGTHS)
MAX_SEATS = 8
#: The action space's fixed bound; ``max_utterance_chars`` truncates below it.
MAX_ACTION_CHARS = 2000
_FILE_KEYS = (
    "roles_file",
    "topics_file",
    "personas_file",
    "propositions_file",
    "demographics_file",
)


@dataclass(frozen=True)
class DebateConfig:
    """Settings of one ``debate_v0`` episode; defaults follow Taubenfeld et al. 2024.

    Attributes:
        protocol: ``"taubenfeld"`` (k-way round-robin debate, 0-10 survey after every
            utterance) or ``"salvi"`` (persuader vs persuadee, three phases, 1-5 agreement
            before and after; Salvi et al. 2024, arXiv:2403.14380).
        roles: taubenfeld: comma-separated role per seat, 2 to 8 seats (e.g.
            ``"republican,republican"`` for an echo chamber). Salvi's seats are always
            persuader (``debater_0``) and persuadee (``debater_1``).
        roles_file: JSON file of user roles and their descriptions (see ``catalogue``).
        topic: taubenfeld topic id (``gun_violence``, ``racism``, ``climate_change``,
            ``illegal_immigration`` or one from ``topics_file``).
        topics_file: JSON file of user topics, each with its 0-10 survey question.
        iterations: taubenfeld utterances per debate (the paper: 9); salvi always has 6.
        persona_seed: ``None`` draws personas from the env's RNG every episode; an int
            draws the same personas every episode.
        personas_file: JSON file of persona pools by role, replacing the package pools.
        persona_source: ``"package"`` (the shipped pools, or ``personas_file``) or
            ``"model"``: with ``--model``, the run's model writes a pool per role once, as
            Taubenfeld et al. did, stored in ``RUN_DIR/personas.json`` and reused on resume.
        max_utterance_chars: longer utterances are cut to this many characters.
        max_transcript_chars: the transcript observation keeps this many latest characters.
        opponent: salvi persuader: ``"human"`` (a simulated-human persona) or ``"llm"``.
        personalised: salvi: the persuader sees the persuadee's demographics.
        proposition: salvi proposition id; ``""`` draws one per episode (env RNG).
        strength: salvi: draw propositions of this opinion strength only (or ``"any"``).
        propositions_file: salvi propositions (default: the package's).
        demographics_file: salvi persuadee profiles (default: the package's).
    """

    protocol: str = "taubenfeld"
    roles: str = "republican,democrat,default"
    roles_file: str | None = None
    topic: str = "gun_violence"
    topics_file: str | None = None
    iterations: int = 9
    persona_seed: int | None = None
    personas_file: str | None = None
    persona_source: str = "package"
    max_utterance_chars: int = MAX_ACTION_CHARS
    max_transcript_chars: int = 20_000
    opponent: str = "llm"
    personalised: bool = False
    proposition: str = ""
    strength: str = "any"
    propositions_file: str | None = None
    demographics_file: str | None = None

    def __post_init__(self) -> None:
        check_choice("protocol", self.protocol, PROTOCOLS)
        for key in _FILE_KEYS:
            _check_path(key, getattr(self, key))
        self._check_roles()
        topics = catalogue.load_topics(self.topics_file)
        check_choice("topic", self.topic, sorted(topics))
        check_number("iterations", self.iterations, low=1, high=1000, integer=True)
        if self.persona_seed is not None:
            check_number("persona_seed", self.persona_seed, low=0, high=2**63 - 1, integer=True)
        self._check_persona_roles()
        check_choice("persona_source", self.persona_source, PERSONA_SOURCES)
        chars = self.max_utterance_chars
        check_number("max_utterance_chars", chars, low=1, high=MAX_ACTION_CHARS, integer=True)
        check_number(
            "max_transcript_chars", self.max_transcript_chars, low=100, high=10**6, integer=True
        )
        check_choice("opponent", self.opponent, OPPONENTS)
        if not isinstance(self.personalised, bool):
            raise ConfigError("personalised", self.personalised, ["True", "False"])
        check_choice("strength", self.strength, STRENGTH_CHOICES)
        if not isinstance(self.proposition, str):
            raise ConfigError("proposition", self.proposition, "a proposition id or ''")
        if self.protocol == "salvi":
            self._check_salvi_data()
        self._check_protocol_keys()

    def _check_roles(self) -> None:
        known = catalogue.load_roles(self.roles_file)
        if not isinstance(self.roles, str):
            raise ConfigError("roles", self.roles, "comma-separated role names")
        roles = [r.strip() for r in self.roles.split(",")]
        if not 2 <= len(roles) <= MAX_SEATS:
            raise ConfigError("roles", self.roles, f"2 to {MAX_SEATS} comma-separated roles")
        for role in roles:
            check_choice("roles", role, sorted(known))

    def _check_persona_roles(self) -> None:
        """A persona pool for a role that does not exist (a typo) would be ignored: refuse it."""
        catalogue.load_personas(self.personas_file)  # validates the package's and the user's
        if self.personas_file is None:
            return
        known = set(catalogue.load_roles(self.roles_file))
        unknown = sorted(set(catalogue.persona_roles(self.personas_file)) - known)
        if unknown:
            raise ConfigError(
                "personas_file",
                self.personas_file,
                f"pools for known roles ({', '.join(sorted(known))}); "
                f"unknown: {', '.join(unknown)}",
            )

    def _check_protocol_keys(self) -> None:
        """Refuse a key the protocol ignores, set away from its default (no silent no-op)."""
        own = _SALVI_KEYS if self.protocol == "taubenfeld" else _TAUBENFELD_KEYS
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        for key in own:
            if getattr(self, key) != defaults[key]:
                other = "salvi" if self.protocol == "taubenfeld" else "taubenfeld"
                raise ConfigError(
                    key,
                    getattr(self, key),
                    f"its default {defaults[key]!r}: only protocol={other} uses it",
                )

    def _check_salvi_data(self) -> None:
        props = self.propositions()
        if self.proposition:
            check_choice("proposition", self.proposition, [p.id for p in props])
        catalogue.load_demographics(self.demographics_file)

    @property
    def role_list(self) -> tuple[str, ...]:
        """Role per seat (taubenfeld), or ("persuader", "persuadee") (salvi)."""
        if self.protocol == "salvi":
            return ("persuader", "persuadee")
        return tuple(r.strip() for r in self.roles.split(","))

    @property
    def seats(self) -> int:
        return len(self.role_list)

    @property
    def utterances(self) -> int:
        """Utterances per episode: ``iterations`` (taubenfeld) or 2 per Salvi phase."""
        return 2 * len(SALVI_PHASES) if self.protocol == "salvi" else self.iterations

    def propositions(self) -> list[catalogue.Proposition]:
        """The propositions this config may debate (filtered by ``strength``)."""
        props = catalogue.load_propositions(self.propositions_file)
        chosen = [p for p in props if self.strength in ("any", p.strength)]
        if not chosen:
            raise ConfigError("strength", self.strength, sorted({p.strength for p in props}))
        return chosen


def _check_path(key: str, value: object) -> None:
    if value is not None and (not isinstance(value, str) or not value):
        raise ConfigError(key, value, "a path to a JSON file, or None")
