"""norm_society_v0: PettingZoo conformance, rounds, observations, judging, norms, config."""

import asyncio
import json
import warnings

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from pettingzoo.test import api_test, parallel_api_test, parallel_seed_test
from pettingzoo.utils.conversions import parallel_to_aec

import agentsim
from agentsim.agents.scripted.norm_society import Evolutionary, Reflective
from agentsim.core.errors import ConfigError
from agentsim.envs.norm_society.env import NormSocietyEnv, toward
from agentsim.games import norm_society as rules
from agentsim.judges.base import Judgement
from agentsim.judges.norm_observer import NormItem, RuleNormObserver
from agentsim.runtime.runner import run_episode

# PettingZoo's advice for any Dict observation: everything else fails.
ADVISORY = (
    r"Observation is not a NumPy array",
    r"Observation space for each agent probably should be",
    r"Action space for each agent probably should be",
)

VARIANTS = [
    {},
    {"network": "small_world", "n_agents": 12},
    {"network": "scale_free", "n_agents": 12, "attach": 1},
    {"network": "ring", "n_agents": 6, "degree": 2},
    {"norm_schedule": "shift", "shift_step": 1},
    {"norm_schedule": "evolve", "audit_observer": "rule", "observer_noise": 0.5},
    {"situations_per_step": 1, "n_agents": 2},
]


@pytest.fixture
def strict_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for message in ADVISORY:
            warnings.filterwarnings("ignore", message=message)
        yield


def ring_file(tmp_path, n=6):
    path = tmp_path / "ring.txt"
    path.write_text("# a ring\n" + "".join(f"{i} {(i + 1) % n}\n" for i in range(n)))
    return str(path)


def scripted(env, kind=Evolutionary, **params):
    return {a: kind(**params) for a in env.possible_agents}


def constant(env, value):
    return {a: np.full(env.d, value, np.float32) for a in env.agents}


# -- PettingZoo and Gymnasium conformance ------------------------------------------------


@pytest.mark.parametrize(
    "config", VARIANTS, ids=lambda c: ",".join(map(str, c.items())) or "default"
)
def test_pettingzoo_parallel_api_and_seeding(config, strict_warnings):
    parallel_api_test(NormSocietyEnv(**config), num_cycles=100)
    # parallel_api_test does not check observation bounds; the AEC conversion does.
    api_test(parallel_to_aec(NormSocietyEnv(**config)), num_cycles=100)
    parallel_seed_test(lambda: NormSocietyEnv(**config), num_cycles=30)


def test_a_graph_file_network_passes_the_api_test(tmp_path, strict_warnings):
    config = {"network": "file", "graph_file": ring_file(tmp_path)}
    parallel_api_test(NormSocietyEnv(n_agents=6, **config), num_cycles=50)


def test_gym_view_passes_gymnasium_check_env(strict_warnings):
    env = agentsim.make_gym_env(
        "norm_society_v0",
        others=lambda seat: agentsim.make_agent("evolutionary", env="norm_society_v0"),
        n_agents=4,
    )
    check_env(env, skip_render_check=True)
    obs, _ = env.reset(seed=3)
    assert env.observation_space.contains(obs)


def test_render_none_returns_nothing_and_ansi_describes_the_step():
    env = NormSocietyEnv()
    env.reset(seed=0)
    assert env.render() is None
    env = NormSocietyEnv(render_mode="ansi")
    env.reset(seed=0, options={"generation": 6})
    assert env.render() == "step 6 (2010s, 2010) situation"
    with pytest.raises(ConfigError, match="render_mode"):
        NormSocietyEnv(render_mode="human")


def test_every_observation_of_a_scripted_step_is_in_its_space():
    env = NormSocietyEnv(network="small_world", n_agents=12, audit_observer="rule")
    obs, _ = env.reset(seed=5, options={"generation": 7})
    agents = scripted(env, Reflective)
    for i, a in enumerate(agents.values()):
        a.reset(seed=i)
    seen = 0
    while env.agents:
        for agent, o in obs.items():
            assert env.observation_space(agent).contains(o), (agent, o)
            seen += 1
        obs, *_ = env.step({a: agents[a].act(obs[a]).action for a in env.agents})
    for agent, o in obs.items():
        assert env.observation_space(agent).contains(o)
        assert o["phase"] == 2 and o["feedback"].startswith("Score ")
    assert seen == 12 * 5  # reset, three situation rounds, the questionnaire


