"""What the text-native envs share: bounded text spaces over a charset, folding text into it,
and records of the env's own (registered-by-its-study) types.

Example:
    >>> charset = frozenset("abcdef ?")
    >>> fold("caf\\u00e9 \\u2603", charset, 10)
    'cafe ?'
"""

from __future__ import annotations

import unicodedata
from typing import Any

from gymnasium import spaces

from agentsim.core.records import SCHEMA_VERSION, Record


def fold(text: str, charset: frozenset[str], limit: int) -> str:
    """``text`` restricted to ``charset``: other characters folded to ASCII (accents
    dropped) where the fold is in the charset, else "?"; then cut to ``limit``."""
    if charset.issuperset(text):  # the usual case (the env's own text): nothing to fold
        return text[:limit]
    out = []
    for ch in text[: limit * 2]:  # a fold never shortens a character to nothing
        if ch not in charset:
            folded = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode()
            ch = folded if folded and charset.issuperset(folded) else "?"
        out.append(ch)
    return "".join(out)[:limit]


def text_space(max_length: int, charset: frozenset[str]) -> spaces.Text:
    """A Text space over ``charset`` (Gymnasium's default charset is alphanumeric only)."""
    return spaces.Text(max_length=max_length, min_length=0, charset="".join(sorted(charset)))


def env_record(record_type: str, **fields: Any) -> Record:
    """A record of one of the env's own types. ``core.records.make_record`` knows only
    registered types, and an env exists before its study registers them (the study builds
    one to check its seams)."""
    return {"v": SCHEMA_VERSION, "type": record_type, **fields}
