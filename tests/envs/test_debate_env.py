"""debate_v0: PettingZoo conformance, turn structure, observations, records, config."""

import json
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pettingzoo.test import api_test, seed_test

from agentsim.core.errors import ConfigError
from agentsim.envs.debate import catalogue
from agentsim.envs.debate.env import CHARSET, RECORD_FIELDS, DebateConfig, DebateEnv
from agentsim.games.debate import TOPIC_PRIORS, parse_extra

# PettingZoo's advice for any Dict observation and Text action: everything else fails.
ADVISORY = (
    r"Observation is not a NumPy array",
    r"Observation space for each agent probably should be",
    r"Action space for each agent probably should be",
)


@pytest.fixture(scope="module")
def salvi_files(tmp_path_factory):
    """Stand-ins for the package's propositions.json and demographics.json (read-only)."""
    tmp_path = tmp_path_factory.mktemp("salvi")
    props = tmp_path / "propositions.json"
    props.write_text(
        json.dumps(
            {
                "propositions": [
                    {"id": "p01", "text": "Pennies should be abolished.", "strength": "low"},
                    {"id": "p02", "text": "Voting should be compulsory.", "strength": "medium"},
                    {"id": "p03", "text": "Abortion should be legal.", "strength": "high"},
                ]
            }
        )
    )
    demo = tmp_path / "demographics.json"
    profiles = [
        {
            "gender": g,
            "age": a,
            "ethnicity": "Hispanic",
            "education": "Bachelor's degree",
            "employment": "Employed full-time",
            "political_affiliation": p,
        }
        for g, a, p in [("female", "25-34", "Democrat"), ("male", "55-64", "Republican")]
    ]
    demo.write_text(json.dumps({"profiles": profiles}))
    return {"propositions_file": str(props), "demographics_file": str(demo)}


def salvi(salvi_files, **config):
    return DebateEnv(protocol="salvi", **salvi_files, **config)


def play(env, actions, seed):
    """Run one episode; actions(agent, obs, n) gives each live action. Returns records."""
    env.reset(seed=seed)
    records = list(env.pop_records())
    for n, agent in enumerate(env.agent_iter()):
        obs, _, term, trunc, _ = env.last()
        env.step(None if term or trunc else actions(agent, obs, n))
        records.extend(env.pop_records())
    return records


def constant(text):
    return lambda agent, obs, n: text


# -- PettingZoo conformance --------------------------------------------------------------


@pytest.fixture
def strict_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for message in ADVISORY:
            warnings.filterwarnings("ignore", message=message)
        yield


@pytest.mark.usefixtures("strict_warnings")
@pytest.mark.parametrize(
    "config",
    [{}, {"roles": "republican,republican", "iterations": 4}, {"max_transcript_chars": 100}],
)
def test_taubenfeld_passes_api_test(config):
    api_test(DebateEnv(**config), num_cycles=60)


@pytest.mark.usefixtures("strict_warnings")
@pytest.mark.parametrize("personalised", [False, True])
def test_salvi_passes_api_test(salvi_files, personalised):
    api_test(salvi(salvi_files, personalised=personalised, opponent="human"), num_cycles=30)


@pytest.mark.usefixtures("strict_warnings")
def test_seed_test(salvi_files):
    seed_test(lambda: DebateEnv(iterations=3), num_cycles=20)
    seed_test(lambda: salvi(salvi_files), num_cycles=20)


def test_spaces_are_built_once():
    env = DebateEnv()
    assert env.observation_space("debater_0") is env.observation_space("debater_2")
    assert env.action_space("debater_1") is env.action_space("debater_1")


# -- determinism over whole episodes -----------------------------------------------------

utterances = st.lists(
    st.text(alphabet=st.sampled_from(sorted(CHARSET)), max_size=40), min_size=1, max_size=5
)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), texts=utterances, protocol=st.sampled_from(["t", "s"]))
def test_same_seed_and_actions_give_the_same_records(salvi_files, seed, texts, protocol):
    def make():
        return salvi(salvi_files) if protocol == "s" else DebateEnv(iterations=4)

    def actions(agent, obs, n):
        return f"{texts[n % len(texts)]} [attitude: {n % 11}]"

    first, second = play(make(), actions, seed), play(make(), actions, seed)
    assert first == second
    env = make()
    assert play(env, actions, seed) == play(env, actions, seed)  # reset(seed) rebuilds the RNG


