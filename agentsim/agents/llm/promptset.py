"""A study's prompt templates: named ``string.Template`` files with declared placeholders.

Templates substitute text and never evaluate it, so text from other agents or web pages
stays data. Each template may be replaced by a UTF-8 file of the same name in a user's
``prompt_dir``; a template using a placeholder its prompt does not fill is refused when
the set is loaded, not in the middle of a run.

Example:
    >>> reask = PromptSet.load("debate", {"debate_reask": frozenset({"error"})})
    >>> "no number" in reask.render("debate_reask", error="no number")
    True
    >>> PromptSet.load("debate", {"debate_reask": frozenset()})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    agentsim.core.errors.UserError: prompt template debate_reask.txt: bad placeholder $error; ...
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from agentsim.core.errors import UserError


@dataclass(frozen=True)
class PromptSet:
    """Loaded, checked templates of one study."""

    templates: Mapping[str, string.Template]

    @classmethod
    def load(
        cls,
        folder: str | None,
        placeholders: Mapping[str, frozenset[str]],
        prompt_dir: str | Path | None = None,
    ) -> PromptSet:
        """The built-in templates ``templates/<folder>/<name>.txt`` (``templates/<name>.txt``
        when ``folder`` is None), each replaced by ``prompt_dir/<name>.txt`` where that exists.

        Raises:
            UserError: a missing ``prompt_dir``, a template that is not UTF-8 text, or
                one that uses a placeholder its prompt does not fill.
        """
        if prompt_dir is not None and not Path(prompt_dir).is_dir():
            raise UserError(f"prompt_dir {prompt_dir} is not a folder")
        base = resources.files("agentsim.agents.llm") / "templates"
        if folder is not None:
            base = base / folder
        out = {}
        for name, allowed in placeholders.items():
            custom = Path(prompt_dir) / f"{name}.txt" if prompt_dir is not None else None
            if custom is not None and custom.is_file():
                text = read_template(custom)
            else:
                text = (base / f"{name}.txt").read_text(encoding="utf-8")
            out[name] = checked_template(name, text.strip(), allowed)
        return cls(out)

    def render(self, name: str, /, **values: Any) -> str:
        """The template ``name`` with ``values`` substituted."""
        try:
            return self.templates[name].substitute(values)
        except (KeyError, ValueError) as exc:
            raise UserError(f"prompt template {name}.txt: bad placeholder {exc}") from None


def read_template(path: Path) -> str:
    """A user template's text; anything but UTF-8 text is a UserError naming the file."""
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UserError(
            f"prompt template {path} is not UTF-8 text (byte {exc.start}: {exc.reason}); "
            "save it with UTF-8 encoding"
        ) from None
    except OSError as exc:
        raise UserError(f"prompt template {path} cannot be read: {exc.strerror}") from None


def checked_template(name: str, text: str, allowed: frozenset[str]) -> string.Template:
    """The template, refused now (not mid-run) if its placeholders cannot be filled."""
    template = string.Template(text)
    unknown = sorted(set(template.get_identifiers()) - allowed)
    if not template.is_valid() or unknown:
        bad = ", ".join(f"${u}" for u in unknown) or "a malformed $ (write $$ for a dollar sign)"
        raise UserError(
            f"prompt template {name}.txt: bad placeholder {bad}; allowed: "
            + ", ".join(f"${a}" for a in sorted(allowed))
        )
    return template
