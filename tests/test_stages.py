"""A cold ingest serves in stages: BM25 alone, then the fast model, then every model; each stage is a real build
the searcher switches to, and a run killed between stages resumes from the models it finished."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from index.config import DEFAULT_MODEL, settings
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.progress import Coverage, Progress, clear_progress, read_progress, write_progress
from index.retrieval.search import Searcher
from ingest.pipeline import Ingestor
from ingest.sources import Resolver, Source, SourceFile
from tests.conftest import FIXTURES

FILES = [FIXTURES / "mini-act.html", FIXTURES / "notes.txt"]
QUESTION = "may a robot mower frighten hedgehogs?"
FAST, SECOND = DEFAULT_MODEL.split("+")  # MiniLM (kept to English), then E5
APP = str(Path(__file__).resolve().parents[1] / "app.py")


class Watching(Embedder):
    """The real embedder, noting what the live build serves each time a model starts on a document."""

    def __init__(self, real: Embedder, config, stop_at: str | None = None) -> None:
        super().__init__(real.model_id)
        self.__dict__["_encoders"] = real._encoders  # the models already loaded, not loaded again
        self.config, self.stop_at, self.seen = config, stop_at, []

    def model_passages(self, model: str, texts: list[str]) -> np.ndarray:
        if model == self.stop_at:
            raise KeyboardInterrupt
        if store.current_build_path(self.config) is None:
            self.seen.append((model, None, [], read_progress(self.config)))
        else:
            documents = store.load(self.config).manifest.documents
            hits = Searcher(self.config, self).search(QUESTION, k=5)
            self.seen.append((model, Coverage.of(documents, self.models).stage,
                              [h.dense_rank is not None for h in hits], read_progress(self.config)))
        return super().model_passages(model, texts)


def _ingest(config, embedder, stage_min_chunks=1):
    return Ingestor(config, Resolver(None, config.cache / "sources"), embedder, progress=False,
                    stage_min_chunks=stage_min_chunks).run([], FILES)


def test_a_cold_ingest_serves_bm25_first_then_each_model(tmp_path, embedder):
    config = settings(tmp_path / "data")
    watching = Watching(embedder, config)
    result = _ingest(config, watching)
    assert not result.errors
    stages = {model: (stage, dense, progress) for model, stage, dense, progress in watching.seen}
    stage, dense, progress = stages[FAST]
    assert stage == "lexical" and dense and not any(dense)  # BM25 answers before any vector exists
    assert progress.model == FAST and progress.later == (SECOND,) and progress.total == progress.later_chunks
    stage, dense, progress = stages[SECOND]
    assert stage == "partial" and any(dense)  # MiniLM's vectors serve while SECOND works
    assert progress.model == SECOND and progress.later == ()
    final = store.load(config)
    assert Coverage.of(final.manifest.documents, watching.models).complete
    assert all(d["embedded"] == [FAST, SECOND] for d in final.manifest.documents)
    assert read_progress(config) is None and not (config.data_dir / "progress.json").exists()


def test_staged_build_asks_only_the_models_that_embedded_it(tmp_path, embedder, mini_searcher):
    config = settings(tmp_path / "data")
    with pytest.raises(KeyboardInterrupt):
        _ingest(config, Watching(embedder, config, stop_at=SECOND))
    partial = Searcher(config, embedder)
    assert partial._snapshot()[1].coverage.to_json() == {"stage": "partial",
                                                        "missing": {SECOND: mini_searcher.index.manifest.chunk_count}}
    by_minilm, by_e5 = partial._dense(*partial._snapshot(), QUESTION, None).rankings
    complete = mini_searcher._dense(*mini_searcher._snapshot(), QUESTION, None).rankings
    assert by_e5 == [] and by_minilm[:5] == complete[0][:5]


def test_a_run_killed_between_stages_resumes_with_the_model_it_had_not_finished(tmp_path, embedder):
    config = settings(tmp_path / "data")
    with pytest.raises(KeyboardInterrupt):
        _ingest(config, Watching(embedder, config, stop_at=SECOND))
    assert read_progress(config) is None  # a killed run leaves no progress to report
    resumed = Watching(embedder, config)
    result = _ingest(config, resumed)
    assert {model for model, *_ in resumed.seen} == {SECOND}  # MiniLM's vectors came from the cache
    assert [r.status for r in result.reports] == ["built", "built"]
    assert Coverage.of(store.load(config).manifest.documents, resumed.models).complete
    assert _ingest(config, Watching(embedder, config)).changed is False  # and then nothing is left to do


def test_a_small_ingest_writes_one_build(tmp_path, embedder):
    config = settings(tmp_path / "data")
    watching = Watching(embedder, config)
    _ingest(config, watching, stage_min_chunks=10_000)
    assert [stage for _, stage, *_ in watching.seen] == [None] * len(watching.seen)  # nothing live meanwhile
    assert len(list(config.builds.iterdir())) == 1


def test_a_document_record_from_before_stages_counts_as_embedded_by_every_model():
    documents = [{"doc_id": "a", "chunks": 3}, {"doc_id": "b", "chunks": 2, "embedded": [FAST]}]
    coverage = Coverage.of(documents, (FAST, SECOND))
    assert coverage.stage == "partial" and coverage.missing == {SECOND: 2}
    assert json.loads(json.dumps(coverage.to_json())) == {"stage": "partial", "missing": {SECOND: 2}}


def test_a_model_kept_to_english_leaves_the_french_text_to_the_other(tmp_path, embedder):
    """The default keeps MiniLM (English only) off French passages: E5 embeds them, MiniLM's ranking never
    returns them, and the build is complete without MiniLM's vectors for them."""
    config = settings(tmp_path / "data")
    french = Source("mini-fr", "Loi sur les tondeuses", "Loi (FR)", "regulation", "fr",
                    (SourceFile("mini-act.html", "html"),))
    watching = Watching(embedder, config)
    result = Ingestor(config, Resolver(FIXTURES, config.cache / "sources", offline=True), watching,
                      progress=False).run([french], [FIXTURES / "notes.txt"])
    assert not result.errors, result.errors
    loaded = store.load(config)
    embedded = {d["doc_id"]: d["embedded"] for d in loaded.manifest.documents}
    assert embedded == {"mini-fr": [SECOND], "user-notes": [FAST, SECOND]}
    assert Coverage.of(loaded.manifest.documents, watching.models).complete
    assert sum(model == FAST for model, *_ in watching.seen) == 1  # one batch: the English notes alone
    searcher = Searcher(config, embedder)
    by_fast, by_second = searcher._dense(*searcher._snapshot(), "robot mower hedgehogs", None).rankings
    assert {loaded.chunks[row].doc_id for row in by_fast} == {"user-notes"}
    assert "mini-fr" in {loaded.chunks[row].doc_id for row in by_second}


