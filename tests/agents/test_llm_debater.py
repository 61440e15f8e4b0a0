"""The LLM debater's prompts: roles, sides, user role descriptions, survey parsing."""

from agentsim.agents.llm.debate import (
    DebateLLMContext,
    LLMDebater,
    load_debate_prompts,
    parse_personas,
    parse_scale,
)
from agentsim.agents.llm.settings import LLMSettings


def _system(role: str, extra: str) -> str:
    ctx = DebateLLMContext(
        model=None,  # type: ignore[arg-type]  (no call is made)
        settings=LLMSettings(model="offline/debate"),
        prompts=load_debate_prompts(),
    )
    obs = {"role": role, "persona": "Ann Lee: a nurse.", "topic": "racism", "extra": extra}
    return LLMDebater()._system(obs, ctx)


def test_built_in_roles_use_their_wording_and_user_descriptions_win():
    assert "Republican point of view" in _system(
        "republican", "protocol: taubenfeld\nrole_description: a Republican"
    )
    custom = _system("republican", "role_description: a rancher who distrusts Washington")
    assert "You are a rancher who distrusts Washington." in custom
    assert "Republican point of view" not in custom
    assert "You are a union organiser." in _system(
        "organiser", "role_description: a union organiser"
    )


def test_salvi_debaters_are_told_their_side_and_only_the_persuader_the_demographics():
    persuader = _system("persuader", "side: pro\nopponent: llm\npersuadee_demographics: age: 30")
    assert "PRO side" in persuader and "age: 30" in persuader
    assert "opponent" not in persuader.lower().replace("the other participant", "")
    assert "age: 30" not in _system("persuadee", "side: con")


def test_survey_and_persona_replies_parse_or_say_how_to_fix_them():
    assert parse_scale("I'd say 8.", 0, 10).value == "8"
    assert parse_scale("On a scale from 1 to 5: 4", 1, 5).value == "4"
    assert not parse_scale("about eleven", 0, 10).ok
    assert parse_personas("[]", 2).error == "Give 2 personas; you gave 0."
