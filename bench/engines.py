"""Embedded faiss + bm25s against PostgreSQL + pgvector, on the real index, with the same queries and encoder.

The server is PostgreSQL 16 + pgvector from the pgserver wheel, started in a
temporary folder on a Unix socket. Three views of the same work:
candidates only (query vectors encoded beforehand, so only the engines are
timed), search() end to end (encoding, candidates, fusion, Hit objects), and
retrieval quality on the 141 questions, because ts_rank is not BM25 (and
the store skips Searcher's priors and pinning: a "fusion only" Searcher row
separates the two effects).
Each query goes to both engines back to back, in alternating order.

    python -m bench.engines [--data-dir DIR] [--limit N]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.common import MB, print_table, summarise
from bench.questions import QUESTION_FILES, query_set
from index.answers.results import ask
from index.config import settings as load_settings
from index.evaluate import evaluate, load_questions, summary
from index.retrieval.filters import Filters
from index.retrieval.pgvector import PgVectorStore, local_server
from index.retrieval.search import Searcher, SearchOptions

CANDIDATES = 100
ENGINES = ("faiss", "pgvector")
# what PgVectorStore does: glossary, then RRF
FUSION_ONLY = SearchOptions(priors=False, exact=False, define=False, lend=False, defer=False)


@dataclass(frozen=True)
class Operation:
    name: str
    faiss: Callable[[int], object]  # query number -> result
    pgvector: Callable[[int], object]


def operations(searcher: Searcher, pg: PgVectorStore, texts: list[str], vectors: np.ndarray) -> list[Operation]:
    loaded = searcher.index
    only = Filters(docs=(_filter_document(searcher),))
    return [
        Operation("dense candidates", lambda i: loaded.dense.search(searcher.embedder.split(vectors[i]), CANDIDATES),
                  lambda i: pg.dense_rankings(vectors[i])),
        Operation("lexical candidates", lambda i: np.argpartition(-loaded.lexical.scores(texts[i]), CANDIDATES),
                  lambda i: pg.lexical_rows(texts[i])),
        Operation("search() hybrid k=10", lambda i: searcher.search(texts[i]), lambda i: pg.search(texts[i])),
        Operation(f"search() hybrid, doc={only.docs[0]}", lambda i: searcher.search(texts[i], filters=only),
                  lambda i: pg.search(texts[i], filters=only)),
    ]


def _filter_document(searcher: Searcher) -> str:
    known = [d["doc_id"] for d in searcher.index.manifest.documents]
    return "gdpr" if "gdpr" in known else known[0]


def time_operations(ops: list[Operation], count: int) -> dict[tuple[str, str], list[float]]:
    times: dict[tuple[str, str], list[float]] = {(op.name, e): [] for op in ops for e in ENGINES}
    for number in range(count):
        for op in ops:
            for engine in ENGINES if number % 2 else reversed(ENGINES):
                started = time.perf_counter()
                getattr(op, engine)(number)
                times[op.name, engine].append((time.perf_counter() - started) * 1000)
    return times


def dense_agreement(searcher: Searcher, pg: PgVectorStore, vectors: np.ndarray) -> float:
    """Recall@10 of pgvector's HNSW against faiss (exact at this size), over each model's rankings."""
    pairs = [(found, exact) for v in vectors for found, exact in
             zip(pg.dense_rankings(v), searcher.index.dense.search(searcher.embedder.split(v), 10))]
    return float(np.mean([len(set(found[:10]) & set(exact)) / 10 for found, exact in pairs]))


def quality(engine: Searcher | PgVectorStore, options: SearchOptions = SearchOptions()) -> dict[str, float]:
    questions = [q for path in QUESTION_FILES for q in load_questions(path)]

    def top_hits(question: str) -> list:
        return [r.hit for r in ask(engine, question, 10, options=options)]  # type: ignore[arg-type] - duck-typed

    return summary(evaluate(questions, top_hits, 10))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.engines", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="index location (default: $REGKB_DATA_DIR or ./data)")
    parser.add_argument("--limit", type=int, help="time only the first N queries (default: all 423)")
    args = parser.parse_args(argv)
    searcher = Searcher(load_settings(args.data_dir))
    texts = query_set()[:args.limit]
    vectors = searcher.embedder.queries(texts)
    with tempfile.TemporaryDirectory(prefix="regkb-pg-") as folder, local_server(Path(folder)) as uri, \
            PgVectorStore(uri, searcher.embedder) as pg:
        started = time.perf_counter()
        pg.load(searcher.index)
        load_s = time.perf_counter() - started
        table_mb = pg.connection.execute("SELECT pg_total_relation_size('regkb_chunks')").fetchone()[0] / MB
        ops = operations(searcher, pg, texts, vectors)
        time_operations(ops, min(10, len(texts)))  # warm-up: page the index in, let PostgreSQL cache its plans
        times = time_operations(ops, len(texts))
        agreement = dense_agreement(searcher, pg, vectors)
        scores = {"faiss, full Searcher": quality(searcher),
                  "faiss, fusion only (as pgvector)": quality(searcher, FUSION_ONLY), "pgvector": quality(pg)}
    _report(times, ops, len(texts), searcher.index.manifest.chunk_count, load_s, table_mb, agreement, scores)


def _report(times: dict[tuple[str, str], list[float]], ops: list[Operation], count: int, chunks: int,
            load_s: float, table_mb: float, agreement: float, scores: dict[str, dict[str, float]]) -> None:
    rows = []
    for op in ops:
        local, server = summarise(times[op.name, "faiss"]), summarise(times[op.name, "pgvector"])
        rows.append((op.name, local.median, local.p95, server.median, server.p95,
                     f"{server.median / local.median:.1f}x"))
    print_table(f"faiss + bm25s vs PostgreSQL 16 + pgvector, {count} queries, {chunks:,} chunks (ms)",
                ("operation", "faiss p50", "faiss p95", "pg p50", "pg p95", "pg/faiss p50"), rows)
    print_table("retrieval quality on the 141 questions (ask, k=10)",
                ("engine", "recall@1", "recall@5", "recall@10", "mrr@10"),
                [(e, *(f"{s[m]:.3f}" for m in ("recall@1", "recall@5", "recall@10", "mrr@10")))
                 for e, s in scores.items()])
    print(f"pgvector load (COPY + HNSW + GIN + ANALYZE): {load_s:.1f} s; table with indexes: {table_mb:.0f} MB; "
          f"dense recall@10 of pgvector HNSW vs faiss exact: {agreement:.3f}")


if __name__ == "__main__":
    main()
