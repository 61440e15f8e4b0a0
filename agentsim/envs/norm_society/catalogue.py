"""The norm society's bank: dimensions, situations, eras, questionnaire and personas.

A versioned JSON bank (``data/*.json``, ``"version": 1``) validated at load. Situations are
hand-written frames in the style of NormBank (Ziems et al. 2023, ACL) and Social Chemistry 101
(Forbes et al. 2020, EMNLP): a setting, roles, a situation and four behaviours, each placed on
the bank's norm dimensions by a vector in [0, 1]^d; the eras' norm vectors and prose stand in
for the unpublished norms of Li et al. (2024, arXiv:2401.04620). All texts are our own.

``load_bank(path)`` reads the built-in files; ``path`` names a folder whose bank files
(``dimensions.json``, ``situations.json``, ``eras.json``, ``questionnaire.json``,
``personas.json``) replace the built-in ones file by file. Banks are cached by the files'
resolved paths and contents. Any problem raises :class:`BankError` naming the file, the entry
and the problem.

Example:
    >>> bank = load_bank()
    >>> bank.dims, bank.dimension_names[0], len(bank.situations)
    (5, 'tradition', 40)
    >>> bank.era_for(2013).name
    '2010s'
    >>> bank.describe([0.9, 0.7, 0.5, 0.3, 0.1]).split("; ")[:2]
    ['strongly favours established ways', 'leans toward the community first']
    >>> bank.statement_vector(bank.answers_for([1.0, 0.0, 0.5, 0.75, 0.25]))
    (1.0, 0.0, 0.5, 0.75, 0.25)
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from agentsim.core.errors import UserError

DATA_DIR = Path(__file__).parent / "data"
VERSION = 1
FILES = ("dimensions.json", "situations.json", "eras.json", "questionnaire.json", "personas.json")
OPTION_IDS = ("A", "B", "C", "D")
#: Options of one situation must lie at least this far apart (Euclidean), so that era norms
#: tell them apart.
MIN_OPTION_DISTANCE = 0.3
#: Persona trait name -> its list in ``personas.json``.
PERSONA_LISTS = {
    "persona": "personas",
    "career": "careers",
    "worldview": "worldviews",
    "life_view": "life_views",
    "values": "values",
}
LIKERT = ("strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree")
#: ``describe`` bands, symmetric about 0.5: a value "strongly favours" the low end when
#: v <= 0.2, "leans toward" it when v <= 0.4, "slightly leans toward" it when v < 0.45, and
#: "balances" both ends on [0.45, 0.55]; mirrored (v > 0.55, >= 0.6, >= 0.8) for the high end.
BANDS = (0.2, 0.4, 0.45)


class BankError(UserError):
    """A bank file that cannot be used; names the file, the entry and the problem."""

    def __init__(self, file: str, entry: str, problem: str) -> None:
        self.file = file
        self.entry = entry
        self.problem = problem
        super().__init__(f"norm bank {file}: entry {entry}: {problem}")


@dataclass(frozen=True)
class Dimension:
    """A norm dimension and the phrases for its two ends."""

    name: str
    low: str
    high: str


@dataclass(frozen=True)
class Roles:
    """Who acts in a situation and toward whom."""

    actor: str
    other: str


@dataclass(frozen=True)
class Option:
    """One behaviour open to the actor, placed on the norm dimensions."""

    id: str
    behaviour: str
    vector: tuple[float, ...]


@dataclass(frozen=True)
class Situation:
    """A NormBank-style frame: setting, roles, situation text, four options, rule of thumb."""

    id: str
    domain: str
    setting: str
    roles: Roles
    text: str
    options: tuple[Option, ...]
    rot: str = ""

    def nearest(self, vector: Sequence[float]) -> int:
        """Index of the option nearest (Euclidean) to ``vector``; ties go to the first."""
        target = np.asarray(vector, dtype=np.float64)
        gaps = [float(np.sum((np.asarray(o.vector) - target) ** 2)) for o in self.options]
        return gaps.index(min(gaps))


@dataclass(frozen=True)
class Era:
    """An era: its name, first year, norm vector and the norms in prose."""

    name: str
    start_year: int
    norm: tuple[float, ...]
    text: str


@dataclass(frozen=True)
class Item:
    """A questionnaire statement; agreeing (direction +1) means high on its dimension."""

    id: str
    dimension: int
    statement: str
    direction: int


@dataclass(frozen=True, eq=False)
class Bank:
    """A validated bank. ``digest`` is the sha256 of its files' names and contents."""

    dimensions: tuple[Dimension, ...]
    situations: tuple[Situation, ...]
    eras: tuple[Era, ...]
    questionnaire: tuple[Item, ...]
    personas: Mapping[str, tuple[str, ...]]
    digest: str

    @property
    def dims(self) -> int:
        """Number of norm dimensions (d)."""
        return len(self.dimensions)

    @property
    def dimension_names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def situation(self, i: int) -> Situation:
        """The situation at bank index ``i``."""
        if not 0 <= i < len(self.situations):
            raise IndexError(f"situation index {i} outside 0..{len(self.situations) - 1}")
        return self.situations[i]

    def option_array(self) -> npt.NDArray[np.float64]:
        """All option vectors as a fresh ``(n_situations, 4, d)`` array, for vectorised envs."""
        return np.array([[o.vector for o in s.options] for s in self.situations], np.float64)

    def era_for(self, year: int) -> Era:
        """The era that ``year`` falls in (the first era for years before it starts)."""
        current = self.eras[0]
        for era in self.eras:
            if era.start_year <= year:
                current = era
        return current

    def describe(self, vector: Sequence[float]) -> str:
        """The vector in words, one clause per dimension in order (bands: see ``BANDS``)."""
        return "; ".join(
            _band(v, d) for v, d in zip(self._check(vector), self.dimensions, strict=True)
        )

    def statement_vector(self, answers: Sequence[int]) -> tuple[float, ...]:
        """Likert answers (1..5, one per item) -> per-dimension mean of (a - 1) / 4, flipped
        (1 - that) for items of direction -1."""
        if len(answers) != len(self.questionnaire):
            raise ValueError(f"{len(answers)} answers for {len(self.questionnaire)} items")
        sums, counts = [0.0] * self.dims, [0] * self.dims
        for item, answer in zip(self.questionnaire, answers, strict=True):
            if isinstance(answer, bool) or not isinstance(answer, int | np.integer):
                raise ValueError(f"answer to {item.id} is {answer!r}; expected an int 1..5")
            if not 1 <= answer <= 5:
                raise ValueError(f"answer to {item.id} is {answer}; expected 1..5")
            level = (int(answer) - 1) / 4
            sums[item.dimension] += level if item.direction == 1 else 1.0 - level
            counts[item.dimension] += 1
        return tuple(s / c for s, c in zip(sums, counts, strict=True))

    def answers_for(self, vector: Sequence[float]) -> list[int]:
        """The answers whose statement vector is nearest to ``vector``: each item's Likert
        point is the dimension's value rounded to a quarter (halves round up the dimension),
        read backwards for items of direction -1. ``statement_vector`` of the result is within
        1/8 of ``vector`` (clipped to [0, 1]) on every dimension."""
        steps = [min(4, math.floor(4 * v + 0.5)) for v in self._check(vector)]
        return [
            1 + steps[i.dimension] if i.direction == 1 else 5 - steps[i.dimension]
            for i in self.questionnaire
        ]

    def answers_text(self, answers: Sequence[int]) -> str:
        """The answers as text, one line per item: ``<statement> 4/5 (agree)``."""
        self.statement_vector(answers)  # validates
        return "\n".join(
            f"{item.statement} {a}/5 ({LIKERT[a - 1]})"
            for item, a in zip(self.questionnaire, answers, strict=True)
        )

    def draw_traits(self, rng: np.random.Generator) -> dict[str, str]:
        """One entry of each persona list, drawn with ``rng`` (in ``PERSONA_LISTS`` order)."""
        return {k: str(v[int(rng.integers(len(v)))]) for k, v in self.personas.items()}

    def _check(self, vector: Sequence[float]) -> list[float]:
        if len(vector) != self.dims:
            raise ValueError(f"vector has {len(vector)} values; expected {self.dims}")
        values = [float(v) for v in vector]
        if not all(math.isfinite(v) for v in values):
            raise ValueError(f"vector {values} has a non-finite value")
        return [min(1.0, max(0.0, v)) for v in values]


