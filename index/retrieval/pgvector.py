"""The search interface on PostgreSQL + pgvector, for when one process holding the index is no longer enough.

Embedded faiss + bm25s keeps everything in the memory of each process that
searches: right for one machine. A server engine lets several app replicas
share one copy, take writes while serving, and filter in SQL. This store takes
a build as ingest wrote it (chunks and vectors from a LoadedIndex) and answers
`search()` exactly like Searcher: dense and full-text candidates fused with the
same reciprocal rank fusion, returned as the same Hit objects, so `ask()`, the
CLI and the evaluation run on it unchanged.

Full text is PostgreSQL's own (tsvector, GIN, ts_rank), so any SQL client gets
the same lexical side; its ranking differs from BM25, which the benchmark
measures. The server: `local_server()` starts PostgreSQL 16 with pgvector from
the `pgserver` wheel, listening on a Unix socket only (no TCP port).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
from psycopg import sql

from index.law.catalog import chapter_of
from index.model import Chunk, Hit
from index.retrieval.embedder import Embedder
from index.retrieval.filters import SQL as FILTER_SQL
from index.retrieval.filters import Filters
from index.retrieval.query import understand
from index.retrieval.search import (
    Evidence,
    Mode,
    QueryError,
    SearchOptions,
    dated_hit,
    reciprocal_rank_fusion,
    validate_query,
)
from index.retrieval.store import LoadedIndex

TEXT_CONFIG = "english"  # PostgreSQL's Snowball English stemmer, like the bm25s side's PyStemmer
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
_WORD = re.compile(r"\w+")
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,40}")


@contextmanager
def local_server(folder: Path) -> Iterator[str]:
    """A PostgreSQL + pgvector server whose data lives in `folder`; yields its connection URI, stops it after."""
    import pgserver  # only this helper needs the wheel; a store can point at any PostgreSQL with pgvector

    server = pgserver.get_server(folder, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def vector_literal(vector: np.ndarray) -> str:
    """pgvector's text form; repr of each float32 widened to float64 reads back to the same float32."""
    return "[" + ",".join(map(repr, vector.astype(np.float64).tolist())) + "]"


