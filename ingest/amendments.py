"""An amending act's instructions, read as typed changes to the act it amends.

Amending acts are drafted by the Joint Practical Guide: an article "Regulation
(EU) 2024/1689 is amended as follows:" followed by numbered points, each an
instruction sentence ("in Article 5(1), point (g) is replaced by the
following:") and, in typographic quotes, the new wording. Points nest: "Article
2 is amended as follows:" opens lettered sub-points that inherit "Article 2" as
their context. The instruction is only what stands outside the quotes; the
quoted wording is parsed by the same structure builder as any act, so it comes
out labelled as it will stand ("Article 5(1)(ba)").

The grammar is a handful of phrases (a provision cited in full, "paragraph 2",
"point (b)", "the third subparagraph", "Section B", "the heading", "the
introductory part", "the following point") and one verb phrase ("is replaced by
the following", "is amended as follows", "is deleted", "is inserted", "is
added"). A sentence the grammar does not cover is never guessed at: it becomes
a `Refusal` naming the point.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

from lxml import etree

from index.law.labels import Label, within
from ingest import eurlex
from ingest.model import Block, Unit
from ingest.structure import build_quoted

Action = Literal["replace", "insert", "add", "delete"]
ScopePart = Literal["whole", "heading", "intro", "subparagraph", "paragraph"]

_ORDINALS = {word: n for n, word in enumerate(
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"], start=1)}
_OPEN, _CLOSE = "‘", "’"
_SEGMENT = re.compile(r",\s+(?=(?:in|the|points?|paragraphs?|subparagraphs?|sections?|parts?|articles?|annex)\b)", re.IGNORECASE)
_VERB = re.compile(r"^(?P<object>.+?) (?:is|are) (?P<verb>replaced by the following|amended as follows|deleted|inserted|added)$", re.IGNORECASE)
_NEW = re.compile(r"^the following (?:point|paragraph|subparagraph|article|annex|section|part)(?:s|es)?$", re.IGNORECASE)
_PROVISION = re.compile(r"^(?:article|annex)\b", re.IGNORECASE)  # the citation itself is read by labels.Label
_PART = re.compile(r"^(?P<kind>section|part) (?P<name>\w{1,3})$", re.IGNORECASE)
_ORDINAL = re.compile(rf"^the (?P<ordinal>{'|'.join(_ORDINALS)}) (?P<what>subparagraph|paragraph)$", re.IGNORECASE)
_NUMBERED = re.compile(r"^(?P<what>point|paragraph)s? (?P<markers>\(?\w+\)?(?:(?:,| and| or) \(?\w+\)?)*)$", re.IGNORECASE)
_MARKERS = re.compile(r",\s*|\s+and\s+|\s+or\s+")
_HEADING = re.compile(r"^the (?:heading|title)$", re.IGNORECASE)
_INTRO = re.compile(r"^the introductory (?:part|wording|sentence)$", re.IGNORECASE)
_QUOTE_END = re.compile(rf"{_CLOSE}[.;]?$")


@dataclass(frozen=True)
class Scope:
    """Which part of the target an instruction acts on: all of it, or one piece a label cannot name."""

    part: ScopePart = "whole"
    ordinal: int = 0  # "the third paragraph": the third unit labelled exactly as the target

    def __str__(self) -> str:
        if self.part in {"subparagraph", "paragraph"}:
            word = next(w for w, n in _ORDINALS.items() if n == self.ordinal)
            return f"{word} {self.part}"
        return {"whole": "whole", "heading": "heading", "intro": "introductory part"}[self.part]


@dataclass(frozen=True)
class Instruction:
    """One change an amending act makes: act on `target` (in `scope`) with `units` as the new wording.

    `group` is the numbered point it belongs to ("Article 1, point (40)"): a point
    is applied or refused whole. `target` is "" when the instruction acts on the
    act as a whole (an Article or Annex inserted or added). For insertions and
    additions the target is the provision that receives the new units.
    """

    point: str  # how it is cited: "Article 1, point (40)(b)"
    group: str
    target: str
    action: Action
    scope: Scope
    units: tuple[Unit, ...]
    wording: str  # the instruction's own words, without the quoted text
    heading: str = ""  # the new heading, when the scope is the heading


@dataclass(frozen=True)
class Refusal:
    """A numbered point that was not applied, and why: one line that names the (sub-)point at fault."""

    point: str
    reason: str  # "Article 1, point (15)(b): Article 3(7) does not exist"

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class AmendingAct:
    id: str  # "reg-2026-1744"
    citation: str  # "Regulation (EU) 2026/1744"
    in_force: date


class NoAmendments(ValueError):
    """The document has no article amending the act asked for."""


def parse_amendments(data: bytes, amended: str) -> list[Instruction | Refusal]:
    """The instructions of the article "`amended` is amended as follows:", in the act's order."""
    article, tables = _amending_article(eurlex.parse_xhtml(data), amended)
    found: list[Instruction | Refusal] = []
    for marker, content in (row for table in tables for row in _rows(table)):
        point = _read_point(f"{article}, point {marker}", content)
        found.extend(_instructions(point, _Location(), point.citation))
    return found


