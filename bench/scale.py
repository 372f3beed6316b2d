"""How search cost grows past the real corpus: synthetic 100k and 1M chunks, indexed as ingest would index them.

Vectors: a smoothed bootstrap of the real corpus embeddings. Each synthetic
vector is a real chunk's embedding plus Gaussian noise shaped by the corpus's
own covariance (bandwidth drawn from NOISE per vector), renormalised, so it
keeps the real anisotropy (the top 10 directions hold ~55% of the variance)
instead of the isotropy of random vectors, which would flatter no index.
Queries: the real questions and their variants, encoded by the real model,
so queries are distributed like questions, not like passages. A build keeps one
dense index per embedding model (store.DenseIndex), so each model of a combined
one ("a+b") is measured on its own, with its own vectors and queries.

Passages for BM25: stemmed tokens drawn from the real corpus's token
frequencies, lengths drawn from the real passage lengths, indexed by bm25s as
LexicalIndex.build does; tokenizing real text is timed apart (it is per
passage, so it scales linearly) to keep a 1M run within minutes.

Per size: `dense_index_for` (the type a build of that size gets) with its
build time, memory (serialized size: what a load puts in RAM), single-query
latency for the 100 candidates Searcher asks for, and recall@10 / @100 against
exact search. --compare also builds the alternatives and sweeps each one's
search knob (nprobe, efSearch): the evidence for what dense_index_for picks.

    python -m bench.scale [--quick] [--sizes 100000,1000000] [--compare]
"""

from __future__ import annotations

import argparse
import json
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, replace

import bm25s
import faiss
import numpy as np

from bench.common import MB, print_table, process_memory_mb, summarise, verdict
from bench.questions import query_set
from index.config import settings as load_settings
from index.model import Chunk
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.lexical import LexicalIndex, tokenize

SIZES = (100_000, 1_000_000)
QUICK_SIZES = (100_000,)
NOISE = (0.5, 1.0)  # bandwidth range, as a multiple of the corpus covariance's square root
CANDIDATES = 100  # what Searcher asks faiss for
EXACT_TIMED_QUERIES = 50  # exact search at 1M is ~0.3 s a query: time a sample, rank all in one batch
BLOCK = 100_000
SWEEPS = {"nprobe": (16, 32, 64, 128), "efSearch": (128, 256, 512, 1024)}
GOAL_RECALL, GOAL_P50_MS, GOAL_SIZE = 0.95, 50.0, 1_000_000


@dataclass(frozen=True)
class ModelVectors:
    """One embedding model's real vectors, what its synthetic vectors are drawn from."""
    name: str
    vectors: np.ndarray
    noise_factor: np.ndarray  # Cholesky factor of the vectors' covariance


@dataclass(frozen=True)
class Material:
    """What the synthetic data is drawn from: the real build's vectors, tokens and passage lengths."""
    models: tuple[ModelVectors, ...]
    vocabulary: np.ndarray  # object array of stemmed tokens
    frequencies: np.ndarray  # probability of each token
    lengths: np.ndarray  # tokens per real passage
    chunk_bytes: float  # RAM per loaded Chunk record
    tokenize_rate: float  # real passages tokenized per second


@dataclass(frozen=True)
class DenseRow:
    size: int
    index: str
    setting: str
    build_s: float
    mb_per_million: float
    latency: tuple[float, float]  # p50, p95 ms
    recall10: float
    recall100: float
    is_build: bool  # the index and setting a build of this size gets
    model: str = ""


@dataclass(frozen=True)
class LexicalRow:
    size: int
    index_s: float
    latency: tuple[float, float]
    mb_per_million: float
    vocabulary: int


# -- the real material --------------------------------------------------------------------------------------------
def real_material(loaded: store.LoadedIndex) -> Material:
    models = tuple(model_vectors(name, store.stored_vectors(index))
                   for name, index in zip(loaded.manifest.model_id.split("+"), loaded.dense.parts, strict=True))
    passages = [c.passage for c in loaded.chunks]
    started = time.perf_counter()
    tokens = [tokenize(p) for p in passages]
    rate = len(passages) / (time.perf_counter() - started)
    counts = Counter(t for doc in tokens for t in doc)
    vocabulary = np.array(list(counts), dtype=object)
    frequencies = np.array([counts[t] for t in vocabulary], dtype=np.float64)
    return Material(models, vocabulary, frequencies / frequencies.sum(), np.array([max(1, len(d)) for d in tokens]),
                    chunk_record_bytes(loaded), rate)