def test_the_same_seed_gives_the_same_step_and_another_seed_another():
    def records(seed):
        env = NormSocietyEnv(network="small_world", n_agents=10)
        result = run_episode(env, scripted(env), seed=seed)
        return json.dumps(result.records, sort_keys=True), env.scores().tolist()

    assert records(4) == records(4)
    assert records(4) != records(5)


# -- rounds, rewards, records -------------------------------------------------------------


def test_a_step_has_situation_rounds_a_questionnaire_and_a_feedback_round():
    env = NormSocietyEnv(n_agents=3, situations_per_step=2)
    obs, _ = env.reset(seed=1)
    phases, rewards = [], []
    while env.agents:
        phases.append(obs["agent_0"]["phase"])
        obs, reward, term, trunc, _ = env.step(constant(env, 0.5))
        rewards.append(reward)
    assert phases == [0, 0, 1, 2]
    assert all(r == dict.fromkeys(env.possible_agents, 0.0) for r in rewards[:-1])
    assert list(rewards[-1].values()) == env.scores().tolist()
    assert all(term.values()) and not any(trunc.values())
    with pytest.raises(RuntimeError, match="reset"):
        env.step(constant(env, 0.5))


def test_conduct_on_the_norm_scores_seven_and_its_records_say_so():
    env = NormSocietyEnv(n_agents=2, situations_per_step=1)
    env.reset(seed=0)
    norm = env.norm.astype(np.float32)
    records = []
    while env.agents:
        obs, *_ = env.step({a: norm for a in env.agents})
        records += env.pop_records()
    assert env.scores() == pytest.approx([7.0, 7.0], abs=1e-6)
    assert obs["agent_1"]["score"] == pytest.approx([7.0])
    assert obs["agent_1"]["feedback"].endswith("fits this era's norms well.")
    types = [r["type"] for r in records]
    assert (
        types == ["norms", "behaviour", "behaviour", "statement", "statement"] + ["judgement"] * 2
    )
    behaviour = records[1]
    assert behaviour["score"] == pytest.approx(7.0) and behaviour["label"] == "adheres"
    situation = env.bank.situations[int(env._situations[0, 0])]
    assert behaviour["situation"] == situation.id
    assert behaviour["option"] == situation.options[situation.nearest(norm)].id
    judgement = records[-2]
    assert judgement["judge"] == "rule" and judgement["item"] == "1/agent_0"
    assert judgement["label"] == "adheres" and judgement["role"] == "observer"


def test_scores_and_advice_are_the_rule_observers_formula():
    env = NormSocietyEnv(n_agents=4, statement_weight=0.3, fitness_width=0.5)
    env.reset(seed=2)
    rng = np.random.default_rng(9)
    behaviours, obs = [], None
    while env.agents:
        actions = {a: rng.random(5).astype(np.float32) for a in env.agents}
        if obs is None or obs["agent_0"]["phase"] == 0:
            behaviours.append(np.stack([actions[a] for a in env.possible_agents]))
        statement = np.stack([actions[a] for a in env.possible_agents])
        obs, *_ = env.step(actions)
        if obs["agent_0"]["phase"] == 2 and env.agents:
            break
    b = np.stack(behaviours[:3], axis=1).astype(np.float64)
    scores, advice = rules.observer_scores(
        b, statement.astype(np.float64), env.norm, width=0.5, statement_weight=0.3
    )
    assert env.scores() == pytest.approx(scores)
    assert obs["agent_2"]["advice"] == pytest.approx(advice[2].astype(np.float32))


def test_malformed_actions_name_the_agent():
    env = NormSocietyEnv(n_agents=2)
    env.reset(seed=0)
    good = np.full(5, 0.5, np.float32)
    with pytest.raises(ValueError, match=r"agent_1.*shape"):
        env.step({"agent_0": good, "agent_1": np.zeros(3)})
    with pytest.raises(ValueError, match=r"agent_1.*finite"):
        env.step({"agent_0": good, "agent_1": np.full(5, np.nan)})
    with pytest.raises(ValueError, match="no action for 'agent_1'"):
        env.step({"agent_0": good})
    env.step({"agent_0": good * 3, "agent_1": -good})  # clipped to [0, 1]
    assert env._behaviours[0, 0].tolist() == [1.0] * 5 and env._behaviours[1, 0].max() == 0.0