def test_seeds_draw_different_personas_and_persona_seed_pins_them():
    drawn = {tuple(play(DebateEnv(), constant("5"), s)[0]["personas"].values()) for s in range(6)}
    assert len(drawn) > 1
    pinned = {
        tuple(play(DebateEnv(persona_seed=7), constant("5"), s)[0]["personas"].values())
        for s in range(6)
    }
    assert len(pinned) == 1


# -- turn structure ----------------------------------------------------------------------


def test_taubenfeld_turns_walk_survey_all_then_one_speaker():
    env = DebateEnv(roles="republican,democrat,default", iterations=4)
    env.reset(seed=0)
    seen = []
    for agent in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        if term or trunc:
            env.step(None)
            continue
        seen.append((agent[-1], "speak" if obs["phase"] == 0 else "survey"))
        env.step("4")
    survey = [(str(i), "survey") for i in range(3)]
    expected = list(survey)
    for n in range(4):
        expected += [(str(n % 3), "speak"), *survey]
    assert seen == expected
    assert env.agents == []


def test_salvi_pro_speaks_first_in_every_phase_and_sides_vary(salvi_files):
    pros = set()
    for seed in range(8):
        records = play(salvi(salvi_files), constant("3"), seed)
        start = records[0]
        pro = next(a for a, s in start["sides"].items() if s == "pro")
        pros.add(pro)
        said = [r for r in records if r["type"] == "utterance"]
        assert [r["phase"] for r in said] == ["opening"] * 2 + ["rebuttal"] * 2 + ["conclusion"] * 2
        assert [r["agent"] for r in said[::2]] == [pro] * 3
        assert [r["side"] for r in said] == ["pro", "con"] * 3
        surveys = [(r["iteration"], r["agent"]) for r in records if r["type"] == "survey"]
        assert surveys == [(0, "debater_0"), (0, "debater_1"), (6, "debater_0"), (6, "debater_1")]
    assert pros == {"debater_0", "debater_1"}


def test_stepping_a_finished_episode_says_call_reset():
    env = DebateEnv(iterations=1)
    play(env, constant("5"), 0)
    with pytest.raises(RuntimeError, match="reset"):
        env.step("5")


def test_non_text_action_is_refused_loudly():
    env = DebateEnv()
    env.reset(seed=0)
    with pytest.raises(ValueError, match="must be a str"):
        env.step(np.array([5.0]))


# -- observations ------------------------------------------------------------------------


def test_transcript_shows_utterances_without_markers_and_never_surveys():
    env = DebateEnv(roles="republican,democrat", iterations=2)
    env.reset(seed=1)
    names = {}
    for agent in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        if term or trunc:
            env.step(None)
            continue
        names[agent] = obs["persona"].split(":")[0]
        speak = obs["phase"] == 0
        env.step(f"Point from {agent}. [attitude: 7.25]" if speak else "SURVEY 3")
    obs = env.observe("debater_0")
    assert obs["transcript"] == (
        f"{names['debater_0']} (republican): Point from debater_0.\n"
        f"{names['debater_1']} (democrat): Point from debater_1."
    )
    assert "SURVEY" not in obs["transcript"] and "attitude" not in obs["transcript"]
    assert obs["stated"].tolist() == [7.25, 7.25]
    assert obs["stated_mask"].tolist() == [1, 1]
    assert obs["iteration"].tolist() == [2]


def test_stated_is_unknown_until_a_marker_and_clipped_to_the_scale():
    env = DebateEnv(roles="republican,democrat", iterations=2)

    def actions(agent, obs, n):
        return "no marker here" if agent == "debater_0" else "big claim [attitude: 42]"

    records = play(env, actions, 0)
    said = [r for r in records if r["type"] == "utterance"]
    assert [r["stated"] for r in said] == [None, 10.0]
    obs = env.observe("debater_1")
    assert obs["stated_mask"].tolist() == [0, 1]
    assert obs["stated"].tolist() == [0.0, 10.0]


def test_transcript_is_cut_from_the_front_at_a_line_boundary():
    env = DebateEnv(iterations=9, max_transcript_chars=150)

    def actions(agent, obs, n):
        assert env.observation_space(agent).contains(obs)
        return f"utterance number {n} with some padding words"

    play(env, actions, 0)
    text = env.transcript()
    assert len(text) <= 150
    assert text.endswith("padding words")
    assert ": utterance number" in text.split("\n")[0]