def model_vectors(name: str, vectors: np.ndarray) -> ModelVectors:
    vectors = unit_rows(vectors)
    covariance = np.cov(vectors.T.astype(np.float64)) + 1e-6 * np.eye(vectors.shape[1])
    return ModelVectors(name, vectors, np.linalg.cholesky(covariance).astype(np.float32))


def chunk_record_bytes(loaded: store.LoadedIndex) -> float:
    """RAM per Chunk as store.load holds them (every build keeps all chunk records in memory)."""
    lines = (loaded.path / "chunks.jsonl").read_text(encoding="utf-8").splitlines()
    tracemalloc.start()
    records = [Chunk.from_record(json.loads(line)) for line in lines]
    held, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return held / len(records)


# -- synthetic data -----------------------------------------------------------------------------------------------
def synthetic_vectors(material: ModelVectors, size: int, rng: np.random.Generator) -> np.ndarray:
    blocks = []
    for start in range(0, size, BLOCK):
        count = min(BLOCK, size - start)
        parents = material.vectors[rng.integers(0, len(material.vectors), count)]
        scale = rng.uniform(*NOISE, size=(count, 1)).astype(np.float32)
        noisy = parents + scale * (rng.standard_normal((count, parents.shape[1]), dtype=np.float32)
                                   @ material.noise_factor.T)
        blocks.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    return np.ascontiguousarray(np.concatenate(blocks), dtype=np.float32)


def synthetic_passages(material: Material, size: int, rng: np.random.Generator) -> list[list[str]]:
    lengths = rng.choice(material.lengths, size)
    tokens = material.vocabulary[rng.choice(len(material.vocabulary), int(lengths.sum()), p=material.frequencies)]
    return [part.tolist() for part in np.split(tokens, np.cumsum(lengths)[:-1])]


# -- dense --------------------------------------------------------------------------------------------------------
def alternatives(size: int) -> list[str]:
    """Index factory strings dense_index_for was chosen among, for --compare."""
    lists = store.ivf_lists(size)
    return [f"IVF{lists},Flat", f"IVF{lists},SQ8", "HNSW32"]


