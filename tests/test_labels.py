"""The citation grammar (index/law/labels.py), one case per label form."""

from __future__ import annotations

import pytest

from index.law.labels import (
    Label,
    ancestors,
    marker_key,
    nearest,
    parent,
    sort_key,
    unit_of,
    within,
    written_in,
    written_title,
)

FORMS = [
    # label, unit, part, points, parent
    ("Recital 12", "Recital 12", "", (), None),
    ("Article 5", "Article 5", "", (), None),
    ("Article 5(1)", "Article 5", "", ("1",), "Article 5"),
    ("Article 5(1)(f)", "Article 5", "", ("1", "f"), "Article 5(1)"),
    ("Article 5(1)(ba)", "Article 5", "", ("1", "ba"), "Article 5(1)"),
    ("Article 5(1a)", "Article 5", "", ("1a",), "Article 5"),
    ("Article 3(14a)", "Article 3", "", ("14a",), "Article 3"),
    ("Article 4a", "Article 4a", "", (), None),
    ("Article 10(2)(f)(ii)", "Article 10", "", ("2", "f", "ii"), "Article 10(2)(f)"),
    ("Annex III", "Annex III", "", (), None),
    ("Annex III, point 4", "Annex III", "", ("4",), "Annex III"),
    ("Annex III, point 4(a)", "Annex III", "", ("4", "a"), "Annex III, point 4"),
    ("Annex I, Section B", "Annex I", "Section B", (), "Annex I"),
    ("Annex I, Section B, point 21", "Annex I", "Section B", ("21",), "Annex I, Section B"),
    ("Annex VIII, Section A, point (a)", "Annex VIII", "Section A", ("a",), "Annex VIII, Section A"),
    ("Chapter III", "Chapter III", "", (), None),
    ("Chapter III, Section 4", "Chapter III", "Section 4", (), "Chapter III"),
    ("Cloud computing ¶2", "Cloud computing ¶2", "", (), None),
]


@pytest.mark.parametrize(("text", "unit", "part", "points", "up"), FORMS, ids=[f[0] for f in FORMS])
def test_every_label_form_parses_and_writes_back(text: str, unit: str, part: str, points: tuple[str, ...],
                                                 up: str | None) -> None:
    label = Label.parse(text)
    assert (label.unit, label.part, label.points) == (unit, part, points)
    assert str(label) == text
    assert unit_of(text) == unit
    assert parent(text) == (up or text)
    assert ancestors(text)[:1] == ([up] if up else [])


@pytest.mark.parametrize(("label", "ancestor", "inside"), [
    ("Article 5(1)(f)", "Article 5", True),
    ("Article 5(1)(f)", "Article 5(1)", True),
    ("Article 50(10)", "Article 50(1)", False),
    ("Article 5(1a)", "Article 5(1)", False),
    ("Article 4a", "Article 4", False),
    ("Annex I, Section B, point 21", "Annex I", True),
    ("Annex I, Section B, point 21", "Annex I, Section A", False),
    ("Annex III, point 4(a)", "Annex III, point 4", True),
    ("Annex III, point 4", "Annex III, point 40", False),
])
def test_within_compares_structure_not_prefixes(label: str, ancestor: str, inside: bool) -> None:
    assert within(label, ancestor) is inside


def test_nearest_falls_back_to_the_closest_existing_ancestor() -> None:
    existing = {"Article 5", "Article 5(1)"}
    assert nearest("Article 5(1)(z)", existing.__contains__) == "Article 5(1)"
    assert nearest("Article 9(2)", existing.__contains__) is None


def test_inserted_provisions_sort_where_the_drafting_puts_them() -> None:
    labels = ["Annex XIV", "Article 5(2)", "Article 5(1a)", "Article 5(1)(c)", "Article 5(1)(ba)", "Article 5(1)(b)",
              "Article 113", "Article 4a", "Article 4", "Recital 3", "Annex I"]
    assert sorted(labels, key=sort_key) == [
        "Recital 3", "Article 4", "Article 4a", "Article 5(1)(b)", "Article 5(1)(ba)", "Article 5(1)(c)",
        "Article 5(1a)", "Article 5(2)", "Article 113", "Annex I", "Annex XIV"]
    assert marker_key("iv", roman=True) < marker_key("v", roman=True) < marker_key("ix", roman=True)


@pytest.mark.parametrize(("label", "french"), [
    ("Recital 93", "Considérant 93"),
    ("Article 50(1)", "Article 50, paragraphe 1"),
    ("Article 5(1)(f)", "Article 5, paragraphe 1, point f)"),
    ("Article 10(2)(f)(ii)", "Article 10, paragraphe 2, point f) ii)"),
    ("Article 4a", "Article 4 bis"),
    ("Article 5(1)(ba)", "Article 5, paragraphe 1, point b bis)"),
    ("Annex III, point 4(a)", "Annexe III, point 4 a)"),
    ("Annex VIII, Section A, point (a)", "Annexe VIII, section A, point a)"),
    ("Chapter III, Section 4", "Chapitre III, section 4"),
    ("Cloud computing ¶2", "Cloud computing ¶2"),
])
def test_a_french_text_is_cited_the_french_way(label: str, french: str) -> None:
    assert written_in(label, "fr") == french and written_in(label, "en") == label


def test_a_french_path_names_its_chapters_the_french_way():
    title = "Chapter II — Pratiques interdites en matière d’ia dans l’ue"
    assert written_title(title, "fr") == "Chapitre II — Pratiques interdites en matière d’IA dans l’UE"
    assert written_title("Annex III", "fr") == "Annexe III" and written_title("Section 2 — Gouvernance", "fr")
    assert written_title(title, "en") == title and written_title("Chapter", "fr") == "Chapter"


def test_french_points_that_are_not_paragraphs():
    assert written_in("Article 113(b)", "fr") == "Article 113, point b)"  # a lettered first level
    assert written_in("Article 3(54)", "fr", paragraphs=False) == "Article 3, point 54)"  # the definitions