def test_utterances_are_truncated_and_sanitised():
    env = DebateEnv(roles="republican,democrat", iterations=1, max_utterance_chars=20)
    records = play(env, constant("Caf\u00e9 \U0001f600 \u201cquoted\u201d and a long tail"), 0)
    said = next(r for r in records if r["type"] == "utterance")
    # cut to 20 characters, then the trailing space goes
    assert said["text"] == "Caf\u00e9 ? \u201cquoted\u201d and"
    assert set(env.observe("debater_0")["transcript"]) <= CHARSET


def test_taubenfeld_extra_names_scale_and_role_description():
    env = DebateEnv(roles="democrat,default")
    env.reset(seed=0)
    obs = env.observe("debater_1")
    assert obs["extra"] == "protocol: taubenfeld\nscale: 0-10\nrole_description: an American"
    assert obs["question"].startswith("On a scale from 0 to 10")
    assert obs["topic"] == "gun violence"


def test_only_a_personalised_persuader_sees_the_demographics(salvi_files):
    for personalised in (False, True):
        env = salvi(salvi_files, personalised=personalised)
        env.reset(seed=2)
        persuader = env.observe("debater_0")["extra"]
        persuadee = env.observe("debater_1")["extra"]
        assert ("persuadee_demographics" in persuader) is personalised
        assert "persuadee_demographics" not in persuadee
        assert "political affiliation" in env.observe("debater_1")["persona"]
        assert "phase: pre_survey" in persuadee


@pytest.mark.parametrize("opponent", ["human", "llm"])
def test_only_the_persuader_is_told_which_opponent_it_plays(salvi_files, opponent):
    env = salvi(salvi_files, opponent=opponent)
    env.reset(seed=1)
    for agent in env.agent_iter():
        obs, _, term, trunc, _ = env.last()
        extra = parse_extra(obs["extra"])
        if agent == "debater_0":
            assert extra["opponent"] == opponent
        else:  # the persuadee stays blind to whether it faces a human or an LLM
            assert "opponent" not in extra and opponent not in obs["extra"]
        env.step(None if term or trunc else "3")


def test_salvi_observation_bounds_admit_unknown_stated_on_a_1_to_5_scale(salvi_files):
    env = salvi(salvi_files)
    env.reset(seed=0)
    space = env.observation_space("debater_0")["stated"]
    assert (space.low.tolist(), space.high.tolist()) == ([0.0, 0.0], [5.0, 5.0])
    assert env.observation_space("debater_0").contains(env.observe("debater_0"))


# -- records -----------------------------------------------------------------------------


def check_schema(records):
    for r in records:
        assert r["v"] == 1
        missing = [f for f in RECORD_FIELDS[r["type"]] if f not in r]
        assert not missing, (r["type"], missing)
        json.dumps(r, allow_nan=False)


def test_taubenfeld_records_follow_the_schema():
    env = DebateEnv(topic="climate_change", iterations=3)

    def actions(agent, obs, n):
        return "gibberish" if n == 0 else f"say {n % 10} [attitude: 6]"

    records = play(env, actions, 5)
    check_schema(records)
    start, end = records[0], records[-1]
    assert start["type"] == "debate_start" and end == {
        "v": 1,
        "type": "debate_end",
        "iterations": 3,
    }
    assert start["scale"] == [0.0, 10.0] and start["topic"] == "climate change"
    assert start["order"] == ["debater_0", "debater_1", "debater_2"]
    assert start["roles"] == {
        "debater_0": "republican",
        "debater_1": "democrat",
        "debater_2": "default",
    }
    surveys = [r for r in records if r["type"] == "survey"]
    assert [r["iteration"] for r in surveys] == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    first = surveys[0]
    assert (first["score"], first["parse_status"], first["raw"]) == (None, "fallback", "gibberish")
    assert all(r["parse_status"] == "ok" for r in surveys[1:])
    said = [r for r in records if r["type"] == "utterance"]
    assert [(r["iteration"], r["phase"]) for r in said] == [
        (1, "debate"),
        (2, "debate"),
        (3, "debate"),
    ]


def test_episode_stats_give_final_scores_by_member_and_fallbacks():
    env = DebateEnv(roles="republican,democrat", iterations=2)
    play(env, lambda agent, obs, n: "7" if agent == "debater_0" else "unsure", 0)
    stats = env.episode_stats(["m1", "m2"])
    assert stats == {
        "utterances": 2,
        "survey_fallbacks": 3,
        "final_scores": {"m1": 7.0, "m2": None},
    }
    assert env.episode_records(["m1", "m2"]) == []


