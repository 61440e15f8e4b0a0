"""Data behind ``debate_v0``: topics, roles, personas, propositions, demographics.

Everything is JSON (never pickle). The package ships ``data/topics.json`` and
``data/personas.json``; ``data/propositions.json`` and ``data/demographics.json`` hold
the Salvi et al. (2024, arXiv:2403.14380) propositions and persuadee profiles. Users
add their own through file paths; a user file extends the package data, and an entry
with the same id (topic) or role (persona pool, role description) replaces it.

File formats:

- topics: ``{"topics": [{"id": "gun_violence", "name": "gun violence",
  "question": "On a scale from 0 to 10 ..."}]}``
- personas: ``{"personas": {"republican": [{"name": "...", "background": "..."}]}}``
- roles: ``{"roles": {"libertarian": "a Libertarian"}}`` (lowercase names)
- propositions: ``{"propositions": [{"id": "p01", "text": "...", "strength": "low"}]}``
- demographics: ``{"profiles": [{"gender": "...", "age": "...", ...}]}``

Example:
    >>> topics = load_topics(None)
    >>> topics["racism"].name
    'racism'
    >>> len(load_personas(None)["democrat"])
    40
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agentsim.core.errors import ConfigError

DATA_DIR = Path(__file__).parent / "data"
STRENGTHS = ("low", "medium", "high")
ROLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")

#: Built-in roles and how the env describes them to a debater (Taubenfeld et al. 2024).
BUILTIN_ROLES = {
    "republican": "a Republican",
    "democrat": "a Democrat",
    "default": "an American",
}


@dataclass(frozen=True)
class Topic:
    """A debate topic and its 0-10 survey question."""

    id: str
    name: str
    question: str


@dataclass(frozen=True)
class Persona:
    """A debater's identity: a name and a one-sentence background."""

    name: str
    background: str

    @property
    def text(self) -> str:
        return f"{self.name}: {self.background}"


@dataclass(frozen=True)
class Proposition:
    """A Salvi-style proposition and the strength of opinion people hold about it."""

    id: str
    text: str
    strength: str


def _read(key: str, path: str | Path, top: str, shape: str) -> Any:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except FileNotFoundError:
        raise ConfigError(key, str(path), "an existing JSON file") from None
    except OSError as exc:  # a folder, no permission, ...
        raise ConfigError(key, str(path), f"a readable JSON file ({exc.strerror})") from None
    except ValueError:
        raise ConfigError(key, str(path), f"a JSON file like {shape}") from None
    if not isinstance(data, dict) or top not in data:
        raise ConfigError(key, str(path), f"a JSON file like {shape}")
    return data[top]


