"""Hybrid retrieval: dense (faiss) and BM25 candidates fused by reciprocal rank.

Reciprocal rank fusion needs no score calibration between two very different
scorers, which is why it is the default: BM25 finds "Article 99" and "10^25",
the embedder finds "chatbot" in "interact directly with natural persons".
The searcher follows the `current` symlink, so a rebuild is picked up by the
next query without a restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

import faiss
import numpy as np

from index import store
from index.config import Settings
from index.embedder import Embedder
from index.model import Hit

Mode = Literal["hybrid", "dense", "lexical"]
MAX_QUERY_CHARS = 1000
MAX_K = 100
RRF_K = 60


class QueryError(ValueError):
    """A query that cannot be answered as given (empty, too long, bad k or filter)."""


@dataclass(frozen=True)
class Filters:
    docs: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.docs or self.kinds)


def validate_query(text: str, k: int) -> str:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise QueryError("the query is empty: type a question or keywords")
    if len(cleaned) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(cleaned):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be between 1 and {MAX_K}, got {k}")
    return cleaned


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> dict[int, float]:
    """Sum of 1/(k + rank) over the rankings a row appears in (Cormack et al., 2009)."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, row in enumerate(ranking, start=1):
            fused[row] = fused.get(row, 0.0) + 1.0 / (k + rank)
    return fused


class Searcher:
    def __init__(self, settings: Settings, embedder: Embedder | None = None, candidates: int = 100) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder(settings.model)
        self.candidates = candidates
        self._loaded: store.LoadedIndex | None = None
        self._lock = threading.Lock()

    @property
    def index(self) -> store.LoadedIndex:
        """The live build, reloaded when ingest has switched `current` to a new one."""
        live = store.current_build_path(self.settings)
        if self._loaded is None or (live is not None and live != self._loaded.path):
            with self._lock:
                if self._loaded is None or (live is not None and live != self._loaded.path):
                    loaded = store.load(self.settings, live)
                    self._check_model(loaded)
                    self._loaded = loaded
        return self._loaded

    def _check_model(self, loaded: store.LoadedIndex) -> None:
        if loaded.manifest.model_id != self.embedder.model_id:
            raise store.IndexUnavailable(
                f"the index was built with model {loaded.manifest.model_id!r} but the searcher uses "
                f"{self.embedder.model_id!r}: set REGKB_MODEL={loaded.manifest.model_id} or re-run ingest"
            )

    def search(self, text: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid") -> list[Hit]:
        query = validate_query(text, k)
        index = self.index
        allowed = self._allowed(index, filters)
        dense = self._dense(index, query, allowed) if mode != "lexical" else []
        lexical = self._lexical(index, query, allowed) if mode != "dense" else []
        return self._fuse(index, dense, lexical, k)

    def _allowed(self, index: store.LoadedIndex, filters: Filters) -> np.ndarray | None:
        if not filters:
            return None
        known = {d["doc_id"] for d in index.manifest.documents}
        unknown = [d for d in filters.docs if d not in known]
        if unknown:
            raise QueryError(f"unknown document {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return np.array([(not filters.docs or c.doc_id in filters.docs) and (not filters.kinds or c.kind in filters.kinds)
                         for c in index.chunks], dtype=bool)

    def _dense(self, index: store.LoadedIndex, query: str, allowed: np.ndarray | None) -> list[int]:
        vector = self.embedder.query(query).reshape(1, -1)
        if vector.shape[1] != index.dense.d:
            raise store.IndexUnavailable(f"query vectors have {vector.shape[1]} dimensions, the index {index.dense.d}")
        n = min(self.candidates, index.dense.ntotal)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            if not len(ids):
                return []
            params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))
        _, rows = index.dense.search(vector, n, params=params)
        return [int(r) for r in rows[0] if r >= 0]

    def _lexical(self, index: store.LoadedIndex, query: str, allowed: np.ndarray | None) -> list[int]:
        scores = index.lexical.scores(query)
        if allowed is not None:
            scores = np.where(allowed, scores, 0.0)
        n = min(self.candidates, len(scores))
        top = np.argpartition(-scores, n - 1)[:n] if n else np.array([], dtype=int)
        top = top[np.argsort(-scores[top], kind="stable")]
        return [int(r) for r in top if scores[r] > 0]

    def _fuse(self, index: store.LoadedIndex, dense: list[int], lexical: list[int], k: int) -> list[Hit]:
        fused = reciprocal_rank_fusion([dense, lexical])
        dense_rank = {row: r + 1 for r, row in enumerate(dense)}
        lexical_rank = {row: r + 1 for r, row in enumerate(lexical)}
        best = sorted(fused, key=lambda row: (-fused[row], row))[:k]
        return [Hit(index.chunks[row], fused[row], index.document(index.chunks[row].doc_id),
                    dense_rank.get(row), lexical_rank.get(row)) for row in best]