def _band(value: float, dim: Dimension) -> str:
    strong, lean, slight = BANDS
    # 1 - 0.2, 1 - 0.4 and 1 - 0.45 are exactly the floats 0.8, 0.6 and 0.55: symmetric bands.
    if value <= strong or value >= 1.0 - strong:
        words = "strongly favours"
    elif value <= lean or value >= 1.0 - lean:
        words = "leans toward"
    elif value < slight or value > 1.0 - slight:
        words = "slightly leans toward"
    else:
        return f"balances {dim.low} and {dim.high}"
    return f"{words} {dim.low if value < 0.5 else dim.high}"


def load_bank(path: str | None = None) -> Bank:
    """The built-in bank, with the bank files found in folder ``path`` replacing their
    built-in counterparts (``None`` or ``""``: the built-in bank alone). Raises
    :class:`BankError` for any unusable file or entry."""
    return _build(_sources(path))


def _sources(path: str | None) -> tuple[tuple[str, str, bytes], ...]:
    """(file name, resolved path, content) of each bank file to use."""
    chosen = {name: DATA_DIR / name for name in FILES}
    if path:
        folder = Path(path)
        if not folder.is_dir():
            raise BankError(str(path), "(folder)", "is not a folder of bank files")
        found = {name: folder / name for name in FILES if (folder / name).is_file()}
        if not found:
            raise BankError(str(path), "(folder)", f"holds none of {', '.join(FILES)}")
        chosen.update(found)
    return tuple((name, str(p.resolve()), _read_bytes(p)) for name, p in chosen.items())


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BankError(str(path), "(file)", f"cannot be read ({exc.strerror})") from None


