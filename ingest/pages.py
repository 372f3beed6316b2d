"""Page furniture removal shared by every paginated source (PDF, PDF-to-text).

Official Journal pages repeat a header ("OJ L, 12.7.2024 EN") and a footer
("ELI: http://data.europa.eu/eli/reg/2024/1689/oj 12/144") and carry footnotes
that would otherwise be glued into the middle of a recital. Repetition, not a
list of known strings (bar the OJ masthead), is what identifies the furniture, so other publishers'
PDFs get the same treatment.
"""

from __future__ import annotations

import re
from collections import Counter

_COUNTER = re.compile(r"^\d{1,4}\s*/\s*\d{1,4}\b|\b\d{1,4}\s*/\s*\d{1,4}$|^\d{1,4}$")
_SPACES = re.compile(r"\s+")
_FOOTNOTE = re.compile(r"^\((\d{1,3})\)\s")
_PAGE_COUNTER = re.compile(r"^\d{1,4}\s*/\s*\d{1,4}$")
# The Official Journal masthead appears once, on the first page, mid-text.
_MASTHEAD = re.compile(
    r"^(Official Journal|of the European Union|Journal officiel|de l[’']Union européenne|"
    r"L series|Série L|EN|FR|\d{4}/\d{1,5}\s+\d{1,2}\.\d{1,2}\.\d{4})$"
)


def _shape(line: str) -> str:
    """A line with its page counter blanked: "ELI: ... 12/144" and "ELI: ... 13/144" are one shape.

    Only counters are blanked, never other numbers: "Article 5" and "Article 6"
    also repeat across pages, and they are the act, not its furniture.
    """
    return _COUNTER.sub("#", _SPACES.sub(" ", line.strip()))


def clean_pages(pages: list[list[str]]) -> list[list[str]]:
    """Drop headers, footers, footnotes and the OJ masthead from each page's lines."""
    furniture = _repeated_shapes(pages)
    notes = _FootnoteCounter()
    return [_clean_page(lines, furniture, notes) for lines in pages]


class _FootnoteCounter:
    """Footnotes are numbered through the whole act, apart from recitals and points.

    "(8)" at the foot of a page is footnote 8 only if footnote 7 came before;
    otherwise it is definition (8) that the extractor put after the footer.
    """

    def __init__(self) -> None:
        self.next = 1

    def number(self, line: str) -> int | None:
        found = _FOOTNOTE.match(line)
        return int(found.group(1)) if found else None

    def take(self, line: str) -> bool:
        if self.number(line) == self.next:
            self.next += 1
            return True
        return False


def _repeated_shapes(pages: list[list[str]]) -> set[str]:
    if len(pages) < 3:
        return set()
    counts = Counter(shape for lines in pages for shape in {_shape(line) for line in lines if line.strip()})
    threshold = max(3, len(pages) // 3)
    return {shape for shape, n in counts.items() if n >= threshold and len(shape) < 120}


def _clean_page(lines: list[str], furniture: set[str], notes: _FootnoteCounter) -> list[str]:
    """Body lines (blank lines kept as ""), without furniture or footnotes.

    Footnotes sit next to the page's trailing furniture: after the footer in
    pypdf's extraction order, before it in PDF-to-text conversions.
    """
    kept: list[str] = []
    trailing = in_note = False
    for line in lines:
        stripped = line.strip()
        if not stripped:
            kept.append("")
        elif _is_furniture(stripped, furniture):
            trailing = trailing or any(kept)
        elif trailing and notes.number(stripped) is not None:
            in_note = notes.take(stripped)
            if not in_note:
                kept.append(_SPACES.sub(" ", stripped))
        elif not in_note:
            kept.append(_SPACES.sub(" ", stripped))
    return _drop_trailing_footnotes(kept, notes) if trailing else kept


def _is_furniture(line: str, furniture: set[str]) -> bool:
    return _shape(line) in furniture or bool(_PAGE_COUNTER.match(line) or _MASTHEAD.match(line))


def _drop_trailing_footnotes(lines: list[str], notes: _FootnoteCounter) -> list[str]:
    """The run of footnote lines that ends the body, when it continues the numbering."""
    start = len(lines)
    while start and (not lines[start - 1] or notes.number(lines[start - 1]) is not None):
        start -= 1
    run = [line for line in lines[start:] if line]
    numbers = [notes.number(line) for line in run]
    if not run or numbers != list(range(notes.next, notes.next + len(run))):
        return lines
    notes.next += len(run)
    return lines[:start]
