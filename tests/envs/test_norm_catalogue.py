"""The norm-society bank: the built-in data, the validating loader and the vector helpers."""

import copy
import doctest
import itertools
import json
import math
import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from agentsim.core.errors import UserError
from agentsim.envs.norm_society import catalogue
from agentsim.envs.norm_society.catalogue import BankError, load_bank

DIMS = ("tradition", "collectivism", "digital", "sustainability", "formality")
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
vectors = st.lists(unit, min_size=5, max_size=5)


def builtin(name):
    return json.loads((catalogue.DATA_DIR / name).read_text(encoding="utf-8"))


def write(folder, name, data):
    (folder / name).write_text(json.dumps(data), encoding="utf-8")
    return str(folder)


# ---------------------------------------------------------------- the built-in bank


def test_builtin_bank_has_the_specified_shape():
    bank = load_bank()
    assert bank.dims == 5 and bank.dimension_names == DIMS
    assert Counter(s.domain for s in bank.situations) == dict.fromkeys(
        ("work", "shopping", "family", "online", "public"), 8
    )
    assert len({s.id for s in bank.situations}) == 40
    assert [e.name for e in bank.eras] == ["2000s", "2010s", "2020s", "2030s"]
    assert [e.start_year for e in bank.eras] == [2000, 2010, 2020, 2030]
    per_dim = Counter((i.dimension, i.direction) for i in bank.questionnaire)
    assert per_dim == {(k, d): 1 for k in range(5) for d in (1, -1)}
    sizes = {k: len(v) for k, v in bank.personas.items()}
    assert sizes == {"persona": 60, "career": 60, "worldview": 30, "life_view": 30, "values": 30}
    assert all(len(set(v)) == len(v) for v in bank.personas.values())


def test_builtin_situations_are_complete_frames():
    for s in load_bank().situations:
        assert [o.id for o in s.options] == ["A", "B", "C", "D"]
        assert s.setting and s.roles.actor and s.roles.other and s.text and s.rot
        assert len({o.behaviour for o in s.options}) == 4


def test_builtin_options_are_separated():
    options = load_bank().option_array()
    assert options.shape == (40, 4, 5)
    assert ((options >= 0) & (options <= 1)).all()
    for a, b in itertools.combinations(range(4), 2):
        gaps = np.linalg.norm(options[:, a] - options[:, b], axis=1)
        assert gaps.min() >= catalogue.MIN_OPTION_DISTANCE


def test_builtin_era_norms_are_distinct_and_drift_as_specified():
    norms = np.array([e.norm for e in load_bank().eras])
    for a, b in itertools.combinations(norms, 2):
        assert np.linalg.norm(a - b) > 0.2
    steps = np.diff(norms, axis=0)
    assert (steps[:, 0] < 0).all() and (steps[:, 4] < 0).all()  # less tradition, formality
    assert (steps[:, 2] > 0).all() and (steps[:, 3] > 0).all()  # more digital, sustainability


def test_builtin_era_norms_discriminate_between_options():
    bank = load_bank()
    expected = [[s.nearest(e.norm) for e in bank.eras] for s in bank.situations]
    # Every situation's expected behaviour changes at least once across the eras ...
    assert all(len(set(per_era)) > 1 for per_era in expected)
    # ... and each era's expected letters are spread over A-D, so that an LLM's liking for
    # one letter cannot pass for adherence.
    for era in range(len(bank.eras)):
        assert len({per_era[era] for per_era in expected}) == 4


def test_builtin_era_texts_have_three_to_five_sentences():
    for era in load_bank().eras:
        assert 3 <= len(re.findall(r"[.!?](?:\s|$)", era.text)) <= 5, era.name


def test_module_examples_run():
    assert doctest.testmod(catalogue).failed == 0


# ---------------------------------------------------------------- loading and caching


def test_load_is_cached_by_content(tmp_path):
    assert load_bank() is load_bank(None) is load_bank("")
    (tmp_path / "eras.json").write_bytes((catalogue.DATA_DIR / "eras.json").read_bytes())
    same = load_bank(str(tmp_path))
    assert same.digest == load_bank().digest
    eras = builtin("eras.json")
    eras["eras"][0]["text"] = "Different prose. Still three sentences. Really."
    changed = load_bank(write(tmp_path, "eras.json", eras))
    assert changed is not same and changed.digest != same.digest
    assert changed.eras[0].text.startswith("Different prose")


