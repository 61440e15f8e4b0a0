"""Loading and validating the ``web_shop_v0`` data files: the catalog and the query bank.

The query bank follows CASA's shopping subsets (Qiu et al. 2024, arXiv:2410.23252): S1-violate
items (a user query and the cultural norm it violates), S1-adhere items (a compliant rewrite of
an S1-violate query) and S2 items (a refined query and a page of products that all carry the
violating property). Both files are versioned JSON (``"version": 1``); the schema is in
``data/README.md``. Every problem is a :class:`DataError` naming the file, the entry and what
is wrong, so a user's own file is checked before any episode runs::

    python -m agentsim.envs.web_shop.data --check my_queries.json [--catalog my_catalog.json]

Example:
    >>> catalog = load_catalog()
    >>> queries = load_queries(catalog=catalog)
    >>> item = queries.get("Japan_1")
    >>> item.split, "knife" in item.tags
    ('s1_violate', True)
    >>> all("knife" in catalog.get(a).attributes for a in queries.get("Japan_s2_1").products)
    True
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError

DATA_DIR = Path(__file__).parent / "data"
CATALOG_FILE = DATA_DIR / "catalog.json"
QUERIES_FILE = DATA_DIR / "queries.json"
VERSION = 1

#: The 17 countries of CASA (Qiu et al. 2024, Sec. 3.1), spelled as the paper does.
COUNTRIES = (
    "Argentina", "Brazil", "China", "Egypt", "Ethiopia", "France", "India", "Indonesia", "Iran",
    "Japan", "Mexico", "Morocco", "Nigeria", "Russia", "Saudi Arabia", "Thailand", "U.S.",
)  # fmt: skip
SPLITS = ("s1_violate", "s1_adhere", "s2")
#: The most products an S2 page lists (one results page, as WebShop's ten).
MAX_S2_PRODUCTS = 10

_ASIN = re.compile(r"B0[A-Z0-9]{8}")
_TAG = re.compile(r"[a-z][a-z0-9-]{0,39}")
# Ids appear in URLs (/s2/<id>) and record fields: letters, digits, underscores.
_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


class DataError(UserError):
    """A data file that breaks the schema; the message names the file, the entry and why."""

    def __init__(self, file: str | Path, entry: str, problem: str) -> None:
        self.file, self.entry, self.problem = str(file), entry, problem
        super().__init__(f"{file}: {entry}: {problem}")


# ---------------------------------------------------------------- the catalog


@dataclass(frozen=True)
class Product:
    """One product, with WebShop's fields (Yao et al. 2022, arXiv:2207.01206)."""

    asin: str
    title: str
    category: str
    product_category: str
    price: float
    rating: float
    reviews: int
    bullet_points: tuple[str, ...]
    description: str
    attributes: tuple[str, ...]
    # Left out of the hash (a mapping has none), so products can still sit in sets.
    options: Mapping[str, tuple[str, ...]] = field(hash=False)

    def has_tag(self, tag: str) -> bool:
        """Whether the product carries the property tag ``tag``."""
        return tag in self.attributes


@dataclass(frozen=True)
class Catalog:
    """The shop's products, by asin and in file order."""

    products: tuple[Product, ...]
    source: str = ""
    seed: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_asin", {p.asin: p for p in self.products})

    def get(self, asin: str) -> Product:
        """The product ``asin``; KeyError if there is none."""
        by_asin: dict[str, Product] = self.__dict__["_by_asin"]
        return by_asin[asin]

    def __contains__(self, asin: object) -> bool:
        return asin in self.__dict__["_by_asin"]

    def __len__(self) -> int:
        return len(self.products)

    @property
    def tags(self) -> frozenset[str]:
        """Every property tag some product carries."""
        return frozenset(t for p in self.products for t in p.attributes)

    @property
    def categories(self) -> list[str]:
        """The top-level categories, in order of first appearance."""
        return list(dict.fromkeys(p.category for p in self.products))

    def with_tag(self, tag: str) -> list[Product]:
        """The products carrying ``tag``, in catalog order."""
        return [p for p in self.products if tag in p.attributes]


_PRODUCT_FIELDS = (
    "asin", "title", "category", "product_category", "price", "rating", "reviews",
    "bullet_points", "description", "attributes", "options",
)  # fmt: skip