def test_salvi_runs_on_the_package_propositions_and_demographics():
    env = DebateEnv(protocol="salvi", personalised=True)
    records = play(env, constant("4"), 0)
    check_schema(records)
    start = records[0]
    ids = {p.id for p in catalogue.load_propositions(None)}
    assert start["proposition_id"] in ids
    # A profile's id is recorded, never shown to the debaters.
    shown = env.observe("debater_0")["extra"] + env.observe("debater_1")["persona"]
    assert "id:" not in shown and "id" not in start["demographics"]
    assert start["profile_id"] is not None


def test_salvi_start_record_names_the_condition(salvi_files):
    env = salvi(salvi_files, opponent="human", personalised=True, strength="high")
    records = play(env, constant("2"), 3)
    check_schema(records)
    start = records[0]
    assert start["proposition_id"] == "p03" and start["strength"] == "high"
    assert start["persuader"] == "debater_0" and start["persuadee"] == "debater_1"
    assert start["opponent"] == "human" and start["personalised"] is True
    assert start["scale"] == [1.0, 5.0]
    assert sorted(start["sides"].values()) == ["con", "pro"]
    assert start["personas"]["debater_0"] in {
        p.name for p in catalogue.load_personas(None)["default"]
    }


def test_pop_records_returns_each_record_once():
    env = DebateEnv(iterations=1)
    env.reset(seed=0)
    env.step("5")
    assert [r["type"] for r in env.pop_records()] == ["debate_start", "survey"]
    assert env.pop_records() == []
    env.reset(seed=0)
    assert [r["type"] for r in env.pop_records()] == ["debate_start"]


def test_echo_chamber_debaters_get_distinct_personas():
    for seed in range(10):
        start = play(DebateEnv(roles="democrat,democrat"), constant("5"), seed)[0]
        assert len(set(start["personas"].values())) == 2


def test_roles_without_a_pool_draw_distinct_default_personas(tmp_path):
    roles = tmp_path / "r.json"
    roles.write_text(json.dumps({"roles": {"green": "a Green", "centrist": "a centrist"}}))
    # Three seats share a default pool of three: every draw must use all three.
    defaults = {"Ann", "Bo", "Cy"}
    pool = [{"name": n, "background": "A voter."} for n in sorted(defaults)]
    personas = tmp_path / "p.json"
    personas.write_text(json.dumps({"personas": {"default": pool}}))
    for seed in range(10):
        env = DebateEnv(
            roles="green,centrist,default", roles_file=str(roles), personas_file=str(personas)
        )
        names = list(play(env, constant("5"), seed)[0]["personas"].values())
        assert set(names) == defaults


def test_render_ansi_returns_the_transcript():
    env = DebateEnv(render_mode="ansi", iterations=1)
    play(env, constant("hello"), 0)
    assert env.render() == env.transcript() and env.transcript().endswith(": hello")


# -- data and config ---------------------------------------------------------------------


def test_package_personas_and_topics():
    pools = catalogue.load_personas(None)
    assert {r: len(p) for r, p in pools.items()} == {
        "republican": 40,
        "democrat": 40,
        "default": 40,
    }
    names = [p.name for pool in pools.values() for p in pool]
    assert len(set(names)) == len(names)
    topics = catalogue.load_topics(None)
    assert sorted(topics) == ["climate_change", "gun_violence", "illegal_immigration", "racism"]
    for t in topics.values():
        assert "0 to 10" in t.question and t.name in t.question
        assert set(TOPIC_PRIORS[t.name]) == {"republican", "democrat", "default"}


def test_user_topics_roles_and_personas_from_files(tmp_path):
    topics = tmp_path / "t.json"
    topics.write_text(
        json.dumps({"topics": [{"id": "housing", "name": "housing costs", "question": "0-10?"}]})
    )
    roles = tmp_path / "r.json"
    roles.write_text(json.dumps({"roles": {"libertarian": "a Libertarian"}}))
    personas = tmp_path / "p.json"
    personas.write_text(
        json.dumps({"personas": {"libertarian": [{"name": "Sam Reed", "background": "A farmer."}]}})
    )
    env = DebateEnv(
        roles="libertarian,democrat",
        roles_file=str(roles),
        topic="housing",
        topics_file=str(topics),
        personas_file=str(personas),
    )
    env.reset(seed=0)
    obs = env.observe("debater_0")
    assert obs["persona"] == "Sam Reed: A farmer."
    assert obs["topic"] == "housing costs" and obs["question"] == "0-10?"
    assert obs["extra"].endswith("role_description: a Libertarian")
    assert DebateEnv(roles="libertarian,default", roles_file=str(roles)).config.seats == 2