@functools.lru_cache(maxsize=16)
def _build(sources: tuple[tuple[str, str, bytes], ...]) -> Bank:
    files = {name: _File.parse(where, raw) for name, where, raw in sources}
    dimensions = _dimensions(files["dimensions.json"])
    d = len(dimensions)
    sha = hashlib.sha256()
    for name, _, raw in sources:
        sha.update(name.encode() + b"\0" + raw)
    return Bank(
        dimensions=dimensions,
        situations=_situations(files["situations.json"], d),
        eras=_eras(files["eras.json"], d),
        questionnaire=_questionnaire(files["questionnaire.json"], dimensions),
        personas=_personas(files["personas.json"]),
        digest=sha.hexdigest(),
    )


@dataclass(frozen=True)
class _File:
    """One parsed bank file, and the checks that name it in their errors."""

    path: str
    data: dict[str, Any]

    @classmethod
    def parse(cls, path: str, raw: bytes) -> _File:
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError
            raise BankError(path, "(file)", f"is not UTF-8 JSON ({exc})") from None
        if not isinstance(data, dict):
            raise BankError(path, "(file)", "must hold a JSON object")
        version = data.get("version")
        if type(version) is not int or version != VERSION:
            raise BankError(path, "version", f"version is {version!r}; expected {VERSION}")
        return cls(path, data)

    def fail(self, entry: str, problem: str) -> NoReturn:
        raise BankError(self.path, entry, problem)

    def entries(self, key: str, id_key: str) -> list[tuple[str, dict[str, Any]]]:
        """The non-empty list under ``key`` as (entry id, object) pairs; ids must be unique."""
        items = self.data.get(key)
        if not isinstance(items, list) or not items:
            self.fail(key, f"missing key {key!r} or not a non-empty list")
        out: list[tuple[str, dict[str, Any]]] = []
        for n, item in enumerate(items, 1):
            if not isinstance(item, dict):
                self.fail(f"{key} #{n}", "is not a JSON object")
            out.append((self.text(f"{key} #{n}", item, id_key), item))
        ids = [i for i, _ in out]
        for i in ids:
            if ids.count(i) > 1:
                self.fail(i, f"duplicate {id_key} {i!r}")
        return out

    def text(self, entry: str, obj: dict[str, Any], key: str) -> str:
        value = obj.get(key)
        if key not in obj:
            self.fail(entry, f"missing key {key!r}")
        if not isinstance(value, str) or not value.strip():
            self.fail(entry, f"{key!r} must be a non-empty string")
        return value.strip()

    def vector(self, entry: str, obj: dict[str, Any], key: str, d: int) -> tuple[float, ...]:
        if key not in obj:
            self.fail(entry, f"missing key {key!r}")
        value = obj[key]
        if not isinstance(value, list) or len(value) != d:
            size = len(value) if isinstance(value, list) else "no"
            self.fail(entry, f"{key!r} has {size} values; expected {d} (one per dimension)")
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int | float) or not 0.0 <= v <= 1.0:
                self.fail(entry, f"{key!r} value {v!r} is not a number in [0, 1]")
        return tuple(float(v) for v in value)


