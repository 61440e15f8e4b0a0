"""First use of the command line: usage, version, generated --set help, hostile arguments."""

import dataclasses
import subprocess
import sys

import pytest

import agentsim
from agentsim.agents.llm.settings import LLMSettings
from agentsim.cli import main, settings_help
from agentsim.games.donor import DonorGameConfig
from agentsim.runtime.experiment import RunSettings


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "agentsim", *args], capture_output=True, text=True, timeout=120
    )


def test_no_arguments_prints_the_usage_with_every_command():
    result = _cli()
    assert result.returncode == 2
    assert result.stderr.startswith("usage: agentsim")
    for command in ("envs", "agents", "experiments", "run", "replay", "report", "show"):
        assert command in result.stderr
    assert "Traceback" not in result.stderr


def test_version_through_python_dash_m():
    result = _cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"agentsim {agentsim.__version__}"


@pytest.mark.parametrize("cls", [RunSettings, DonorGameConfig, LLMSettings])
def test_run_help_lists_every_set_key_with_its_default(cls):
    text = settings_help()
    for f in dataclasses.fields(cls):
        default = "none" if f.default is None else str(f.default)
        default = default.lower() if isinstance(f.default, bool) else default
        assert f"\n  {f.name}={default}: " in text, f.name


def test_run_help_shows_allowed_values_from_the_validators(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "  pairing=paper: paper, released_code\n" in out
    assert "  episodes=1: an integer in [1, 100000]\n" in out
    assert "  cache=read_write: read_write, off, replay\n" in out
    assert "  budget_usd=none: a number >= 0.0, or none\n" in out
    assert "  inherit_scores=true: true or false\n" in out
    assert "calls this key generations" in out  # from the docstring
    assert "donor-game-punishment: punishment=costly" in out


@pytest.mark.parametrize("args", [["--model", ""], ["--model", "  "], ["--set", "model="]])
def test_an_empty_model_is_an_error_not_a_scripted_run(tmp_path, args):
    result = _cli("run", "donor-game", "--out", str(tmp_path), *args)
    assert result.returncode == 2, result
    assert "model" in result.stderr and "LiteLLM model string" in result.stderr
    assert "Traceback" not in result.stderr
    assert not any(tmp_path.iterdir())


def test_an_out_name_too_long_for_the_filesystem_is_a_user_error(tmp_path):
    out = tmp_path / ("a" * 300)
    result = _cli("run", "donor-game", "--out", str(out), "--set", "generations=1")
    assert result.returncode == 2, result
    assert "File name too long" in result.stderr and "cannot create" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_show_prints_what_an_agent_saw_and_answered(tmp_path, capsys):
    settings = ["--set", "agents=4", "--set", "rounds=2", "--set", "generations=1", "--quiet"]
    args = ["run", "donor-game", "--model", "offline/donor", "--out", str(tmp_path), *settings]
    assert main(args) == 0
    (run_dir,) = tmp_path.iterdir()
    capsys.readouterr()
    assert main(["show", str(run_dir), "--decision", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("decision 0 of 8") and "[system]" in out and "[reply]" in out
    assert main(["show", str(run_dir), "--decision", "8"]) == 2
    assert "0 to 7" in capsys.readouterr().err