def test_a_folder_replaces_files_one_by_one(tmp_path):
    eras = builtin("eras.json")
    eras["eras"] = eras["eras"][:1]
    bank = load_bank(write(tmp_path, "eras.json", eras))
    assert [e.name for e in bank.eras] == ["2000s"]
    assert bank.situations == load_bank().situations  # the other files stay built-in
    assert bank.era_for(2050).name == "2000s"


def test_bank_error_is_a_user_error_naming_file_entry_and_problem():
    err = BankError("x/eras.json", "2010s", "missing key 'norm'")
    assert isinstance(err, UserError)
    assert str(err) == "norm bank x/eras.json: entry 2010s: missing key 'norm'"


def _set(path, value):
    def edit(data):
        *head, last = path
        target = data
        for key in head:
            target = target[key]
        if value is _DELETE:
            del target[last]
        else:
            target[last] = value(target[last]) if callable(value) else value

    return edit


_DELETE = object()
S0 = ("situations", 0)
OPT = (*S0, "options")

BROKEN = {
    "wrong version": ("eras.json", _set(("version",), 2), "version", "version is 2; expected 1"),
    "no version": ("personas.json", _set(("version",), _DELETE), "version", "version is None"),
    "missing setting": (
        "situations.json",
        _set((*S0, "setting"), _DELETE),
        "work-001",
        "missing key 'setting'",
    ),
    "missing roles": (
        "situations.json",
        _set((*S0, "roles"), _DELETE),
        "work-001",
        "missing key 'roles'",
    ),
    "missing actor": (
        "situations.json",
        _set((*S0, "roles", "actor"), _DELETE),
        "work-001",
        "missing key 'actor'",
    ),
    "empty behaviour": (
        "situations.json",
        _set((*OPT, 1, "behaviour"), "  "),
        "work-001 option B",
        "'behaviour' must be a non-empty string",
    ),
    "short vector": (
        "situations.json",
        _set((*OPT, 1, "vector"), [0.5] * 4),
        "work-001 option B",
        "'vector' has 4 values; expected 5",
    ),
    "long norm": (
        "eras.json",
        _set(("eras", 2, "norm"), [0.5] * 6),
        "2020s",
        "'norm' has 6 values; expected 5",
    ),
    "value above 1": (
        "situations.json",
        _set((*OPT, 2, "vector", 0), 1.5),
        "work-001 option C",
        "value 1.5 is not a number in [0, 1]",
    ),
    "negative norm": (
        "eras.json",
        _set(("eras", 0, "norm", 3), -0.1),
        "2000s",
        "value -0.1 is not a number in [0, 1]",
    ),
    "string value": (
        "situations.json",
        _set((*OPT, 0, "vector", 4), "0.5"),
        "work-001 option A",
        "value '0.5' is not a number",
    ),
    "three options": (
        "situations.json",
        _set((*OPT,), lambda o: o[:3]),
        "work-001",
        "has 3 options; expected exactly 4",
    ),
    "five options": (
        "situations.json",
        _set((*OPT,), lambda o: [*o, o[0]]),
        "work-001",
        "has 5 options; expected exactly 4",
    ),
    "option ids out of order": (
        "situations.json",
        _set((*OPT, 0, "id"), "B"),
        "work-001 option A",
        "ids A, B, C, D in order",
    ),
    "duplicate situation": (
        "situations.json",
        _set(("situations", 1, "id"), "work-001"),
        "work-001",
        "duplicate id 'work-001'",
    ),
    "too-close options": (
        "situations.json",
        _set((*OPT, 1, "vector"), lambda v: [0.8, 0.6, 0.1, 0.3, 0.65]),
        "work-001",
        "options A and B are too close (0.200 < 0.3)",
    ),
    "era without norm": (
        "eras.json",
        _set(("eras", 1, "norm"), _DELETE),
        "2010s",
        "missing key 'norm'",
    ),
    "duplicate era": (
        "eras.json",
        _set(("eras", 3, "name"), "2000s"),
        "2000s",
        "duplicate name '2000s'",
    ),
    "era years not increasing": (
        "eras.json",
        _set(("eras", 2, "start_year"), 2005),
        "2020s",
        "start_year 2005 must be after the previous era's",
    ),
    "era year not an int": (
        "eras.json",
        _set(("eras", 1, "start_year"), "2010"),
        "2010s",
        "'start_year' is '2010'; expected an integer year",
    ),
    "no items for a dimension": (
        "questionnaire.json",
        _set(("items",), lambda items: [i for i in items if i["dimension"] != "digital"]),
        "items",
        "no item for dimension 'digital'",
    ),
    "direction 0": (
        "questionnaire.json",
        _set(("items", 0, "direction"), 0),
        "q01",
        "direction is 0; expected 1 or -1",
    ),
    "direction true": (
        "questionnaire.json",
        _set(("items", 1, "direction"), True),
        "q02",
        "direction is True; expected 1 or -1",
    ),
    "unknown dimension": (
        "questionnaire.json",
        _set(("items", 2, "dimension"), "speed"),
        "q03",
        "dimension 'speed' is not one of tradition",
    ),
    "duplicate item": (
        "questionnaire.json",
        _set(("items", 3, "id"), "q01"),
        "q01",
        "duplicate id 'q01'",
    ),
    "empty careers": ("personas.json", _set(("careers",), []), "careers", "an empty list"),
    "missing values": (
        "personas.json",
        _set(("values",), _DELETE),
        "values",
        "missing key 'values'",
    ),
    "blank persona": (
        "personas.json",
        _set(("personas", 4), ""),
        "personas #5",
        "must be a non-empty string",
    ),
    "duplicate dimension": (
        "dimensions.json",
        _set(("dimensions", 1, "name"), "tradition"),
        "tradition",
        "duplicate name 'tradition'",
    ),
    "dimension without id": (
        "dimensions.json",
        _set(("dimensions", 2, "name"), _DELETE),
        "dimensions #3",
        "missing key 'name'",
    ),
    "no situations": (
        "situations.json",
        _set(("situations",), []),
        "situations",
        "missing key 'situations' or not a non-empty list",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_file_names_file_entry_and_problem(tmp_path, case):
    name, edit, entry, problem = BROKEN[case]
    data = copy.deepcopy(builtin(name))
    edit(data)
    with pytest.raises(BankError) as caught:
        load_bank(write(tmp_path, name, data))
    err = caught.value
    assert err.file == str((tmp_path / name).resolve())
    assert err.entry == entry
    assert problem in err.problem
    assert name in str(err) and entry in str(err) and problem in str(err)


def test_fewer_dimensions_make_every_vector_the_wrong_length(tmp_path):
    dims = builtin("dimensions.json")
    dims["dimensions"] = dims["dimensions"][:4]
    with pytest.raises(BankError, match=r"situations.json: entry work-001 option A: .*expected 4"):
        load_bank(write(tmp_path, "dimensions.json", dims))


def test_unreadable_json_and_bad_folders_are_named(tmp_path):
    (tmp_path / "eras.json").write_text("{", encoding="utf-8")
    with pytest.raises(BankError, match=r"eras.json: entry \(file\): is not UTF-8 JSON"):
        load_bank(str(tmp_path))
    (tmp_path / "eras.json").write_text("[1, 2]", encoding="utf-8")
    with pytest.raises(BankError, match=r"eras.json: entry \(file\): must hold a JSON object"):
        load_bank(str(tmp_path))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BankError, match=r"holds none of dimensions\.json"):
        load_bank(str(empty))
    with pytest.raises(BankError, match="is not a folder"):
        load_bank(str(tmp_path / "missing"))


# ---------------------------------------------------------------- statements and answers


def test_statement_vector_hand_computed():
    bank = load_bank()
    # Items alternate dimensions: q01..q05 are direction +1 on dims 0..4, q06..q10 direction -1.
    assert bank.statement_vector([5] * 10) == (0.5,) * 5
    assert bank.statement_vector([5, 5, 5, 5, 5, 1, 1, 1, 1, 1]) == (1.0,) * 5
    answers = [4, 3, 2, 1, 5, 2, 3, 4, 5, 1]
    # tradition: (0.75 + (1 - 0.25)) / 2; collectivism: (0.5 + 0.5) / 2; digital: (0.25 + 0.25)
    # / 2; sustainability: (0 + 0) / 2; formality: (1 + 1) / 2.
    assert bank.statement_vector(answers) == (0.75, 0.5, 0.25, 0.0, 1.0)


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ([3] * 9, "9 answers for 10 items"),
        ([3] * 9 + [6], "expected 1..5"),
        ([0] + [3] * 9, "expected 1..5"),
        ([3.0] + [3] * 9, "expected an int"),
        ([True] + [3] * 9, "expected an int"),
    ],
)
def test_statement_vector_rejects_bad_answers(answers, problem):
    with pytest.raises(ValueError, match=re.escape(problem)):
        load_bank().statement_vector(answers)


