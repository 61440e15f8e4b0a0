"""What the offline model ``offline/norm_society`` answers to the norm-society prompts.

A deterministic stand-in for a language model (no network), so offline LLM runs of
``norm_society_v0`` (Li et al. 2024, arXiv:2401.04620) are meaningful rather than
constant. Its "world knowledge" is a small lexicon of cue words for each end of the five
norm dimensions (:data:`LEXICON`): a text maps to a signed vector, one value per dimension
(cue words of the high end minus those of the low end). With that it:

* **chooses** the option whose cue vector best agrees with its guidance: the observer's
  feedback and the summary in its memory (clauses with "less", "avoid", "not", ...
  count against), and the neighbours' conduct at half weight; ties go to the option
  closest in words to its persona, then to a hash of the prompt;
* **answers** each questionnaire statement 1-5: a persona-specific base of 2-4, moved
  toward agreement when the statement agrees with its guidance and toward disagreement
  when it goes against it;
* **summarises** memory by keeping the most recent feedback verbatim;
* **rewrites** a trait by blending the two parents' texts;
* **observes** (the LLM observer's rubric): scores each chosen behaviour by the agreement
  of its cue vector with the era's norm text (60%) and the survey answers by whether
  they agree with the norms where a statement bears on them (40%), on 1-7, and names in
  the feedback the dimensions the behaviours showed least of.

Every reply is a pure function of the messages (the first user message decides what is
asked), so replies are the same on every machine and cacheable. Prompts replaced through
``llm.prompt_dir`` that drop the reply-format lines are answered ``I am not sure.``.

Example:
    >>> text_vector("Send a quick chat message instead of a formal letter.")
    (-1.0, 0.0, 1.0, -1.0, 1.0)
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence

#: (low end phrase, low cue words, high end phrase, high cue words) per dimension, in the
#: bank's order: tradition, collectivism, digital, sustainability, formality. Cue words
#: match after a crude stemming (one suffix off: "messages" matches "message").
# fmt: off
LEXICON: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = (
    (
        "new ways",
        (
            "new", "modern", "try", "innovative", "latest", "trend", "experiment",
            "novel", "change", "fresh", "instead", "app", "meme", "jeans", "hoodie",
            "scooter", "self-checkout", "resale", "anonymously", "e-scooter",
        ),
        "established ways",
        (
            "established", "tradition", "custom", "always", "usual", "habit",
            "heritage", "elders", "generations", "ritual", "old", "decades",
            "parents", "grandparents", "album", "usher", "home-baked", "cash", "card",
            "seniors", "older",
        ),
    ),
    (
        "the individual first",
        (
            "individual", "own", "yourself", "personal", "private", "alone",
            "independent", "myself", "freedom", "choices",
        ),
        "the community first",
        (
            "community", "family", "neighbour", "neighbours", "together", "group",
            "share", "everyone", "collective", "duties", "obligations", "volunteer",
        ),
    ),
    (
        "in-person habits",
        (
            "person", "face", "visit", "paper", "handwritten", "letter", "cash",
            "counter", "meet", "printed", "door", "knock", "offline", "in-person",
        ),
        "online habits",
        (
            "online", "app", "chat", "message", "email", "video", "digital", "phone",
            "website", "screen", "post", "text", "platform", "internet", "smartphone",
            "social",
        ),
    ),
    (
        "convenience",
        (
            "convenience", "convenient", "quick", "easy", "disposable", "plastic",
            "drive", "car", "taxi", "single-use", "throw", "wasteful",
        ),
        "environmental care",
        (
            "environment", "environmental", "recycle", "recycling", "reusable",
            "reuse", "repair", "bike", "bicycle", "walk", "compost", "second-hand",
            "waste", "carbon", "sustainable", "planet", "green", "sharing",
        ),
    ),
    (
        "casual manners",
        (
            "casual", "relaxed", "informal", "joke", "nickname", "direct", "hey",
            "simply",
        ),
        "formal manners",
        (
            "formal", "formally", "polite", "politely", "title", "titles", "sir",
            "madam", "apologise", "etiquette", "defer", "proper", "thanks",
            "deferential",
        ),
    ),
)

_STOP = frozenset(
    (
        "", "he", "her", "is", "be", "it", "to", "an", "his", "who", "have", "than",
        "you", "were", "our", "by", "with", "had", "has", "me", "more", "into", "your",
        "then", "or", "this", "them", "of", "they", "less", "on", "as", "at", "are",
        "was", "she", "if", "does", "a", "and", "that", "not", "their", "the", "what",
        "which", "my", "from", "do", "but", "in", "we", "no", "about", "so", "for", "i",
        "its",
    )
)
# fmt: on
_NEGATIVE = re.compile(
    r"\b(?:less|fewer|avoid|not|no longer|stop|too|away from|rude|stiff|"
    r"old-fashioned|disapproval|frowned|instead of|rather than)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]+(?:-[a-z]+)*")
_CLAUSES = re.compile(r"[.;:,!?\n]+|\b(?:but|and|while|though|although|whereas)\b", re.IGNORECASE)
_OPTION = re.compile(r"^([A-D])\) (.+)$", re.MULTILINE)
_ITEM = re.compile(r"^(\d+)\. (.+)$", re.MULTILINE)
_ANSWER = re.compile(r"(\d)/5")
_SUFFIXES = ("ing", "ed", "es", "s", "ly")


def _stem(word: str) -> str:
    """A crude stemmer: one common suffix off, if at least four letters remain."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


