"""The citation grammar: how RegKB writes, reads and compares the label of a provision.

A label is what a lawyer writes: "Recital 12", "Article 5(1)(f)", "Article 3(14a)",
"Annex III, point 4(a)", "Annex I, Section B, point 21", "Chapter III, Section 4".
Everything that cuts, compares or orders labels (parents, "is this inside that",
the nearest citable ancestor, the place of an inserted "Article 4a") goes through
`Label`, so that an amending act's "in Article 5(1), the following points are
inserted" and a search pinning "Article 5(1)" agree on what is inside what.

A label is structured as regparser's nodes are: the top-level provision (`unit`),
an optional part that restarts numbering (an annex's "Section B", a chapter's
"Section 4"), and the points below, outermost first. Labels that are not legal
citations (the headed sections of an analysis: "Cloud computing ¶2") parse as
an opaque unit with nothing below it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100}
_POINT = r"\(\w{1,5}\)"
_ARTICLE = re.compile(rf"^(?P<unit>Article \d{{1,3}}[a-z]{{0,2}})(?P<points>(?:{_POINT})*)$")
_ANNEX = re.compile(
    rf"^(?P<unit>Annex(?: [IVXLC]+)?)(?:, (?P<part>(?:Section|Part) \w{{1,3}}))?"
    rf"(?:, point (?P<first>\d{{1,3}}[a-z]{{0,2}}|{_POINT})(?P<points>(?:{_POINT})*))?$"
)
_RECITAL = re.compile(r"^(?P<unit>Recital \d{1,3})$")
_CHAPTER = re.compile(r"^(?P<unit>Chapter [IVXLC]+)(?:, (?P<part>Section \d{1,2}))?$")
_POINTS = re.compile(r"\((\w{1,5})\)")


@dataclass(frozen=True)
class Label:
    """A parsed citation label; `str(label)` writes it back exactly as parsed."""

    unit: str  # "Article 5", "Annex I", "Recital 12", "Chapter III", or an opaque section name
    part: str = ""  # "Section B" of an annex, "Section 4" of a chapter
    points: tuple[str, ...] = ()  # ("1", "f") for Article 5(1)(f); ("4", "a") for Annex III, point 4(a)

    @classmethod
    def parse(cls, text: str) -> Label:
        return _parse(text)

    @classmethod
    def _read(cls, text: str) -> Label:
        text = " ".join(text.split())
        if m := _ARTICLE.match(text):
            return cls(m["unit"], "", tuple(_POINTS.findall(m["points"])))
        if m := _ANNEX.match(text):
            first = (m["first"] or "").strip("()")
            points = ((first,) if first else ()) + tuple(_POINTS.findall(m["points"] or ""))
            return cls(m["unit"], m["part"] or "", points)
        if m := _RECITAL.match(text):
            return cls(m["unit"])
        if m := _CHAPTER.match(text):
            return cls(m["unit"], m["part"] or "")
        return cls(text)

    @property
    def kind(self) -> str:
        """ "article", "annex", "recital", "chapter", or "section" for a label that is no legal citation."""
        word = self.unit.split(" ", 1)[0]
        return word.lower() if word in {"Article", "Annex", "Recital", "Chapter"} else "section"

    def __str__(self) -> str:
        if self.kind == "article":
            return self.unit + "".join(f"({p})" for p in self.points)
        if self.kind == "annex":
            text = f"{self.unit}, {self.part}" if self.part else self.unit
            if self.points:
                first, rest = self.points[0], self.points[1:]
                head = first if first[0].isdigit() else f"({first})"
                text += f", point {head}" + "".join(f"({p})" for p in rest)
            return text
        return f"{self.unit}, {self.part}" if self.part else self.unit

    @property
    def parent(self) -> Label | None:
        """One level up: Article 5(1)(f) -> Article 5(1) -> Article 5; Annex I, Section B -> Annex I."""
        if self.points:
            return Label(self.unit, self.part, self.points[:-1])
        if self.part:
            return Label(self.unit)
        return None

    def ancestors(self) -> list[Label]:
        """Every label above this one, nearest first."""
        found, label = [], self.parent
        while label is not None:
            found.append(label)
            label = label.parent
        return found

    def within(self, other: Label) -> bool:
        """True when this label is `other` or lies inside it (Article 5(1)(f) within Article 5(1))."""
        if self.unit != other.unit or (other.part and self.part != other.part):
            return False
        if not other.points:
            return True
        return self.part == other.part and self.points[:len(other.points)] == other.points

    def in_french(self, paragraphs: bool = True) -> str:
        """How the French text cites it: "Article 5, paragraphe 1, point f)", "Considérant 12", "Annexe III,
        point 4 a)", "Article 4 bis": the English label stays the identifier, this is what a French reader reads.
        An article's first numbered level is a paragraph unless `paragraphs` is False (the definitions of Article 3
        are points: "Article 3, point 54)"); a lettered first level is always a point ("Article 113, point b)")."""
        if self.kind == "section":
            return str(self)
        word, number = self.unit.split(" ", 1) if " " in self.unit else (self.unit, "")
        parts = [f"{_FRENCH_UNITS[word]} {_latin_suffix(number)}".strip()]
        if self.part:
            part_word, part_number = self.part.split(" ", 1)
            parts.append(f"{_FRENCH_UNITS[part_word].lower()} {part_number}")
        points = list(self.points)
        if self.kind == "article" and points and paragraphs and points[0][0].isdigit():
            parts.append(f"paragraphe {_latin_suffix(points.pop(0))}")
        if points:
            numbered = self.kind == "annex" and points[0][0].isdigit()  # "point 4 a)", not "point 4) a)"
            head = [_latin_suffix(points.pop(0))] if numbered else []
            parts.append("point " + " ".join(head + [f"{_latin_suffix(p)})" for p in points]))
        return ", ".join(parts)

    def child(self, point: str) -> Label:
        return Label(self.unit, self.part, (*self.points, point))

    def with_part(self, part: str) -> Label:
        return Label(self.unit, part, self.points)


_FRENCH_ACRONYMS = frozenset({"ia", "ue", "pme", "tic"})
_WORDS = re.compile(r"([\s’']+)")  # words, and what parts them: spaces, or the apostrophe of "d’IA"
_FRENCH_UNITS = {"Article": "Article", "Annex": "Annexe", "Recital": "Considérant", "Chapter": "Chapitre",
                 "Section": "Section", "Part": "Partie"}
# Inserted provisions: English drafting appends a letter (4a, 4b), French a Latin ordinal (4 bis, 4 ter)
_LATIN = ("bis", "ter", "quater", "quinquies", "sexies", "septies", "octies", "nonies", "decies")


def _latin_suffix(marker: str) -> str:
    """ "4a" -> "4 bis", "ba" -> "b bis"; plain markers and Roman sub-points ("ii") as they are."""
    if (m := re.fullmatch(r"(\d+|[a-z])([a-i])", marker)) and not re.fullmatch(r"[ivxlc]+", marker):
        return f"{m[1]} {_LATIN[ord(m[2]) - ord('a')]}"
    return marker


def written_in(label: str, language: str, paragraphs: bool = True) -> str:
    """The label as a text in `language` writes it (French, else the English label itself); `paragraphs` as for
    `Label.in_french`."""
    return Label.parse(label).in_french(paragraphs) if language == "fr" else label


@lru_cache(maxsize=1 << 16)
def _parse(text: str) -> Label:
    """Labels repeat (every chunk of Article 5 compares "Article 5(1)"), so parsing once each pays."""
    return Label._read(text)


def parse(text: str) -> Label:
    return Label.parse(text)


def unit_of(label: str) -> str:
    """ "Article 6(1)(a)" -> "Article 6"; "Annex III, point 4" -> "Annex III"."""
    return Label.parse(label).unit


def parent(label: str) -> str:
    """ "Article 5(1)(f)" -> "Article 5(1)"; a top-level label is its own parent."""
    up = Label.parse(label).parent
    return str(up) if up else label


def ancestors(label: str) -> list[str]:
    """ "Article 6(1)(a)" -> ["Article 6(1)", "Article 6"]."""
    return [str(a) for a in Label.parse(label).ancestors()]


def within(label: str, ancestor: str) -> bool:
    """Is `label` the provision `ancestor` or a part of it? "Article 50(10)" is not within "Article 50(1)"."""
    return Label.parse(label).within(Label.parse(ancestor))


def nearest(label: str, exists: Callable[[str], bool]) -> str | None:
    """The label itself when `exists(label)`, else its closest existing ancestor; None when none exists."""
    for candidate in [label, *ancestors(label)]:
        if exists(candidate):
            return candidate
    return None


def container_label(chapter: str, section: str = "") -> str:
    """The label under which a chapter or section is opened and cross-referenced."""
    return f"{chapter}, {section}" if section else chapter


def written_title(title: str, language: str) -> str:
    """A step of a passage's path as a text in `language` writes it: "Chapter II — Pratiques interdites en
    matière d’ia" -> "Chapitre II — Pratiques interdites en matière d’IA" in French.

    The stored path keeps the English word, as labels do: it is what filters and the application article's
    chapter references compare. It also keeps the heading as ingest sentence-cased it ("d’ia"), since that is
    what the passages were embedded with: embedded with "d’IA", French questions found their provision lower
    (README, "Evaluation")."""
    word, _, rest = title.partition(" ")
    if language != "fr" or word not in _FRENCH_UNITS or not rest:
        return title
    return f"{_FRENCH_UNITS[word]} " + "".join(p.upper() if p in _FRENCH_ACRONYMS else p for p in _WORDS.split(rest))


def short_title(title: str) -> str:
    """ "Chapter II — Prohibited AI practices" -> "Chapter II": the part a citation uses."""
    return title.split(" — ", 1)[0]


def roman_value(numeral: str) -> int:
    values = [_ROMAN_VALUES[c] for c in numeral.upper()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def marker_key(marker: str, roman: bool = False) -> tuple[int, str]:
    """The order of a number or point marker, inserted ones included: 4 < 4a < 4b < 5; (b) < (ba) < (bb) < (c).

    Inserted provisions take the marker they follow plus a suffix ("ba" after "b",
    "1a" after "1"), as the Joint Practical Guide numbers them, so letters compare
    as strings and numbers by value then suffix. Sub-points (i), (ii), (iv) are
    Roman numerals only by their list's context, which the caller knows.
    """
    if m := re.fullmatch(r"(\d+)([a-z]*)", marker):
        return int(m[1]), m[2]
    if roman and re.fullmatch(r"[ivxlc]+", marker):
        return roman_value(marker), ""
    return 0, marker


def sort_key(label: str) -> tuple:
    """Document order of labels: recitals, articles (4 < 4a < 5), annexes (I < XIV); points inside."""
    parsed = Label.parse(label)
    kind_order = {"recital": 0, "chapter": 1, "article": 1, "annex": 2}.get(parsed.kind, 3)
    number = parsed.unit.split(" ", 1)[1] if " " in parsed.unit else ""
    first = (roman_value(number), "") if parsed.kind in {"annex", "chapter"} and number else marker_key(number)
    return kind_order, first, parsed.part, tuple(marker_key(p) for p in parsed.points)


def sibling(label: str, of: str) -> str | None:
    """The provision holding `label` that stands beside `of` (same parent, same depth), or None.

    An inserted provision goes after its earlier siblings and everything inside
    them: beside "Article 5(1)(ba)", "Article 5(1)(b)(i)" is held by "Article
    5(1)(b)", while "Article 5(1)" itself (a subparagraph of the parent) stands
    beside nothing. Top-level provisions all stand beside each other.
    """
    held, ref = Label.parse(label), Label.parse(of)
    up = ref.parent
    if up is None:
        return held.unit
    if not held.within(up):
        return None
    beside = Label(held.unit, held.part if ref.part else "", held.points[:len(ref.points)])
    deep_enough = len(beside.points) == len(ref.points) and bool(beside.part) == bool(ref.part)
    return str(beside) if deep_enough and beside != up else None
