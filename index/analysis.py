"""How RegKB reads words: one tokenizer for BM25 and highlighting, and how rare each term is.

A leaf module (it imports nothing from RegKB) so that the law layer can hang term
statistics on a catalog, and retrieval and presentation can share one tokenizer,
without either importing the other. The tokenizer keeps "10^25" and article
numbers whole, so "Article 99" and "10^25 FLOPs" match exactly.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

_TOKEN = re.compile(r"\d+(?:\^\d+)?|[^\W\d_]+", re.UNICODE)
_STOPWORDS = frozenset(STOPWORDS_EN) - {"no", "not"}


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


def tokenize(text: str) -> list[str]:
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOPWORDS]
    return _stemmer().stemWords(words)


@dataclass(frozen=True)
class TermStatistics:
    """In how many passages each (stemmed) term occurs: the rarity that makes a match mean something."""

    document_frequency: Mapping[str, int]
    documents: int

    @classmethod
    def of(cls, texts: Iterable[str]) -> TermStatistics:
        frequency: Counter[str] = Counter()
        documents = 0
        for text in texts:
            frequency.update(set(tokenize(text)))
            documents += 1
        return cls(frequency, documents)

    def weight(self, term: str) -> float:
        """BM25's inverse document frequency (never negative)."""
        df = self.document_frequency.get(term, 0)
        return math.log(1 + (self.documents - df + 0.5) / (df + 0.5))
