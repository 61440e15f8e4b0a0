"""Every README recipe runs as a user meets it: in a fresh process, from a clean folder.

Python blocks run whole (the blocks of one section together, in order); command lines of bash
blocks run one by one. Left out, each for a stated reason: placeholders (``...``), real providers
without ``--dry-run`` (no network in tests), servers the reader starts, and `make` targets (CI
runs those).
"""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
BIN = Path(sys.executable).parent
_BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def _sections() -> list[tuple[str, str, str]]:
    """(section heading, language, code) of every fenced block."""
    out = []
    for match in _BLOCK.finditer(README):
        heading = re.findall(r"^#+ (.*)$", README[: match.start()], re.MULTILINE)[-1]
        out.append((heading, match.group(1), match.group(2)))
    return out


def _python_programs() -> list[tuple[str, str]]:
    programs: dict[str, str] = {}
    for heading, lang, code in _sections():
        if lang == "python" and not code.startswith("# sketch"):
            programs[heading] = programs.get(heading, "") + code + "\n"
    return sorted(programs.items())


def _skip_reason(line: str) -> str | None:
    if "..." in line or "<" in line:
        return "placeholder"
    if re.search(r"--model (anthropic|openai)/", line) and "--dry-run" not in line:
        return "a real provider"
    return None


def _commands() -> list[str]:
    lines = []
    for _, lang, code in _sections():
        if lang != "bash":
            continue
        for raw in code.replace("\\\n", " ").splitlines():
            line = raw.split("  #")[0].strip()
            if line.startswith(("agentsim ", "python scenarios/")) and not _skip_reason(line):
                lines.append(line)
    return lines


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


@pytest.mark.parametrize(("heading", "program"), _python_programs(), ids=lambda v: v[:30])
def test_readme_python_examples_run(heading, program, tmp_path):
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"{heading}:\n{result.stderr[-2000:]}"


#: Recipes that take 15 s or more here: run by `make test-slow` (and CI), not `make test`.
SLOW = (
    "agentsim run debate --model offline/debate",
    "agentsim run donor-game --model offline/donor",
    "python scenarios/debate.py --topics all",
    "python scenarios/train_rl_donor.py",
)


def _marked(command: str) -> object:
    slow = command.startswith(SLOW)
    return pytest.param(command, marks=pytest.mark.slow) if slow else command


@pytest.mark.parametrize("command", [_marked(c) for c in _commands()])
def test_readme_commands_run(command, tmp_path):
    argv = shlex.split(command)
    if argv[0] == "python":
        argv = [sys.executable, str(ROOT / argv[1]), *argv[2:]]
    else:
        argv = [str(BIN / "agentsim"), *argv[1:]]
    result = subprocess.run(
        argv, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"{command}:\n{result.stderr[-2000:]}"


def test_the_readme_has_recipes_to_run():
    assert len(_python_programs()) >= 3 and len(_commands()) >= 10