_CUES: tuple[tuple[frozenset[str], frozenset[str]], ...] = tuple(
    (frozenset(map(_stem, low)), frozenset(map(_stem, high))) for _, low, _, high in LEXICON
)
NEIGHBOUR_WEIGHT = 0.5
UNSURE = "I am not sure."


def norm_society_reply(messages: Sequence[Mapping[str, str]]) -> str:
    """The offline model's reply to a norm-society prompt."""
    system = next((m["content"] for m in messages if m["role"] == "system"), "")
    user = next((m["content"] for m in messages if m["role"] == "user"), "")
    if "Score: <1-7>" in user:
        return _observe(user)
    if "Choice: <A, B, C or D>" in user:
        return _choose(system, user)
    if "<statement number>: <1-5>" in user:
        return _survey(system, user)
    if "Summary: <" in user:
        return _summarise(user)
    if "Trait: <" in user:
        return _blend(user)
    return UNSURE


# --- text as a vector ----------------------------------------------------------------------


def _stems(text: str) -> list[str]:
    return [_stem(w) for w in _WORD.findall(text.lower()) if w not in _STOP]


def text_vector(text: str) -> tuple[float, ...]:
    """Cue words of each dimension's high end minus those of its low end."""
    stems = _stems(text)
    return tuple(
        float(sum(s in high for s in stems) - sum(s in low for s in stems)) for low, high in _CUES
    )


def guidance(text: str, weight: float = 1.0) -> list[float]:
    """The signed sum of the clauses' vectors (a clause with "less", "not", ... counts
    against), times ``weight``."""
    total = [0.0] * len(LEXICON)
    for clause in _CLAUSES.split(text):
        sign = -1.0 if _NEGATIVE.search(clause) else 1.0
        for d, v in enumerate(text_vector(clause)):
            total[d] += weight * sign * v
    return total


