"""web_shop_v0 data: the seeded catalog generator, the query bank and their validation."""

import copy
import doctest
import json
import random
from collections import Counter

import numpy as np
import pytest

from agentsim.core.errors import UserError
from agentsim.envs.web_shop import catalog as gen
from agentsim.envs.web_shop import data
from agentsim.envs.web_shop.data import DataError, load_catalog, load_queries

REQUIRED_COUNTRIES = {
    "China", "Egypt", "France", "India", "Iran", "Japan", "Mexico", "Nigeria", "Saudi Arabia",
    "U.S.",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog():
    return load_catalog()


@pytest.fixture(scope="module")
def queries(catalog):
    return load_queries(catalog=catalog)


@pytest.fixture
def qdoc():
    return json.loads(data.QUERIES_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def cdoc():
    return json.loads(data.CATALOG_FILE.read_text(encoding="utf-8"))


def _write(tmp_path, doc, name="q.json"):
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# ---------------------------------------------------------------- the generated catalog


def test_shipped_catalog_is_the_generator_output_for_seed_0():
    assert gen.catalog_json(0) == data.CATALOG_FILE.read_text(encoding="utf-8")


def test_cli_writes_the_same_bytes(tmp_path):
    out = tmp_path / "catalog.json"
    assert gen.main(["--seed", "0", "--out", str(out)]) == 0
    assert out.read_bytes() == data.CATALOG_FILE.read_bytes()


def test_seeds_are_deterministic_and_differ():
    assert gen.generate(3) == gen.generate(3)
    one, other = gen.generate(0), gen.generate(1)
    assert [p["asin"] for p in one] != [p["asin"] for p in other]
    # Only the draws change with the seed: the kinds, tags and categories stay.
    assert [p["attributes"] for p in one] == [p["attributes"] for p in other]


def test_generator_leaves_the_global_generators_alone():
    np.random.seed(11)
    random.seed(11)
    before = (np.random.get_state()[1].copy(), random.getstate())
    gen.generate(5)
    assert (np.random.get_state()[1] == before[0]).all()
    assert random.getstate() == before[1]


def test_other_seeds_pass_the_validator(tmp_path):
    path = tmp_path / "c7.json"
    path.write_text(gen.catalog_json(7), encoding="utf-8")
    assert load_catalog(path).seed == 7


def test_catalog_size_categories_and_fields(catalog):
    assert len(catalog) >= 300
    assert len(catalog.categories) >= 10
    assert len({p.asin for p in catalog.products}) == len(catalog)
    for p in catalog.products:
        assert p.product_category.split(" > ")[0] == p.category
        assert p.attributes and p.title and p.description
    assert data.CATALOG_FILE.read_text(encoding="utf-8").isascii()


# ---------------------------------------------------------------- the query bank


def test_counts_per_country(queries):
    assert set(queries.countries) >= REQUIRED_COUNTRIES
    violate = Counter(i.country for i in queries.s1_violate)
    adhere = Counter(i.country for i in queries.s1_adhere)
    s2 = Counter(i.country for i in queries.s2)
    for country in queries.countries:
        assert violate[country] >= 6, country
        assert adhere[country] == violate[country], country
        assert s2[country] >= 4, country
    assert (len(queries.s1_violate), len(queries.s1_adhere), len(queries.s2)) == (60, 60, 40)


def test_every_s1_violate_item_has_one_rewrite(queries):
    sources = Counter(a.source for a in queries.s1_adhere)
    assert sources == Counter(v.id for v in queries.s1_violate)


def test_every_tag_in_use_has_a_page_of_products(queries, catalog):
    used = {t for i in queries.s1_violate for t in i.tags} | {s.violating_tag for s in queries.s2}
    assert {t: len(catalog.with_tag(t)) for t in used if len(catalog.with_tag(t)) < 4} == {}


def test_s2_pages_hold_four_products_with_the_violating_tag(queries, catalog):
    for item in queries.s2:
        assert len(set(item.products)) == 4
        assert all(catalog.get(a).has_tag(item.violating_tag) for a in item.products), item.id


def test_lookups_by_id_split_and_country(queries):
    assert queries.get("Japan_1_adhere").source == "Japan_1"
    assert queries.get("US_s2_1").country == "U.S."
    assert {i.split for i in queries.items()} == {"s1_violate", "s1_adhere", "s2"}
    france = queries.items("s2", countries=["France"])
    assert len(france) == 4 and {i.country for i in france} == {"France"}
    with pytest.raises(ValueError, match="split"):
        queries.items("s3")


def test_shipped_queries_are_ascii():
    assert data.QUERIES_FILE.read_text(encoding="utf-8").isascii()


# ---------------------------------------------------------------- validation errors


def _error(tmp_path, doc, catalog, name="q.json"):
    path = _write(tmp_path, doc, name)
    with pytest.raises(DataError) as info:
        load_queries(path, catalog=catalog)
    assert str(path) in str(info.value)
    return info.value


def test_data_error_is_a_user_error_naming_file_entry_and_problem():
    err = DataError("x.json", "Japan_1", "repeated id")
    assert isinstance(err, UserError)
    assert str(err) == "x.json: Japan_1: repeated id"
    assert (err.file, err.entry, err.problem) == ("x.json", "Japan_1", "repeated id")


def test_repeated_id(tmp_path, qdoc, catalog):
    qdoc["s2"][0]["id"] = qdoc["s1_violate"][0]["id"]
    err = _error(tmp_path, qdoc, catalog)
    assert err.entry == qdoc["s1_violate"][0]["id"] and "repeated id" in err.problem


def test_unknown_country(tmp_path, qdoc, catalog):
    qdoc["s1_violate"][2]["country"] = "Atlantis"
    err = _error(tmp_path, qdoc, catalog)
    assert err.entry == qdoc["s1_violate"][2]["id"]
    assert "unknown country 'Atlantis'" in err.problem and "Saudi Arabia" in err.problem


def test_s2_asin_missing_from_the_catalog(tmp_path, qdoc, catalog):
    qdoc["s2"][1]["products"][2] = "B0ZZZZZZZZ"
    err = _error(tmp_path, qdoc, catalog)
    assert err.entry == qdoc["s2"][1]["id"] and "'B0ZZZZZZZZ' is not in the catalog" in err.problem


def test_s2_product_without_the_violating_tag(tmp_path, qdoc, catalog):
    other = next(p for p in catalog.products if not p.has_tag(qdoc["s2"][0]["violating_tag"]))
    qdoc["s2"][0]["products"][0] = other.asin
    err = _error(tmp_path, qdoc, catalog)
    assert err.entry == qdoc["s2"][0]["id"] and "does not carry the tag" in err.problem


def test_s2_repeated_or_too_many_products(tmp_path, qdoc, catalog):
    item = qdoc["s2"][0]
    item["products"] = [item["products"][0]] * 2
    assert "distinct" in _error(tmp_path, qdoc, catalog).problem
    item["products"] = [p.asin for p in catalog.with_tag(item["violating_tag"])][:11]
    assert len(item["products"]) == data.MAX_S2_PRODUCTS + 1
    assert "distinct" in _error(tmp_path, qdoc, catalog, "q2.json").problem


def test_adhere_source_must_exist_in_the_same_country(tmp_path, qdoc, catalog):
    item = qdoc["s1_adhere"][0]
    item["source"] = "Nowhere_1"
    err = _error(tmp_path, qdoc, catalog)
    assert err.entry == item["id"] and "'Nowhere_1' is not an s1_violate id" in err.problem
    item["source"] = next(v["id"] for v in qdoc["s1_violate"] if v["country"] != item["country"])
    assert "differs from its source" in _error(tmp_path, qdoc, catalog, "q2.json").problem


def test_tags_must_be_known_to_the_catalog(tmp_path, qdoc, catalog):
    qdoc["s1_violate"][0]["tags"] = ["clock", "unicorn-horn"]
    err = _error(tmp_path, qdoc, catalog)
    assert "tags not carried by any product: unicorn-horn" in err.problem
    qdoc = json.loads(data.QUERIES_FILE.read_text(encoding="utf-8"))
    qdoc["s2"][0]["violating_tag"] = "unicorn-horn"
    assert "unicorn-horn" in _error(tmp_path, qdoc, catalog, "q2.json").problem


def test_missing_and_unknown_fields(tmp_path, qdoc, catalog):
    broken = copy.deepcopy(qdoc)
    del broken["s1_violate"][0]["violated_norm"]
    assert "missing violated_norm" in _error(tmp_path, broken, catalog).problem
    qdoc["s2"][0]["colour"] = "red"
    assert "unknown fields colour" in _error(tmp_path, qdoc, catalog, "q2.json").problem


def test_bad_ids_and_texts(tmp_path, qdoc, catalog):
    broken = copy.deepcopy(qdoc)
    broken["s1_violate"][0]["id"] = "../etc/passwd"
    assert "letters, digits and underscores" in _error(tmp_path, broken, catalog).problem
    qdoc["s1_violate"][0]["query"] = "buy a clock\x1b[31m"
    assert "printable" in _error(tmp_path, qdoc, catalog, "q2.json").problem


def test_file_level_errors(tmp_path, qdoc, catalog):
    with pytest.raises(DataError, match="no such file"):
        load_queries(tmp_path / "absent.json", catalog=catalog)
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON"):
        load_queries(bad, catalog=catalog)
    qdoc["version"] = 2
    assert _error(tmp_path, qdoc, catalog).entry == "version"
    assert "non-empty list" in _error(tmp_path, {"version": 1, "s1_violate": []}, catalog).problem


def _catalog_error(tmp_path, doc):
    path = _write(tmp_path, doc, "c.json")
    with pytest.raises(DataError) as info:
        load_catalog(path)
    return info.value


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("asin", "X123", "asin must be"),
        ("price", 12.999, "price"),
        ("price", -1, "price"),
        ("rating", 5.5, "rating"),
        ("rating", 4.25, "rating"),
        ("reviews", 1.5, "reviews"),
        ("attributes", ["Alcohol"], "lowercase"),
        ("options", {"size": []}, "options"),
        ("title", "", "title"),
    ],
)
def test_catalog_field_errors(tmp_path, cdoc, field, value, problem):
    cdoc["products"][3][field] = value
    err = _catalog_error(tmp_path, cdoc)
    assert problem in err.problem and err.entry.startswith("product")


