"""Okapi BM25 product search in pure Python (no JVM, no pyserini).

WebShop (Yao et al. 2022, arXiv:2207.01206) indexes each product as its lower-cased title,
description, first bullet point and option values, and searches with pyserini's Lucene
BM25, whose defaults are k1 = 0.9, b = 0.4. We keep that document text and those
parameters, set explicitly, and Lucene's idf, ``log(1 + (N - n + 0.5) / (n + 0.5))``
(Robertson & Zaragoza 2009). Ties are broken by catalog order, so results are
deterministic.

Example:
    >>> index = BM25Index(["red mug", "blue mug", "red scarf"])
    >>> index.search("red mug")
    [0, 1, 2]
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from agentsim.envs.web_shop.pages import ProductLike

TOKEN = re.compile(r"[a-z0-9]+")
#: pyserini's ``LuceneSearcher.set_bm25`` defaults, which WebShop ran with.
K1 = 0.9
B = 0.4


def tokens(text: str) -> list[str]:
    """Lower-cased alphanumeric runs."""
    return TOKEN.findall(text.lower())


def product_document(product: ProductLike) -> str:
    """WebShop's indexed text: title, description, first bullet and option values."""
    bullets = list(product.bullet_points)[:1]
    options = [v for values in product.options.values() for v in values]
    return " ".join([product.title, product.description, *bullets, *options])


class BM25Index:
    """An inverted index over documents; ``search`` returns document indices, best first."""

    def __init__(self, documents: Sequence[str], *, k1: float = K1, b: float = B) -> None:
        if k1 < 0 or not 0 <= b <= 1:
            raise ValueError(f"BM25 needs k1 >= 0 and 0 <= b <= 1, got k1={k1}, b={b}")
        self.k1, self.b = k1, b
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths: list[int] = []
        for doc_id, doc in enumerate(documents):
            counts = Counter(tokens(doc))
            self._lengths.append(sum(counts.values()))
            for term, tf in counts.items():
                self._postings.setdefault(term, []).append((doc_id, tf))
        n = len(self._lengths)
        self._avg = (sum(self._lengths) / n) if n else 0.0
        self._idf = {
            t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self._postings.items()
        }

    def scores(self, query: str) -> dict[int, float]:
        """BM25 score of every document that shares a term with ``query``."""
        out: dict[int, float] = {}
        for term in set(tokens(query)):
            idf = self._idf.get(term)
            if idf is None:
                continue
            for doc_id, tf in self._postings[term]:
                norm = self.k1 * (1 - self.b + self.b * self._lengths[doc_id] / self._avg)
                out[doc_id] = out.get(doc_id, 0.0) + idf * tf * (self.k1 + 1) / (tf + norm)
        return out

    def search(self, query: str, limit: int | None = None) -> list[int]:
        """Indices of matching documents, highest score first, ties in document order."""
        ranked = sorted(self.scores(query).items(), key=lambda kv: (-kv[1], kv[0]))
        return [doc_id for doc_id, _ in ranked[:limit]]
