"""The two renderers of a :class:`~agentsim.envs.web_shop.pages.Page`: HTML and tree text.

``axtree(page)`` prints WebArena's accessibility-tree text (Zhou et al. 2024,
arXiv:2307.13854, ``browser_env/processors.py``)::

    Tab 0 (current): Agentsim Shop

    [1] RootWebArea 'Agentsim Shop' focused: True
    \t[2] navigation 'Main'
    \t\t[3] link 'Home'

One line per kept node: ``[id] role repr(name)``, then `` key: value`` properties in a
fixed order (value, focused, required, checked, selected, expanded, disabled; ``url`` when
``url_links``), one tab per depth. ``checked`` prints CDP's tristate string (``true`` /
``false``), other states print ``True`` and only when true. A text field's typed text is
``value: 'red mug'``. Pruning (the same rules for both back ends, see :func:`pruned`):
Chromium-internal roles never print; empty-named containers (WebArena's list plus
``main``, ``search``, ``form``) are dropped and their children move up a level;
``StaticText`` that repeats its parent's name is dropped (BrowserGym's rule, Chezelles
et al. 2024, arXiv:2412.05467). Nothing is cut by a viewport; a character ``cap`` ends the
text with an explicit ``[... N more lines truncated]`` line, never mid-line.

``html(page)`` writes a page a browser shows with the same tree: every element carries
its explicit role, ``aria-label`` = name and ``data-webid`` = id; no script, no
``<label>``, ``<fieldset>``, lists or ``<select>`` (they add Chromium nodes the model does
not have), and no whitespace between elements (it would be ``StaticText ' '``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import escape

from agentsim.envs.web_shop.pages import Node, Page

#: Properties printed, in this order (WebArena's kept properties we model).
PROPERTY_ORDER = ("focused", "required", "checked", "selected", "expanded", "disabled")
#: Chromium roles that are never printed (nor their subtrees' own lines).
NEVER_PRINTED = frozenset({"InlineTextBox", "ListMarker", "LineBreak", "none", "Ignored"})
#: Roles dropped when their name is empty (WebArena's list, plus main, search and form).
EMPTY_PRUNED = frozenset(
    {
        "generic",
        "img",
        "list",
        "strong",
        "paragraph",
        "banner",
        "navigation",
        "Section",
        "LabelText",
        "Legend",
        "listitem",
        "main",
        "search",
        "form",
        "StaticText",
        "group",
        "region",
        "contentinfo",
        "complementary",
    }
)
#: The smallest cap that always has room for the truncation line.
MIN_CAP = 48


@dataclass(frozen=True)
class TreeLine:
    """One printed node: depth, id, role, name and its ``(key, value)`` properties."""

    depth: int
    id: int | None
    role: str
    name: str
    props: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        ident = "?" if self.id is None else str(self.id)  # an unmapped browser node shows
        props = "".join(f" {k}: {v}" for k, v in self.props)
        return f"{chr(9) * self.depth}[{ident}] {self.role} {self.name!r}{props}"


def pruned(role: str, name: str) -> bool:
    """Whether a node is left out of the text (its children move up to its depth)."""
    return role in NEVER_PRINTED or (not name and role in EMPTY_PRUNED)


def state_props(
    states: Mapping[str, bool | str], value: str | None, url: str | None
) -> tuple[tuple[str, str], ...]:
    """The printed properties of a node, in ``PROPERTY_ORDER`` (shared by both back ends)."""
    out: list[tuple[str, str]] = [("value", repr(value))] if value else []
    for key in PROPERTY_ORDER:
        state = states.get(key)
        if key == "checked" and state is not None:
            out.append((key, str(state).lower()))  # CDP's tristate string
        elif state is True or state == "true":
            out.append((key, "True"))
    if url is not None:
        out.append(("url", url))
    return tuple(out)


def tree_lines(page: Page, *, url_links: bool = False) -> list[TreeLine]:
    """The kept nodes of the page model, in document order, with their printed depth."""
    out: list[TreeLine] = []
    counter = iter(range(1, 1 << 30))

    # The model holds static text only as paragraphs (``<p>``), whose accessible parent is
    # the unnamed paragraph: the repeat-the-parent rule never drops one, so it is not
    # applied here. It drops the text runs inside links, buttons and headings, which the
    # browser has and the model does not.
    def visit(node: Node, depth: int) -> None:
        node_id = next(counter)
        drop = pruned(node.role, node.name)
        if not drop:
            url = _url_of(node, page, node_id) if url_links else None
            value = node.value if node.role in ("searchbox", "textbox") else None
            props = state_props(node.states, value, url)
            out.append(TreeLine(depth, node_id, node.role, node.name, props))
        for child in node.children:
            visit(child, depth if drop else depth + 1)

    visit(page.root, 0)
    return out


def _url_of(node: Node, page: Page, node_id: int) -> str | None:
    if node_id == 1:
        return page.url
    return node.href if node.role == "link" else None


def axtree(page: Page, *, url_links: bool = False, cap: int | None = None) -> str:
    """WebArena's tree text of the page (module docstring), at most ``cap`` characters."""
    return format_tree(page.title, tree_lines(page, url_links=url_links), cap)


