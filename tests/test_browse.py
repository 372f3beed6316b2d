"""Reading by structure: contents, cross-references, defined terms and application dates.

The mini act (a real index built from tests/fixtures/mini-act.html) covers what it
has; the AI Act's definitions and Article 113 come as their own wording in small
hand-made chunks, and once for real behind the `slow` mark.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from index.answers import results
from index.config import Settings
from index.law.catalog import Catalog, breadcrumb, chapter_of, unit_chunks
from index.law.definitions import definitions_in, glossary_of
from index.law.labels import unit_of
from index.law.references import Reference, in_law_form, references_in, related_provisions
from index.law.timeline import application_article, applies_from, timeline
from index.model import Chunk
from index.retrieval import store

MINI = "user-mini-act"


@pytest.fixture(scope="module")
def catalog(mini_index: Settings) -> Catalog:
    return results.catalog_of(store.load(mini_index))


def catalog_of(chunks: list[Chunk], documents: list[dict[str, str]]) -> Catalog:
    """A catalog over hand-made chunks: structure only, no index and no model."""
    return Catalog.of(chunks, documents)


def chunk(label: str, text: str, heading: str = "", path: tuple[str, ...] = (), lead: str = "",
          doc_id: str = "act", order: int = 0) -> Chunk:
    unit = unit_of(label)
    return Chunk(id=f"{doc_id}/{label}", doc_id=doc_id, label=label, unit=unit, kind=unit.split()[0].lower(),
                 heading=heading, path=path, text=text, lead=lead, passage=text, url="", page=None, order=order)


# ---- the two original lookups keep their behaviour ------------------------------------------------------


def test_documents_lists_the_manifest_documents(catalog: Catalog) -> None:
    assert [d["doc_id"] for d in catalog.documents] == [MINI, "user-notes"]


def test_unit_chunks_returns_a_provision_or_any_part_of_it(catalog: Catalog) -> None:
    index = catalog.chunks_of[MINI]
    assert [c.label for c in unit_chunks(index, MINI, "Article 2")] == [
        "Article 2(1)(a)", "Article 2(1)(b)", "Article 2(1)", "Article 2(2)"]
    assert [c.label for c in unit_chunks(index, MINI, "Article 2(1)(b)")] == ["Article 2(1)(b)"]
    assert unit_chunks(index, MINI, "Article 20") == []


# ---- contents ---------------------------------------------------------------------------------------------


def test_table_of_contents_puts_the_articles_first_and_groups_the_recitals(catalog: Catalog) -> None:
    contents = catalog.contents[MINI]
    assert [e.unit for e in contents] == ["Article 1", "Article 2", "Article 3", "Article 4", "Annex I", "Annex II",
                                          "Recital 1", "Recital 2"]
    assert catalog.parts(MINI) == ["Chapter I — General provisions", "Chapter II — Prohibited mowing practices",
                                   "Annexes", "Recitals 1–2"]
    assert catalog.entry(MINI, "Article 3").caption == "Article 3 · Penalties"
    assert catalog.chapters(MINI) == {"Chapter I": "Chapter I — General provisions",
                                      "Chapter II": "Chapter II — Prohibited mowing practices"}


def test_a_french_text_lists_its_provisions_the_french_way(mini_index: Settings) -> None:
    index = store.load(mini_index)
    french = Catalog.of(index.chunks, [{**d, "language": "fr"} for d in index.manifest.documents])
    assert french.entry(MINI, "Article 3").caption == "Article 3 · Penalties"  # the heading is the text's own
    assert french.entry(MINI, "Recital 1").caption == "Considérant 1" and french.entry(MINI, "Annex I").written == \
        "Annexe I"
    assert "Considérants 1–2" in french.parts(MINI)


def test_chapters_open_as_the_list_of_their_provisions(catalog: Catalog) -> None:
    assert [e.unit for e in catalog.units_under(MINI, "Chapter II")] == ["Article 2", "Article 3", "Article 4"]
    assert catalog.container_title(MINI, "Chapter II") == "Chapter II — Prohibited mowing practices"


def test_every_label_and_its_parents_are_citable(catalog: Catalog) -> None:
    for label in ("Article 2(1)(b)", "Article 2(1)", "Article 2", "Annex I, point 1(a)", "Annex I, point 1",
                  "Chapter II", "Recital 2"):
        assert catalog.exists(MINI, label), label
    assert not catalog.exists(MINI, "Article 9")


def test_breadcrumb_and_chapter_are_the_short_names_a_citation_uses(catalog: Catalog) -> None:
    point = unit_chunks(catalog.chunks_of[MINI], MINI, "Article 2(1)(b)")[0]
    assert breadcrumb(point) == ("Chapter II", "Article 2")
    assert breadcrumb(point, "fr") == ("Chapitre II", "Article 2")
    assert chapter_of(point) == "Chapter II"
    assert chapter_of(unit_chunks(catalog.chunks_of[MINI], MINI, "Annex I")[0]) == ""


# ---- cross-references -------------------------------------------------------------------------------------


def test_references_in_the_mini_act_link_to_provisions_that_exist(catalog: Catalog) -> None:
    assert references_in("Infringements of Article 2 shall be fined; see Article 9 and Annex I.", MINI, catalog) == [
        Reference(MINI, "Article 2"), Reference(MINI, "Annex I")]
    point = "point (b) of Article 2(1), first subparagraph"
    assert references_in(point, MINI, catalog) == [Reference(MINI, "Article 2(1)")]


def test_related_provisions_leave_out_the_provision_itself(catalog: Catalog) -> None:
    article_3 = unit_chunks(catalog.chunks_of[MINI], MINI, "Article 3")
    assert related_provisions(catalog, article_3) == [Reference(MINI, "Article 2")]
    assert related_provisions(catalog, unit_chunks(catalog.chunks_of[MINI], MINI, "Annex I")) == [Reference(MINI, "Article 2")]
    assert related_provisions(catalog, unit_chunks(catalog.chunks_of[MINI], MINI, "Article 2")) == []


def reference_catalog() -> Catalog:
    """Two acts that cite each other, as the AI Act cites the GDPR."""
    high_risk = "Chapter III — High-risk AI systems"
    ai_act = [chunk(label, "text", path=path, order=i, doc_id="ai-act") for i, (label, path) in enumerate([
        ("Article 5(1)(a)", ("Chapter II — Prohibited AI practices", "Article 5 — Prohibited AI practices")),
        *((f"Article {n}(1)", (high_risk, "Section 2 — Requirements", f"Article {n} — x")) for n in range(8, 16)),
        ("Article 22(1)", (high_risk, "Section 3 — Obligations", "Article 22 — x")),
        ("Article 22(4)", (high_risk, "Section 3 — Obligations", "Article 22 — x")),
        ("Annex III, point 4(a)", ("Annex III — High-risk AI systems",)),
        ("Annex III, point 6(a)", ("Annex III — High-risk AI systems",)),
    ])]
    gdpr = [chunk("Article 9(1)", "text", path=("Chapter II — Principles", "Article 9 — x"), doc_id="gdpr")]
    documents = [{"doc_id": "ai-act", "eli": "http://data.europa.eu/eli/reg/2024/1689/oj", "language": "en"},
                 {"doc_id": "gdpr", "eli": "http://data.europa.eu/eli/reg/2016/679/oj", "language": "en"}]
    return catalog_of([*ai_act, *gdpr], documents)


@pytest.mark.parametrize(("text", "expected"), [
    ("Articles 8 to 11", ["Article 8", "Article 9", "Article 10", "Article 11"]),
    ("Article 22(1) and (4)", ["Article 22(1)", "Article 22(4)"]),
    ("Article 8 or 9 of this Regulation", ["Article 8", "Article 9"]),
    ("Article 5(1), first subparagraph, point (a)", ["Article 5(1)(a)"]),
    ("Article 5(1), first subparagraph, points (ba) and (bb)", ["Article 5(1)"]),  # not in this catalog: nearest
    ("Chapter III, Sections 2 and 3", ["Chapter III, Section 2", "Chapter III, Section 3"]),
    ("Annex III, point 4(a), and points 4 and 6 of Annex III", ["Annex III, point 4(a)", "Annex III, point 4",
                                                                "Annex III, point 6"]),
    ("Chapter III, Section 2, and Chapters II and III", ["Chapter III, Section 2", "Chapter II", "Chapter III"]),
    ("Section 3 of Chapter III", ["Chapter III, Section 3"]),
])
def test_reference_forms_of_eu_legislation(text: str, expected: list[str]) -> None:
    assert [r.label for r in references_in(text, "ai-act", reference_catalog())] == expected


def test_references_to_another_act_follow_it_only_when_it_is_indexed() -> None:
    catalog = reference_catalog()
    gdpr = "Article 9(1) of Regulation (EU) 2016/679"
    assert references_in(gdpr, "ai-act", catalog) == [Reference("gdpr", "Article 9(1)")]
    for elsewhere in ("Article 9 of Directive (EU) 2016/680", "Article 10 of Regulation (EU) No 182/2011",
                      "Article 8 TFEU", "Chapter III, Section 2, of that Regulation"):
        assert references_in(elsewhere, "ai-act", catalog) == [], elsewhere


# ---- defined terms ----------------------------------------------------------------------------------------


AI_ACT_DEFINITIONS = [
    chunk("Article 3(1)", "(1) ‘AI system’ means a machine-based system that is designed to operate with varying "
          "levels of autonomy;", heading="Definitions"),
    chunk("Article 3(4)", "(4) ‘deployer’ means a natural or legal person, public authority, agency or other body "
          "using an AI system under its authority;", heading="Definitions"),
    chunk("Article 3(58)", "(58) ‘subject’, for the purpose of real-world testing, means a natural person who "
          "participates in testing in real-world conditions;", heading="Definitions"),
    chunk("Article 3(63)", "(63) ‘general-purpose AI model’ means an AI model that displays significant "
          "generality;", heading="Definitions"),
    chunk("Article 26(1)", "1. Deployers of high-risk AI systems shall take appropriate measures.", heading="x"),
]


def test_the_definitions_article_gives_the_glossary() -> None:
    glossary = glossary_of(AI_ACT_DEFINITIONS)
    assert [(d.term, d.label) for d in glossary.definitions] == [
        ("AI system", "Article 3(1)"), ("deployer", "Article 3(4)"), ("subject", "Article 3(58)"),
        ("general-purpose AI model", "Article 3(63)")]
    assert glossary.definitions[1].text.startswith("‘deployer’ means a natural or legal person")
    assert glossary.defined_in("Article 3") and not glossary.defined_in("Article 26")


def test_defined_terms_are_found_where_they_occur_plurals_included() -> None:
    glossary = glossary_of(AI_ACT_DEFINITIONS)
    text = "Deployers of high-risk AI systems shall use general-purpose AI models subject to checks."
    assert [(text[u.start:u.end], u.definition.label) for u in glossary.uses(text)] == [
        ("Deployers", "Article 3(4)"), ("AI systems", "Article 3(1)"), ("general-purpose AI models", "Article 3(63)")]


def test_several_definitions_in_one_passage_are_points_of_it() -> None:
    text = ("For the purposes of this Regulation, the following definitions apply: (1) ‘lawnmower’ means a machine "
            "that cuts grass; (2) ‘operator’ means a person who sets a lawnmower to mow;")
    assert [(d.term, d.label, d.text) for d in definitions_in("Article 1", text)] == [
        ("lawnmower", "Article 1, point (1)", "‘lawnmower’ means a machine that cuts grass"),
        ("operator", "Article 1, point (2)", "‘operator’ means a person who sets a lawnmower to mow")]


def test_french_definitions_are_read_too() -> None:
    [definition] = definitions_in("Article 3(4)", "4) «déployeur», une personne physique ou morale;")
    assert (definition.term, definition.text) == ("déployeur", "«déployeur», une personne physique ou morale")


# ---- what applies when ------------------------------------------------------------------------------------


def test_the_mini_act_applies_from_the_dates_its_application_article_gives(catalog: Catalog) -> None:
    dates = timeline(catalog, MINI)
    assert dates is not None and dates.source.unit == "Article 4"
    assert [(m.day, m.event, m.quote, m.covers) for m in dates.milestones] == [
        (date(2099, 5, 1), "Application", "Article 2 applies from 1 May 2099", (Reference(MINI, "Article 2"),)),
        (date(2099, 11, 1), "Application", "Article 3 applies from 1 November 2099", (Reference(MINI, "Article 3"),)),
        (date(2100, 5, 1), "Application", "It applies from 1 May 2100", ()),
    ]
    assert timeline(catalog, "user-notes") is None


def test_a_catalogs_timeline_is_read_once_and_a_changed_catalog_reads_its_own(catalog: Catalog) -> None:
    assert timeline(catalog, MINI) is timeline(catalog, MINI)  # every answer asks: it is made once per catalog
    shortened = replace(catalog, contents={**catalog.contents, MINI: ()})
    assert timeline(shortened, MINI) is None and timeline(catalog, MINI) is not None


def article_113_catalog() -> Catalog:
    path = ("Chapter XIII — Final provisions", "Article 113 — Entry into force and application")
    intro = ("This Regulation shall enter into force on the twentieth day following that of its publication in the "
             "Official Journal of the European Union. It shall apply from 2 August 2026. However:")
    points = ["(a) Chapters I and II shall apply from 2 February 2025;",
              "(b) Chapter III Section 4 and Article 78 shall apply from 2 August 2025, "
              "with the exception of Article 101;",
              "(c) Article 6(1) and the corresponding obligations in this Regulation shall apply from 2 August 2027."]
    where = [("Article 1", "I", ""), ("Article 5", "II", ""), ("Article 6(1)", "III", "1"), ("Article 28", "III", "4"),
             ("Article 78", "VII", ""), ("Article 101", "XII", "")]
    cited = [chunk(label, "text", path=(f"Chapter {c} — x", *((f"Section {s} — x",) if s else ()), f"{label} — x"),
                   order=i, doc_id="ai-act") for i, (label, c, s) in enumerate(where)]
    heading = "Entry into force and application"
    article = [chunk(f"Article 113({p[1]})", p, heading=heading, path=path, lead=intro, order=100 + i, doc_id="ai-act")
               for i, p in enumerate(points)]
    documents = [{"doc_id": "ai-act", "version_date": "2024-07-12", "eli": "", "language": "en"}]
    return catalog_of([*cited, *article], documents)


def test_article_113_becomes_dated_milestones_linked_to_what_they_cover() -> None:
    catalog = article_113_catalog()
    assert application_article(catalog, "ai-act").unit == "Article 113"
    milestones = timeline(catalog, "ai-act").milestones
    assert [(m.day, m.event) for m in milestones] == [
        (date(2024, 8, 1), "Entry into force"), (date(2025, 2, 2), "Application"), (date(2025, 8, 2), "Application"),
        (date(2026, 8, 2), "Application"), (date(2027, 8, 2), "Application")]
    in_force, chapters, section, general, article_6 = milestones
    assert "12 July 2024" in in_force.note
    assert [r.label for r in chapters.covers] == ["Chapter I", "Chapter II"]
    assert [r.label for r in section.covers] == ["Chapter III, Section 4", "Article 78"]
    assert [r.label for r in section.excepted] == ["Article 101"]
    assert (general.quote, general.covers) == ("It shall apply from 2 August 2026", ())
    assert [r.label for r in article_6.covers] == ["Article 6(1)"]


def test_transitional_deadlines_cover_what_their_sentence_names() -> None:
    transitional = "AI systems already placed on the market or put into service"
    path = ("Chapter XII — Final provisions", f"Article 111 — {transitional}")
    paragraphs = ["Without prejudice to Article 5, point (a), providers of high-risk AI systems shall comply by "
                  "2 August 2030.",
                  "Providers of AI systems that have been placed on the market before 2 August 2026 shall comply "
                  "with Article 6(1) by 2 December 2026.",
                  "Operators shall cooperate with the authorities."]  # no date: no deadline
    article = [chunk(f"Article 111({i})", p, heading=transitional, path=path, order=200 + i, doc_id="ai-act")
               for i, p in enumerate(paragraphs, 1)]
    high_risk = chunk("Article 9", "text", path=("Chapter III — High-risk AI systems", "Article 9 — x"),
                      order=50, doc_id="ai-act")
    base = article_113_catalog()
    catalog = catalog_of([*base.chunks_of["ai-act"], high_risk, *article], base.documents)
    dates = timeline(catalog, "ai-act")
    deadlines = [(m.day, [r.label for r in m.covers], m.source) for m in dates.milestones
                 if m.event == "Transitional period"]
    assert deadlines == [(date(2026, 12, 2), ["Article 6(1)"], "Article 111(2)"),
                         (date(2030, 8, 2), ["Chapter III"], "Article 111(1)")]
    assert dates.milestones[-1].quote == "providers of high-risk AI systems shall comply by 2 August 2030"
    article_9 = applies_from(catalog, dates, "Article 9")
    assert [(a.day, a.source) for a in article_9] == [(date(2026, 8, 2), "Article 113"),
                                                      (date(2030, 8, 2), "Article 111(1)")]
    assert article_9[-1].condition.startswith("transitional period: providers of high-risk")
    article_6 = [a.condition for a in applies_from(catalog, dates, "Article 6") if a.source.startswith("Article 111")]
    assert article_6[0].startswith("Article 6(1): transitional period")


@pytest.mark.slow
def test_the_real_ai_act_timeline_and_glossary(corpus_index: Settings) -> None:
    loaded = store.load(corpus_index)
    catalog = results.catalog_of(loaded, "2026-12-01")
    dates = timeline(catalog, "ai-act")
    assert dates.source.unit == "Article 113"
    application = [m.day for m in dates.milestones if m.event != "Transitional period"]
    assert application == [date(2024, 8, 1), date(2025, 2, 2), date(2025, 8, 2), date(2026, 7, 27),
                           date(2026, 8, 2), date(2026, 12, 2), date(2027, 12, 2), date(2028, 8, 2)]
    transitional = {m.source: (m.day, [r.label for r in m.covers]) for m in dates.milestones if m.source}
    assert transitional == {"Article 111(1)": (date(2030, 12, 31), ["Annex X"]),
                            "Article 111(2)": (date(2030, 8, 2), ["Chapter III"]),
                            "Article 111(3)": (date(2027, 8, 2), ["Chapter V"]),
                            "Article 111(4)": (date(2026, 12, 2), ["Article 50(2)"])}  # inserted by 2026/1744
    original = timeline(results.catalog_of(loaded, "2026-01-01"), "ai-act")
    assert [m.day for m in original.milestones if not m.source] == [date(2024, 8, 1), date(2025, 2, 2),
                                                                    date(2025, 8, 2), date(2026, 8, 2),
                                                                    date(2027, 8, 2)]
    assert "Article 111(4)" not in {m.source for m in original.milestones}
    assert timeline(catalog, "gdpr").milestones[-1].day == date(2018, 5, 25)
    deployer = next(d for d in catalog.glossaries["ai-act"].definitions if d.term == "deployer")
    assert deployer.label == "Article 3(4)"
    assert Reference("ai-act", "Article 6(2)") in related_provisions(catalog, catalog.chunks("ai-act", "Annex III"))


@pytest.mark.parametrize("typed, law", [
    ("Art. 6(3)", "Article 6(3)"), ("article 6 paragraph 3", "Article 6(3)"), ("Article 6, paragraphe 3", "Article 6(3)"),
    ("Art 6 Abs. 3", "Article 6(3)"), ("Artikel 6 Absatz 2", "Article 6(2)"), ("Article 6 (3)", "Article 6(3)"),
    ("Art. 5 Abs. 1 lit. f", "Article 5(1)(f)"), ("Article 5(1) point (f)", "Article 5(1)(f)"),
    ("Annex 3", "Annex III"), ("Anhang III", "Annex III"), ("annex iii", "Annex III"), ("considérant 12", "Recital 12"),
    ("Chapter 3", "Chapter III"), ("Art. 22 GDPR", "Article 22 GDPR"), ("Article 50", "Article 50"),
    ("Article 5(1) a system", "Article 5(1) a system"),
])
def test_citations_as_readers_type_them_read_in_the_laws_form(typed: str, law: str) -> None:
    assert in_law_form(typed) == law