def test_actions_of_any_numeric_form_give_the_same_step_and_bool_arrays_are_refused():
    rng = np.random.default_rng(3)
    vectors = rng.uniform(-0.5, 1.5, (3, 5))
    as_arrays = {f"agent_{i}": v.astype(np.float32) for i, v in enumerate(vectors)}
    mixed = {**as_arrays, "agent_1": vectors[1].astype(np.float32).tolist()}
    steps = []
    for actions in (as_arrays, mixed):
        env = NormSocietyEnv(n_agents=3)
        env.reset(seed=0)
        env.step(actions)
        steps.append(env._behaviours[:, 0].copy())
    assert steps[0].tolist() == steps[1].tolist()
    assert steps[0].min() == 0.0 and steps[0].max() == 1.0  # clipped
    env = NormSocietyEnv(n_agents=3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=r"agent_2.*numeric array"):
        env.step({**as_arrays, "agent_2": np.ones(5, dtype=bool)})
    with pytest.raises(ValueError, match=r"actions for unknown agents \['agent_9'\]"):
        env.step({**as_arrays, "agent_9": np.ones(5)})


def test_network_record_in_generation_one_only_and_seeded_graphs():
    env = NormSocietyEnv(network="small_world", n_agents=20)
    env.reset(seed=3)
    (record,) = env.episode_records([f"m{i}" for i in range(20)])
    assert record["kind"] == "small_world" and record["nodes"] == 20
    assert len(record["edges"]) == 20 * 4 // 2
    other = NormSocietyEnv(network="small_world", n_agents=20)
    other.reset(seed=3)
    assert other.graph.edges.tolist() == record["edges"]  # same seed, same graph
    other.reset(seed=4)
    assert other.graph.edges.tolist() != record["edges"]  # a new run seed, a new graph
    env.reset(seed=4, options={"generation": 2})
    assert env.graph.edges.tolist() == record["edges"]  # kept for the whole run
    assert env.episode_records(["x"] * 20) == []
    fixed = [NormSocietyEnv(network="small_world", n_agents=20, graph_seed=7) for _ in range(2)]
    fixed[0].reset(seed=1)
    fixed[1].reset(seed=2)
    assert fixed[0].graph.edges.tolist() == fixed[1].graph.edges.tolist()


def test_a_graph_file_is_the_network(tmp_path):
    env = NormSocietyEnv(n_agents=6, network="file", graph_file=ring_file(tmp_path))
    env.reset(seed=0)
    assert env.graph.edges.tolist() == [[0, 1], [0, 5], [1, 2], [2, 3], [3, 4], [4, 5]]


def test_neighbours_are_the_previous_rounds_mean_behaviour_on_the_graph():
    env = NormSocietyEnv(n_agents=6, network="ring", degree=2)
    obs, _ = env.reset(seed=0)
    assert all(o["neighbours_known"] == 0 for o in obs.values())
    assert obs["agent_0"]["neighbours"].tolist() == [0.5] * 5
    values = {a: np.full(5, i / 10, np.float32) for i, a in enumerate(env.possible_agents)}
    obs, *_ = env.step(values)
    assert obs["agent_0"]["neighbours_known"] == 1
    assert obs["agent_0"]["neighbours"] == pytest.approx(np.full(5, (0.1 + 0.5) / 2))
    assert obs["agent_3"]["neighbours"] == pytest.approx(np.full(5, (0.2 + 0.4) / 2))


def test_complete_graph_neighbours_are_everyone_elses_mean():
    env = NormSocietyEnv(n_agents=4)
    env.reset(seed=0)
    values = {a: np.full(5, i / 10, np.float32) for i, a in enumerate(env.possible_agents)}
    obs, *_ = env.step(values)
    assert obs["agent_0"]["neighbours"] == pytest.approx(np.full(5, 0.2))