def test_statement_vector_accepts_numpy_answers():
    answers = np.array([4, 3, 2, 1, 5, 2, 3, 4, 5, 1])
    assert load_bank().statement_vector(list(answers)) == (0.75, 0.5, 0.25, 0.0, 1.0)


@given(vectors)
@example([0.125, 0.375, 0.625, 0.875, 0.5])  # halves round up the dimension
@example([0.0, 1.0, 0.0, 1.0, 0.0])
def test_answers_for_is_the_nearest_statement(vector):
    bank = load_bank()
    answers = bank.answers_for(vector)
    assert all(1 <= a <= 5 for a in answers)
    back = bank.statement_vector(answers)
    assert all(abs(b - v) <= 0.125 + 1e-12 for b, v in zip(back, vector, strict=True))
    assert bank.answers_for(back) == answers


@given(st.lists(st.integers(0, 4), min_size=5, max_size=5))
def test_consistent_answers_round_trip(steps):
    bank = load_bank()
    answers = [
        1 + steps[i.dimension] if i.direction == 1 else 5 - steps[i.dimension]
        for i in bank.questionnaire
    ]
    assert bank.statement_vector(answers) == tuple(s / 4 for s in steps)
    assert bank.answers_for(bank.statement_vector(answers)) == answers


def test_answers_for_clips_and_rejects_bad_vectors():
    bank = load_bank()
    assert bank.answers_for([-0.5, 1.5, 0.5, 0.5, 0.5]) == bank.answers_for([0, 1, 0.5, 0.5, 0.5])
    with pytest.raises(ValueError, match="4 values; expected 5"):
        bank.answers_for([0.5] * 4)
    with pytest.raises(ValueError, match="non-finite"):
        bank.answers_for([0.5, math.nan, 0.5, 0.5, 0.5])