# -- the tree: points, their sentences, their quotes ------------------------------------

@dataclass
class _Point:
    citation: str
    sentence: str = ""
    quote: list[etree._Element] = field(default_factory=list)
    points: list[_Point] = field(default_factory=list)


def _amending_article(root: etree._Element, amended: str) -> tuple[str, list[etree._Element]]:
    opening = f"{amended} is amended as follows:"
    for p in root.iter("p"):
        if _text(p) == opening:
            heading = p.getparent().xpath("./p[contains(@class, 'ti-art')]")
            tables = [t for t in p.itersiblings() if t.tag == "table"]
            return (_text(heading[0]) if heading else "Article"), tables
    raise NoAmendments(f"no article says ‘{opening}’")


def _rows(table: etree._Element) -> Iterator[tuple[str, etree._Element]]:
    for row in table.xpath("./tr|./tbody/tr"):
        cells = row.xpath("./td")
        if len(cells) == 2 and _text(cells[0]):
            yield _text(cells[0]), cells[1]


def _read_point(citation: str, content: etree._Element) -> _Point:
    """Split a point's cell into its instruction sentence, its quoted wording and its sub-points."""
    point, quoting, sentence = _Point(citation), False, []
    for child in content:
        if not isinstance(child.tag, str):
            continue
        text = _text(child)
        if quoting or text.startswith(_OPEN):
            point.quote.append(child)
            quoting = not _QUOTE_END.search(text)
        elif child.tag == "table":
            point.points += [_read_point(f"{citation}({m.strip('()')})", cell) for m, cell in _rows(child)]
        elif text.strip(";.") and "note" not in (child.get("class") or ""):
            sentence.append(text)
    point.sentence = " ".join(sentence).rstrip(":;. ")
    return point


def _text(element: etree._Element) -> str:
    return " ".join(element.text_content().split())


# -- the grammar: where, what, which verb ----------------------------------------------------

@dataclass(frozen=True)
class _Location:
    """Where the instructions of a point act: accumulated from "Article 2", then "paragraph 3", ..."""

    label: Label | None = None
    scope: Scope = Scope()

    @property
    def target(self) -> str:
        return str(self.label) if self.label else ""


class _NotUnderstood(ValueError):
    pass


def _instructions(point: _Point, context: _Location, group: str) -> list[Instruction | Refusal]:
    try:
        return _understood(point, context, group)
    except _NotUnderstood as error:
        return [Refusal(group, f"{point.citation}: {error}")]


def _understood(point: _Point, context: _Location, group: str) -> list[Instruction | Refusal]:
    *places, last = _SEGMENT.split(point.sentence)
    for place in places:
        context = _only(_step(context, _strip_in(place)), place)
    verb = _VERB.match(last)
    if not verb:
        raise _NotUnderstood(f"instruction not understood: ‘{point.sentence}’")
    action, thing = verb["verb"].lower(), verb["object"]
    if action == "amended as follows" and point.points:
        inner = _only(_step(context, thing), thing)
        return [i for sub in point.points for i in _instructions(sub, inner, group)]
    if point.points:
        raise _NotUnderstood(f"sub-points under ‘{point.sentence}’, which does not say ‘amended as follows’")
    if action in {"inserted", "added"}:
        if not _NEW.match(thing):
            raise _NotUnderstood(f"‘{thing}’ cannot be {action}: expected ‘the following …’")
        return [_instruction(point, group, context, "insert" if action == "inserted" else "add")]
    if _NEW.match(thing):
        raise _NotUnderstood(f"‘{thing}’ cannot be {action}")
    if action == "amended as follows" and not point.quote:
        raise _NotUnderstood(f"‘{point.sentence}’ has neither sub-points nor new wording")
    # "amended as follows" followed by new wording instead of sub-points replaces the target by it.
    kind: Action = "delete" if action == "deleted" else "replace"
    return _split(point, group, _step(context, thing), kind)


