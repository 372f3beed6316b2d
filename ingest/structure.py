"""Blocks to citable units: the legal structure of an EU act, or the sections of anything else.

The same builder reads every format. XHTML hands it clean blocks (points
already split from their markers); PDF and text hand it raw lines, where a line
that starts with "2." may be a new paragraph or a wrapped sentence. The rule
that settles it is the one a reader uses: numbering runs in sequence, so "2."
opens a paragraph only right after paragraph 1. XHTML says what is a heading,
a paragraph or a list item, so there numbering need only move forward, which
lets inserted provisions in ("Article 4a" after 4, "1a." after "1.", "(ba)"
after "(b)").

The units come out lossless enough to be addressed as an amending act
addresses them: every XHTML paragraph is a unit of its own (an article's
unnumbered paragraphs and a paragraph's subparagraphs share its label), and the
sentence that introduces a list is a unit with role "intro".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from index.law.labels import Label, marker_key, roman_value
from ingest.model import Block, Unit, UnitKind, UnitRole

_PARAGRAPH = re.compile(r"^(\d{1,3}[a-z]{0,2})\.\s+(.*)$", re.S)
_POINT = re.compile(r"^\(?([a-z]{1,4}|\d{1,3})\)\s+(.*)$", re.S)  # "(a) ..." in English, "a) ..." in French
_MARKER = re.compile(r"^\(?([a-z]{1,4}|\d{1,3}[a-z]{0,2}|[ivx]+)[.)]?$")
_ANNEX_PART = re.compile(r"^(Section|Part|SECTION|PART)\s+([A-Z]|\d{1,2})\b")


@dataclass(frozen=True)
class Vocabulary:
    """The words that announce structure in one language; labels stay English."""

    article: re.Pattern[str]
    chapter: re.Pattern[str]
    section: re.Pattern[str]
    annex: re.Pattern[str]
    recitals_start: re.Pattern[str]
    recitals_end: re.Pattern[str]
    signature: re.Pattern[str]


VOCABULARIES = {
    "en": Vocabulary(
        article=re.compile(r"^Article\s+(\d{1,3}[a-z]{0,2})$"),
        chapter=re.compile(r"^CHAPTER\s+([IVXLC]+)$"),
        section=re.compile(r"^(?:SECTION|Section)\s+(\d{1,2})$"),
        annex=re.compile(r"^(?:ANNEX|Annex)(?:\s+([IVXLC]+))?$"),  # "Annex XIV" as an amending act quotes it
        recitals_start=re.compile(r"^Whereas\s*:?$"),
        recitals_end=re.compile(r"^HAVE ADOPTED THIS (?:REGULATION|DIRECTIVE|DECISION)"),
        signature=re.compile(r"^Done at [A-Z]\w+"),
    ),
    "fr": Vocabulary(
        article=re.compile(r"^Article\s+(\d{1,3}[a-z]{0,2}|premier)$"),
        chapter=re.compile(r"^CHAPITRE\s+([IVXLC]+)$"),
        section=re.compile(r"^(?:SECTION|Section)\s+(\d{1,2})$"),
        annex=re.compile(r"^(?:ANNEXE|Annexe)(?:\s+([IVXLC]+))?$"),
        recitals_start=re.compile(r"^considérant ce qui suit\s*:?$", re.I),
        recitals_end=re.compile(r"^ONT ADOPTÉ LE PRÉSENT (?:RÈGLEMENT|DIRECTIVE|DÉCISION)"),
        signature=re.compile(r"^Fait à [A-Z]\w+"),
    ),
}


def build_units(blocks: list[Block], language: str = "en") -> list[Unit]:
    """Legal units when the blocks hold an act's articles, else heading sections."""
    vocabulary = _vocabulary_for(blocks, language)
    if vocabulary is None:
        return _SectionBuilder().build(blocks)
    return _LegalBuilder(vocabulary).build(blocks)


def build_quoted(blocks: list[Block], context: str = "", language: str = "en") -> list[Unit]:
    """Units of new wording quoted by an amending act, labelled as they will stand in the amended act.

    A quote restates its own numbering ("2.", "(ba)", "Article 4a") but not the
    provision it sits in, so `context` is the label of that provision ("Article
    5(1)", "Annex I, Section B"), or "" when the quote opens with its own Article
    or Annex heading. Titles and chapters are the amended act's: the caller fits them.
    """
    builder = _LegalBuilder(VOCABULARIES[language])
    builder.stage = "provisions"
    if context:
        builder.provision = _Provision.at(Label.parse(context))
    return builder.build(blocks)