def test_episode_stats_hand_computed():
    env = NormSocietyEnv(n_agents=4, network="ring", degree=2, situations_per_step=1)
    env.reset(seed=0)
    norm = env.norm
    far = np.where(norm > 0.5, 0.0, 1.0)
    # agents 0 and 1 (neighbours) act on the norm, agents 2 and 3 as far from it as possible
    vectors = [norm, norm, far, far]
    actions = {a: v.astype(np.float32) for a, v in zip(env.possible_agents, vectors, strict=True)}
    while env.agents:
        env.step(actions)
    stats = env.episode_stats(env.possible_agents)
    assert stats["era"] == "2000s" and stats["year"] == 2000
    assert stats["mean_score"] == pytest.approx(env.scores().mean())
    assert stats["violation_rate"] == 0.5 and stats["adherence_rate"] == 0.5
    assert stats["norm_distance"] == pytest.approx(np.linalg.norm(far - norm) / 2, rel=1e-6)
    # violators 2 and 3 are neighbours: P(nbr violates | violates) = 1/2, share = 1/2
    assert stats["violator_clustering"] == pytest.approx(1.0)
    assert stats["assortativity"] == pytest.approx(
        rules.numeric_assortativity(env.scores(), env.graph.edges)
    )


# -- norm schedules -----------------------------------------------------------------------


def test_bank_schedule_follows_the_eras_and_holds_the_last():
    env = NormSocietyEnv()
    eras = env.bank.eras
    for g, era in [(1, 0), (5, 0), (6, 1), (16, 3), (40, 3)]:
        env.reset(seed=0, options={"generation": g})
        assert env.norm.tolist() == list(eras[era].norm)
    env.reset(seed=0, options={"generation": 6})
    (norms,) = env.pop_records()
    assert norms["era"] == "2010s" and norms["year"] == 2010 and norms["text"] == eras[1].text
    env.reset(seed=0, options={"generation": 7})
    assert env.pop_records() == []  # only an era's first step announces its norms


def test_shift_schedule_jumps_at_the_shift_step_and_announces_it():
    env = NormSocietyEnv(norm_schedule="shift", shift_step=8)
    env.reset(seed=0, options={"generation": 7})
    assert env.norm.tolist() == [0.3] * 5 and env.pop_records() == []
    env.reset(seed=0, options={"generation": 8})
    assert env.norm.tolist() == [0.7] * 5
    (norms,) = env.pop_records()
    assert norms["norm"] == [0.7] * 5 and norms["schedule"] == "shift"


def test_drift_schedule_moves_a_fixed_distance_per_era():
    env = NormSocietyEnv(norm_schedule="drift", drift=0.1, direction="1,1,1,1,1")
    start = np.array(env.bank.eras[0].norm)
    env.reset(seed=0, options={"generation": 11})  # era 2
    assert np.linalg.norm(env.norm - start) == pytest.approx(0.2)
    assert env.norm == pytest.approx(toward(start, np.ones(5), 0.2))


def play(env, g, actions_for):
    env.reset(seed=g, options={"generation": g})
    while env.agents:
        env.step(actions_for(env))


def test_evolve_schedule_follows_the_top_agents_and_survives_a_restore():
    config = {"n_agents": 5, "norm_schedule": "evolve", "evolve_top": 0.4, "drift": 0.1}
    config["steps_per_era"] = 2
    env = NormSocietyEnv(**config)
    levels = [0.1, 0.3, 0.5, 0.7, 0.9]

    def actions(e):
        return {
            a: np.full(5, v, np.float32) for a, v in zip(e.possible_agents, levels, strict=True)
        }

    play(env, 1, actions)
    play(env, 2, actions)
    state = json.loads(json.dumps(env.env_state()))
    top = np.argsort(-env.scores(), kind="stable")[:2]
    base = np.array(levels)[top].mean() * np.ones(5)  # same top agents both steps
    target = np.array(env.bank.eras[-1].norm)
    restored = NormSocietyEnv(**config)
    restored.restore_env_state(state)
    for e in (env, restored):
        e.reset(seed=3, options={"generation": 3})
        assert e.norm == pytest.approx(toward(base, target, 0.1))


# -- the deferred (LLM) observer -----------------------------------------------------------


class SlowJudge:
    """An async judge: verdicts arrive only when awaited."""

    name = "slow"

    def __init__(self):
        self.items = []

    def judge(self, item):
        raise AssertionError("the env must await an async judge")

    async def ajudge(self, item):
        await asyncio.sleep(0)
        self.items.append(item)
        return Judgement(6.0, "adheres", "Nicely done.", raw="Score: 6", parse_status="ok",
                         judge=self.name)  # fmt: skip