def format_tree(title: str, lines: Sequence[TreeLine], cap: int | None = None) -> str:
    """Header, blank line and lines; cut at whole lines to fit ``cap`` characters."""
    if cap is not None and cap < MIN_CAP:
        raise ValueError(f"cap must be at least {MIN_CAP} characters, got {cap}")
    text = [f"Tab 0 (current): {title}", "", *(str(line) for line in lines)]
    full = "\n".join(text)
    if cap is None or len(full) <= cap:
        return full
    kept, size = 0, -1
    for line in text:
        footer = _footer(len(text) - kept - 1)
        if size + 1 + len(line) + 1 + len(footer) > cap:
            break
        size += 1 + len(line)
        kept += 1
    return "\n".join([*text[:kept], _footer(len(text) - kept)])


def _footer(n: int) -> str:
    return f"[... {n} more lines truncated]"


# -- HTML --------------------------------------------------------------------------------

STYLE = (
    "body{font-family:sans-serif;max-width:52rem;margin:1rem auto;padding:0 1rem}"
    "nav a{margin-right:1rem}a{display:inline-block;margin:.2rem 0}main a{display:block}"
    "[role=radio]{display:inline-block;margin-right:.6rem;padding:.1rem .5rem;"
    "border:1px solid #888;border-radius:3px}[role=radio][aria-checked=true]{background:#cde}"
    "form{display:inline-block;margin:.3rem .5rem .3rem 0}p{margin:.3rem 0}"
)
_TAGS = {
    "navigation": "nav",
    "main": "main",
    "StaticText": "p",
    "region": "section",
    "generic": "div",
}


def html(page: Page) -> str:
    """The page as an HTML document whose accessibility tree matches :func:`axtree`."""
    ids = iter(range(1, 1 << 30))
    next(ids)  # the root is the document itself
    body = "".join(_element(child, ids) for child in page.root.children)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(page.title)}</title><style>{STYLE}</style></head>"
        f'<body data-webid="1">{body}</body></html>'
    )


def _attrs(node: Node, node_id: int) -> str:
    label = f' aria-label="{escape(node.name)}"' if node.name else ""
    return f'{label} data-webid="{node_id}"'


def _element(node: Node, ids: Iterator[int]) -> str:
    node_id = next(ids)
    inner = "".join(_element(c, ids) for c in node.children)
    a = _attrs(node, node_id)
    name = escape(node.name)
    if node.role == "link":
        return f'<a href="{escape(node.href or "/")}"{a}>{name}</a>'
    if node.role == "radio":
        checked = "true" if node.states.get("checked") else "false"
        return f'<a role="radio" aria-checked="{checked}" href="{escape(node.href or "/")}"{a}>{name}</a>'  # noqa: E501
    if node.role == "heading":
        level = dict(node.params).get("level", "2")
        return f"<h{level}{a}>{name}</h{level}>"
    if node.role == "search":
        return f'<form role="search" method="get" action="/search"{a}>{inner}</form>'
    if node.role == "searchbox":
        return f'<input type="search" name="q" value="{escape(node.value or "")}"{a}>'
    if node.role == "button":
        return _button(node, a, name)
    if node.role == "radiogroup":
        return f'<div role="radiogroup"{a}>{inner}</div>'
    if node.role == "StaticText":
        return f'<p data-webid="{node_id}">{name}</p>'  # a paragraph: no label of its own
    tag = _TAGS.get(node.role, "div")
    role = "" if node.role in _TAGS else f' role="{escape(node.role)}"'
    return f"<{tag}{role}{a}>{inner}</{tag}>"


def _button(node: Node, attrs: str, name: str) -> str:
    disabled = " disabled" if node.states.get("disabled") else ""
    button = f'<button type="submit"{disabled}{attrs}>{name}</button>'
    if node.action == "search":
        return button  # inside the search landmark's GET form
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in node.params
    )
    return f'<form method="post" action="/do/{escape(node.action or "")}">{hidden}{button}</form>'
