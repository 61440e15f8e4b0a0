"""Fixed-size numeric observations of ``agentsim/WebShop-v0`` (``observation="features"``).

Stable-Baselines3 cannot digest the text fields of the default observation, so this mode
replaces them with numpy arrays a policy can learn from, built by the hashing trick
(Weinberger et al. 2009, "Feature Hashing for Large Scale Multitask Learning",
arXiv:0902.2206). A text becomes a binary bag of words: lower-cased ``[a-z0-9]+`` tokens (a
final "s" of a word over three letters dropped, so plurals match), each setting bucket
``zlib.crc32(token) % dims`` to 1. CRC-32 is fixed by the standard, so the
features are the same in every process and on every platform (Python's ``hash()`` of a
string is salted per process and would not be).

The observation (``D`` = ``feature_dims``, ``S`` = :data:`MAX_ACTIONS` slots):

=====================  ========================  ============================================
key                    space                     content
=====================  ========================  ============================================
``objective``          Box(0, 1, (D,))           the user's request (with a clarification)
``previous_action``    Box(0, 1, (D,))           the previous action and its error or note
``page``               Box(0, 1, (P,))           one-hot page type, :data:`PAGE_TYPES`
``slots``              Box(0, 1, (S*D,))         each available action: its kind and, for a
                                                 click, the element's role and name (ids
                                                 carry no meaning); slot ``i`` is
                                                 ``[i*D:(i+1)*D]``; empty slots are zero
``slot_overlap``       Box(0, 1, (S,))           the share of a slot's distinct words that
                                                 the objective uses (exact words)
``action_mask``        MultiBinary(S)            1 where the slot holds an available action
``round``              Box(1, 2, (1,))           CASA's round (2: the S2 second round)
``step``               Box(0, max_steps, (1,))   assistant steps taken in this round
=====================  ========================  ============================================

The page's full text is not encoded: its interactive elements are the slots, and the rest
(prices, descriptions) would need a text model, which is what ``observation="text"`` is for.

Example:
    >>> encoder = FeatureEncoder(dims=8, max_steps=5)
    >>> sorted(encoder.spaces())
    ['action_mask', 'objective', 'page', 'previous_action', 'round', 'slot_overlap', \
'slots', 'step']
    >>> bag_of_words("Red shoes, red!", 16).nonzero()[0].tolist()
    [9, 15]
"""

from __future__ import annotations

import functools
import re
import zlib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import numpy as np
from gymnasium import spaces

from agentsim.envs.web_shop.actions import Action, parse_action
from agentsim.envs.web_shop.pages import Page

__all__ = [
    "MAX_ACTIONS",
    "PAGE_TYPES",
    "FeatureEncoder",
    "bag_of_words",
    "page_type",
    "slot_text",
    "word_overlap",
]

#: Slots of the discrete action space (the env's constant; a page offers fewer).
MAX_ACTIONS = 128
#: Page types of the one-hot ``page`` feature; ``other`` covers 404s and unknown paths.
PAGE_TYPES = ("home", "search", "category", "product", "cart", "s2", "order", "other")
_TOKEN = re.compile(r"[a-z0-9]+")
_PATH_TYPES = {"search": "search", "category": "category", "product": "product", "cart": "cart"}


@functools.lru_cache(maxsize=8192)
def _tokens(text: str) -> frozenset[str]:
    # Slot texts recur on every step of a page, hence the caches.
    # A crude plural folding ("clocks" ~ "clock"), applied alike to every text.
    return frozenset(
        w[:-1] if len(w) > 3 and w.endswith("s") else w for w in _TOKEN.findall(text.lower())
    )


@functools.lru_cache(maxsize=8192)
def _buckets(text: str, dims: int) -> tuple[int, ...]:
    return tuple(sorted({zlib.crc32(t.encode()) % dims for t in _tokens(text)}))


