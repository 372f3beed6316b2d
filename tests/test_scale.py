"""The dense index follows the build's size: exact when small, IVF above EXACT_LIMIT with recall@10 >= 0.95.

20k synthetic clustered vectors stand in for a large build (bench/scale.py measures 100k and 1M);
EXACT_LIMIT is lowered so that 20k counts as large and the test stays within seconds.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import faiss
import numpy as np
import pytest

from index.config import settings
from index.model import Chunk
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.filters import Filters
from index.retrieval.search import Searcher

DIM = 384
SIZE = 20_000


def clustered_vectors(count: int, seed: int, dim: int = DIM) -> np.ndarray:
    """Unit vectors around 200 fixed centres, each about 0.7 cosine from its centre, as embeddings cluster by topic."""
    centres = np.random.default_rng(0).standard_normal((200, dim))
    rng = np.random.default_rng(seed)
    points = centres[rng.integers(0, len(centres), count)] + rng.standard_normal((count, dim))
    return np.ascontiguousarray(points / np.linalg.norm(points, axis=1, keepdims=True), dtype=np.float32)


def recall_at_10(index: faiss.Index, vectors: np.ndarray, queries: np.ndarray) -> float:
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    _, truth = exact.search(queries, 10)
    _, found = index.search(queries, 100)  # Searcher asks for 100 candidates
    return float(np.mean([len(set(f[:10]) & set(t)) / 10 for f, t in zip(found, truth)]))


@pytest.fixture(scope="module")
def vectors() -> np.ndarray:
    return clustered_vectors(SIZE, seed=1)


def test_builds_up_to_the_limit_are_exact(vectors: np.ndarray) -> None:
    assert SIZE <= store.EXACT_LIMIT
    assert isinstance(store.dense_index_for(vectors), faiss.IndexFlatIP)


def test_builds_above_the_limit_are_ivf_with_high_recall(vectors: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EXACT_LIMIT", SIZE // 2)
    index = store.dense_index_for(vectors)
    assert isinstance(index, faiss.IndexIVFFlat)
    assert (index.nlist, index.nprobe) == (store.ivf_lists(SIZE), store.IVF_PROBES)
    reloaded = faiss.deserialize_index(faiss.serialize_index(index))  # what store.load gets back from dense.faiss
    assert reloaded.nprobe == store.IVF_PROBES
    assert recall_at_10(reloaded, vectors, clustered_vectors(200, seed=2)) >= 0.95


def test_filtered_search_on_an_ivf_build(tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EXACT_LIMIT", SIZE // 2)
    config = settings(tmp_path)
    template = Chunk("", "", "", "", "article", "", (), "", "", "", "", None, 0)
    chunks = [replace(template, id=f"c{i}", doc_id="even" if i % 2 else "odd", unit=f"Article {i}",
                      label=f"Article {i}", text=f"provision {i}", passage=f"provision number {i}", order=i)
              for i in range(SIZE)]
    documents = [{"doc_id": d, "title": d, "chunks": SIZE // 2} for d in ("even", "odd")]
    store.write_build(config, chunks, clustered_vectors(SIZE, seed=1, dim=embedder.dim), documents, embedder.model_id,
                      embedder.dims)
    hits = Searcher(config, embedder).search("provision number 7", 5, Filters(docs=("even",)))
    assert hits and {h.chunk.doc_id for h in hits} == {"even"}
