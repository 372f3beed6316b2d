"""Amending acts: instructions read from the XHTML, applied to the act they amend, with history and refusals."""

from __future__ import annotations

from datetime import date

import pytest

from ingest import eurlex
from ingest.amendments import AmendingAct, Instruction, Refusal, Scope, parse_amendments
from ingest.consolidate import consolidate
from ingest.structure import build_units
from tests.conftest import FIXTURES

OMNIBUS = AmendingAct("reg-2099-2", "Regulation (EU) 2099/2", date(2099, 6, 4))


def _units(path):
    return build_units(eurlex.read_blocks(path.read_bytes()))


@pytest.fixture(scope="module")
def base():
    return _units(FIXTURES / "mini-act.html")


@pytest.fixture(scope="module")
def instructions():
    return parse_amendments((FIXTURES / "mini-amending-act.html").read_bytes(), "Regulation (EU) 2099/1")


@pytest.fixture(scope="module")
def result(base, instructions):
    return consolidate(base, instructions, OMNIBUS)


def _texts(result, label):
    return [u.text for u in result.units if u.label == label]


def _labels(result, unit):
    return [u.label for u in result.units if u.unit == unit]


def _parsed(instructions, point):
    return [i for i in instructions if isinstance(i, Instruction) and i.point == point]


# -- reading the instructions ---------------------------------------------------------------

def test_context_accumulates_down_nested_points(instructions):
    (intro,) = _parsed(instructions, "Article 1, point (2)(a)(i)")
    assert (intro.target, intro.action, intro.scope) == ("Article 2(1)", "replace", Scope("intro"))
    assert intro.wording == "the introductory part is replaced by the following"
    (points,) = _parsed(instructions, "Article 1, point (2)(a)(ii)")
    assert (points.target, points.action, points.scope) == ("Article 2(1)", "insert", Scope("subparagraph", 1))
    assert [u.label for u in points.units] == ["Article 2(1)(aa)", "Article 2(1)(ab)"]
    assert all(i.group == "Article 1, point (2)" for i in _parsed(instructions, "Article 1, point (2)(d)"))


def test_plural_targets_become_one_instruction_each_with_its_share_of_the_wording(instructions):
    replaced = _parsed(instructions, "Article 1, point (5)(a)")
    assert [(i.target, [u.label for u in i.units]) for i in replaced] == [
        ("Article 3(1)", ["Article 3(1)"]), ("Article 3(2)", ["Article 3(2)"])]
    deleted = _parsed(instructions, "Article 1, point (10)")
    assert [(i.target, i.action) for i in deleted] == [
        ("Annex II, Section B, point 1", "delete"), ("Annex II, Section B, point 3", "delete")]


def test_ordinals_headings_sections_and_case_variants_are_understood(instructions):
    assert [(i.target, i.scope) for i in _parsed(instructions, "Article 1, point (7)")] == [
        ("Article 4", Scope("paragraph", 4))]
    (heading,) = _parsed(instructions, "Article 1, point (2)(c)")
    assert heading.scope == Scope("heading") and heading.heading == "Prohibited mowing and trimming practices"
    (section,) = _parsed(instructions, "Article 1, point (9)(b)")
    assert (section.target, section.action) == ("Annex II, Section B", "add")
    (articles,) = _parsed(instructions, "Article 1, point (3)")
    assert articles.target == "" and [u.label for u in articles.units] == ["Article 2a(1)", "Article 2a(2)", "Article 2b"]


def test_only_what_stands_outside_the_quotes_is_the_instruction(instructions):
    (articles,) = _parsed(instructions, "Article 1, point (3)")
    assert articles.action == "insert"  # the quoted Article 2a says "deleted" itself
    assert "Noise records shall be deleted after six months." in articles.units[1].text
    assert not any(u.text.startswith("‘") or u.text.endswith("’") for i in instructions
                   if isinstance(i, Instruction) for u in i.units)