def test_an_async_observer_is_settled_by_the_runner_before_the_feedback_round():
    env = NormSocietyEnv(n_agents=3, situations_per_step=1, audit_observer="rule")
    judge = env.observer = SlowJudge()
    seen = []

    class Watcher(Evolutionary):
        def act(self, observation):
            seen.append((int(observation["phase"]), float(observation["score"][0])))
            return super().act(observation)

    result = run_episode(env, {a: Watcher() for a in env.possible_agents}, seed=1)
    assert [s for p, s in seen if p == 2] == [6.0] * 3
    assert env.scores().tolist() == [6.0] * 3 and result.returns["agent_0"] == 6.0
    assert [i.key for i in judge.items] == ["1/agent_0", "1/agent_1", "1/agent_2"]
    item = judge.items[0]
    assert item.era == "2000s" and len(item.behaviours) == 1 and item.statement_text
    judgements = [r for r in result.records if r["type"] == "judgement"]
    assert {(r["judge"], r["role"]) for r in judgements} == {
        ("slow", "observer"),
        ("audit_rule", "audit"),
    }
    assert all(r["raw"] == "Score: 6" for r in judgements if r["judge"] == "slow")


def test_without_a_runner_an_async_observer_settles_at_the_next_step():
    env = NormSocietyEnv(n_agents=2, situations_per_step=1)
    env.observer = SlowJudge()
    env.reset(seed=0)
    env.step(constant(env, 0.5))
    obs, *_ = env.step(constant(env, 0.5))
    assert obs["agent_0"]["phase"] == 2 and obs["agent_0"]["score"][0] == 4.0  # pending
    _, rewards, *_ = env.step(constant(env, 0.5))
    assert rewards == {"agent_0": 6.0, "agent_1": 6.0}


# -- config --------------------------------------------------------------------------------


BAD = [
    ("n_agents", 1),
    ("n_agents", 20_001),
    ("network", "grid"),
    ("degree", 3, {"network": "ring"}),
    ("degree", 10, {"network": "small_world"}),
    ("degree", 6),  # complete graphs have no degree
    ("rewire", 1.5, {"network": "small_world"}),
    ("attach", 0, {"network": "scale_free"}),
    ("attach", 10, {"network": "scale_free"}),
    ("graph_file", "", {"network": "file"}),
    ("graph_file", "/nonexistent/graph.txt", {"network": "file"}),
    ("graph_seed", -1, {"network": "small_world"}),
    ("graph_seed", 3),  # a complete graph draws nothing
    ("steps_per_era", 0),
    ("years_per_step", 0),
    ("start_year", -5),
    ("norm_schedule", "random"),
    ("shift_step", 0, {"norm_schedule": "shift"}),
    ("shift_step", 5),  # only the shift schedule reads it
    ("drift", 1.5, {"norm_schedule": "drift"}),
    ("direction", "1,2", {"norm_schedule": "drift"}),
    ("direction", "a,b,c,d,e", {"norm_schedule": "evolve"}),
    ("direction", "1.2,0,0,0,0", {"norm_schedule": "evolve"}),
    ("evolve_top", 0, {"norm_schedule": "evolve"}),
    ("situations_per_step", 0),
    ("statement_weight", 1.5),
    ("fitness_width", 0),
    ("observer", "human"),
    ("observer_noise", -1),
    ("audit_observer", "gpt"),
    ("mutation_sigma", 2),
    ("bank_dir", "/nonexistent/bank"),
]


@pytest.mark.parametrize("case", BAD, ids=lambda c: f"{c[0]}={c[1]!r}")
def test_every_config_error_names_its_key(case):
    key, value, *rest = case
    extra = rest[0] if rest else {}
    with pytest.raises(ConfigError, match=rf"invalid {key}="):
        NormSocietyEnv(**{key: value, **extra})