def test_answers_text_has_one_line_per_item():
    bank = load_bank()
    lines = bank.answers_text([4, 3, 2, 1, 5, 2, 3, 4, 5, 1]).splitlines()
    assert len(lines) == 10
    assert lines[0] == f"{bank.questionnaire[0].statement} 4/5 (agree)"
    assert lines[3].endswith("1/5 (strongly disagree)")


# ---------------------------------------------------------------- describe and helpers


@given(vectors)
def test_describe_is_deterministic_and_mentions_each_dimension(vector):
    bank = load_bank()
    text = bank.describe(vector)
    assert text == bank.describe(list(vector))
    clauses = text.split("; ")
    assert len(clauses) == 5
    for clause, dim in zip(clauses, bank.dimensions, strict=True):
        assert dim.low in clause or dim.high in clause


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (0.0, "strongly favours new ways"),
        (0.2, "strongly favours new ways"),
        (0.21, "leans toward new ways"),
        (0.4, "leans toward new ways"),
        (0.44, "slightly leans toward new ways"),
        (0.45, "balances new ways and established ways"),
        (0.55, "balances new ways and established ways"),
        (0.56, "slightly leans toward established ways"),
        (0.6, "leans toward established ways"),
        (0.79, "leans toward established ways"),
        (0.8, "strongly favours established ways"),
    ],
)
def test_describe_bands(value, words):
    assert load_bank().describe([value, 0.5, 0.5, 0.5, 0.5]).split("; ")[0] == words


def test_era_for_picks_the_era_a_year_falls_in():
    bank = load_bank()
    years = {
        1990: "2000s",
        2000: "2000s",
        2009: "2000s",
        2010: "2010s",
        2029: "2020s",
        2030: "2030s",
        2100: "2030s",
    }
    assert {y: bank.era_for(y).name for y in years} == years


def test_situation_lookup_and_nearest_option():
    bank = load_bank()
    s = bank.situation(39)
    assert s is bank.situations[39]
    for k, option in enumerate(s.options):
        assert s.nearest(option.vector) == k
    with pytest.raises(IndexError, match=r"outside 0\.\.39"):
        bank.situation(40)


def test_draw_traits_follows_the_seed():
    bank = load_bank()
    first = bank.draw_traits(np.random.default_rng(7))
    assert first == bank.draw_traits(np.random.default_rng(7))
    assert set(first) == set(catalogue.PERSONA_LISTS)
    assert all(first[k] in bank.personas[k] for k in first)
