"""Inputs that used to give wrong answers or lose data (the outside review of the ingest, store and queries)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.common import REPO
from index.config import MAX_NICE, settings
from index.model import Chunk
from index.retrieval import store
from index.retrieval.filters import Filters
from index.retrieval.search import QueryError, Searcher, validate_query
from ingest.__main__ import main as ingest_main
from ingest.pipeline import Ingestor
from ingest.sources import Resolver
from tests.conftest import FIXTURES, IN_PROCESS

NOTE = (FIXTURES / "notes.txt").read_bytes()


def ingest(data_dir: Path, embedder, files: list[Path], remove: set[str] = frozenset()):
    config = settings(data_dir)
    resolver = Resolver(None, config.cache / "sources", offline=True)
    return config, Ingestor(config, resolver, embedder, progress=False).run([], files, remove=remove)


def test_identical_files_under_different_names_stay_different_documents(tmp_path, embedder):
    files = []
    for name in ("a.txt", "b.txt", "c.txt"):
        (tmp_path / name).write_bytes(NOTE)
        files.append(tmp_path / name)
    config, result = ingest(tmp_path / "data", embedder, files[:2])
    assert not result.errors
    config, result = ingest(tmp_path / "data", embedder, files[2:])
    assert not result.errors
    index = store.load(config)
    assert [d["doc_id"] for d in index.manifest.documents] == ["user-a", "user-b", "user-c"]
    for doc_id in ("user-a", "user-b", "user-c"):
        chunks = [c for c in index.chunks if c.doc_id == doc_id]
        assert chunks and all(c.id.startswith(f"{doc_id}/") and c.doc_id == doc_id for c in chunks)
    hits = Searcher(config, embedder).search("battery", 5, filters=Filters(docs=("user-c",)))
    assert hits and {h.chunk.doc_id for h in hits} == {"user-c"}


def test_a_file_that_fails_leaves_the_live_documents_copy_intact(tmp_path, embedder):
    (tmp_path / "notes.txt").write_bytes(NOTE)
    config, result = ingest(tmp_path / "data", embedder, [tmp_path / "notes.txt"])
    copy = config.cache / "sources" / "user-notes.txt"
    assert not result.errors and copy.read_bytes() == NOTE
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "notes.txt").write_bytes(b"")
    _, failed = ingest(tmp_path / "data", embedder, [tmp_path / "bad" / "notes.txt"])
    assert failed.errors and copy.read_bytes() == NOTE
    (tmp_path / "bad" / "rejected.txt").write_bytes(b"")
    ingest(tmp_path / "data", embedder, [tmp_path / "bad" / "rejected.txt"])
    assert not (config.cache / "sources" / "user-rejected.txt").exists()


def test_two_files_that_would_share_a_document_id_are_refused(tmp_path, embedder):
    (tmp_path / "x").mkdir()
    paths = [tmp_path / "Zorblax Policy.txt", tmp_path / "zorblax_policy.txt", tmp_path / "x" / "zorblax-policy.txt"]
    for path in paths:
        path.write_bytes(NOTE)
    config, result = ingest(tmp_path / "data", embedder, paths)
    assert len(result.errors) == 1 and "would both become document user-zorblax-policy" in result.errors[0]
    assert all(str(p) in result.errors[0] for p in paths)
    assert store.current_build_path(config) is None


def test_removing_a_document_that_is_not_there_is_an_error(tmp_path, embedder):
    (tmp_path / "notes.txt").write_bytes(NOTE)
    _, first = ingest(tmp_path / "data", embedder, [tmp_path / "notes.txt"])
    _, result = ingest(tmp_path / "data", embedder, [], remove={"no-such-doc"})
    assert result.errors == ["--remove no-such-doc: no such document in the index"]


def test_links_out_of_the_folder_are_refused_unless_asked_for(tmp_path, capsys):
    folder = tmp_path / "docs"
    folder.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (folder / "passwd.txt").symlink_to(secret)
    code = ingest_main(["--data-dir", str(tmp_path / "data"), "--offline", "--quiet", *IN_PROCESS, str(folder)])
    assert code == 1 and "outside the folder given" in capsys.readouterr().err
    code = ingest_main(["--data-dir", str(tmp_path / "data"), "--offline", "--quiet", *IN_PROCESS,
                        str(folder / "passwd.txt")])
    assert code == 1 and "--follow-links" in capsys.readouterr().err


def test_the_ingest_runs_every_thread_below_the_priority_it_was_started_with(tmp_path):
    """In a process of its own: the priority cannot be raised back, and importing numpy has started threads."""
    script = ("import os, sys; from pathlib import Path; from ingest.__main__ import main; "
              "before = os.getpriority(os.PRIO_PROCESS, 0); code = main(sys.argv[1:]); "
              "threads = {os.getpriority(os.PRIO_PROCESS, int(t.name)) for t in Path('/proc/self/task').iterdir()}; "
              "print(code, before, *threads)")
    run = subprocess.run([sys.executable, "-c", script, "--nice", "3", "--data-dir", str(tmp_path), "--source", "none"],
                         capture_output=True, text=True, cwd=REPO, timeout=120)
    code, before, *threads = map(int, run.stdout.split())
    assert code == 1 and "unknown source none" in run.stderr  # it failed after lowering itself, as asked
    assert threads == [min(before + 3, MAX_NICE)]
    refused = subprocess.run([sys.executable, "-m", "ingest", "--nice", "20"], capture_output=True, text=True,
                             cwd=REPO, timeout=120)
    assert refused.returncode == 2 and "from 0 to 19, got '20'" in refused.stderr


@pytest.mark.parametrize("query", ["\x00", "\x00\x00 \x00", "\ud800", "?", "  ¿?!  ", "\x07\x1b"])
def test_a_query_with_nothing_searchable_is_the_empty_query_error(query):
    with pytest.raises(QueryError, match="empty"):
        validate_query(query, 10)
    assert validate_query("Article\x00 5", 10) == "Article 5"


def test_a_dimension_mismatch_names_the_dimensions(mini_index, tmp_path):
    copy = settings(tmp_path / "copy")
    shutil.copytree(mini_index.data_dir, copy.data_dir, symlinks=True)
    path = store.current_build_path(copy) / "manifest.json"
    fields = json.loads(path.read_text())
    fields["dim"] = 1000
    fields["checksum"] = store._manifest_checksum(fields)
    path.write_text(json.dumps(fields))
    with pytest.raises(store.IndexUnavailable, match=r"\[384, 384\] dimensions .* 1000 dimensions"):
        store.load(copy)


@pytest.mark.parametrize("damage", ["drop a field", "not an object", "unknown field"])
def test_a_record_that_does_not_fit_names_its_line(tmp_path, damage):
    path = tmp_path / "chunks.jsonl"
    record = Chunk("d:1", "d", "Article 1", "Article 1", "article", "", (), "t", "", "t", "", None, 0).to_record()
    bad = {"drop a field": {k: v for k, v in record.items() if k != "path"}, "not an object": [1, 2],
           "unknown field": {**record, "colour": "red"}}[damage]
    path.write_text(json.dumps(record) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(store.IndexUnavailable, match=r"chunks.jsonl line 2 is not a passage record"):
        store.read_chunks(path)