class PgVectorStore:
    """One table of chunks (record, vector, tsvector) and one of documents; search() answers like Searcher.

    The query goes through the same glossary expansion as in Searcher (for the
    full-text side), then dense and full-text candidates are fused by
    reciprocal rank, one dense ranking per embedding model as in Searcher. Searcher's
    other steps (defined terms fed from dense to BM25, intent and language
    priors, pinning named provisions, the cross-encoder) work from per-chunk
    features held in Python; they are not ported here, so `define`, `priors`
    and `exact` are ignored and `rerank` is refused.
    """

    def __init__(self, conninfo: str, embedder: Embedder, table: str = "regkb", candidates: int = 100,
                 ef_search: int = 200) -> None:
        if not _NAME.fullmatch(table):
            raise ValueError(f"table name {table!r}: use lower-case letters, digits and _")
        self.embedder = embedder
        self.candidates = candidates
        self.chunks_table = sql.Identifier(f"{table}_chunks")
        self.documents_table = sql.Identifier(f"{table}_documents")
        self.connection = psycopg.connect(conninfo, autocommit=True)
        self._dated: bool | None = None
        # HNSW returns at most ef_search rows: below `candidates` it would cut the dense list short.
        self.connection.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(max(ef_search, candidates)),))

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> PgVectorStore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- loading ------------------------------------------------------------------------
    def load(self, index: LoadedIndex) -> None:
        """Replace both tables with this build in one transaction: readers see the old build or the new one."""
        vectors = index.dense.vectors()
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS vector")
            self._create_tables(cursor, index.manifest.dim)
            with cursor.copy(sql.SQL("COPY {} (doc_id, meta) FROM STDIN").format(self.documents_table)) as copy:
                for document in index.manifest.documents:
                    copy.write_row((document["doc_id"], json.dumps(document, ensure_ascii=False)))
            with cursor.copy(sql.SQL("COPY {} (chunk_row, doc_id, kind, chapter, valid_from, valid_to, record, "
                                     "embedding) FROM STDIN").format(self.chunks_table)) as copy:
                for row, (chunk, vector) in enumerate(zip(index.chunks, vectors)):
                    copy.write_row((row, chunk.doc_id, chunk.kind, chapter_of(chunk), chunk.valid_from, chunk.valid_to,
                                    json.dumps(chunk.to_record(), ensure_ascii=False), vector_literal(vector)))
            self._create_indexes(cursor)
        self._dated = None

    def _create_tables(self, cursor: psycopg.Cursor, dim: int) -> None:
        cursor.execute(sql.SQL("DROP TABLE IF EXISTS {}, {}").format(self.chunks_table, self.documents_table))
        cursor.execute(sql.SQL("CREATE TABLE {} (doc_id text PRIMARY KEY, meta jsonb NOT NULL)")
                       .format(self.documents_table))
        cursor.execute(sql.SQL(
            "CREATE TABLE {} (chunk_row integer PRIMARY KEY, doc_id text NOT NULL, kind text NOT NULL, chapter text NOT NULL, "
            "valid_from text NOT NULL, valid_to text NOT NULL, "
            "record jsonb NOT NULL, embedding vector({}) NOT NULL, "
            "passage_tsv tsvector GENERATED ALWAYS AS (to_tsvector({}, record->>'passage')) STORED)"
        ).format(self.chunks_table, sql.Literal(dim), sql.Literal(TEXT_CONFIG)))

    def _create_indexes(self, cursor: psycopg.Cursor) -> None:
        cursor.execute(sql.SQL("CREATE INDEX ON {} USING hnsw (embedding vector_ip_ops) WITH (m = {}, "
                               "ef_construction = {})").format(self.chunks_table, sql.Literal(HNSW_M),
                                                                sql.Literal(HNSW_EF_CONSTRUCTION)))
        cursor.execute(sql.SQL("CREATE INDEX ON {} USING gin (passage_tsv)").format(self.chunks_table))
        cursor.execute(sql.SQL("CREATE INDEX ON {} (doc_id, kind)").format(self.chunks_table))
        cursor.execute(sql.SQL("ANALYZE {}").format(self.chunks_table))

    def count(self) -> int:
        return self.connection.execute(sql.SQL("SELECT count(*) FROM {}").format(self.chunks_table)).fetchone()[0]

    # -- search -------------------------------------------------------------------------
    def search_with_evidence(self, text: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid",
                             options: SearchOptions = SearchOptions()) -> tuple[list[Hit], Evidence]:
        """Searcher's, with no judgement of closeness (no floors are measured for this engine: never "no match")."""
        return self.search(text, k, filters, mode, options), Evidence({})

    def search(self, text: str, k: int = 10, filters: Filters = Filters(), mode: Mode = "hybrid",
               options: SearchOptions = SearchOptions()) -> list[Hit]:
        """Searcher.search's signature; of its options only `expand` (glossary) and `subject` apply, see the class
        docstring."""
        if options.rerank:
            raise QueryError("reranking runs in Searcher only; PgVectorStore returns the fused ranking")
        plan = understand(validate_query(text, k), expand=options.expand, subject=options.subject)
        self._check_documents(filters)
        dense = self.dense_rankings(self.embedder.query(plan.embedded), filters) if mode != "lexical" else [[]]
        lexical = self.lexical_rows(plan.expanded, filters) if mode != "dense" else []
        return self._hits(dense, lexical, k, filters.day)

    def dense_rankings(self, vector: np.ndarray, filters: Filters = Filters()) -> list[list[int]]:
        """One ranking per embedding model (retrieval/embedder.py), the first model's first.

        One column holds the models' vectors side by side, and a model's ranking comes
        from a query whose other coordinates are zero. Exact when filtered; the HNSW
        graph, built on whole vectors, may serve such a query less well at scale (the
        reason store.DenseIndex keeps one faiss index per model), unmeasured here.
        """
        return [self.dense_rows(part.of(vector), filters) for part in self.embedder.parts]

    def dense_rows(self, vector: np.ndarray, filters: Filters = Filters()) -> list[int]:
        """Rows by inner product (cosine: vectors are normalised), best first.

        Unfiltered, the HNSW index answers. Filtered, the rows are ranked exactly:
        pgvector before 0.8 filters after the graph walk, so a selective filter
        would return fewer than `candidates` rows, or none.
        """
        template = _DENSE_FILTERED if filters or self._versioned() else _DENSE
        return self._rows(template, {"vector": vector_literal(vector), **filters.sql_params()})

    def lexical_rows(self, query: str, filters: Filters = Filters()) -> list[int]:
        """Rows matching any query word, by ts_rank: OR, like BM25, since AND would drop most long questions."""
        words = " | ".join(_WORD.findall(query.lower()))
        if not words:
            return []
        return self._rows(_LEXICAL, {"config": TEXT_CONFIG, "words": words, **filters.sql_params()})

    def _rows(self, template: str, params: dict[str, Any]) -> list[int]:
        statement = sql.SQL(template).format(table=self.chunks_table)
        return [row for (row,) in self.connection.execute(statement, {**params, "n": self.candidates})]

    def _versioned(self) -> bool:
        """Are dated wordings stored (superseded, or not yet in force)? Then the date narrows every search, and
        the exact path serves it. Asked once per table load."""
        if self._dated is None:
            self._dated = self.connection.execute(sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM {} WHERE valid_to <> '' OR valid_from <> '')")
                .format(self.chunks_table)).fetchone()[0]
        return self._dated

    def _check_documents(self, filters: Filters) -> None:
        if not filters.docs:
            return
        known = {doc for (doc,) in self.connection.execute(
            sql.SQL("SELECT doc_id FROM {}").format(self.documents_table))}
        unknown = [d for d in filters.docs if d not in known]
        if unknown:
            raise QueryError(f"unknown document {', '.join(unknown)}; known: {', '.join(sorted(known))}")

    def _hits(self, dense: list[list[int]], lexical: list[int], k: int, day: str) -> list[Hit]:
        fused = reciprocal_rank_fusion([*dense, lexical])
        best = sorted(fused, key=lambda row: (-fused[row], row))[:k]
        dense_rank = {row: r + 1 for r, row in enumerate(dense[0])}
        lexical_rank = {row: r + 1 for r, row in enumerate(lexical)}
        records = {row: (record, meta) for row, record, meta in self.connection.execute(
            sql.SQL("SELECT c.chunk_row, c.record, d.meta FROM {} c JOIN {} d USING (doc_id) WHERE c.chunk_row = ANY(%s)")
            .format(self.chunks_table, self.documents_table), (best,))}
        return [dated_hit(Chunk.from_record(records[row][0]), fused[row], records[row][1], dense_rank.get(row),
                          lexical_rank.get(row), day) for row in best]


_DENSE = "SELECT chunk_row FROM {table} ORDER BY embedding <#> %(vector)s::vector LIMIT %(n)s"
_DENSE_FILTERED = ("WITH allowed AS MATERIALIZED (SELECT chunk_row, embedding FROM {table} WHERE " + FILTER_SQL + ") "
                   "SELECT chunk_row FROM allowed ORDER BY embedding <#> %(vector)s::vector LIMIT %(n)s")
_LEXICAL = ("WITH q AS (SELECT to_tsquery(%(config)s::regconfig, %(words)s) AS query) "
            "SELECT chunk_row FROM {table}, q WHERE passage_tsv @@ q.query AND " + FILTER_SQL
            + " ORDER BY ts_rank(passage_tsv, q.query) DESC, chunk_row LIMIT %(n)s")

