"""Parsing into citable units, on small fixtures written for these tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest import eurlex, pdf, text
from ingest.chunking import chunk_units
from ingest.structure import build_units
from tests.conftest import FIXTURES, make_oj_pdf


@pytest.fixture(scope="module")
def act() -> dict[str, object]:
    units = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    return {u.label: u for u in units}


def test_xhtml_labels_down_to_points(act):
    assert {"Recital 1", "Recital 2", "Article 1(1)", "Article 1(2)", "Article 2(1)(a)", "Article 2(1)(b)",
            "Article 2(2)", "Article 3(1)", "Article 3(2)", "Annex I", "Annex I, point 1(a)"} <= set(act)


def test_points_keep_the_sentence_that_introduces_them(act):
    point = act["Article 2(1)(b)"]
    assert point.lead == "1. The following mowing practices shall be prohibited:"
    assert point.text.startswith("(b) the use of a lawnmower that infers the emotions of hedgehogs")
    assert "(i) the hedgehog is asleep;" in point.text and "(ii) the hedgehog is a juvenile." in point.text


def test_hierarchy_titles_and_anchors(act):
    point = act["Article 2(1)(a)"]
    assert point.path == ("Chapter II — Prohibited mowing practices", "Article 2 — Prohibited mowing practices")
    assert point.heading == "Prohibited mowing practices"
    assert point.anchor == "002.001"
    assert act["Article 1(2)"].anchor == "art_1"  # definitions: no numbered paragraphs
    assert act["Recital 2"].anchor == "rct_2"
    assert act["Annex I, point 1(a)"].anchor == "anx_I"


def test_footnote_calls_chrome_and_scripts_are_dropped(act):
    assert act["Recital 1"].text == "(1) Robot lawnmowers should not frighten hedgehogs."
    everything = " ".join(u.text for u in act.values())
    assert "navigation" not in everything and "tracker" not in everything and "OJ C 1" not in everything


def test_exponents_are_kept_readable(act):
    assert "10^2 revolutions" in act["Article 1(1)"].text


def test_text_after_a_list_is_a_subparagraph_of_the_paragraph(act):
    units = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    after = [u for u in units if u.label == "Article 2(1)" and "Point (b)" in u.text]
    assert len(after) == 1


def test_every_paragraph_of_an_article_without_numbers_is_its_own_unit():
    base = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    article4 = [u for u in base if u.label == "Article 4"]
    assert [u.text for u in article4] == [
        "This Regulation enters into force on the day after its publication.", "It applies from 1 May 2100.",
        "By way of exception:", "Member States shall apply this Regulation in every garden."]
    assert [u.role for u in article4] == ["", "", "intro", ""]


def test_the_sentence_introducing_a_list_is_an_intro_unit_and_still_the_points_lead():
    base = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    intro, point = base[[u.label for u in base].index("Article 2(1)")], next(u for u in base if u.label == "Article 2(1)(a)")
    assert intro.role == "intro" and intro.text == "1. The following mowing practices shall be prohibited:"
    assert point.lead == intro.text


def test_intro_units_are_not_indexed_as_passages():
    base = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    chunks = chunk_units("mini", "mini", base, lambda u: "")
    assert "By way of exception:" not in [c.text for c in chunks]
    assert any(c.label == "Article 4(a)" and c.lead == "By way of exception:" for c in chunks)


def test_inserted_numbers_are_read_in_order_from_xhtml():
    units = build_units(eurlex.read_blocks((FIXTURES / "mini-act.html").read_bytes()))
    html = (FIXTURES / "mini-act.html").read_text().replace(
        '<div id="002.002">', '<div id="002.001A"><p class="oj-normal">1a.   Operators shall warn hedgehogs.</p></div>'
        '<div id="002.002">')
    inserted = build_units(eurlex.read_blocks(html.encode()))
    assert [u.label for u in inserted if u.unit == "Article 2"][-2:] == ["Article 2(1a)", "Article 2(2)"]
    assert next(u for u in inserted if u.label == "Article 2(1a)").anchor == "002.001a"
    assert len(inserted) == len(units) + 1


@pytest.mark.parametrize("payload, message", [
    (b"", "empty"),
    (b"<html><body><p>Just a blog post.</p></body></html>", "not an Official Journal act"),
    (b"<html><body><h1>Company AI policy</h1><h2>Scope</h2><p>We use AI.</p></body></html>", "save it as PDF"),
])
def test_html_that_is_not_eurlex_is_refused(payload, message):
    with pytest.raises(eurlex.NotEurLex, match=message):
        eurlex.read_blocks(payload)


def _oj_pages() -> list[list[str]]:
    return [
        ["REGULATION (EU) 2099/1 OF THE EUROPEAN PARLIAMENT AND OF THE COUNCIL", "Whereas:",
         "(1) Robot lawnmowers should not frighten hedgehogs (1).", "(2) Mowing at night disturbs neighbours."],
        ["HAVE ADOPTED THIS REGULATION:", "CHAPTER I", "GENERAL PROVISIONS", "Article 1", "Definitions",
         "For the purposes of this Regulation, the following definitions apply:",
         "(1) 'lawnmower' means a machine that cuts grass;", "(2) 'operator' means a person who sets a",
         "lawnmower to mow without supervision;", "Article 2", "Prohibited mowing practices",
         "1. The following mowing practices shall be prohibited:", "(a) mowing between midnight and dawn;",
         "(b) the use of a lawnmower that infers the emotions of hedgehogs.",
         "2. Operators shall keep a log of every session for 2. months."],
        ["ANNEX I", "High-risk lawnmowers", "1. Autonomous mowers:", "(a) mowers in public parks."],
    ]


def test_pdf_gives_the_same_labels_with_pages_and_no_furniture(tmp_path: Path):
    path = make_oj_pdf(tmp_path / "act.pdf", _oj_pages(), footnotes={1: ["(1) OJ C 1, 1.1.2099, p. 1."]})
    blocks, pages = pdf.read_blocks(path.read_bytes())
    units = {u.label: u for u in build_units(blocks)}
    assert pages == 3
    assert {"Recital 1", "Recital 2", "Article 1(1)", "Article 1(2)", "Article 2(1)(a)", "Article 2(1)(b)",
            "Article 2(2)", "Annex I, point 1(a)"} <= set(units)
    assert units["Article 2(1)(b)"].page == 2 and units["Annex I, point 1(a)"].page == 3
    assert units["Article 1(2)"].text == "(2) 'operator' means a person who sets a lawnmower to mow without supervision;"
    everything = " ".join(u.text for u in units.values())
    assert "ELI:" not in everything and "OJ L, 1.4.2099" not in everything and "OJ C 1" not in everything


@pytest.mark.parametrize("payload, message", [
    (b"", "not a PDF"),
    (b"hello, I am a text file", "not a PDF"),
    (b"%PDF-1.7\n1 0 obj << /Type /Catalog", "corrupt or truncated"),
])
def test_bad_pdfs_get_a_reason(payload, message):
    with pytest.raises(pdf.UnreadablePdf, match=message):
        pdf.read_blocks(payload)


def test_truncated_pdf_is_refused(tmp_path: Path):
    data = make_oj_pdf(tmp_path / "act.pdf", _oj_pages()).read_bytes()
    with pytest.raises(pdf.UnreadablePdf):
        pdf.read_blocks(data[: len(data) // 3])


def test_text_sections_follow_headings():
    blocks, pages = text.read_blocks((FIXTURES / "notes.txt").read_text())
    units = build_units(blocks)
    assert pages is None
    assert [u.label for u in units] == ["Battery safety ¶1", "Battery safety ¶2", "Noise ¶1"]
    assert units[0].text.startswith("Lithium cells in robot mowers")  # **bold** markup removed
    assert {u.kind for u in units} == {"section"}


def test_text_with_page_footers_gets_pages_and_french_structure():
    page = "ELI: http://data.europa.eu/eli/reg/2099/1/oj {n}/2"
    source = "\n\n".join([
        "considérant ce qui suit:", "(1) Les tondeuses ne doivent pas effrayer les hérissons.",
        "ONT ADOPTÉ LE PRÉSENT RÈGLEMENT:", "## Article premier", "Définitions",
        "1. Aux fins du présent règlement:", "a) «tondeuse», une machine;", page.format(n=1),
        "## Article 2", "Pratiques interdites", "1. Sont interdites:", "a) la tonte de nuit;", page.format(n=2),
    ])
    blocks, pages = text.read_blocks(source)
    units = {u.label: u for u in build_units(blocks, "fr")}
    assert pages == 2
    assert {"Recital 1", "Article 1(1)(a)", "Article 2(1)(a)"} <= set(units)
    assert units["Article 2(1)(a)"].page == 2


def test_empty_text_is_refused():
    with pytest.raises(text.EmptyText):
        text.read_blocks("  \n\n ")
