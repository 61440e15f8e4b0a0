"""Docstrings cite papers, not a reference file that is not in the repository (issue 6 #14)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("agentsim", "analysis", "scenarios", "bench", "scripts", "docs")
MISSING_FILE = "seed-" + "protocols"  # spelled apart so this test does not match itself


def _shipped_text_files():
    for top in SHIPPED:
        yield from (p for p in (ROOT / top).rglob("*") if p.suffix in {".py", ".md", ".txt"})
    yield from ROOT.glob("*.md")


def test_no_file_cites_the_internal_reference_notes():
    offenders = [
        f"{path.relative_to(ROOT)}:{lineno}"
        for path in _shipped_text_files()
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if MISSING_FILE in line
    ]
    assert offenders == []