def _dot(a: Sequence[float], b: Sequence[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    na, nb = math.sqrt(_dot(a, a)), math.sqrt(_dot(b, b))
    return _dot(a, b) / (na * nb) if na and nb else 0.0


def _hash(*parts: str) -> int:
    return zlib.crc32("\0".join(parts).encode())


def _section(text: str, start: str, end: str) -> str:
    i = text.find(start)
    if i < 0:
        return ""
    j = text.find(end, i + len(start))
    return text[i + len(start) : j if j >= 0 else len(text)]


# --- the agent's prompts ---------------------------------------------------------------------


def _memory_guidance(user: str) -> list[float]:
    """What the agent's memory says it should do: the summary and the observer's feedback
    (its own past choices are not advice), plus its neighbours at half weight."""
    lines = []
    for line in user.splitlines():
        low = line.lower()
        if low.startswith("what you remember") or "observer" in low:
            lines.append(line.split("You chose:")[0])
    g = guidance("\n".join(lines))
    neighbours = _section(user, "What the people around you did last time:", "\n")
    conform = guidance(re.sub(r"balances [^;]*", "", neighbours), NEIGHBOUR_WEIGHT)
    return [a + b for a, b in zip(g, conform, strict=True)]


def _choose(system: str, user: str) -> str:
    options = _OPTION.findall(user)
    if not options:
        return UNSURE
    g = _memory_guidance(user)
    persona = set(_stems(system))

    def rank(item: tuple[str, str]) -> tuple[float, float, int]:
        letter, behaviour = item
        fit = _dot(g, text_vector(behaviour))
        likeness = len(persona & set(_stems(behaviour)))
        return (-fit, -likeness, _hash(system, user, letter) % 1000)

    letter, behaviour = min(options, key=rank)
    return f"Choice: {letter}\nReason: It is what someone like me would do here: {behaviour}"


def _survey(system: str, user: str) -> str:
    g = _memory_guidance(user)
    lines = []
    for number, statement in _ITEM.findall(_section(user, "statements:", "For every")):
        base = 2 + _hash(system, statement) % 3
        lean = _dot(g, text_vector(statement))
        shift = 0 if lean == 0 else int(math.copysign(min(2, math.ceil(abs(lean))), lean))
        lines.append(f"{number}: {min(5, max(1, base + shift))}")
    return "\n".join(lines) or UNSURE


def _summarise(user: str) -> str:
    events = _section(user, "What happened since:", "Write a short summary")
    verdicts = [e.strip("- ").strip() for e in events.splitlines() if "observer" in e]
    choices = sum(1 for e in events.splitlines() if "You chose:" in e)
    latest = " ".join(verdicts[-2:]) or "No feedback yet."
    return f"Summary: I made {choices} choices. The observer's latest verdicts: {latest}"


def _blend(user: str) -> str:
    a = _section(user, "Parent 1", "\n").partition(":")[2].strip()
    b = _section(user, "Parent 2", "\n").partition(":")[2].strip()
    if not a or not b or a == b:
        return f"Trait: {a or b or 'an ordinary person'}"
    if len(a.split()) <= 3 and len(b.split()) <= 3:
        return f"Trait: {a} and {b}"
    head = re.split(r"[,;]| who | and ", a, maxsplit=1)[0].rstrip(". ")
    tail = re.split(r"[,;]| who | and ", b, maxsplit=1)
    rest = tail[1].strip() if len(tail) > 1 else b
    joiner = " who " if " who " in b else ", "
    return f"Trait: {head}{joiner}{rest}"


# --- the observer ----------------------------------------------------------------------------


def _observe(user: str) -> str:
    era = _section(user, "Era:", "(").strip() or "this era"
    norms = guidance(_section(user, "The social norms of this era:", "What the member did:"))
    done = _section(user, "What the member did:", "The member's survey answers")
    chosen = [line.split("Chose:", 1)[1] for line in done.splitlines() if "Chose:" in line]
    vectors = [text_vector(c) for c in chosen]
    conduct = sum(_cosine(norms, v) for v in vectors) / len(vectors) if vectors else 0.0
    answers = _section(user, "The member's survey answers", "Score the member")
    agreement = []
    for line in answers.splitlines()[1:]:
        found = _ANSWER.search(line)
        lean = _dot(norms, text_vector(line))
        if found and lean:
            agreement.append((int(found.group(1)) - 3) / 2 * math.copysign(1.0, lean))
    survey = sum(agreement) / len(agreement) if agreement else 0.0
    score = min(7, max(1, round(4 + 3 * (0.6 * conduct + 0.4 * survey))))
    return f"Score: {score}\nFeedback: {_advice(era, norms, vectors, score)}"


def _advice(
    era: str, norms: Sequence[float], vectors: Sequence[Sequence[float]], score: int
) -> str:
    """The one or two dimensions whose norm the behaviours showed least of, in words."""
    shown = [sum(v[d] for v in vectors) for d in range(len(LEXICON))]
    gaps = sorted(
        (d for d in range(len(LEXICON)) if norms[d] and shown[d] * norms[d] <= 0),
        key=lambda d: -abs(norms[d]),
    )[:2]
    if not gaps or score >= 6:
        return f"Your conduct fits the norms of the {era} well. Keep it up."
    ends = [LEXICON[d][2] if norms[d] > 0 else LEXICON[d][0] for d in gaps]
    return f"To fit the norms of the {era}, show more {' and more '.join(ends)}."
