"""BM25 over the same passages the embedder sees, with a tokenizer made for legal text.

bm25s keeps the index as sparse arrays in memory (sub-millisecond queries at this
corpus size, no server, saved as .npy files); SQLite FTS5 was the alternative,
at ~14 ms per OR-query on 20k rows. Tokens come from index.analysis, which
highlighting shares.
"""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from index.analysis import tokenize


class LexicalIndex:
    def __init__(self, retriever: bm25s.BM25) -> None:
        self._retriever = retriever

    @classmethod
    def build(cls, passages: list[str]) -> LexicalIndex:
        retriever = bm25s.BM25()
        retriever.index([tokenize(p) or [""] for p in passages], show_progress=False)
        return cls(retriever)

    def save(self, folder: Path) -> None:
        self._retriever.save(str(folder), show_progress=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        return cls(bm25s.BM25.load(str(folder)))

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage (zeros where no query term occurs)."""
        tokens = [t for t in tokenize(query) if t in self._retriever.vocab_dict]
        if not tokens:
            return np.zeros(self._retriever.scores["num_docs"], dtype=np.float32)
        return self._retriever.get_scores(tokens)