def _dimensions(f: _File) -> tuple[Dimension, ...]:
    return tuple(
        Dimension(name, f.text(name, obj, "low"), f.text(name, obj, "high"))
        for name, obj in f.entries("dimensions", "name")
    )


def _situations(f: _File, d: int) -> tuple[Situation, ...]:
    return tuple(_situation(f, sid, obj, d) for sid, obj in f.entries("situations", "id"))


def _situation(f: _File, sid: str, obj: dict[str, Any], d: int) -> Situation:
    roles = obj.get("roles")
    if not isinstance(roles, dict):
        f.fail(sid, "missing key 'roles' (an object with 'actor' and 'other')")
    rot = obj.get("rot", "")
    if not isinstance(rot, str):
        f.fail(sid, "'rot' must be a string")
    return Situation(
        id=sid,
        domain=f.text(sid, obj, "domain"),
        setting=f.text(sid, obj, "setting"),
        roles=Roles(f.text(sid, roles, "actor"), f.text(sid, roles, "other")),
        text=f.text(sid, obj, "situation"),
        options=_options(f, sid, obj, d),
        rot=rot.strip(),
    )


def _options(f: _File, sid: str, obj: dict[str, Any], d: int) -> tuple[Option, ...]:
    items = obj.get("options")
    if not isinstance(items, list) or len(items) != len(OPTION_IDS):
        count = len(items) if isinstance(items, list) else "no"
        f.fail(sid, f"has {count} options; expected exactly {len(OPTION_IDS)} (A-D)")
    options: list[Option] = []
    for want, item in zip(OPTION_IDS, items, strict=True):
        entry = f"{sid} option {want}"
        if not isinstance(item, dict) or item.get("id") != want:
            f.fail(entry, f"options must be objects with ids {', '.join(OPTION_IDS)} in order")
        options.append(
            Option(want, f.text(entry, item, "behaviour"), f.vector(entry, item, "vector", d))
        )
    for i, a in enumerate(options):
        for b in options[i + 1 :]:
            gap = math.dist(a.vector, b.vector)
            if gap < MIN_OPTION_DISTANCE:
                f.fail(
                    sid,
                    f"options {a.id} and {b.id} are too close ({gap:.3f} < "
                    f"{MIN_OPTION_DISTANCE}); era norms could not tell them apart",
                )
    return tuple(options)


def _eras(f: _File, d: int) -> tuple[Era, ...]:
    eras: list[Era] = []
    for name, obj in f.entries("eras", "name"):
        year = obj.get("start_year")
        if type(year) is not int:
            f.fail(name, f"'start_year' is {year!r}; expected an integer year")
        if eras and year <= eras[-1].start_year:
            f.fail(name, f"start_year {year} must be after the previous era's")
        eras.append(Era(name, year, f.vector(name, obj, "norm", d), f.text(name, obj, "text")))
    return tuple(eras)


def _questionnaire(f: _File, dimensions: tuple[Dimension, ...]) -> tuple[Item, ...]:
    names = [dim.name for dim in dimensions]
    items: list[Item] = []
    for iid, obj in f.entries("items", "id"):
        dim = f.text(iid, obj, "dimension")
        if dim not in names:
            f.fail(iid, f"dimension {dim!r} is not one of {', '.join(names)}")
        direction = obj.get("direction")
        if type(direction) is not int or direction not in (1, -1):
            f.fail(iid, f"direction is {direction!r}; expected 1 or -1")
        items.append(Item(iid, names.index(dim), f.text(iid, obj, "statement"), direction))
    for k, name in enumerate(names):
        if not any(item.dimension == k for item in items):
            f.fail("items", f"no item for dimension {name!r}; each dimension needs one")
    return tuple(items)


def _personas(f: _File) -> Mapping[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for trait, key in PERSONA_LISTS.items():
        values = f.data.get(key)
        if not isinstance(values, list) or not values:
            f.fail(key, f"missing key {key!r} or an empty list; expected a list of texts")
        for n, v in enumerate(values, 1):
            if not isinstance(v, str) or not v.strip():
                f.fail(f"{key} #{n}", "must be a non-empty string")
        out[trait] = tuple(v.strip() for v in values)
    return MappingProxyType(out)
