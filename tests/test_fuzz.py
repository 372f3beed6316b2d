"""Property tests: malformed documents and arbitrary queries end in a result or a documented error, quickly.

The documented errors are `eurlex.NotEurLex`, `pdf.UnreadablePdf`, `text.EmptyText`
(a file that cannot be read) and `QueryError` (a question that cannot be asked);
anything else escaping, or a call outliving its deadline, is a bug. Each call
runs under a hard alarm as well as Hypothesis' deadline, because a deadline is
only checked once a call returns and so cannot stop a hang. Example counts are
modest so the suite stays fast; REGKB_FUZZ_EXAMPLES=5000 fuzzes deeper.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import cache
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from index.api import ApiConfig, create_app
from index.retrieval.search import MAX_QUERY_CHARS, QueryError, Searcher, validate_query
from ingest import eurlex, pdf, text
from ingest.model import Block, Unit
from ingest.structure import build_units
from tests.conftest import FIXTURES, make_oj_pdf

HANG_SECONDS = 10
EXAMPLES = int(os.environ.get("REGKB_FUZZ_EXAMPLES", "60"))
PARSERS = settings(max_examples=EXAMPLES, deadline=timedelta(seconds=3), suppress_health_check=[HealthCheck.too_slow])
QUERIES = settings(max_examples=max(1, EXAMPLES * 2 // 3), deadline=timedelta(seconds=5),
                   suppress_health_check=[HealthCheck.too_slow])

# Words that switch the structure builder between states, mixed into otherwise random text.
LEGAL = ["Article 1", "Article 2", "Article 3", "Article premier", "ANNEX", "ANNEX I", "ANNEX II", "ANNEXE",
         "CHAPTER I", "CHAPTER II", "CHAPITRE I", "SECTION 1", "Section A", "Part 2", "Whereas:",
         "considérant ce qui suit:", "HAVE ADOPTED THIS REGULATION:", "ONT ADOPTÉ LE PRÉSENT RÈGLEMENT",
         "Done at Brussels", "Fait à Bruxelles", "(1)", "(2)", "(a)", "(b)", "(z)", "(aa)", "(i)", "(ii)", "(iv)",
         "1.", "2.", "a)", "—", "1/3", "2/3", "3/3", "OJ L, 1.4.2099 EN", "10^25", "Definitions", ":"]
CLASSES = ["oj-normal", "normal", "oj-ti-art", "ti-art", "oj-sti-art", "oj-ti-section-1", "oj-ti-section-2",
           "oj-doc-ti", "ti-grseq-1", "oj-note", "oj-super", "oj-hd-date", "eli-container", "eli-subdivision"]
TAGS = ["p", "div", "span", "table", "tbody", "tr", "td", "h1", "h3", "a", "script", "style", "head", "br", "b"]


class Hang(Exception):
    """A parser or a search that did not return within HANG_SECONDS."""


@contextmanager
def hard_deadline(seconds: float = HANG_SECONDS) -> Iterator[None]:
    def expire(*_: object) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def wordy_text(max_size: int = 60) -> st.SearchStrategy[str]:
    """Random Unicode, legal structure words, or both glued together."""
    return st.one_of(st.text(max_size=max_size), st.sampled_from(LEGAL),
                     st.builds(" ".join, st.lists(st.one_of(st.sampled_from(LEGAL), st.text(max_size=12)), max_size=6)))


def assert_units(blocks: list[Block], language: str = "en") -> None:
    units = build_units(blocks, language)
    assert all(isinstance(u, Unit) and u.label and u.unit for u in units)


# -- EUR-Lex XHTML --------------------------------------------------------------------------


@st.composite
def html_element(draw: st.DrawFn, depth: int = 0) -> str:
    tag = draw(st.sampled_from(TAGS))
    attributes = f' class="{draw(st.sampled_from(CLASSES))}"' if draw(st.booleans()) else ""
    if draw(st.booleans()):
        attributes += f' id="{draw(st.sampled_from(["art_1", "ntc1-X", "rct_1", "anx_I"]))}"'
    children = draw(st.lists(html_element(depth + 1), max_size=2)) if depth < 3 else []
    words = draw(wordy_text()).replace("<", "&lt;")
    closing = "" if draw(st.integers(0, 9)) == 0 else f"</{tag}>"  # now and then left open, as in the wild
    return f"<{tag}{attributes}>{words}{''.join(children)}{closing}"


@st.composite
def html_bytes(draw: st.DrawFn) -> bytes:
    body = "".join(draw(st.lists(html_element(), max_size=6)))
    page = f"<html><body><div class=\"eli-container\">{body}</div></body></html>".encode(
        draw(st.sampled_from(["utf-8", "utf-16", "latin-1"])), errors="replace")
    return mutate(draw, page)


def mutate(draw: st.DrawFn, data: bytes) -> bytes:
    """Truncate, flip bytes or splice junk into otherwise well-formed bytes."""
    for _ in range(draw(st.integers(0, 3))):
        where = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["truncate", "flip", "splice", "delete"]))
        if action == "truncate":
            data = data[:where]
        elif action == "flip" and where < len(data):
            data = data[:where] + bytes([data[where] ^ draw(st.integers(1, 255))]) + data[where + 1:]
        elif action == "splice":
            data = data[:where] + draw(st.binary(max_size=40)) + data[where:]
        else:
            data = data[:where] + data[where + draw(st.integers(1, 200)):]
    return data


@PARSERS
@given(st.one_of(html_bytes(), st.binary(max_size=400)))
def test_eurlex_reader_takes_any_bytes(data):
    with hard_deadline():
        try:
            blocks = eurlex.read_blocks(data)
        except eurlex.NotEurLex as error:
            assert str(error)
            return
        assert_units(blocks)


def test_the_fixture_act_survives_every_truncation_point():
    act = (FIXTURES / "mini-act.html").read_bytes()
    for end in range(0, len(act), max(1, len(act) // 150)):
        with hard_deadline():
            try:
                assert_units(eurlex.read_blocks(act[:end]))
            except eurlex.NotEurLex:
                pass


# -- PDF -----------------------------------------------------------------------------------------


@cache
def sample_pdf() -> bytes:
    """An Official-Journal-like PDF, made once per run (reportlab writes it in a temporary folder)."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        pages = [["Article 1", "Subject matter", "1. This Regulation lays down rules on robot lawnmowers.",
                  "(a) mowing at night;", "(b) mowing near hedgehogs."],
                 ["Article 2", "Scope", "1. It applies to operators.", "2. It applies from 2100."],
                 ["ANNEX I", "High-risk mowers", "1. Mowers in public parks."]]
        path = make_oj_pdf(Path(folder) / "act.pdf", pages, {1: ["(1) OJ C 1, 1.1.2099, p. 1."]})
        return path.read_bytes()