def load_catalog(path: str | Path | None = None) -> Catalog:
    """The catalog in ``path`` (default: the package's ``data/catalog.json``), validated.

    Raises:
        DataError: naming the file, the product and the problem.
    """
    where = CATALOG_FILE if path is None else Path(path)
    doc = _document(where, "products")
    items = _list(where, doc, "products")
    products = tuple(_product(where, i, raw) for i, raw in enumerate(items))
    _unique(where, [p.asin for p in products], "asin")
    seed = doc.get("seed")
    return Catalog(products, str(where), seed if isinstance(seed, int) else None)


def _product(file: Path, index: int, raw: Any) -> Product:
    entry = f"products[{index}]"
    if not isinstance(raw, dict):
        raise DataError(file, entry, "must be an object")
    entry = f"product {raw.get('asin', f'#{index}')!s}"
    _fields(file, entry, raw, _PRODUCT_FIELDS, _PRODUCT_FIELDS)
    if not isinstance(raw["asin"], str) or not _ASIN.fullmatch(raw["asin"]):
        raise DataError(file, entry, "asin must be 'B0' followed by 8 capitals or digits")
    return Product(
        asin=raw["asin"],
        title=_text(file, entry, raw, "title"),
        category=_text(file, entry, raw, "category"),
        product_category=_text(file, entry, raw, "product_category"),
        price=_price(file, entry, raw["price"]),
        rating=_rating(file, entry, raw["rating"]),
        reviews=_count(file, entry, raw["reviews"]),
        bullet_points=_texts(file, entry, raw, "bullet_points", allow_empty=True),
        description=_text(file, entry, raw, "description"),
        attributes=_tags(file, entry, raw, "attributes", allow_empty=True),
        options=_options(file, entry, raw["options"]),
    )


def _price(file: Path, entry: str, value: Any) -> float:
    if not _number(value) or value <= 0 or round(value, 2) != value:
        raise DataError(file, entry, f"price must be a positive number of cents, got {value!r}")
    return float(value)


def _rating(file: Path, entry: str, value: Any) -> float:
    if not _number(value) or not 1 <= value <= 5 or round(value, 1) != value:
        raise DataError(file, entry, f"rating must be 1 to 5 with one decimal, got {value!r}")
    return float(value)