def _step(location: _Location, phrase: str) -> list[_Location]:
    """The place(s) `phrase` names, read from `location`: "paragraph 2" in Article 5 is Article 5(2)."""
    label = location.label
    if _PROVISION.match(phrase):
        cited = Label.parse(phrase[:1].upper() + phrase[1:])
        if cited.kind in {"article", "annex"}:
            return [_Location(cited)]
    elif label is None:
        pass
    elif m := _PART.match(phrase):
        return [_Location(Label(label.unit, f"{m['kind'].capitalize()} {m['name'].upper()}"))]
    elif m := _ORDINAL.match(phrase):
        return [_Location(label, Scope(m["what"].lower(), _ORDINALS[m["ordinal"].lower()]))]
    elif _HEADING.match(phrase):
        return [_Location(Label(label.unit), Scope("heading"))]
    elif _INTRO.match(phrase):
        return [_Location(label, Scope("intro"))]
    elif m := _NUMBERED.match(phrase):
        markers = [x.strip("()") for x in _MARKERS.split(m["markers"])]
        if m["what"].lower() == "paragraph" and label.kind == "article":
            return [_Location(Label(label.unit, "", (marker,))) for marker in markers]
        if m["what"].lower() == "point":
            return [_Location(label.child(marker)) for marker in markers]
    raise _NotUnderstood(f"‘{phrase}’ not understood" + ("" if label else " without a provision to refer to"))


def _strip_in(phrase: str) -> str:
    return re.sub(r"^in\s+", "", phrase, flags=re.IGNORECASE)


def _only(locations: list[_Location], phrase: str) -> _Location:
    if len(locations) != 1:
        raise _NotUnderstood(f"‘{phrase}’ names several places where one is needed")
    return locations[0]


# -- the new wording ----------------------------------------------------------------------------

def _instruction(point: _Point, group: str, where: _Location, action: Action,
                 units: tuple[Unit, ...] | None = None) -> Instruction:
    heading = ""
    if units is None and where.scope.part == "heading":
        heading, units = " ".join(b.text for b in _quoted_blocks(point)), ()
    elif units is None:
        units = _new_units(point, _context(where, action))
    if action != "delete" and not (units or heading):
        raise _NotUnderstood(f"‘{point.sentence}’ gives no new wording")
    if action == "delete" and point.quote:
        raise _NotUnderstood(f"‘{point.sentence}’ deletes but quotes new wording")
    if where.label and action != "delete" and not all(within(u.label, where.target) for u in units):
        stray = next(u.label for u in units if not within(u.label, where.target))
        raise _NotUnderstood(f"the new wording is labelled {stray}, which is not within {where.target}")
    return Instruction(point.citation, group, where.target, action, where.scope, units, point.sentence, heading)


def _split(point: _Point, group: str, targets: list[_Location], action: Action) -> list[Instruction | Refusal]:
    """One instruction per target of "paragraphs 2 and 3 are replaced", each with its share of the wording."""
    if len(targets) == 1 or action == "delete":
        return [_instruction(point, group, t, action, () if action == "delete" else None) for t in targets]
    units = _new_units(point, _context(targets[0], action))
    return [_instruction(point, group, t, action, tuple(u for u in units if within(u.label, t.target)))
            for t in targets]


def _context(where: _Location, action: Action) -> str:
    """The provision the quoted wording sits in: the target's parent when it restates the target's number."""
    if action in {"insert", "add"} or where.scope.part != "whole" or where.label is None:
        return where.target
    parent = where.label.parent
    return str(parent) if parent else ""


def _new_units(point: _Point, context: str) -> tuple[Unit, ...]:
    units = build_quoted(_quoted_blocks(point), context)
    return tuple(u for u in units if u.text)


def _quoted_blocks(point: _Point) -> list[Block]:
    """The quoted wording as blocks, without the opening and closing quotes."""
    blocks = eurlex.read_fragment(point.quote)
    if not blocks:
        return []
    first = blocks[0]
    if first.marker and first.marker.startswith(_OPEN):
        blocks[0] = replace(first, marker=first.marker[1:])
    elif first.text.startswith(_OPEN):
        blocks[0] = replace(first, text=first.text[1:].lstrip())
    blocks[-1] = replace(blocks[-1], text=_QUOTE_END.sub("", blocks[-1].text).rstrip())
    return blocks
