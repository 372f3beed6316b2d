"""The two shapes a document passes through on its way to the index.

Every reader (EUR-Lex XHTML, PDF, plain text) reduces its format to a flat
stream of `Block`s; one structure builder (`ingest.structure`) turns that stream
into citable `Unit`s. Keeping the readers this dumb is what makes a PDF and an
HTML rendering of the same act come out with the same labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from index.model import Amendment

BlockKind = Literal["heading", "text", "item", "line"]
UnitKind = Literal["recital", "article", "annex", "section"]
UnitRole = Literal["", "intro"]


@dataclass(frozen=True)
class Block:
    """One visual piece of a document, before any legal meaning is assigned.

    ``heading`` and ``text`` come from formats that say what they are (XHTML
    classes, Markdown ``#``); ``item`` is a list entry whose ``marker`` ("(a)",
    "1.") the format separated from its text; ``line`` is raw extracted text
    (PDF) that may continue the previous block or start something new.
    """

    kind: BlockKind
    text: str
    marker: str | None = None
    depth: int = 0
    page: int | None = None


@dataclass(frozen=True)
class Unit:
    """The smallest citable piece the parser found: a recital, a paragraph, a point.

    ``label`` is the citation a lawyer would write ("Article 5(1)(f)",
    "Annex III, point 4(a)"); ``unit`` is the top-level provision it belongs
    to ("Article 5"), the granularity at which answers are grouped and scored.
    ``lead`` is the sentence that introduces a list ("The following AI practices
    shall be prohibited:"), without which a point reads out of context. That
    sentence is also a unit of its own, with ``role`` "intro", so that the flat
    list keeps every subparagraph an amending act can address by ordinal ("the
    third paragraph of Article 113").
    """

    label: str
    unit: str
    kind: UnitKind
    text: str
    heading: str = ""
    path: tuple[str, ...] = ()
    anchor: str = ""
    page: int | None = None
    lead: str = ""
    role: UnitRole = ""
    valid_from: str = ""  # the wording's life where an amending act changed the document: see index.model.Chunk
    valid_to: str = ""
    status: str = ""
    amended_by: tuple[Amendment, ...] = ()


@dataclass(frozen=True)
class ParsedDocument:
    units: list[Unit]
    pages: int | None = None