def _text(key: str, path: str | Path, item: Any, field: str, shape: str) -> str:
    value = item.get(field) if isinstance(item, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(key, str(path), f"entries with a non-empty {field!r}, like {shape}")
    return value.strip()


_TOPIC_SHAPE = '{"topics": [{"id": ..., "name": ..., "question": ...}]}'
_PERSONA_SHAPE = '{"personas": {"<role>": [{"name": ..., "background": ...}]}}'
_ROLE_SHAPE = '{"roles": {"<lowercase name>": "<description>"}}'
_PROP_SHAPE = '{"propositions": [{"id": ..., "text": ..., "strength": "low|medium|high"}]}'
_DEMO_SHAPE = '{"profiles": [{"gender": ..., "age": ..., ...}]}'


def load_topics(path: str | None) -> dict[str, Topic]:
    """Package topics plus those in ``path`` (key ``topics_file``), by id."""
    out = _topics(DATA_DIR / "topics.json", "topics_file")
    if path is not None:
        out.update(_topics(path, "topics_file"))
    return out


def _topics(path: str | Path, key: str) -> dict[str, Topic]:
    items = _read(key, path, "topics", _TOPIC_SHAPE)
    if not isinstance(items, list) or not items:
        raise ConfigError(key, str(path), f"a non-empty list, like {_TOPIC_SHAPE}")
    topics = [
        Topic(*(_text(key, path, it, f, _TOPIC_SHAPE) for f in ("id", "name", "question")))
        for it in items
    ]
    _unique_ids(key, path, [t.id for t in topics])
    return {t.id: t for t in topics}


def _unique_ids(key: str, path: str | Path, ids: list[str]) -> None:
    """A repeated id would make one of its entries unreachable: refuse it."""
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ConfigError(key, str(path), f"unique ids (repeated: {', '.join(repeated)})")


def load_roles(path: str | None) -> dict[str, str]:
    """Role name -> description: the built-ins plus those in ``path`` (key ``roles_file``)."""
    out = dict(BUILTIN_ROLES)
    if path is None:
        return out
    items = _read("roles_file", path, "roles", _ROLE_SHAPE)
    if not isinstance(items, dict) or not items:
        raise ConfigError("roles_file", path, f"a non-empty object, like {_ROLE_SHAPE}")
    for name, description in items.items():
        if not ROLE_NAME.fullmatch(name) or not isinstance(description, str):
            raise ConfigError("roles_file", path, f"lowercase role names, like {_ROLE_SHAPE}")
        if not description.strip():
            raise ConfigError("roles_file", path, f"a description for role {name!r}")
        out[name] = description.strip()
    return out


def load_personas(path: str | None) -> dict[str, list[Persona]]:
    """Persona pools by role: the package's, with pools in ``path`` replacing them."""
    out = _personas(DATA_DIR / "personas.json", "personas_file")
    if path is not None:
        out.update(_personas(path, "personas_file"))
    return out


def persona_roles(path: str) -> list[str]:
    """The roles a user's persona file has pools for."""
    return sorted(_personas(path, "personas_file"))


def _personas(path: str | Path, key: str) -> dict[str, list[Persona]]:
    pools = _read(key, path, "personas", _PERSONA_SHAPE)
    if not isinstance(pools, dict) or not pools:
        raise ConfigError(key, str(path), f"a non-empty object, like {_PERSONA_SHAPE}")
    out: dict[str, list[Persona]] = {}
    for role, items in pools.items():
        if not isinstance(items, list) or not items:
            raise ConfigError(key, str(path), f"a non-empty list per role, like {_PERSONA_SHAPE}")
        out[role] = [
            Persona(*(_text(key, path, it, f, _PERSONA_SHAPE) for f in ("name", "background")))
            for it in items
        ]
    return out


def load_propositions(path: str | None) -> list[Proposition]:
    """Salvi propositions from ``path`` (default: the package's ``propositions.json``)."""
    key = "propositions_file"
    where = DATA_DIR / "propositions.json" if path is None else path
    items = _read(key, where, "propositions", _PROP_SHAPE)
    if not isinstance(items, list) or not items:
        raise ConfigError(key, str(where), f"a non-empty list, like {_PROP_SHAPE}")
    props = [
        Proposition(*(_text(key, where, it, f, _PROP_SHAPE) for f in ("id", "text", "strength")))
        for it in items
    ]
    _unique_ids(key, where, [p.id for p in props])
    if any(p.strength not in STRENGTHS for p in props):
        raise ConfigError(key, str(where), f"strengths in {', '.join(STRENGTHS)}")
    return props


def load_demographics(path: str | None) -> list[dict[str, str]]:
    """Persuadee profiles from ``path`` (default: the package's ``demographics.json``)."""
    key = "demographics_file"
    where = DATA_DIR / "demographics.json" if path is None else path
    items = _read(key, where, "profiles", _DEMO_SHAPE)
    if not isinstance(items, list) or not items or not all(isinstance(p, dict) for p in items):
        raise ConfigError(key, str(where), f"a non-empty list of objects, like {_DEMO_SHAPE}")
    return [{str(k): str(v) for k, v in p.items()} for p in items]
