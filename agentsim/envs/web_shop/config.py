"""``WebShopConfig``: the validated, frozen settings of ``web_shop_v0``.

Defaults reproduce the shopping half of CASA (Qiu et al. 2024, arXiv:2410.23252): every
split, the original WebArena prompt, one step per episode (S2 items get the paper's second
round after a "click for details" verdict), rule-based judges.

Example:
    >>> cfg = WebShopConfig(split="s1_violate", prompt_variant="ca_updated_2s")
    >>> cfg.splits
    ('s1_violate',)
    >>> WebShopConfig(prompt_variant="fancy")
    Traceback (most recent call last):
    ...
    agentsim.core.errors.ConfigError: invalid prompt_variant='fancy'; allowed: original, \
examples_2n1s, examples_2s, role_updated, ca_updated_2n, ca_updated_2s
"""

from __future__ import annotations

from dataclasses import dataclass

from agentsim.core.config import check_choice, check_number
from agentsim.core.errors import ConfigError

SPLITS = ("s1_violate", "s1_adhere", "s2")
SPLIT_CHOICES = (*SPLITS, "all")
#: CASA's agent prompt variants (paper name -> ours): Agent Orig., 2NE+1SE, 2SE, Role-Upd.,
#: CA-Upd.+2NE, CA-Upd.+2SE.
PROMPT_VARIANTS = (
    "original",
    "examples_2n1s",
    "examples_2s",
    "role_updated",
    "ca_updated_2n",
    "ca_updated_2s",
)
BACKENDS = ("inprocess", "browser")
ACTION_MODES = ("text", "discrete")
OBSERVATIONS = ("text", "features")
TYPE_MODES = ("replace", "append")
JUDGES = ("rule", "llm")
AUDIT_JUDGES = ("", "rule", "llm")
EDU_QUERY = ("paper", "code")
USER_VOICES = ("query", "model")
MAX_STEPS = 50
#: The bound of the text observation space; ``obs_cap`` may only lower it.
MAX_OBS_CHARS = 100_000
#: Bounds of ``feature_dims`` (hash buckets per text in ``observation="features"``).
FEATURE_DIMS = (4, 1024)


@dataclass(frozen=True)
class WebShopConfig:
    """Settings of one ``web_shop_v0`` episode (one query item).

    Attributes:
        split: which query items episodes serve: ``s1_violate`` (norm-violating requests),
            ``s1_adhere`` (their compliant rewrites), ``s2`` (a results page whose items
            all carry a norm-violating property) or ``all``.
        countries: ``""`` for every country, or a comma list (``"Japan,Egypt"``).
        prompt_variant: the LLM agent's prompt (CASA's variants; see
            :data:`PROMPT_VARIANTS`).
        max_steps: assistant steps per episode; 1 is the paper's single-step protocol
            (an S2 item then gets a second round only when the judge says "clicked for
            details"); more runs multi-step episodes, ended by ``stop``.
        max_errors: consecutive invalid actions that end an episode (WebArena: 3).
        backend: ``inprocess`` (the page model rendered in Python) or ``browser``
            (Playwright driving Chromium on the served pages).
        action_mode: ``text`` (the agent's reply) or ``discrete`` (an index into the
            page's available actions, with an action mask; for RL).
        observation: ``text`` (the page tree, URL, objective and previous action as
            strings, for language models) or ``features`` (fixed-size numpy arrays only:
            hashed bags of words of the objective, the previous action and each action
            slot, the page type, the action mask; what Stable-Baselines3 can digest; needs
            ``action_mode="discrete"``; see :mod:`agentsim.envs.web_shop.features`).
        feature_dims: hash buckets per text in ``observation="features"``.
        obs_cap: characters of the page tree shown; longer trees end with an explicit
            truncation line.
        type_mode: ``replace`` (``type`` fills the field, BrowserGym) or ``append``
            (WebArena's code types after the existing text).
        judge: ``rule`` (keyword and tag judges) or ``llm`` (CASA's questions, asked to
            the run's model).
        audit_judge: a second judge on the same items, for agreement (``""``: none).
        edu_query: the Edu-R judge prompt ``paper`` (with the user query) or ``code``
            (the released code's bug: the query placeholder is never filled).
        user_voice: ``query`` (the user seat states the query item verbatim, as the
            paper) or ``model`` (an LLM user words the request itself).
        queries_file, catalog_file: data files replacing the package's.
    """

    split: str = "all"
    countries: str = ""
    prompt_variant: str = "original"
    max_steps: int = 1
    max_errors: int = 3
    backend: str = "inprocess"
    action_mode: str = "text"
    observation: str = "text"
    feature_dims: int = 64
    obs_cap: int = 16_000
    type_mode: str = "replace"
    judge: str = "rule"
    audit_judge: str = ""
    edu_query: str = "paper"
    user_voice: str = "query"
    queries_file: str | None = None
    catalog_file: str | None = None

    def __post_init__(self) -> None:
        check_choice("split", self.split, SPLIT_CHOICES)
        check_choice("prompt_variant", self.prompt_variant, PROMPT_VARIANTS)
        check_number("max_steps", self.max_steps, low=1, high=MAX_STEPS, integer=True)
        check_number("max_errors", self.max_errors, low=1, high=MAX_STEPS, integer=True)
        check_choice("backend", self.backend, BACKENDS)
        check_choice("action_mode", self.action_mode, ACTION_MODES)
        check_choice("observation", self.observation, OBSERVATIONS)
        if self.observation == "features" and self.action_mode != "discrete":
            raise ConfigError(
                "observation", self.observation, "text, or features with action_mode='discrete'"
            )
        low, high = FEATURE_DIMS
        check_number("feature_dims", self.feature_dims, low=low, high=high, integer=True)
        check_number("obs_cap", self.obs_cap, low=200, high=MAX_OBS_CHARS, integer=True)
        check_choice("type_mode", self.type_mode, TYPE_MODES)
        check_choice("judge", self.judge, JUDGES)
        check_choice("audit_judge", self.audit_judge, AUDIT_JUDGES)
        if self.audit_judge == self.judge:
            raise ConfigError(
                "audit_judge", self.audit_judge, f"'' or a judge other than judge={self.judge}"
            )
        check_choice("edu_query", self.edu_query, EDU_QUERY)
        check_choice("user_voice", self.user_voice, USER_VOICES)
        for key in ("queries_file", "catalog_file"):
            value = getattr(self, key)
            if value is not None and (not isinstance(value, str) or not value):
                raise ConfigError(key, value, "a path to a JSON file, or None")
        if not isinstance(self.countries, str):
            raise ConfigError("countries", self.countries, "'' or comma-separated country names")

    @property
    def splits(self) -> tuple[str, ...]:
        """The splits episodes draw items from."""
        return SPLITS if self.split == "all" else (self.split,)

    @property
    def country_list(self) -> tuple[str, ...]:
        """The chosen countries (empty: all)."""
        return tuple(c.strip() for c in self.countries.split(",") if c.strip())

    @property
    def uses_llm_judge(self) -> bool:
        """Whether any judge of the run asks the model."""
        return "llm" in (self.judge, self.audit_judge)
