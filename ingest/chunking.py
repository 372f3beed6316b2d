"""Citable units to indexed chunks: never a window across two provisions.

A unit longer than the embedder reads (all-MiniLM-L6-v2 stops at 256 word
pieces) is split at sentence ends and every piece keeps the unit's label; the
points of a list that are all tiny ("Chapters I and II shall apply from 2
February 2025;") fold into one chunk under their parent's label, where they
read as the list they are. The sentence introducing a list is no passage of
its own: its words reach every point of the list as the point's lead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace
from itertools import groupby

from index.law.labels import Label, parent
from index.model import Chunk
from ingest.model import Unit

MAX_CHARS = 700
TINY_CHARS = 160
# The longest sentence in the official texts has 1,744 characters (Article 66(e) of the French AI Act); a
# sentence that long stays whole, as the law wrote it. A longer run with no sentence end (a text without full
# stops) is cut into pieces of MAX_CHARS, at a space where there is one, so no chunk's text or lead exceeds
# LONGEST_SENTENCE.
LONGEST_SENTENCE = 2000
_SENTENCE_END = re.compile(r"(?<=[.;:])\s+(?=[A-Z(‘“«—])")

Linker = Callable[[Unit], str]


def chunk_units(doc_id: str, short: str, units: list[Unit], link: Linker) -> list[Chunk]:
    chunks: list[Chunk] = []
    seen: Counter[str] = Counter()
    for unit in _fold_tiny_lists([_short_lead(u) for u in units if u.role != "intro"]):
        label = unit.label + _expression(unit)
        for piece in _pieces(unit.text):
            seen[label] += 1
            suffix = f"#{seen[label]}" if seen[label] > 1 else ""
            chunks.append(Chunk(
                id=f"{doc_id}/{label}{suffix}", doc_id=doc_id, label=unit.label, unit=unit.unit,
                kind=unit.kind, heading=unit.heading, path=unit.path, text=piece, lead=unit.lead,
                passage=passage(short, unit, piece), url=link(unit), page=unit.page, order=len(chunks),
                valid_from=unit.valid_from, valid_to=unit.valid_to, status=unit.status, amended_by=unit.amended_by,
            ))
    return chunks


def _expression(unit: Unit) -> str:
    """A superseded wording's id says which version it was ("Article 10(5)@original"), as cobalt's FRBR
    expressions do, so the text in force keeps the plain id and re-ingesting renumbers nothing."""
    if not unit.valid_to:
        return ""
    return f"@{unit.valid_from or 'original'}"


def passage(short: str, unit: Unit, text: str) -> str:
    """What is embedded and matched: the text with the context a reader of the page has."""
    context = " > ".join(unit.path) if unit.path else unit.unit
    return "\n".join(part for part in (f"{short} | {context} | {unit.label}", unit.lead, text) if part)


def _short_lead(unit: Unit) -> Unit:
    """A lead past LONGEST_SENTENCE keeps its last piece, the words just before the list: every point of the
    list carries its lead, and a lead with no sentence end would otherwise reach each of them whole."""
    if len(unit.lead) <= LONGEST_SENTENCE:
        return unit
    return replace(unit, lead=_pieces(unit.lead)[-1])


def _fold_tiny_lists(units: list[Unit]) -> list[Unit]:
    folded: list[Unit] = []
    for holder, group in groupby(units, key=lambda u: parent(u.label) if u.lead else u.label):
        members = list(group)
        if len(members) > 1 and holder != members[0].label and all(_foldable(u) for u in members) \
                and len({_life(u) for u in members}) == 1:
            first = members[0]
            text = " ".join(u.text for u in members)
            folded.append(replace(first, label=holder, text=f"{first.lead} {text}".strip(), lead=""))
        else:
            folded.extend(members)
    return folded


def _life(unit: Unit) -> tuple:
    """Points with different histories stay apart: each keeps its own status and amendment."""
    return unit.valid_from, unit.valid_to, unit.status, unit.amended_by


def _foldable(unit: Unit) -> bool:
    """Short lettered points fold; numbered ones are definitions, each cited on its own ("Article 3(4)")."""
    points = Label.parse(unit.label).points
    return len(unit.text) < TINY_CHARS and bool(points) and points[-1].isalpha()


def _pieces(text: str) -> list[str]:
    if len(text) <= MAX_CHARS:
        return [text]
    pieces, current = [], ""
    for sentence in _sentences(text):
        if current and len(current) + len(sentence) + 1 > MAX_CHARS:
            pieces.append(current)
            current = sentence
        else:
            current = f"{current} {sentence}".strip()
    if current:
        pieces.append(current)
    return pieces


def _sentences(text: str) -> Iterator[str]:
    """The sentences of `text`, a run longer than LONGEST_SENTENCE cut into pieces the embedder reads whole."""
    for sentence in _SENTENCE_END.split(text):
        yield from _cut(sentence) if len(sentence) > LONGEST_SENTENCE else (sentence,)


def _cut(run: str) -> Iterator[str]:
    """Pieces of at most MAX_CHARS, each ending at its last space; a word longer than that is cut where it stands."""
    start = 0
    while start < len(run):
        end = start + MAX_CHARS
        if end < len(run) and (space := run.rfind(" ", start, end + 1)) > start:
            end = space
        if piece := run[start:end].strip():
            yield piece
        start = end
