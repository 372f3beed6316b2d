"""Shared fixtures: real model, real faiss, real files; the real corpus behind the `slow` mark."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from index.config import PHRASINGS, Settings, settings
from index.retrieval.embedder import Embedder
from index.retrieval.search import Searcher
from ingest.pipeline import Ingestor
from ingest.sources import Resolver, load_manifest

FIXTURES = Path(__file__).parent / "fixtures"
IN_PROCESS = ("--nice", "0")  # `ingest.__main__.main` called in the test runner leaves the runner's CPU priority alone
CORPUS = Path(os.environ.get("REGKB_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))
# The questions written per provision are the real acts' (1,400 of them: a minute to embed); the fixture acts have
# none, so the small indexes go without, and the real corpus's searches (and tests/test_phrasings.py) use them.
os.environ.setdefault("REGKB_PHRASINGS", "off")


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


def make_oj_pdf(path: Path, pages: list[list[str]], footnotes: dict[int, list[str]] | None = None) -> Path:
    """An Official-Journal-like PDF: running header, ELI footer with page counter, footnotes after it."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    pdf = canvas.Canvas(str(path), pagesize=A4)
    width, height = A4
    for number, lines in enumerate(pages, start=1):
        pdf.setFont("Helvetica", 8)
        pdf.drawString(40, height - 30, "OJ L, 1.4.2099 EN")
        pdf.setFont("Helvetica", 10)
        y = height - 60
        for line in lines:
            pdf.drawString(40, y, line)
            y -= 14
        pdf.setFont("Helvetica", 8)
        pdf.drawString(40, 40, f"ELI: http://data.europa.eu/eli/reg/2099/1/oj {number}/{len(pages)}")
        for i, note in enumerate((footnotes or {}).get(number, [])):
            pdf.drawString(40, 28 - 9 * i, note)
        pdf.showPage()
    pdf.save()
    return path


def build_index(data_dir: Path, embedder: Embedder, files: list[Path] = (), mirror: Path | None = None,
                source_ids: tuple[str, ...] = ()) -> Settings:
    config = settings(data_dir)
    sources = [s for s in load_manifest() if s.id in source_ids]
    resolver = Resolver(mirror, config.cache / "sources", offline=True)
    result = Ingestor(config, resolver, embedder, progress=False).run(sources, list(files), set(source_ids))
    assert not result.errors, result.errors
    return config


@pytest.fixture(scope="session")
def mini_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Settings:
    """A small real index: the fixture act (XHTML) and a briefing note (text)."""
    return build_index(tmp_path_factory.mktemp("mini"), embedder, [FIXTURES / "mini-act.html", FIXTURES / "notes.txt"])


@pytest.fixture(scope="session")
def mini_searcher(mini_index: Settings, embedder: Embedder) -> Searcher:
    return Searcher(mini_index, embedder)


@pytest.fixture(scope="session")
def corpus() -> Path:
    if not (CORPUS / "ai-act-2024-1689-en.html").is_file():
        pytest.skip(f"real corpus not found at {CORPUS} (set REGKB_CORPUS)")
    return CORPUS


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder, corpus: Path) -> Settings:
    """The AI Act (English and French) as amended by Regulation (EU) 2026/1744, the amending act itself, the GDPR
    and the Lighthouse analysis, from the local mirror. REGKB_TEST_CORPUS_DATA names a data folder already built
    from the mirror with the default model (`python -m ingest`), to rerun the slow tests without re-embedding."""
    if built := os.environ.get("REGKB_TEST_CORPUS_DATA"):
        return replace(settings(built), phrasings=PHRASINGS)
    config = build_index(tmp_path_factory.mktemp("corpus"), embedder, mirror=corpus,
                         source_ids=("ai-act", "digital-omnibus-ai", "ai-act-fr", "gdpr", "lighthouse"))
    return replace(config, phrasings=PHRASINGS)


@pytest.fixture(scope="session")
def corpus_searcher(corpus_index: Settings, embedder: Embedder) -> Searcher:
    return Searcher(corpus_index, embedder)
