"""The study contract's own rules: scoped kinds, namespaced keys, unregistering, seams."""

import dataclasses

import numpy as np
import pytest

import agentsim
from agentsim.core.errors import ConfigError
from agentsim.core.records import RECORD_FIELDS
from agentsim.envs.debate.config import DebateConfig
from agentsim.envs.debate.env import DebateEnv
from agentsim.envs.study import (
    Experiment,
    get_study,
    register_study,
    study_ids,
    unregister_study,
)
from agentsim.runtime.experiment import make_config
from agentsim.runtime.runner import ListRecorder, _record_decision
from agentsim.runtime.summary import summarise


def test_kinds_are_scoped_to_their_env():
    assert "image_scoring" in agentsim.agent_kinds("donor_game_v0")
    assert "image_scoring" not in agentsim.agent_kinds("debate_v0")
    assert agentsim.make_agent("llm", env="debate_v0").kind == "llm"
    with pytest.raises(ConfigError, match="llm exists in"):
        agentsim.make_agent("llm")  # two envs have an llm kind: name the env
    with pytest.raises(ConfigError, match="degroot"):
        agentsim.make_agent("image_scoring", env="debate_v0")


def test_a_user_kind_registered_without_env_is_usable_everywhere():
    agentsim.register_agent("always_five", lambda: agentsim.make_agent("stubborn"))
    try:
        assert "always_five" in agentsim.agent_kinds("debate_v0")
        assert "always_five" in agentsim.agent_kinds("donor_game_v0")
    finally:
        from agentsim.agents.registry import _GLOBAL

        _GLOBAL.unregister("always_five")


@dataclasses.dataclass(frozen=True)
class _WithEpisodes(DebateConfig):
    """A config with a key that the run settings have too."""

    episodes: int = 1


def _copy_of_debate(env_id: str, **changes):
    debate = get_study("debate_v0")
    return dataclasses.replace(
        debate,
        env_id=env_id,
        record_types={"copy_marker": ("episode",)},
        experiments={f"{env_id}-exp": Experiment(f"{env_id}-exp", "a copy of the debate")},
        **changes,
    )


def test_a_key_in_two_namespaces_must_be_namespaced():
    def make(**config):
        return DebateEnv(**{k: v for k, v in config.items() if k != "episodes"})

    register_study(_copy_of_debate("ambiguous_v0", config=_WithEpisodes, make_env=make))
    try:
        with pytest.raises(ConfigError, match=r"run\.episodes, env\.episodes"):
            make_config("ambiguous_v0-exp", 0, ["episodes=2"])
        config = make_config("ambiguous_v0-exp", 0, ["run.episodes=2", "env.episodes=5"])
        assert config.settings.episodes == 2 and config.env["episodes"] == 5
    finally:
        unregister_study("ambiguous_v0")


def test_unregistering_a_study_undoes_its_registration_and_keeps_the_builtins():
    register_study(_copy_of_debate("copy_v0"))
    assert "copy_v0" in study_ids() and "copy_v0" in agentsim.list_envs()
    assert "degroot" in agentsim.agent_kinds("copy_v0") and "copy_marker" in RECORD_FIELDS
    unregister_study("copy_v0")
    assert "copy_v0" not in study_ids() and "copy_v0" not in agentsim.list_envs()
    assert agentsim.agent_kinds("copy_v0") == agentsim.agent_kinds("no_such_env")
    assert "copy_marker" not in RECORD_FIELDS and "survey" in RECORD_FIELDS
    assert {"donor_game_v0", "debate_v0"} <= set(study_ids())
    with pytest.raises(ConfigError, match="copy_v0-exp"):
        make_config("copy_v0-exp", 0)


def test_a_study_summary_may_not_replace_the_runtimes_keys(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text('{"v": 1, "type": "checkpoint", "episode": 1}\n')
    greedy = _copy_of_debate("greedy_v0", summarise=lambda records: {"status": "great"})
    with pytest.raises(TypeError, match="status"):
        summarise(events, greedy)


def test_context_keys_that_are_not_integers_stay_in_the_observation():
    rec = ListRecorder()
    obs = {"round": np.array([2.0], dtype=np.float32), "game": 1, "generation": np.array([0.5])}
    _record_decision(rec, 0, "a", agentsim.Decision(action=1), obs, [])
    (record,) = rec.records
    assert record["round"] == 2 and record["game"] == 1 and "generation" not in record
    assert record["observation"] == {"generation": [0.5]}