def _count(file: Path, entry: str, value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DataError(file, entry, f"reviews must be a whole number >= 0, got {value!r}")
    return value


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _options(file: Path, entry: str, value: Any) -> dict[str, tuple[str, ...]]:
    shape = 'options must be an object like {"size": ["S", "M"]} or {}'
    if not isinstance(value, dict):
        raise DataError(file, entry, shape)
    out = {}
    for name, values in value.items():
        if not isinstance(values, list) or not values or not all(_printable(v) for v in values):
            raise DataError(file, entry, f"option {name!r}: {shape}")
        out[str(name)] = tuple(values)
    return out


# ---------------------------------------------------------------- the query bank


@dataclass(frozen=True)
class S1Violate:
    """A user query that violates a cultural norm (CASA S1-violate)."""

    id: str
    country: str
    query: str
    violated_norm: str
    tags: tuple[str, ...]
    split: str = "s1_violate"


@dataclass(frozen=True)
class S1Adhere:
    """A compliant rewrite of an S1-violate query (CASA S1-adhere)."""

    id: str
    country: str
    source: str
    query: str
    split: str = "s1_adhere"


@dataclass(frozen=True)
class S2Item:
    """A refined query and a page of products that all carry ``violating_tag`` (CASA S2)."""

    id: str
    country: str
    query: str
    norm: str
    violating_tag: str
    products: tuple[str, ...]
    split: str = "s2"


QueryItem = S1Violate | S1Adhere | S2Item


@dataclass(frozen=True)
class QuerySet:
    """The query bank: the three splits, in file order."""

    s1_violate: tuple[S1Violate, ...]
    s1_adhere: tuple[S1Adhere, ...]
    s2: tuple[S2Item, ...]
    source: str = ""

    def __post_init__(self) -> None:
        every: list[QueryItem] = [*self.s1_violate, *self.s1_adhere, *self.s2]
        object.__setattr__(self, "_by_id", {i.id: i for i in every})

    def get(self, item_id: str) -> QueryItem:
        """The item ``item_id`` of any split; KeyError if there is none."""
        by_id: dict[str, QueryItem] = self.__dict__["_by_id"]
        return by_id[item_id]

    def __contains__(self, item_id: object) -> bool:
        return item_id in self.__dict__["_by_id"]

    @property
    def countries(self) -> list[str]:
        """The countries with items, in the order of :data:`COUNTRIES`."""
        held = {i.country for i in self.items()}
        return [c for c in COUNTRIES if c in held]

    def items(self, split: str = "all", countries: Iterable[str] | None = None) -> list[QueryItem]:
        """The items of ``split`` ("all" or one of :data:`SPLITS`), optionally of some countries.

        Raises:
            ValueError: for an unknown split.
        """
        if split != "all" and split not in SPLITS:
            raise ValueError(f"split must be 'all' or one of {SPLITS}, got {split!r}")
        groups: dict[str, Sequence[QueryItem]] = {
            "s1_violate": self.s1_violate,
            "s1_adhere": self.s1_adhere,
            "s2": self.s2,
        }
        chosen = list(SPLITS) if split == "all" else [split]
        wanted = None if countries is None else set(countries)
        return [i for s in chosen for i in groups[s] if wanted is None or i.country in wanted]


def load_queries(path: str | Path | None = None, catalog: Catalog | None = None) -> QuerySet:
    """The query bank in ``path`` (default: the package's ``data/queries.json``), validated
    against ``catalog`` (default: the package's catalog).

    Raises:
        DataError: naming the file, the item id and the problem.
    """
    where = QUERIES_FILE if path is None else Path(path)
    catalog = load_catalog() if catalog is None else catalog
    doc = _document(where, "s1_violate")
    tags = catalog.tags
    violate = tuple(_violate(where, raw, tags) for raw in _list(where, doc, "s1_violate"))
    adhere = tuple(_adhere(where, raw) for raw in _list(where, doc, "s1_adhere", empty=True))
    s2 = tuple(_s2(where, raw, catalog) for raw in _list(where, doc, "s2", empty=True))
    every: list[QueryItem] = [*violate, *adhere, *s2]
    _unique(where, [i.id for i in every], "id")
    sources = {v.id: v for v in violate}
    for a in adhere:
        if a.source not in sources:
            raise DataError(where, a.id, f"source {a.source!r} is not an s1_violate id")
        if sources[a.source].country != a.country:
            raise DataError(where, a.id, f"country {a.country!r} differs from its source's")
    return QuerySet(violate, adhere, s2, str(where))


def _violate(file: Path, raw: Any, tags: frozenset[str]) -> S1Violate:
    entry = _head(file, raw, ("id", "country", "query", "violated_norm", "tags"))
    return S1Violate(
        id=entry,
        country=raw["country"],
        query=_text(file, entry, raw, "query"),
        violated_norm=_text(file, entry, raw, "violated_norm"),
        tags=_known(file, entry, _tags(file, entry, raw, "tags"), tags),
    )


def _adhere(file: Path, raw: Any) -> S1Adhere:
    entry = _head(file, raw, ("id", "country", "source", "query"))
    return S1Adhere(
        id=entry,
        country=raw["country"],
        source=_text(file, entry, raw, "source"),
        query=_text(file, entry, raw, "query"),
    )


def _s2(file: Path, raw: Any, catalog: Catalog) -> S2Item:
    entry = _head(file, raw, ("id", "country", "query", "norm", "violating_tag", "products"))
    tag = _text(file, entry, raw, "violating_tag")
    _known(file, entry, (tag,), catalog.tags)
    asins = _texts(file, entry, raw, "products")
    if len(asins) > MAX_S2_PRODUCTS or len(set(asins)) != len(asins):
        raise DataError(file, entry, f"products must be 1-{MAX_S2_PRODUCTS} distinct asins")
    for asin in asins:
        if asin not in catalog:
            raise DataError(file, entry, f"product {asin!r} is not in the catalog")
        if not catalog.get(asin).has_tag(tag):
            raise DataError(file, entry, f"product {asin!r} does not carry the tag {tag!r}")
    return S2Item(
        id=entry,
        country=raw["country"],
        query=_text(file, entry, raw, "query"),
        norm=_text(file, entry, raw, "norm"),
        violating_tag=tag,
        products=asins,
    )


def _head(file: Path, raw: Any, fields: tuple[str, ...]) -> str:
    """Check an item's shape, id and country; return its id."""
    if not isinstance(raw, dict):
        raise DataError(file, "item", f"must be an object with {', '.join(fields)}")
    ident = raw.get("id")
    if not isinstance(ident, str) or not _ID.fullmatch(ident):
        shown = ident if isinstance(ident, str) else repr(ident)
        raise DataError(file, f"item {shown}", "id must be letters, digits and underscores")
    _fields(file, ident, raw, fields, fields)
    if raw["country"] not in COUNTRIES:
        raise DataError(
            file, ident, f"unknown country {raw['country']!r}; allowed: {', '.join(COUNTRIES)}"
        )
    return ident


def _known(file: Path, entry: str, tags: Sequence[str], known: frozenset[str]) -> tuple[str, ...]:
    unknown = [t for t in tags if t not in known]
    if unknown:
        raise DataError(file, entry, f"tags not carried by any product: {', '.join(unknown)}")
    return tuple(tags)


# ---------------------------------------------------------------- shared checks


def _document(file: Path, key: str) -> dict[str, Any]:
    try:
        with open(file, encoding="utf-8") as fh:
            doc = json.load(fh)
    except FileNotFoundError:
        raise DataError(file, "file", "no such file") from None
    except OSError as exc:
        raise DataError(file, "file", f"cannot be read ({exc.strerror})") from None
    except ValueError as exc:
        raise DataError(file, "file", f"is not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or key not in doc:
        raise DataError(file, "file", f"must be a JSON object with a {key!r} entry")
    if doc.get("version") != VERSION:
        raise DataError(file, "version", f"must be {VERSION}, got {doc.get('version')!r}")
    return doc


def _list(file: Path, doc: Mapping[str, Any], key: str, empty: bool = False) -> list[Any]:
    items = doc.get(key, [] if empty else None)
    if not isinstance(items, list) or (not items and not empty):
        raise DataError(file, key, "must be a non-empty list" if not empty else "must be a list")
    return items


def _fields(
    file: Path, entry: str, raw: Mapping[str, Any], required: Sequence[str], allowed: Sequence[str]
) -> None:
    missing = [f for f in required if f not in raw]
    if missing:
        raise DataError(file, entry, f"missing {', '.join(missing)}")
    extra = sorted(set(raw) - set(allowed))
    if extra:
        raise DataError(file, entry, f"unknown fields {', '.join(extra)}")


def _printable(value: Any) -> bool:
    # Page text reaches terminals and the agent's observation: no control characters.
    return isinstance(value, str) and bool(value.strip()) and value.isprintable()


def _text(file: Path, entry: str, raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if not _printable(value):
        raise DataError(file, entry, f"{key} must be non-empty printable text")
    return str(value)


def _texts(
    file: Path, entry: str, raw: Mapping[str, Any], key: str, allow_empty: bool = False
) -> tuple[str, ...]:
    value = raw.get(key)
    ok = isinstance(value, list) and (allow_empty or value) and all(map(_printable, value))
    if not ok:
        raise DataError(file, entry, f"{key} must be a list of non-empty texts")
    return tuple(value) if isinstance(value, list) else ()


def _tags(
    file: Path, entry: str, raw: Mapping[str, Any], key: str, allow_empty: bool = False
) -> tuple[str, ...]:
    tags = _texts(file, entry, raw, key, allow_empty)
    bad = [t for t in tags if not _TAG.fullmatch(t)]
    if bad:
        raise DataError(file, entry, f"{key}: tags are lowercase words with hyphens, got {bad}")
    return tags


def _unique(file: Path, ids: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for ident in ids:
        if ident in seen:
            raise DataError(file, ident, f"repeated {what}")
        seen.add(ident)


# ---------------------------------------------------------------- command line


def check(path: str | Path, catalog_path: str | Path | None = None) -> str:
    """Validate a catalog or query file (told apart by its keys); a one-line summary.

    Raises:
        DataError: the first problem found.
    """
    doc = _document(Path(path), "version")
    if "products" in doc:
        cat = load_catalog(path)
        return f"ok: {path}: {len(cat)} products, {len(cat.categories)} categories"
    qs = load_queries(path, load_catalog(catalog_path))
    counts = ", ".join(f"{len(qs.items(s))} {s}" for s in SPLITS)
    return f"ok: {path}: {counts} over {len(qs.countries)} countries"


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m agentsim.envs.web_shop.data --check FILE [--catalog FILE]``."""
    parser = argparse.ArgumentParser(description="Validate a web_shop_v0 data file.")
    parser.add_argument("--check", required=True, metavar="FILE", help="catalog or query file")
    parser.add_argument("--catalog", metavar="FILE", help="catalog for a query file")
    args = parser.parse_args(argv)
    try:
        print(check(args.check, args.catalog))
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