def test_the_app_says_which_stage_it_serves_and_answers_meanwhile(tmp_path, embedder, monkeypatch):
    config = settings(tmp_path / "data")
    with pytest.raises(KeyboardInterrupt):
        _ingest(config, Watching(embedder, config, stop_at=SECOND))
    write_progress(config, Progress(SECOND, 10, 26, time.time() - 20, os.getpid()))  # an ingest at work
    monkeypatch.setenv("REGKB_DATA_DIR", str(config.data_dir))
    app = AppTest.from_file(APP, default_timeout=180)
    app.query_params["q"] = QUESTION
    app.run()
    assert not app.exception, app.exception
    notice = " ".join(info.value for info in app.info)
    assert f"Searching with keywords and {FAST}" in notice and "10 of 26" in notice and "left" in notice
    assert "Article 2" in " ".join(e.value for e in app.markdown)  # the answer is there meanwhile
    clear_progress(config)
    app.run()
    assert "not running" in " ".join(info.value for info in app.info)  # nobody is completing it: say so


def test_a_later_run_keeps_the_french_text_without_asking_for_minilm(tmp_path, embedder):
    config = settings(tmp_path / "data")
    french = Source("mini-fr", "Loi sur les tondeuses", "Loi (FR)", "regulation", "fr",
                    (SourceFile("mini-act.html", "html"),))
    resolver = Resolver(FIXTURES, config.cache / "sources", offline=True)
    Ingestor(config, resolver, embedder, progress=False).run([french])
    result = Ingestor(config, resolver, embedder, progress=False).run([], [FIXTURES / "notes.txt"])
    kept = next(r for r in result.reports if r.doc_id == "mini-fr")
    assert (kept.status, kept.message) == ("kept", "")