@st.composite
def pdf_bytes(draw: st.DrawFn) -> bytes:
    return mutate(draw, sample_pdf())


@PARSERS
@given(st.one_of(pdf_bytes(), st.binary(max_size=300).map(lambda junk: b"%PDF-1.4\n" + junk)))
def test_pdf_reader_takes_any_bytes(data):
    with hard_deadline():
        try:
            blocks, pages = pdf.read_blocks(data)
        except pdf.UnreadablePdf as error:
            assert str(error)
            return
        assert pages >= 1 and all(b.page for b in blocks)
        assert_units(blocks)


def test_the_sample_pdf_reads_whole():
    blocks, pages = pdf.read_blocks(sample_pdf())
    assert pages == 3 and {"Article 1(1)(a)", "Article 2(2)"} <= {u.label for u in build_units(blocks)}


# -- plain text and Markdown ------------------------------------------------------------------


@PARSERS
@given(st.lists(st.one_of(wordy_text(), st.just(""), st.sampled_from(["# Heading", "## **Bold** [link](#x)", "12/40"])),
                max_size=40).map("\n".join), st.sampled_from(["en", "fr", "de"]))
def test_text_reader_takes_any_text(document, language):
    with hard_deadline():
        try:
            blocks, _ = text.read_blocks(document)
        except text.EmptyText:
            assert not document.strip()
            return
        assert_units(blocks, language)


@PARSERS
@given(st.lists(st.builds(Block, kind=st.sampled_from(["heading", "text", "item", "line"]), text=wordy_text(),
                          marker=st.one_of(st.none(), st.sampled_from(LEGAL), st.text(max_size=4)),
                          depth=st.integers(0, 4), page=st.one_of(st.none(), st.integers(1, 500))), max_size=60))
def test_structure_builder_takes_any_block_stream(blocks):
    with hard_deadline():
        assert_units(blocks)
        assert_units(blocks, "fr")


# -- queries -------------------------------------------------------------------------------------


@QUERIES
@given(st.text(max_size=MAX_QUERY_CHARS + 50), st.integers(-10, 200))
def test_validate_query_accepts_or_explains(question, k):
    try:
        cleaned = validate_query(question, k)
    except QueryError as error:
        assert str(error)
        return
    assert cleaned == " ".join(cleaned.split()) and 0 < len(cleaned) <= MAX_QUERY_CHARS


@QUERIES
@given(question=st.one_of(st.text(max_size=MAX_QUERY_CHARS + 20), wordy_text()), k=st.integers(-2, 120))
def test_search_answers_any_unicode_or_explains(mini_searcher: Searcher, question, k):
    with hard_deadline():
        try:
            hits = mini_searcher.search(question, k)
        except QueryError as error:
            assert str(error)
            return
    assert len(hits) <= k and all(h.chunk.doc_id in {"user-mini-act", "user-notes"} for h in hits)


@pytest.fixture(scope="module")
def api(mini_index, embedder) -> TestClient:
    return TestClient(create_app(mini_index, ApiConfig(), embedder))


def printable(max_size: int) -> st.SearchStrategy[str]:
    """Any Unicode a URL can carry (UTF-8 cannot encode lone surrogates)."""
    return st.text(st.characters(exclude_categories=("Cs",)), max_size=max_size)


@QUERIES
@given(q=st.one_of(printable(MAX_QUERY_CHARS + 20), wordy_text()),
       k=st.one_of(st.integers(-5, 80).map(str), printable(4)),
       doc=st.lists(st.one_of(printable(20), st.just("user-notes")), max_size=2))
def test_the_api_never_answers_bad_input_with_a_500(api, q, k, doc):
    response = api.get("/search", params={"q": q, "k": k, "doc": doc})
    assert response.status_code in {200, 400}, response.text
    assert ("results" if response.status_code == 200 else "error") in response.json()


@QUERIES
@given(st.binary(max_size=60), st.binary(max_size=60))
def test_the_api_takes_any_bytes_in_a_provision_path(api, doc_id, label):
    quoted = "/".join("".join(f"%{b:02X}" for b in part) for part in (doc_id, label))
    response = api.get(f"/units/{quoted}")
    assert response.status_code in {200, 400, 404}, response.text
    assert response.json()