def _vocabulary_for(blocks: list[Block], language: str) -> Vocabulary | None:
    def articles(v: Vocabulary) -> int:
        return sum(1 for b in blocks if b.kind != "item" and v.article.match(b.text))

    ranked = sorted(VOCABULARIES.items(), key=lambda kv: (articles(kv[1]), kv[0] == language), reverse=True)
    best = ranked[0][1]
    return best if articles(best) >= 2 else None


def _next_marker(previous: str | None, marker: str) -> bool:
    """Is `marker` the point that follows `previous` ((a)->(b), (9)->(10), (z)->(aa))?"""
    if previous is None:
        return marker in {"a", "1"}
    if previous.isdigit():
        return marker.isdigit() and int(marker) == int(previous) + 1
    if len(previous) == 1 and previous != "z":
        return marker == chr(ord(previous) + 1)
    return marker == ("aa" if previous == "z" else previous[0] * (len(previous) + 1))


def _follows(previous: str | None, marker: str, ordered: bool) -> bool:
    """May `marker` number the provision after `previous`? In order for XHTML, in strict sequence for raw lines."""
    if ordered:
        return previous is None or marker_key(marker) > marker_key(previous)
    return _next_marker(previous, marker)


def _padded(number: str) -> str:
    """ "4a" -> "004a": the EUR-Lex anchor spelling of a number."""
    value, suffix = marker_key(number)
    return f"{value:03d}{suffix}"


def _is_roman(marker: str) -> bool:
    return bool(re.fullmatch(r"[ivx]+", marker))


def _join(parts: list[str]) -> str:
    """The lines of a unit as one text. Collected in a list and joined once: adding each line to a growing
    string copies it every time, which took 30 s for a unit of 8 MB."""
    pieces: list[str] = []
    last = ""  # the last character joined so far
    for part in parts:
        if last == "-" and part[:1].islower():
            pieces.append(part)  # a word split across PDF lines ("high-" + "risk")
        else:
            pieces.append(f" {part}" if last else part)
        last = pieces[-1][-1:] or last
    return "".join(pieces)


def _sentence_case(heading: str) -> str:
    """'PROHIBITED AI PRACTICES' -> 'Prohibited AI practices' (acronyms kept)."""
    if not heading.isupper():
        return heading
    words = heading.lower().split()
    keep = {"ai", "eu", "ict", "gpai", "sme", "smes"}
    words = [w.upper() if w in keep else w for w in words]
    return " ".join(words)[:1].upper() + " ".join(words)[1:]


@dataclass
class _Draft:
    label: str
    unit: str
    kind: UnitKind
    heading: str
    path: tuple[str, ...]
    anchor: str
    page: int | None
    lead: str = ""
    parts: list[str] = field(default_factory=list)
    role: UnitRole = ""
    headed: bool = False  # opened by a heading inside the provision, which the next paragraph fills

    def to_unit(self) -> Unit:
        return Unit(self.label, self.unit, self.kind, _join(self.parts), self.heading, self.path,
                    self.anchor, self.page, self.lead, self.role)


@dataclass
class _Provision:
    """An article or an annex: a title and two levels of numbered subdivisions."""

    kind: UnitKind
    number: str
    title: str = ""
    part: str = ""  # an annex's "Section A", whose numbering restarts
    level1: str | None = None  # paragraph of an article, point of an annex
    level2: str | None = None  # point of an article, lettered point of an annex
    level2_depth: int = 0  # the XHTML table depth at which level-2 items sit
    subpoint: str | None = None

    @classmethod
    def at(cls, label: Label) -> _Provision:
        """The provision open at `label`, as if its earlier text had just been read."""
        kind: UnitKind = "annex" if label.kind == "annex" else "article"
        number = label.unit.split(" ", 1)[1] if " " in label.unit else ""
        levels = (*label.points, None, None)
        return cls(kind, number, part=label.part, level1=levels[0], level2=levels[1])

    @property
    def unit(self) -> str:
        return f"{'Article' if self.kind == 'article' else 'Annex'} {self.number}".strip()

    def label(self) -> str:
        return str(Label(self.unit, self.part, tuple(n for n in (self.level1, self.level2) if n)))

    def anchor(self) -> str:
        if self.kind == "annex":
            return f"anx_{self.number}"
        if self.level1 and self.level1[0].isdigit():
            return f"{_padded(self.number)}.{_padded(self.level1)}"
        return f"art_{self.number}"


