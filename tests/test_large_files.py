"""Large and shapeless user files (the outside review): a size cap, chunks with a bound, progress lines.

How long a large file takes is measured by bench/large_files.py, not here.
"""

from __future__ import annotations

from dataclasses import replace
from itertools import cycle, islice
from pathlib import Path

import pytest

from index.config import settings
from index.retrieval import store
from ingest import pipeline
from ingest.__main__ import main as ingest_main
from ingest.chunking import LONGEST_SENTENCE, MAX_CHARS, chunk_units
from ingest.pipeline import Ingestor
from ingest.sources import Resolver
from ingest.structure import build_units
from ingest.text import read_blocks
from tests.conftest import FIXTURES, IN_PROCESS

NOTE = (FIXTURES / "notes.txt").read_bytes()
WORDS = "the provider shall keep the logs of the system for six months unless another law provides otherwise".split()


def words(count: int) -> str:
    """Words and spaces only: no full stop, no line break, nothing a sentence or a paragraph could end at."""
    return " ".join(islice(cycle(WORDS), count))


def chunks_of(text: str) -> list:
    blocks, _ = read_blocks(text)
    return chunk_units("user-x", "x", build_units(blocks), lambda unit: "")


def ingest(data_dir: Path, embedder, files: list[Path], max_file_mb: float | None = None, progress: bool = False):
    config = settings(data_dir)
    config = replace(config, max_file_mb=max_file_mb) if max_file_mb else config
    resolver = Resolver(None, config.cache / "sources", offline=True)
    return config, Ingestor(config, resolver, embedder, progress=progress).run([], files)


def test_a_file_over_the_cap_is_refused_and_the_live_index_and_copy_survive(tmp_path, embedder):
    (tmp_path / "notes.txt").write_bytes(NOTE)
    config, result = ingest(tmp_path / "data", embedder, [tmp_path / "notes.txt"])
    live, copy = store.current_build_path(config), config.cache / "sources" / "user-notes.txt"
    assert not result.errors and live and copy.read_bytes() == NOTE
    (tmp_path / "new").mkdir()
    bigger = tmp_path / "new" / "notes.txt"
    bigger.write_bytes(NOTE + words(30_000).encode())  # about 0.17 MB: the next version of the same document
    _, failed = ingest(tmp_path / "data", embedder, [bigger], max_file_mb=0.1)
    assert len(failed.errors) == 1
    message, size = failed.errors[0], f"{bigger.stat().st_size / pipeline.MB:.1f} MB"
    assert message.startswith(f"{bigger}: {size} is over the 0.1 MB limit")
    assert "REGKB_MAX_FILE_MB=1" in message
    assert store.current_build_path(config) == live and copy.read_bytes() == NOTE
    assert [d["doc_id"] for d in store.read_manifest(live).documents] == ["user-notes"]


def test_the_cap_comes_from_the_environment_and_the_cli_names_it(tmp_path, monkeypatch, capsys):
    big = tmp_path / "big.txt"
    big.write_text(words(40_000))
    monkeypatch.setenv("REGKB_MAX_FILE_MB", "0.05")
    assert settings(tmp_path).max_file_mb == 0.05
    code = ingest_main(["--data-dir", str(tmp_path / "data"), "--offline", "--quiet", *IN_PROCESS, str(big)])
    err, size = capsys.readouterr().err, f"{big.stat().st_size / pipeline.MB:.1f} MB"
    assert code == 1 and f"{big}: {size} is over the 0.05 MB limit" in err and "REGKB_MAX_FILE_MB=1" in err
    assert not (tmp_path / "data" / "cache" / "sources" / "user-big.txt").exists()
    monkeypatch.setenv("REGKB_MAX_FILE_MB", "lots")
    code = ingest_main(["--data-dir", str(tmp_path / "data"), "--offline", "--quiet", *IN_PROCESS, str(big)])
    assert code == 1 and "REGKB_MAX_FILE_MB='lots': not a positive number" in capsys.readouterr().err


def test_a_text_with_no_sentence_end_is_cut_into_bounded_chunks():
    text = words(20_000)
    chunks = chunks_of(text)
    assert len(chunks) > 100 and all(len(c.text) <= MAX_CHARS for c in chunks)
    assert " ".join(c.text for c in chunks) == text  # cut at spaces: nothing lost, no word split
    assert len({c.id for c in chunks}) == len(chunks)


def test_a_word_longer_than_a_chunk_is_cut_where_it_stands():
    chunks = chunks_of("x" * 5000)
    assert [len(c.text) for c in chunks] == [MAX_CHARS] * 7 + [100]


def test_a_long_sentence_of_the_law_stays_whole():
    sentence = words(250).capitalize()
    assert MAX_CHARS < len(sentence) < LONGEST_SENTENCE
    chunks = chunks_of(f"Short opening. {sentence}. Short close.")
    assert f"{sentence}." in [c.text for c in chunks]


def test_a_list_after_an_endless_intro_carries_a_bounded_lead():
    act = (f"Article 1\n\nScope\n\n{words(5_000)}\n\n(a) providers;\n\n(b) deployers of high-risk systems that are "
           f"placed on the market;\n\nArticle 2\n\nDefinitions\n\n1. Some text.")
    chunks = chunks_of(act)
    assert all(len(c.text) <= LONGEST_SENTENCE and len(c.lead) <= LONGEST_SENTENCE for c in chunks)
    assert all(len(c.passage) < LONGEST_SENTENCE + 200 for c in chunks)
    assert any("deployers of high-risk systems" in c.text for c in chunks)


@pytest.mark.parametrize("large", [True, False])
def test_a_large_file_reports_each_step_on_stderr(tmp_path, embedder, monkeypatch, capsys, large):
    monkeypatch.setattr(pipeline, "LARGE_FILE_BYTES", 1 if large else len(NOTE) + 1)
    (tmp_path / "notes.txt").write_bytes(NOTE)
    _, result = ingest(tmp_path / "data", embedder, [tmp_path / "notes.txt"], progress=True)
    chunks = result.reports[0].chunks
    err = capsys.readouterr().err
    lines = ["user-notes: parsing 0.0 MB", f"user-notes: chunks built: {chunks}",
             f"user-notes: embedding {chunks}/{chunks} chunks"]
    assert not result.errors and all((line in err) == large for line in lines)