def test_an_instruction_the_parser_cannot_read_becomes_a_refusal_naming_the_point(instructions):
    (refusal,) = [i for i in instructions if isinstance(i, Refusal)]
    assert refusal.point == "Article 1, point (14)"
    assert str(refusal) == ("Article 1, point (14): instruction not understood: "
                            "‘in Article 2, the words ‘lawnmower’ are replaced by ‘mower’’")


def test_an_act_without_an_article_amending_the_act_asked_for_is_refused():
    with pytest.raises(ValueError, match="Regulation \\(EU\\) 2099/9 is amended as follows"):
        parse_amendments((FIXTURES / "mini-amending-act.html").read_bytes(), "Regulation (EU) 2099/9")


# -- consolidating ----------------------------------------------------------------------------

def test_every_point_is_applied_or_refused_with_a_reason(result):
    assert result.applied == tuple(f"Article 1, point ({n})" for n in range(1, 12))
    assert [str(r) for r in result.refusals] == [
        "Article 1, point (12): Article 9(1) does not exist",
        "Article 1, point (13): Annex II, point 2 is ambiguous: Annex II, Section A, point 2 or Annex II, Section B, point 2",
        "Article 1, point (14): instruction not understood: ‘in Article 2, the words ‘lawnmower’ are replaced by ‘mower’’",
        "Article 1, point (15)(b): Article 3(7) does not exist",
    ]
    assert result.summary == "Regulation (EU) 2099/2: 11 of 15 points applied (23 instructions)"


def test_a_point_that_cannot_be_applied_whole_changes_nothing(result):
    assert _texts(result, "Article 3(1)") == [
        "1. Infringements of Article 2 or 2a shall be subject to administrative fines of up to EUR 25 000 000."]
    assert not any(c.point.startswith("Article 1, point (15)") for c in result.changes)


def test_insertions_go_where_their_numbers_put_them(result):
    assert _labels(result, "Article 2") == [
        "Article 2(1)", "Article 2(1)(a)", "Article 2(1)(aa)", "Article 2(1)(ab)", "Article 2(1)(b)", "Article 2(1)",
        "Article 2(2)", "Article 2(3)"]
    assert _labels(result, "Article 3") == [
        "Article 3(1)", "Article 3(1a)", "Article 3(1b)", "Article 3(2)", "Article 3(2)"]
    assert [u.label for u in result.units if u.kind == "article"].index("Article 2a(1)") == \
        [u.label for u in result.units if u.kind == "article"].index("Article 2(3)") + 1
    assert _labels(result, "Article 1") == ["Article 1", "Article 1(1)", "Article 1(1a)", "Article 1(2)"]


def test_added_units_go_at_the_end_of_what_receives_them(result):
    assert _labels(result, "Annex II") == [
        "Annex II, Section A, point 1", "Annex II, Section A, point 2", "Annex II, Section A, point 3",
        "Annex II, Section B, point 2", "Annex II, Section B, point 4"]
    assert _labels(result, "Annex I")[-1] == "Annex I, point 1(b)"
    assert result.units[-1].unit == "Annex III"
    assert _texts(result, "Article 3(2)")[-1] == "The warning shall be sent by post."


def test_ordinal_paragraphs_are_amended_and_deleted_with_their_points(result):
    assert _labels(result, "Article 4") == [
        "Article 4", "Article 4", "Article 4", "Article 4(a)", "Article 4(b)", "Article 4(c)"]
    assert _texts(result, "Article 4(b)") == ["(b) Article 3 applies from 1 January 2100;"]
    assert next(u for u in result.units if u.label == "Article 4(c)").lead == "By way of exception:"


def test_a_replaced_introductory_part_becomes_the_lead_of_its_points(result):
    intro = next(u for u in result.units if u.label == "Article 2(1)")
    assert intro.role == "intro"
    assert intro.text == "1. The following mowing and trimming practices shall be prohibited:"
    assert {u.lead for u in result.units if u.label.startswith("Article 2(1)(")} == {intro.text}
    assert _texts(result, "Article 2(1)")[-1] == (
        "Point (b) of the first subparagraph is without prejudice to national rules on pets and wildlife.")