def test_a_bad_graph_file_names_the_line_or_the_missing_node(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("0 1\n1 x\n")
    with pytest.raises(ConfigError, match=r"graph_file.*line 2"):
        NormSocietyEnv(n_agents=3, network="file", graph_file=str(bad))
    bad.write_text("0 1\n1 7\n")
    with pytest.raises(ConfigError, match=r"graph_file.*names 7"):
        NormSocietyEnv(n_agents=3, network="file", graph_file=str(bad))
    bad.write_text("0 1\n")
    with pytest.raises(ConfigError, match=r"graph_file.*node 2 is missing"):
        NormSocietyEnv(n_agents=3, network="file", graph_file=str(bad))
    bad.write_text("0 1\n2\n")  # a node alone on its line is an isolated node
    env = NormSocietyEnv(n_agents=3, network="file", graph_file=str(bad))
    env.reset(seed=0)
    assert env.graph.edges.tolist() == [[0, 1]]


def test_a_bad_bank_names_bank_dir(tmp_path):
    (tmp_path / "eras.json").write_text('{"version": 2}')
    with pytest.raises(ConfigError, match=r"invalid bank_dir=.*eras.json"):
        NormSocietyEnv(bank_dir=str(tmp_path))


def test_unknown_keys_are_refused_with_the_known_ones():
    with pytest.raises(ConfigError, match=r"unknown key 'agents'.*n_agents"):
        agentsim.make_env("norm_society_v0", agents=4)


# -- the rule observer ---------------------------------------------------------------------


DIMS = [
    ("tradition", "new ways", "established ways"),
    ("digital", "offline habits", "online habits"),
    ("formality", "casual manners", "formal manners"),
]


def item(behaviours, statement, norm):
    situations = tuple(("a situation", "a behaviour", tuple(b)) for b in behaviours)
    return NormItem("3/agent_1", "2010s", 2012, tuple(norm), "", situations, tuple(statement), "")


def test_the_rule_observer_judges_one_item_as_its_batch_formula():
    observer = RuleNormObserver(width=0.4, statement_weight=0.25, dimensions=DIMS)
    b = [[0.1, 0.9, 0.5], [0.3, 0.7, 0.5]]
    s, r = [0.5, 0.5, 0.5], [0.8, 0.2, 0.5]
    verdict = observer.judge(item(b, s, r))
    dist2 = 0.75 * np.mean([np.sum((np.array(x) - r) ** 2) for x in b])
    dist2 += 0.25 * np.sum((np.array(s) - r) ** 2)
    assert verdict.score == pytest.approx(1 + 6 * np.exp(-dist2 / (2 * 0.4**2)))
    assert verdict.parse_status == "rule" and verdict.judge == "rule"
    # mean behaviour (0.2, 0.8, 0.5) vs norm (0.8, 0.2, 0.5): tradition up, digital down
    assert verdict.rationale.endswith(
        "To fit this era: more established ways (tradition); more offline habits (digital)."
    )
    assert verdict.label == rules.LABELS[int(rules.labels(np.array([verdict.score]))[0])]


def test_the_rule_observers_batch_verdicts_are_its_one_by_one_verdicts():
    observer = RuleNormObserver(width=0.4, dimensions=DIMS)
    rng = np.random.default_rng(0)
    b, s, r = rng.random((40, 2, 3)), rng.random((40, 3)), rng.random(3)
    b[0], s[0] = r, r  # one agent exactly on the norm: nothing to mention
    scores, advice = observer.score_batch(b, s, r)
    batch = observer.judgements(scores, advice)
    one_by_one = [observer.judge(item(b[i], s[i], r)) for i in range(40)]
    assert [v.label for v in batch] == [v.label for v in one_by_one]
    assert [v.rationale for v in batch] == [v.rationale for v in one_by_one]
    assert [v.score for v in batch] == pytest.approx([v.score for v in one_by_one])
    assert batch[0].rationale.endswith("fits this era's norms well.")
    assert {v.label for v in batch} == {"violates", "partly", "adheres"}
    assert sum(v.rationale.count(";") == 1 for v in batch) > 5  # two dimensions named


@pytest.mark.parametrize(("score", "label"), [(2.9, "violates"), (3.0, "violates"),
                                              (4.2, "partly"), (5.0, "adheres")])  # fmt: skip
def test_rule_labels_follow_the_thresholds(score, label):
    assert RuleNormObserver().judgement(score, np.zeros(3)).label == label


def test_rule_observer_noise_is_seeded_and_clipped():
    b, s, r = np.full((50, 1, 3), 0.5), np.full((50, 3), 0.5), np.full(3, 0.5)
    one = RuleNormObserver(noise=2.0, seed=1).score_batch(b, s, r)[0]
    two = RuleNormObserver(noise=2.0, seed=1).score_batch(b, s, r)[0]
    assert one.tolist() == two.tolist() and one.min() >= 1 and one.max() == 7.0
    assert len(set(one.tolist())) > 10