@pytest.mark.parametrize(
    ("key", "value", "allowed"),
    [
        ("protocol", "oxford", "taubenfeld, salvi"),
        ("roles", "republican,green", "default, democrat, republican"),
        ("roles", "republican", "2 to 8"),
        ("roles", ",".join(["default"] * 9), "2 to 8"),
        ("topic", "taxes", "climate_change, gun_violence"),
        ("iterations", 0, "an integer in [1, 1000]"),
        ("iterations", 2.5, "an integer"),
        ("persona_seed", -1, "an integer in [0"),
        ("max_utterance_chars", 5000, "[1, 2000]"),
        ("max_transcript_chars", 10, "[100, 1000000]"),
        ("opponent", "robot", "human, llm"),
        ("personalised", "yes", "True, False"),
        ("strength", "extreme", "any, low, medium, high"),
        ("topics_file", "/nonexistent/topics.json", "an existing JSON file"),
        ("personas_file", "", "a path to a JSON file"),
    ],
)
def test_bad_config_values_name_the_key_and_allowed_values(key, value, allowed):
    with pytest.raises(ConfigError, match=key) as err:
        DebateConfig(**{key: value})
    assert allowed in str(err.value)


def test_unknown_config_key_lists_the_keys():
    with pytest.raises(ConfigError, match=r"allowed keys: .*iterations"):
        DebateEnv(rounds=3)


def test_salvi_config_checks_its_data(salvi_files, tmp_path):
    with pytest.raises(ConfigError, match="proposition") as err:
        DebateConfig(protocol="salvi", proposition="p99", **salvi_files)
    assert "p01, p02, p03" in str(err.value)
    with pytest.raises(ConfigError, match="proposition"):
        DebateConfig(protocol="salvi", proposition="p01", strength="high", **salvi_files)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"propositions": [{"id": "x", "text": "y", "strength": "huge"}]}))
    files = {**salvi_files, "propositions_file": str(bad)}
    with pytest.raises(ConfigError, match="propositions_file"):
        DebateConfig(protocol="salvi", **files)
    with pytest.raises(ConfigError, match="demographics_file"):
        DebateConfig(protocol="salvi", **{**salvi_files, "demographics_file": str(tmp_path / "no")})


def test_malformed_user_files_name_their_key(tmp_path):
    path = tmp_path / "x.json"
    path.write_text("{not json")
    for key in ("topics_file", "personas_file", "roles_file"):
        with pytest.raises(ConfigError, match=key):
            DebateConfig(**{key: str(path)})
    path.write_text(json.dumps({"topics": [{"id": "a", "name": "b"}]}))
    with pytest.raises(ConfigError, match="question"):
        DebateConfig(topics_file=str(path))
    path.write_text(json.dumps({"roles": {"Green Party": "greens"}}))
    with pytest.raises(ConfigError, match="lowercase"):
        DebateConfig(roles_file=str(path))


@pytest.mark.parametrize(
    ("config", "key"),
    [
        ({"protocol": "salvi", "topic": "racism"}, "topic"),
        ({"protocol": "salvi", "iterations": 3}, "iterations"),
        ({"protocol": "taubenfeld", "personalised": True}, "personalised"),
        ({"protocol": "taubenfeld", "opponent": "human"}, "opponent"),
    ],
)
def test_a_key_the_protocol_ignores_is_refused_not_silently_dropped(config, key):
    with pytest.raises(ConfigError, match=rf"invalid {key}=.*only protocol="):
        DebateConfig(**config)


def test_data_files_with_repeated_ids_unknown_roles_or_empty_descriptions_are_refused(tmp_path):
    topic = {"id": "taxes", "name": "taxes", "question": "How serious? 0-10."}
    topics = tmp_path / "topics.json"
    topics.write_text(json.dumps({"topics": [topic, topic]}))
    with pytest.raises(ConfigError, match="repeated: taxes"):
        DebateConfig(topics_file=str(topics))
    personas = tmp_path / "personas.json"
    persona = {"name": "Ann Lee", "background": "A nurse."}
    personas.write_text(json.dumps({"personas": {"republicn": [persona]}}))
    with pytest.raises(ConfigError, match="unknown: republicn"):
        DebateConfig(personas_file=str(personas))
    roles = tmp_path / "roles.json"
    roles.write_text(json.dumps({"roles": {"organiser": "  "}}))
    with pytest.raises(ConfigError, match="a description for role 'organiser'"):
        DebateConfig(roles_file=str(roles), roles="organiser,republican")