def build_alternative(vectors: np.ndarray, description: str) -> faiss.Index:
    index = faiss.index_factory(vectors.shape[1], description, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        store.train_ivf(index, vectors)
    index.add(vectors)
    return index


def describe(index: faiss.Index) -> str:
    """The factory string of an index dense_index_for or build_alternative made."""
    if isinstance(index, faiss.IndexIVFFlat):
        return f"IVF{index.nlist},Flat"
    if isinstance(index, faiss.IndexIVFScalarQuantizer):
        return f"IVF{index.nlist},SQ8"
    if isinstance(index, faiss.IndexHNSW):
        return f"HNSW{index.hnsw.nb_neighbors(1)}"
    return "Flat (exact)"


def search_times(index: faiss.Index, queries: np.ndarray) -> tuple[np.ndarray, list[float]]:
    """One query at a time, as Searcher sends them; rows and milliseconds."""
    rows, times = [], []
    for query in queries:
        started = time.perf_counter()
        _, found = index.search(query.reshape(1, -1), CANDIDATES)
        times.append((time.perf_counter() - started) * 1000)
        rows.append(found[0])
    return np.array(rows), times


def recall(found: np.ndarray, truth: np.ndarray, k: int) -> float:
    return float(np.mean([len(set(f[:k]) & set(t[:k])) / k for f, t in zip(found, truth)]))


def knob(index: faiss.Index) -> tuple[str, int] | None:
    """The search-time parameter of an approximate index and the value it was built with."""
    ivf = faiss.try_extract_index_ivf(index)
    if ivf is not None:
        return "nprobe", int(ivf.nprobe)
    return ("efSearch", int(index.hnsw.efSearch)) if isinstance(index, faiss.IndexHNSW) else None


def measure_index(size: int, name: str, index: faiss.Index, build_s: float, queries: np.ndarray,
                  truth: np.ndarray, sweep: bool) -> list[DenseRow]:
    """The auto index at the setting the build writes (marked *), and each knob setting of the sweep."""
    mb = faiss.serialize_index(index).nbytes / MB * (1_000_000 / size)
    parameter, built = knob(index) or (None, None)
    is_auto = name.startswith("auto")
    values = sorted({*SWEEPS[parameter], *([built] if is_auto else [])}) if sweep and parameter else [built]
    rows = []
    for value in values:
        if parameter:
            faiss.ParameterSpace().set_index_parameter(index, parameter, value)
        found, times = search_times(index, queries)
        stats = summarise(times)
        is_build = is_auto and value == built
        setting = (f"{parameter}={value}" if parameter else "-") + (" *" if is_build else "")
        rows.append(DenseRow(size, name, setting, build_s, mb, (stats.median, stats.p95), recall(found, truth, 10),
                             recall(found, truth, CANDIDATES), is_build))
    if parameter:
        faiss.ParameterSpace().set_index_parameter(index, parameter, built)
    return rows


def dense_rows(size: int, vectors: np.ndarray, queries: np.ndarray, compare: bool) -> tuple[list[DenseRow], float]:
    """Rows for the index a build of this size gets (and the alternatives), and the queries' median top-1 cosine."""
    started = time.perf_counter()
    auto = store.dense_index_for(vectors)
    auto_s = time.perf_counter() - started
    exact, exact_s = auto, auto_s
    if not isinstance(auto, faiss.IndexFlatIP):
        started = time.perf_counter()
        exact = faiss.IndexFlatIP(vectors.shape[1])
        exact.add(vectors)
        exact_s = time.perf_counter() - started
    scores, truth = exact.search(queries, CANDIDATES)
    sample = slice(0, EXACT_TIMED_QUERIES)
    name = "auto: " + describe(auto) if exact is auto else describe(exact)
    rows = measure_index(size, name, exact, exact_s, queries[sample], truth[sample], sweep=False)
    if exact is not auto:
        rows += measure_index(size, f"auto: {describe(auto)}", auto, auto_s, queries, truth, compare)
    for description in alternatives(size) if compare else []:
        if description != describe(auto):
            started = time.perf_counter()
            index = build_alternative(vectors, description)
            rows += measure_index(size, description, index, time.perf_counter() - started, queries, truth, True)
            del index
    return rows, float(np.median(scores[:, 0]))


# -- lexical ------------------------------------------------------------------------------------------------------
def lexical_row(size: int, passages: list[list[str]], texts: list[str]) -> LexicalRow:
    started = time.perf_counter()
    retriever = bm25s.BM25()
    retriever.index(passages, show_progress=False)
    index_s = time.perf_counter() - started
    lexical = LexicalIndex(retriever)
    times = []
    for text in texts:
        started = time.perf_counter()
        scores = lexical.scores(text)
        np.argpartition(-scores, CANDIDATES - 1)[:CANDIDATES]
        times.append((time.perf_counter() - started) * 1000)
    stats = summarise(times)
    held = sum(a.nbytes for a in retriever.scores.values() if isinstance(a, np.ndarray))
    return LexicalRow(size, index_s, (stats.median, stats.p95), held / MB * (1_000_000 / size),
                      len(retriever.vocab_dict))


# -- report -------------------------------------------------------------------------------------------------------
def report(dense: list[DenseRow], lexical: list[LexicalRow], material: Material,
           top1: dict[tuple[str, int], float]) -> None:
    print_table(f"Dense search, each model's index: one query at a time, {CANDIDATES} candidates (as Searcher "
                "asks), recall against exact search; * = the setting the build writes",
                ("model", "size", "index", "setting", "build s", "MB per 1M", "p50 ms", "p95 ms", "recall@10",
                 "recall@100"),
                [(r.model, r.size, r.index, r.setting, r.build_s, r.mb_per_million, *r.latency, f"{r.recall10:.3f}",
                  f"{r.recall100:.3f}") for r in dense])
    print_table("BM25 (bm25s) over synthetic passages, scores + top-100 per query (tokenizing the query included)",
                ("size", "index s", "p50 ms", "p95 ms", "MB per 1M", "vocabulary"),
                [(r.size, r.index_s, *r.latency, r.mb_per_million, r.vocabulary) for r in lexical])
    for model in material.models:
        real = len(model.vectors)
        print(f"realism, {model.name}: median top-1 cosine of the queries: real corpus ({real:,}) "
              f"{top1[model.name, real]:.3f}; " + ", ".join(f"{n:,}: {c:.3f}" for (name, n), c in top1.items()
                                                          if name == model.name and n != real))
    print(f"tokenizing passages (not in 'index s'): {material.tokenize_rate:,.0f} passages/s, "
          f"{1_000_000 / material.tokenize_rate / 60:.1f} min per 1M")
    print(f"chunk records held in RAM by store.load: {material.chunk_bytes * 1_000_000 / MB:,.0f} MB per 1M chunks")
    print(f"process peak RSS: {process_memory_mb()[1]:,.0f} MB")
    _print_goal([r for r in dense if r.size == GOAL_SIZE and r.is_build], lexical, material)


def _print_goal(rows: list[DenseRow], lexical: list[LexicalRow], material: Material) -> None:
    if not rows:
        return
    for row in rows:
        print(f"goal at 1M, {row.model}: recall@10 >= {GOAL_RECALL}: {row.recall10:.3f}, "
              f"{verdict(row.recall10 >= GOAL_RECALL)}; p50 <= {GOAL_P50_MS:.0f} ms: {row.latency[0]:.1f} ms, "
              f"{verdict(row.latency[0] <= GOAL_P50_MS)}")
    dense = sum(row.mb_per_million for row in rows)
    bm25 = next((r.mb_per_million for r in lexical if r.size == GOAL_SIZE), 0.0)
    records = material.chunk_bytes * 1_000_000 / MB
    print(f"memory per 1M chunks: dense {dense:,.0f} MB + BM25 {bm25:,.0f} MB + chunk records "
          f"{records:,.0f} MB = {dense + bm25 + records:,.0f} MB")


def unit_rows(vectors: np.ndarray) -> np.ndarray:
    """A model's part of combined vectors, back to unit length (split keeps the combination's scale)."""
    return np.ascontiguousarray(vectors / np.linalg.norm(vectors, axis=-1, keepdims=True), dtype=np.float32)


def median_top1(vectors: np.ndarray, queries: np.ndarray) -> float:
    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    scores, _ = index.search(queries, 1)
    return float(np.median(scores))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="the real build to draw from (default: $REGKB_DATA_DIR or ./data)")
    parser.add_argument("--quick", action="store_true", help=f"only {QUICK_SIZES[0]:,} (a CI smoke run)")
    parser.add_argument("--sizes", help="comma-separated sizes (default: 100000,1000000)")
    parser.add_argument("--compare", action="store_true", help="also build the alternatives and sweep their knobs")
    args = parser.parse_args(argv)
    sizes = QUICK_SIZES if args.quick else tuple(int(s) for s in args.sizes.split(",")) if args.sizes else SIZES
    config = load_settings(args.data_dir)
    loaded = store.load(config)
    material = real_material(loaded)
    texts = query_set()
    embedder = Embedder(config.model)
    queries = [unit_rows(part) for part in embedder.split(embedder.queries(texts))]
    rng = np.random.default_rng(0)
    dense, lexical = [], []
    top1 = {(m.name, len(m.vectors)): median_top1(m.vectors, q) for m, q in zip(material.models, queries)}
    for size in sizes:
        for model, model_queries in zip(material.models, queries):
            vectors = synthetic_vectors(model, size, rng)
            rows, top1[model.name, size] = dense_rows(size, vectors, model_queries, args.compare)
            dense += [replace(row, model=model.name) for row in rows]
            del vectors
        lexical.append(lexical_row(size, synthetic_passages(material, size, rng), texts))
    report(dense, lexical, material, top1)


if __name__ == "__main__":
    main()