def test_a_replaced_heading_renames_every_unit_of_the_article(result):
    article2 = [u for u in result.units if u.unit == "Article 2"]
    assert {u.heading for u in article2} == {"Prohibited mowing and trimming practices"}
    assert {u.path for u in article2} == {(
        "Chapter II — Prohibited mowing practices", "Article 2 — Prohibited mowing and trimming practices")}


def test_inserted_articles_take_the_chapter_of_the_article_before_them(result):
    (unit,) = [u for u in result.units if u.label == "Article 2b"]
    assert unit.heading == "Night mode" and unit.anchor == "art_2b"
    assert unit.path == ("Chapter II — Prohibited mowing practices", "Article 2b — Night mode")
    whole = [u for u in result.units if u.unit == "Article 3"]
    assert {u.heading for u in whole} == {"Penalties and warnings"}
    assert whole[0].path[0] == "Chapter II — Prohibited mowing practices"


def test_history_keeps_what_each_change_replaced_or_deleted(result):
    (deleted,) = [c for c in result.history("Annex II, Section B, point 3") if c.kind == "deleted"]
    assert deleted.previous_wording == "3. The firmware version installed."
    assert (deleted.point, deleted.act.citation, deleted.in_force) == (
        "Article 1, point (10)", "Regulation (EU) 2099/2", date(2099, 6, 4))
    kinds = [(c.kind, c.point) for c in result.history("Article 3(1)")]
    assert kinds == [("replaced", "Article 1, point (4)"), ("replaced", "Article 1, point (5)(a)")]
    (heading,) = [c for c in result.history("Article 2") if c.scope == Scope("heading")]
    assert heading.previous_wording == "Prohibited mowing practices"


def test_consolidations_chain_and_an_applied_act_cannot_be_applied_twice(result, instructions):
    again = consolidate(result.units, instructions, OMNIBUS)
    assert "Article 1, point (1): Article 1(1a) already exists" in [str(r) for r in again.refusals]


def test_without_instructions_the_act_is_unchanged(base):
    assert list(consolidate(base, [], OMNIBUS).units) == base


# -- the real Digital Omnibus on AI ----------------------------------------------------------------

@pytest.mark.slow
def test_the_digital_omnibus_consolidates_the_ai_act(corpus):
    ai_act = _units(corpus / "ai-act-2024-1689-en.html")
    omnibus = (corpus / "digital-omnibus-ai-2026-1744-en.html").read_bytes()
    instructions = parse_amendments(omnibus, "Regulation (EU) 2024/1689")
    act = AmendingAct("reg-2026-1744", "Regulation (EU) 2026/1744", date(2026, 7, 27))
    result = consolidate(ai_act, instructions, act)

    assert result.refusals == () and len(result.applied) == 43
    assert result.summary == "Regulation (EU) 2026/1744: 43 of 43 points applied (74 instructions)"
    labels = [u.label for u in result.units]
    assert {"Article 5(1)(ba)", "Article 5(1)(bb)", "Article 5(1a)", "Article 5(1b)", "Article 4a(1)"} <= set(labels)
    assert labels.index("Article 5(1)(ba)") == labels.index("Article 5(1)(b)") + 1
    assert "Article 10(5)" not in labels and "Annex I, Section A, point 1" not in labels
    assert any(u.unit == "Annex XIV" for u in result.units)
    assert (len(ai_act), len(result.units)) == (1388, 1523)

    point40 = [i for i in instructions if isinstance(i, Instruction) and i.group == "Article 1, point (40)"]
    new_wording = {u.label: u.text for i in point40 for u in i.units}
    article113 = {u.label: u.text for u in result.units if u.unit == "Article 113"}
    assert {label: article113[label] for label in new_wording} == new_wording
    assert article113["Article 113(b)"] == next(u.text for u in ai_act if u.label == "Article 113(b)")
    assert [u.label for u in result.units if u.unit == "Article 113"] == [
        "Article 113", "Article 113", "Article 113", "Article 113(a)", "Article 113(b)", "Article 113(c)",
        "Article 113(d)", "Article 113"]
