"""Plain text and Markdown to blocks.

A paragraph (lines between blank lines) becomes one `line` block, a Markdown
``#`` line a `heading`. Text converted from a paginated original keeps its page
footers ("12/144"); where they are present they become page numbers and the
page furniture is removed as for a PDF.
"""

from __future__ import annotations

import re

from ingest.model import Block
from ingest.pages import clean_pages

_PAGE_FOOTER = re.compile(r"(?:^|\s)(\d{1,4})\s*/\s*(\d{1,4})(?:\s|$)")
_HEADING = re.compile(r"^#{1,6}\s+")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((?:#|[^)]*)\)")


class EmptyText(ValueError):
    """The file holds no text."""


def read_blocks(text: str) -> tuple[list[Block], int | None]:
    if not text.strip():
        raise EmptyText("empty file")
    pages = _split_pages(text.splitlines())
    if len(pages) > 1:
        pages = clean_pages(pages)
    blocks: list[Block] = []
    for number, lines in enumerate(pages, start=1):
        page = number if len(pages) > 1 else None
        blocks.extend(_paragraph_blocks(lines, page))
    return blocks, (len(pages) if len(pages) > 1 else None)


def _split_pages(lines: list[str]) -> list[list[str]]:
    """Split after each footer line whose counter runs 1/N, 2/N, ... in order."""
    pages: list[list[str]] = [[]]
    expected = 1
    for line in lines:
        pages[-1].append(line)
        found = _PAGE_FOOTER.search(line)
        if found and len(line.strip()) < 160 and int(found.group(1)) == expected:
            expected += 1
            pages.append([])
    if not any(line.strip() for line in pages[-1]):
        pages.pop()  # nothing after the last footer
    return pages if expected > 2 else [lines]


def _paragraph_blocks(lines: list[str], page: int | None) -> list[Block]:
    blocks: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            blocks.append(Block("line", _inline(" ".join(paragraph)), page=page))
            paragraph.clear()

    for raw in lines:
        line = raw.strip()
        if not line:
            flush()
        elif _HEADING.match(line):
            flush()
            blocks.append(Block("heading", _inline(_HEADING.sub("", line)), page=page))
        else:
            paragraph.append(line)
    flush()
    return blocks


def _inline(text: str) -> str:
    """Markdown emphasis and empty links are presentation, not text."""
    return _LINK.sub(r"\1", _BOLD.sub(r"\1", text)).strip()