def bag_of_words(text: str, dims: int) -> np.ndarray[Any, np.dtype[np.float32]]:
    """The binary hashed bag of words of ``text`` (see the module docstring)."""
    out = np.zeros(dims, dtype=np.float32)
    out[list(_buckets(text, dims))] = 1.0
    return out


def word_overlap(text: str, reference: str) -> float:
    """The share of ``text``'s distinct words that ``reference`` also uses (0 for no words);
    exact words, so hash collisions do not inflate it."""
    words = _tokens(text)
    return len(words & _tokens(reference)) / len(words) if words else 0.0


def page_type(page: Page) -> str:
    """The :data:`PAGE_TYPES` entry of ``page``, from its status and URL path."""
    if page.status != 200:
        return "other"
    path = urlsplit(page.url).path
    if path == "/":
        return "home"
    head = path.strip("/").partition("/")[0]
    if head in ("s2", "order"):
        return head
    return _PATH_TYPES.get(head, "other")


def slot_text(action: str, page: Page) -> str:
    """What a slot does, in words: its action kind and, for a click, the element's role
    and name (the node id is a position, not a meaning)."""
    parsed = parse_action(action)
    if not isinstance(parsed, Action):
        return action
    if parsed.kind == "click" and parsed.id is not None:
        node = page.node(parsed.id)
        return f"click {node.role} {node.name}" if node is not None else "click"
    if parsed.kind == "type":
        return f"type {parsed.text or ''}"
    if parsed.kind == "stop":
        return f"stop {parsed.answer or ''}"
    return parsed.kind


class FeatureEncoder:
    """Builds the ``features`` observation space and its observations."""

    def __init__(self, dims: int, max_steps: int) -> None:
        self.dims = dims
        self.max_steps = max_steps
        self._spaces = self._build_spaces()

    def _build_spaces(self) -> dict[str, spaces.Space[Any]]:
        def unit(*shape: int) -> spaces.Box:
            return spaces.Box(0.0, 1.0, shape, np.float32)

        return {
            "objective": unit(self.dims),
            "previous_action": unit(self.dims),
            "page": unit(len(PAGE_TYPES)),
            # Flat, as SB3's MultiInputPolicy flattens anything that is not an image.
            "slots": unit(MAX_ACTIONS * self.dims),
            "slot_overlap": unit(MAX_ACTIONS),
            "action_mask": spaces.MultiBinary(MAX_ACTIONS),
            "round": spaces.Box(1, 2, (1,), np.int64),
            "step": spaces.Box(0, self.max_steps, (1,), np.int64),
        }

    def spaces(self) -> dict[str, spaces.Space[Any]]:
        """The observation's spaces (the same objects on every call)."""
        return dict(self._spaces)

    def encode(
        self,
        *,
        objective: str,
        previous: str,
        page: Page,
        actions: Sequence[str],
        round_no: int,
        step: int,
    ) -> dict[str, np.ndarray[Any, Any]]:
        """The observation of one page; ``actions`` are its available actions (slots)."""
        actions = actions[:MAX_ACTIONS]
        slots = np.zeros((MAX_ACTIONS, self.dims), dtype=np.float32)
        overlap = np.zeros(MAX_ACTIONS, dtype=np.float32)
        for i, action in enumerate(actions):
            text = slot_text(action, page)
            slots[i, list(_buckets(text, self.dims))] = 1.0
            overlap[i] = word_overlap(text, objective)
        mask = np.zeros(MAX_ACTIONS, dtype=np.int8)
        mask[: len(actions)] = 1
        kind = np.zeros(len(PAGE_TYPES), dtype=np.float32)
        kind[PAGE_TYPES.index(page_type(page))] = 1.0
        return {
            "objective": bag_of_words(objective, self.dims),
            "previous_action": bag_of_words(previous, self.dims),
            "page": kind,
            "slots": slots.reshape(-1),
            "slot_overlap": overlap,
            "action_mask": mask,
            "round": np.array([round_no], dtype=np.int64),
            "step": np.array([min(step, self.max_steps)], dtype=np.int64),
        }
