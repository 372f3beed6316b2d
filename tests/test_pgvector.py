"""PgVectorStore on a real PostgreSQL 16 + pgvector (the pgserver wheel), started in a tmp dir on a Unix socket."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

pytest.importorskip("psycopg", reason="psycopg is not installed: pip install 'psycopg[binary]' pgserver")
pytest.importorskip("pgserver", reason="pgserver (PostgreSQL + pgvector wheel) is not installed: pip install pgserver")

from index.answers.results import ask  # noqa: E402
from index.config import Settings  # noqa: E402
from index.retrieval import store  # noqa: E402 - after the skips, which explain a missing server better than an ImportError
from index.retrieval.embedder import Embedder  # noqa: E402
from index.retrieval.filters import Filters  # noqa: E402
from index.retrieval.pgvector import PgVectorStore, local_server  # noqa: E402
from index.retrieval.search import QueryError, Searcher  # noqa: E402

HEDGEHOG = "Can a mower read how hedgehogs feel?"


@pytest.fixture(scope="module")
def server_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with ExitStack() as stack:
        try:
            uri = stack.enter_context(local_server(tmp_path_factory.mktemp("pg")))
        except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
            pytest.skip(f"pgserver could not start PostgreSQL here: {error}")
        yield uri


@pytest.fixture(scope="module")
def pg_store(server_uri: str, mini_index: Settings, embedder: Embedder) -> Iterator[PgVectorStore]:
    with PgVectorStore(server_uri, embedder, table="mini") as pg:
        pg.load(store.load(mini_index))
        yield pg


def test_hybrid_search_finds_the_provision(pg_store: PgVectorStore) -> None:
    top = pg_store.search(HEDGEHOG, k=3)[0]
    assert (top.chunk.doc_id, top.chunk.unit) == ("user-mini-act", "Article 2")
    assert top.dense_rank is not None and top.lexical_rank is not None
    assert top.document["doc_id"] == "user-mini-act"


def test_dense_ranking_matches_exact_faiss(pg_store: PgVectorStore, mini_searcher: Searcher) -> None:
    """Each model's ranking, whole: HNSW with ef_search above the table's size is exact."""
    question = "fines for infringements"
    rankings = pg_store.dense_rankings(mini_searcher.embedder.query(question))
    faiss_side = mini_searcher._dense(*mini_searcher._snapshot(), question, None).rankings
    assert len(rankings) == 2 and rankings == faiss_side


def test_lexical_search_ranks_by_the_words(pg_store: PgVectorStore) -> None:
    hits = pg_store.search("lithium cells stored over winter", 3, mode="lexical")
    assert hits[0].chunk.doc_id == "user-notes" and hits[0].chunk.unit == "Battery safety"
    assert hits[0].dense_rank is None


def test_document_filter_keeps_only_that_document(pg_store: PgVectorStore) -> None:
    hits = pg_store.search(HEDGEHOG, 10, Filters(docs=("user-notes",)))
    assert hits and {h.chunk.doc_id for h in hits} == {"user-notes"}
    with pytest.raises(QueryError, match="unknown document"):
        pg_store.search(HEDGEHOG, 3, Filters(docs=("no-such-doc",)))


@pytest.mark.parametrize("filters", [
    Filters(chapters=("Chapter II",)),
    Filters(kinds=("recital",)),
    Filters(docs=("user-mini-act",), chapters=("Chapter I",)),
], ids=["chapter", "kind", "document-and-chapter"])
@pytest.mark.parametrize("mode", ["dense", "lexical", "hybrid"])
def test_every_filter_admits_the_same_chunks_on_both_engines(pg_store: PgVectorStore, mini_searcher: Searcher,
                                                             filters: Filters, mode: str) -> None:
    """One Filters, two forms (a Python test and an SQL clause): what each engine returns, the other admits."""
    question = "mowing rules and penalties"
    pg_hits = pg_store.search(question, 20, filters, mode=mode)
    faiss_hits = mini_searcher.search(question, 20, filters, mode=mode)
    assert pg_hits and faiss_hits
    assert all(filters.admits(h.chunk) for h in [*pg_hits, *faiss_hits])
    if mode == "dense":
        assert {h.chunk.id for h in pg_hits} == {h.chunk.id for h in faiss_hits}


def test_ask_groups_results_from_the_store(pg_store: PgVectorStore) -> None:
    results = ask(pg_store, HEDGEHOG, k=3)  # type: ignore[arg-type] - the store answers search() like Searcher
    assert results[0].hit.chunk.unit == "Article 2"


def test_reloading_replaces_the_rows(pg_store: PgVectorStore, mini_index: Settings) -> None:
    pg_store.load(store.load(mini_index))
    assert pg_store.count() == store.load(mini_index).manifest.chunk_count