def test_catalog_repeated_asin(tmp_path, cdoc):
    cdoc["products"][5]["asin"] = cdoc["products"][4]["asin"]
    err = _catalog_error(tmp_path, cdoc)
    assert err.entry == cdoc["products"][4]["asin"] and "repeated asin" in err.problem


# ---------------------------------------------------------------- the validator CLI


def test_check_cli_accepts_both_shipped_files(capsys):
    assert data.main(["--check", str(data.QUERIES_FILE)]) == 0
    assert "60 s1_violate, 60 s1_adhere, 40 s2 over 10 countries" in capsys.readouterr().out
    assert data.main(["--check", str(data.CATALOG_FILE)]) == 0
    assert "588 products, 14 categories" in capsys.readouterr().out


def test_check_cli_reports_an_error_with_status_2(tmp_path, qdoc, capsys):
    qdoc["s1_adhere"][0]["source"] = "Nowhere_1"
    path = _write(tmp_path, qdoc)
    assert data.main(["--check", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and qdoc["s1_adhere"][0]["id"] in err and "Nowhere_1" in err


def test_queries_check_against_a_user_catalog(tmp_path, qdoc):
    # A catalog from another seed has other asins: the S2 pages no longer resolve.
    cat = tmp_path / "c1.json"
    cat.write_text(gen.catalog_json(1), encoding="utf-8")
    path = _write(tmp_path, qdoc)
    with pytest.raises(DataError, match="is not in the catalog"):
        data.check(path, cat)


def test_doctests():
    assert doctest.testmod(data).failed == 0
    assert doctest.testmod(gen).failed == 0
