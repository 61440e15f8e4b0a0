"""``parse_action``: WebArena's grammar, its corner cases, fuzzing and round trips."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from agentsim.envs.web_shop.actions import (
    ANSWER_PHRASE,
    Action,
    ParseError,
    extract_action_text,
    parse_action,
)

# Text the agent may put in brackets: anything printable or a newline, but not a fence
# (a fence inside an unfenced action would be taken as the action itself).
free_text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="`"), max_size=40
)
ids = st.integers(min_value=0, max_value=999_999_999)
non_blank = free_text.filter(lambda s: s.strip() != "")

actions = st.one_of(
    st.builds(Action, kind=st.sampled_from(["click", "hover", "tab_focus"]), id=ids),
    st.builds(Action, kind=st.just("type"), id=ids, text=free_text, enter=st.booleans()),
    st.builds(Action, kind=st.just("press"), key=non_blank),
    st.builds(Action, kind=st.just("scroll"), direction=st.sampled_from(["up", "down"])),
    st.builds(Action, kind=st.just("goto"), url=non_blank),
    st.builds(Action, kind=st.just("stop"), answer=free_text),
    st.builds(Action, kind=st.sampled_from(["go_back", "go_forward", "new_tab", "close_tab"])),
)


@given(st.text(max_size=200))
@example("")
@example("   ")
@example("[")
@example("```")
@example("``````")
@example("type [1] [")
@example("click [" + "9" * 5000 + "]")
@example("```\nclick [3]\n```")
@example(ANSWER_PHRASE)
@settings(max_examples=400)
def test_parse_action_never_raises(reply):
    result = parse_action(reply)
    assert isinstance(result, Action | ParseError)
    if isinstance(result, ParseError):
        assert result.message and result.kind == "parse"


@given(st.lists(st.sampled_from(["click", "[", "]", " ", "type", "3", "`", "stop", "\n", "x"])))
def test_parse_action_never_raises_on_grammar_fragments(parts):
    assert isinstance(parse_action("".join(parts)), Action | ParseError)


@given(actions)
def test_every_action_round_trips_through_its_text(action):
    assert parse_action(str(action)) == action
    wrapped = f"Reasoning... {ANSWER_PHRASE} ```{action}```"
    assert parse_action(wrapped) == action


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        # WebArena's grammar (web-agent-conventions §1.2)
        ("click [25]", Action("click", id=25)),
        ("click[25]", Action("click", id=25)),
        ("hover [7]", Action("hover", id=7)),
        ("type [17] [a [b] c] [1]", Action("type", id=17, text="a [b] c")),
        ("type [17] [red mug]", Action("type", id=17, text="red mug", enter=True)),
        ("type [17] [red mug] [0]", Action("type", id=17, text="red mug", enter=False)),
        ("type [17] [] [1]", Action("type", id=17, text="")),
        ("scroll down", Action("scroll", direction="down")),
        ("scroll [up]", Action("scroll", direction="up")),
        ("stop", Action("stop", answer="")),
        ("stop [N/A]", Action("stop", answer="N/A")),
        ("stop [$12.50 [incl. tax]]", Action("stop", answer="$12.50 [incl. tax]")),
        ("go_back now", Action("go_back")),
        ("go_forward", Action("go_forward")),
        ("goto [http://127.0.0.1:8000/cart]", Action("goto", url="http://127.0.0.1:8000/cart")),
        ("press [Control+a]", Action("press", key="Control+a")),
        ("tab_focus [1]", Action("tab_focus", id=1)),
        ("new_tab", Action("new_tab")),
        ("close_tab", Action("close_tab")),
        # §5.5: keywords match case-insensitively, and the parser records that it did
        ("Click [25]", Action("click", id=25, notes=("keyword lower-cased",))),
        ("STOP [N/A]", Action("stop", answer="N/A", notes=("keyword lower-cased",))),
    ],
)
def test_webarena_grammar(reply, expected):
    assert parse_action(reply) == expected


@pytest.mark.parametrize(
    ("reply", "hint"),
    [
        ("", "empty action"),
        ("   \n ", "empty action"),
        ("click 25", "click needs an element id in brackets"),
        ("click [abc]", "click needs an element id"),
        ("click [" + "9" * 5000 + "]", "click needs an element id"),
        ("type [12] hello", "type needs an id and text"),
        ("scroll sideways", "scroll needs a direction"),
        ("goto []", "goto needs a URL"),
        ("press []", "press needs a key"),
        ("page_focus [1]", "unknown action 'page_focus'"),  # action2str's output, §1.2
        ("I will click [5]", "unknown action 'I will click'"),
        ("```\n```", "empty action"),
    ],
)
def test_malformed_actions_are_parse_errors_with_a_hint(reply, hint):
    result = parse_action(reply)
    assert isinstance(result, ParseError)
    assert hint in result.message


def test_extraction_prefers_the_fence_after_the_answer_phrase():
    reply = f"Maybe ```click [1]``` first? No. {ANSWER_PHRASE} ```click [2]``` then ```click [3]```"
    assert extract_action_text(reply) == "click [2]"
    assert parse_action(reply) == Action("click", id=2)


def test_extraction_falls_back_to_the_first_fence_then_the_whole_reply():
    assert parse_action("I think ```click [4]``` and ```click [5]```") == Action("click", id=4)
    assert parse_action("  click [6]  \n") == Action("click", id=6)
    # The phrase without a fence after it: the first fence anywhere still counts.
    assert parse_action(f"```click [7]``` {ANSWER_PHRASE} click [8]") == Action("click", id=7)


def test_a_language_tag_line_in_a_fence_is_not_the_action():
    assert parse_action("```text\ntype [3] [mug] [1]\n```") == Action("type", id=3, text="mug")
    assert parse_action("```\nstop [N/A]\n```") == Action("stop", answer="N/A")


def test_canonical_text_of_each_kind():
    assert str(Action("type", id=3, text="a b", enter=False)) == "type [3] [a b] [0]"
    assert str(Action("stop", answer="N/A")) == "stop [N/A]"
    assert str(Action("scroll", direction="down")) == "scroll [down]"
    assert str(Action("go_back")) == "go_back"


def test_non_text_replies_are_parse_errors():
    assert isinstance(parse_action(None), ParseError)  # type: ignore[arg-type]
