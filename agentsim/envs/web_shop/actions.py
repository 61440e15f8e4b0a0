"""WebArena's action grammar, parsed from an agent's reply without ever raising.

The grammar is WebArena's id-based one (Zhou et al. 2024, arXiv:2307.13854,
``browser_env/actions.py:create_id_based_action``): ``click [id]``, ``type [id] [text]
[0|1]``, ``hover [id]``, ``press [keys]``, ``scroll [up|down]``, ``goto [url]``,
``go_back``, ``go_forward``, ``stop [answer]`` and the tab actions ``new_tab``,
``tab_focus [n]``, ``close_tab`` (parsed; the shop has one tab, so executing one is an
``unsupported`` error). Differences from WebArena's parser, each on purpose:

- the keyword matches case-insensitively (``Click [3]``), recorded in ``Action.notes``;
- an empty or unparsable reply is a :class:`ParseError`, never an ``IndexError``;
- ``type`` defaults to pressing Enter (flag 1), as WebArena, and its text is greedy, so
  brackets inside it survive (``type [17] [a [b] c] [1]`` types ``a [b] c``).

Extraction (the CoT prompt's answer phrase, WebArena ``CoTPromptConstructor``): the first
fenced block after "In summary, the next action I will perform is", else the first fenced
block anywhere, else the whole reply stripped.

Example:
    >>> parse_action("Let's think. In summary, the next action I will perform is ```click [12]```")
    Action(kind='click', id=12, text=None, enter=True, url=None, answer=None, key=None, \
direction=None, notes=())
    >>> str(parse_action("type [5] [red mug]"))
    'type [5] [red mug] [1]'
    >>> parse_action("click 12")
    ParseError(message='click needs an element id in brackets, e.g. click [12]')
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Longer ids cannot be on a page (and int() of 4,300+ digits would raise).
MAX_ID_DIGITS = 9
ANSWER_PHRASE = "In summary, the next action I will perform is"
ID_KINDS = ("click", "hover")
NO_ARG_KINDS = ("go_back", "go_forward", "new_tab", "close_tab")
TAB_KINDS = ("new_tab", "tab_focus", "close_tab")
KINDS = (*ID_KINDS, "type", "press", "scroll", "goto", "stop", "tab_focus", *NO_ARG_KINDS)
_FENCE = re.compile(r"```(.*?)```", re.DOTALL)
_ID = re.compile(r"\s*\[(\d+)\]")
_TYPE = re.compile(r"\s*\[(\d+)\]\s*\[(.*)\]\s*\[([01])\]\s*$", re.DOTALL)
_BRACKETED = re.compile(r"\s*\[(.*)\]", re.DOTALL)
_SCROLL = re.compile(r"\s*\[?\s*(up|down)\s*\]?", re.IGNORECASE)
#: Lines a model may put first in a fence (```text, ```bash) that are not actions.
_FENCE_LANGUAGES = frozenset(
    {"text", "txt", "bash", "sh", "shell", "plaintext", "python", "action"}
)


@dataclass(frozen=True)
class Action:
    """One parsed action; ``str(action)`` is its canonical text, which parses back to it.

    Attributes:
        kind: one of ``KINDS``.
        id: the element id (click, hover, type) or the tab index (tab_focus).
        text: what ``type`` enters.
        enter: whether ``type`` presses Enter after the text (flag 1).
        url: the target of ``goto``.
        answer: the answer of ``stop`` ("N/A" declines the task; "" for a bare stop).
        key: the key combination of ``press``.
        direction: ``up`` or ``down`` for ``scroll``.
        notes: normalisations the parser applied (e.g. a lower-cased keyword).
    """

    kind: str
    id: int | None = None
    text: str | None = None
    enter: bool = True
    url: str | None = None
    answer: str | None = None
    key: str | None = None
    direction: str | None = None
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        if self.kind in ID_KINDS or self.kind == "tab_focus":
            return f"{self.kind} [{self.id}]"
        if self.kind == "type":
            return f"type [{self.id}] [{self.text}] [{int(self.enter)}]"
        if self.kind == "press":
            return f"press [{self.key}]"
        if self.kind == "scroll":
            return f"scroll [{self.direction}]"
        if self.kind == "goto":
            return f"goto [{self.url}]"
        if self.kind == "stop":
            return f"stop [{self.answer}]"
        return self.kind


@dataclass(frozen=True)
class ParseError:
    """A reply that is not an action; ``message`` says how to write one (a re-ask hint)."""

    message: str

    @property
    def kind(self) -> str:
        """Always ``"parse"`` (the env's ``info["action_error"]`` type)."""
        return "parse"


def extract_action_text(reply: str) -> str:
    """The action part of a reply: fenced block after the answer phrase, any fence, or all."""
    after = reply.find(ANSWER_PHRASE)
    match = _FENCE.search(reply, after) if after >= 0 else None
    match = match or _FENCE.search(reply)
    if match is None:
        return reply.strip()
    body = match.group(1).strip()
    first, newline, rest = body.partition("\n")
    if newline and first.strip().lower() in _FENCE_LANGUAGES:
        body = rest.strip()
    return body


def parse_action(reply: str) -> Action | ParseError:
    """Parse an agent's reply into an :class:`Action`, or a :class:`ParseError`; never raises."""
    if not isinstance(reply, str):
        return ParseError(f"expected the reply as text, got {type(reply).__name__}")
    body = extract_action_text(reply)
    if not body:
        return ParseError(
            "empty action; write one action in triple backticks, e.g. ```click [12]```"
        )
    head, bracket, _ = body.partition("[")
    word = head.strip() if bracket else body.split()[0]
    rest = body[len(head) :] if bracket else body[len(word) :]  # body starts with word
    kind = word.lower()
    if kind not in KINDS:
        shown = word if len(word) <= 40 else word[:37] + "..."
        return ParseError(
            f"unknown action {shown!r}; use one of {', '.join(KINDS)} with arguments in [], "
            "e.g. click [12]"
        )
    notes = ("keyword lower-cased",) if kind != word else ()
    return _ARGUMENTS[kind](kind, rest, notes)


def _id_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    m = _ID.match(rest)
    if m is None or len(m.group(1)) > MAX_ID_DIGITS:
        return ParseError(f"{kind} needs an element id in brackets, e.g. {kind} [12]")
    return Action(kind, id=int(m.group(1)), notes=notes)


def _type_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    if not re.search(r"\[[01]\]\s*$", rest):
        rest += " [1]"  # WebArena: no flag means press Enter
    m = _TYPE.match(rest)
    if m is None or len(m.group(1)) > MAX_ID_DIGITS:
        return ParseError("type needs an id and text in brackets, e.g. type [12] [red mug] [1]")
    return Action("type", id=int(m.group(1)), text=m.group(2), enter=m.group(3) == "1", notes=notes)


def _press_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    m = _BRACKETED.match(rest)
    if m is None or not m.group(1).strip():
        return ParseError("press needs a key in brackets, e.g. press [Enter]")
    return Action("press", key=m.group(1), notes=notes)


def _scroll_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    m = _SCROLL.match(rest)
    if m is None:
        return ParseError("scroll needs a direction, e.g. scroll [down]")
    return Action("scroll", direction=m.group(1).lower(), notes=notes)


def _goto_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    m = _BRACKETED.match(rest)
    if m is None or not m.group(1).strip():
        return ParseError("goto needs a URL in brackets, e.g. goto [/cart]")
    return Action("goto", url=m.group(1), notes=notes)


def _stop_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    m = _BRACKETED.match(rest)
    return Action("stop", answer=m.group(1) if m else "", notes=notes)


def _tab_focus_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    m = _ID.match(rest)
    if m is None or len(m.group(1)) > MAX_ID_DIGITS:
        return ParseError("tab_focus needs a tab index in brackets, e.g. tab_focus [0]")
    return Action("tab_focus", id=int(m.group(1)), notes=notes)


def _bare_action(kind: str, rest: str, notes: tuple[str, ...]) -> Action | ParseError:
    return Action(kind, notes=notes)  # WebArena ignores trailing text: `go_back now`


_ARGUMENTS = {
    "click": _id_action,
    "hover": _id_action,
    "type": _type_action,
    "press": _press_action,
    "scroll": _scroll_action,
    "goto": _goto_action,
    "stop": _stop_action,
    "tab_focus": _tab_focus_action,
    **dict.fromkeys(NO_ARG_KINDS, _bare_action),
}
