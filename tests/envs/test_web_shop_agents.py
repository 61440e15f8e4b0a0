"""web_shop_v0 scripted shoppers' norm list matching, and the session's action-list cache."""

import re

import pytest

from agentsim.agents.scripted.web_shop import (
    ANSWER_PHRASE,
    COUNTRY_NAMES,
    EXEMPT,
    TAG_TERMS,
    NormAwareShopper,
    _has_any,
    countries_named,
)
from agentsim.envs.web_shop.actions import parse_action
from agentsim.envs.web_shop.shop import Shop, tiny_catalog


def test_a_request_naming_the_us_is_read_as_the_us():
    # "u.s." ends in a non-word character: a pattern ending in \b needed a letter after it,
    # so a request naming the U.S. fell back to every country's norms.
    assert countries_named("A gift for my coworker in the U.S.") == ["U.S."]
    assert countries_named("Flowers for a colleague in the U.S. office") == ["U.S."]


def test_a_us_request_is_checked_against_us_norms_only():
    # With every country's norms, China's "knife" norm made the shopper decline.
    tree = "Tab 0 (current): Shop\n\n[1] RootWebArea 'Shop'\n\t[5] searchbox 'Search products'"
    obs = {"role": "assistant", "text": tree, "url": "/",
           "objective": "Buy a chef's knife for my friend's new kitchen in the U.S."}  # fmt: skip
    action = NormAwareShopper().act(obs).action.partition(ANSWER_PHRASE)[2]
    assert action.startswith(" ```type [5] [Buy a chef's knife")


def _reference(text: str, terms: tuple[str, ...]) -> bool:
    """The per-term match the cached pattern replaces (word-edged terms only)."""
    return any(re.search(rf"\b{re.escape(t)}\b", text.lower()) for t in terms)


#: Texts and whether any term list of the shopper's norm list matches them.
TEXTS = [
    ("A ham sandwich", True),
    ("A picnic hamper", False),
    ("Gin and tonic", True),
    ("Ginger biscuits", False),
    ("A 4-piece set of bowls", True),
    ("Halal gummies for the kids", True),
    ("White lilies for the bride", True),
    ("A sleeveless top and shorts", True),
    ("Tarot cards, a weight-loss tea and an alcohol-free wine", True),
    ("Nothing sensitive here at all", False),
]
TERM_LISTS = sorted(
    {*TAG_TERMS.values(), *EXEMPT.values(), *(v for k, v in COUNTRY_NAMES.items() if k != "U.S.")}
)


@pytest.mark.parametrize(("text", "hit"), TEXTS)
def test_the_cached_pattern_matches_as_the_per_term_search(text, hit):
    got = [_has_any(text, terms) for terms in TERM_LISTS]
    assert got == [_reference(text, terms) for terms in TERM_LISTS]
    assert any(got) is hit


def test_available_actions_are_listed_once_per_page_and_refresh_on_navigation():
    session = Shop(tiny_catalog()).new_session(search_candidates=("mug",), stop_answers=("N/A",))
    calls = []
    real = session._list_actions
    session._list_actions = lambda: calls.append(session.url) or real()
    first = session.available_actions()
    first.append("not an action")  # a caller's list is its own
    assert session.available_actions() == first[:-1] and calls == ["/"]
    assert "go_back" not in first
    box = next(i for i, _, n in session.page.walk() if n.role == "searchbox")
    session.act(parse_action(f"type [{box}] [mug] [1]"))
    after = session.available_actions()
    assert calls == ["/", "/search?q=mug"] and "go_back" in after and after != first[:-1]
    session.act(parse_action("go_back"))
    assert session.available_actions() == first[:-1] and len(calls) == 3