class _LegalBuilder:
    def __init__(self, vocabulary: Vocabulary) -> None:
        self.v = vocabulary
        self.units: list[Unit] = []
        self.stage = "preamble"
        self.chapter = ""
        self.section = ""
        self.counters = {"chapter": 0, "annex": 0, "recital": 0}
        self.article: str | None = None  # the number of the last article opened ("4a")
        self.awaiting: str | None = None
        self.provision: _Provision | None = None
        self.draft: _Draft | None = None

    def build(self, blocks: list[Block]) -> list[Unit]:
        for block in blocks:
            self._feed(block)
        self._flush()
        return self.units

    # -- dispatch ---------------------------------------------------------------
    def _feed(self, block: Block) -> None:
        if block.kind != "item" and self._structural_heading(block):
            return
        if self.awaiting:
            self._set_title(block.text)
        elif self.stage == "preamble":
            self._preamble(block)
        elif self.stage == "recitals":
            self._recitals(block)
        elif self.stage == "provisions" and self.v.signature.match(block.text):
            self._flush()
            self.stage = "signature"
        elif self.stage == "provisions" and self.provision:
            self._provision_block(block)

    def _structural_heading(self, block: Block) -> bool:
        text, trusted = block.text, block.kind == "heading"
        if m := self.v.article.match(text):
            number = "1" if m.group(1) == "premier" else m.group(1)
            if trusted or _next_marker(self.article or "0", number):
                self.article = number
                self._open(_Provision("article", number))
                return True
        if m := self.v.annex.match(text):
            numeral = m.group(1) or ""
            in_sequence = text.isupper() and roman_value(numeral or "I") == self.counters["annex"] + 1
            if self.stage != "preamble" and (trusted or in_sequence):
                self.counters["annex"] = roman_value(numeral or "I")
                self._open(_Provision("annex", numeral))
                return True
        if self.stage in {"recitals", "provisions"} and (m := self.v.chapter.match(text)):
            if trusted or roman_value(m.group(1)) == self.counters["chapter"] + 1:
                self._flush()
                self.counters["chapter"] = roman_value(m.group(1))
                self.chapter, self.section, self.awaiting = f"Chapter {m.group(1)}", "", "chapter"
                return True
        if self.stage == "provisions" and (m := self.v.section.match(text)) and not self._inside_annex():
            self._flush()
            self.section, self.awaiting = f"Section {m.group(1)}", "section"
            return True
        if self._inside_annex() and (m := _ANNEX_PART.match(text)) and (trusted or len(text) < 160):
            self._flush()
            self.provision.part = f"{m.group(1).capitalize()} {m.group(2)}"
            self.provision.level1 = self.provision.level2 = None
            return True
        return False

    def _inside_annex(self) -> bool:
        return self.provision is not None and self.provision.kind == "annex"

    def _open(self, provision: _Provision) -> None:
        self._flush()
        if provision.kind == "annex":
            self.chapter = self.section = ""
        self.provision, self.stage, self.awaiting = provision, "provisions", provision.kind

    def _set_title(self, text: str) -> None:
        if self.awaiting in {"article", "annex"} and self.provision:
            self.provision.title = text
        elif self.awaiting == "chapter":
            self.chapter = f"{self.chapter} — {_sentence_case(text)}"
        elif self.awaiting == "section":
            self.section = f"{self.section} — {_sentence_case(text)}"
        self.awaiting = None

    # -- preamble and recitals ------------------------------------------------------
    def _preamble(self, block: Block) -> None:
        if self.v.recitals_start.match(block.text):
            self.stage = "recitals"
        elif block.kind == "item" and block.marker in {"(1)", "1"}:
            self.stage = "recitals"
            self._recitals(block)

    def _recitals(self, block: Block) -> None:
        if self.v.recitals_end.match(block.text):
            self._flush()
            self.stage = "provisions"
            return
        number, text = self._recital_start(block)
        if number is None:
            self._append(block.text)
            return
        self._flush()
        self.counters["recital"] = number
        self.draft = _Draft(f"Recital {number}", f"Recital {number}", "recital", "", (), f"rct_{number}",
                            block.page, parts=[f"({number}) {text}"])

    def _recital_start(self, block: Block) -> tuple[int | None, str]:
        expected = self.counters["recital"] + 1
        if block.kind == "item" and block.depth == 0 and (m := _MARKER.match(block.marker or "")):
            if m.group(1).isdigit():
                return int(m.group(1)), block.text
        if block.kind == "line" and (m := _POINT.match(block.text)) and m.group(1) == str(expected):
            return expected, m.group(2)
        return None, block.text

    # -- articles and annexes --------------------------------------------------------
    def _provision_block(self, block: Block) -> None:
        p = self.provision
        assert p is not None
        if block.kind == "item":
            self._item(p, block)
        elif block.kind == "text" and block.depth > p.level2_depth and self.draft:
            self._append(block.text)  # a further paragraph inside a point's cell
        elif (m := _PARAGRAPH.match(block.text)) and _follows(p.level1, m.group(1), block.kind != "line"):
            self._level1(p, m.group(1), block.text, block.page)
            self._mark_heading(block)
        elif block.kind == "line":
            self._line(p, block)
        else:
            self._subparagraph(p, block)

    def _subparagraph(self, p: _Provision, block: Block) -> None:
        """A paragraph of its own: XHTML separates subparagraphs, and amending acts count them."""
        if self.draft and self.draft.headed:
            self.draft.headed = False
            self._append(block.text)
            return
        p.level2 = p.subpoint = None
        self._start(p, block.text, block.page)
        self._mark_heading(block)

    def _mark_heading(self, block: Block) -> None:
        """A heading inside a provision ("1. Introduction") opens the unit its next paragraph fills."""
        if self.draft and block.kind == "heading":
            self.draft.headed = True

    def _continue(self, p: _Provision, block: Block) -> None:
        """More text of the open unit, or the first text of a provision without numbered paragraphs."""
        if self.draft:
            self._append(block.text)
        else:
            self._start(p, block.text, block.page)

    def _item(self, p: _Provision, block: Block) -> None:
        marker = block.marker or ""
        text = f"{marker} {block.text}"
        found = _MARKER.match(marker)
        if found and marker.endswith(".") and block.depth == 0:
            self._level1(p, found.group(1), text, block.page, from_item=True)
        elif found and block.depth <= p.level2_depth:
            self._level2(p, found.group(1), text, block.page)
        else:
            self._append(text)  # sub-points, dashes: part of the point above

    def _line(self, p: _Provision, block: Block) -> None:
        m = _POINT.match(block.text)
        if not m:
            self._continue(p, block)
            return
        marker = m.group(1)
        if _is_roman(marker) and p.level2 and (
            (p.subpoint is None and self.draft and self.draft.parts[-1].rstrip().endswith(":"))
            or (p.subpoint and roman_value(marker) == roman_value(p.subpoint) + 1)
        ):
            p.subpoint = marker
            self._append(block.text)
        elif _next_marker(p.level2, marker):
            self._level2(p, marker, block.text, block.page)
        else:
            self._continue(p, block)

    def _level1(self, p: _Provision, number: str, text: str, page: int | None, from_item: bool = False) -> None:
        p.level1, p.level2, p.subpoint = number, None, None
        p.level2_depth = 1 if from_item else 0  # an annex's "1." is itself a table row
        self._start(p, text, page)

    def _level2(self, p: _Provision, marker: str, text: str, page: int | None) -> None:
        lead = ""
        if self.draft and p.level2 is None:
            self.draft.role = "intro"  # the sentence that introduces the list
            lead = _join(self.draft.parts)
        elif self.draft:
            lead = self.draft.lead
        p.level2, p.subpoint = marker, None
        self._start(p, text, page, lead)

    def _start(self, p: _Provision, text: str, page: int | None, lead: str = "") -> None:
        self._flush()
        path = tuple(x for x in (self.chapter, self.section) if x) + (f"{p.unit} — {p.title}".rstrip(" —"),)
        self.draft = _Draft(p.label(), p.unit, p.kind, p.title, path, p.anchor(), page, lead, [text])

    def _append(self, text: str) -> None:
        if self.draft:
            self.draft.parts.append(text)

    def _flush(self) -> None:
        if self.draft and (unit := self.draft.to_unit()).text.strip():
            self.units.append(unit)
        self.draft = None


class _SectionBuilder:
    """Anything that is not an act: paragraphs grouped under the nearest heading."""

    MAX_HEADING = 90

    def build(self, blocks: list[Block]) -> list[Unit]:
        units: list[Unit] = []
        heading, count, pending = "", 0, []
        page = None

        def flush() -> None:
            nonlocal count, pending
            if pending:
                count += 1
                name = heading or (f"Page {page}" if page else "Text")
                units.append(Unit(f"{name} ¶{count}", name, "section", _join(pending), heading,
                                  (heading,) if heading else (), f"page={page}" if page else "", page))
                pending = []

        for block in blocks:
            if block.kind == "heading" or self._looks_like_heading(block.text):
                flush()
                heading, count = block.text, 0
                continue
            if not pending:
                page = block.page
            pending.append(block.text)
            if block.kind != "line" or re.search(r"[.!?:]['’”)]?$", block.text):
                flush()
        flush()
        return units

    def _looks_like_heading(self, text: str) -> bool:
        return (
            len(text) <= self.MAX_HEADING
            and not re.search(r"[.,;:!?]$", text)
            and text[:1].isupper()
            and len(text.split()) <= 12
        )
