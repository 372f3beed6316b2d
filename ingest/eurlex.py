"""EUR-Lex XHTML (Official Journal rendering) to a stream of blocks.

Two generations of markup exist: the 2024 one (classes ``oj-normal``, ids such
as ``art_5``) and the 2016 one (classes ``normal``, no ids). Both put list
points in two-cell tables (marker | text), nested for sub-points, and both name
their headings by class, so one walker serves both once the ``oj-`` prefix is
dropped. Labels are assigned later by `ingest.structure`, from the text, which
is why the ids are not needed here.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree, html

from ingest.model import Block

HEADING_CLASSES = {"ti-art", "sti-art", "ti-section-1", "ti-section-2", "doc-ti", "ti-grseq-1"}
SKIPPED_CLASSES = {"note", "hd-date", "hd-lg", "hd-oj", "hd-ti", "hd-coll", "hd-uniq", "signatory", "final"}
_SPACE = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:])")


class NotEurLex(ValueError):
    """The HTML parsed, but it is not an Official Journal act."""


def read_blocks(data: bytes) -> list[Block]:
    root = parse_xhtml(data)
    if not _has_act_headings(root):
        raise NotEurLex("no EUR-Lex headings (ti-art, doc-ti, ...) found: not an Official Journal act "
                        "(to index another web page, save it as PDF or text)")
    return [block for part in _act_parts(root) for block in _walk(part, depth=0)]


def _has_act_headings(root: etree._Element) -> bool:
    """The Official Journal's own heading classes: a page's <h1> says nothing about being an act."""
    classes = {c.removeprefix("oj-") for value in root.xpath("//p/@class") for c in value.split()}
    return bool(classes & HEADING_CLASSES)


def read_fragment(elements: list[etree._Element]) -> list[Block]:
    """Blocks of a few elements of a parsed act: the wording an amending act quotes, read as an act is."""
    return [block for element in elements for block in _node(element, depth=0)]


def parse_xhtml(data: bytes) -> etree._Element:
    """The document tree, cleaned as the block reader needs it (no scripts, no footnote calls)."""
    if not data.strip():
        raise NotEurLex("empty file")
    # EUR-Lex serves UTF-8; without a charset declaration lxml would guess Latin-1 ("â€˜").
    parser = html.HTMLParser(encoding="utf-8" if _is_utf8(data) else None)
    try:
        root = html.fromstring(data, parser=parser)
        # Inside the `try`: lxml parses control characters it then refuses to re-set as text (ValueError).
        for junk in root.xpath("//script|//style|//head"):
            junk.drop_tree()
        for note_call in root.xpath("//a[starts-with(@id, 'ntc')]"):
            note_call.drop_tree()  # footnote calls "(19)" would read as list markers
        for exponent in root.xpath("//span[contains(@class, 'super')]"):
            exponent.text = f"^{exponent.text or ''}"  # "10^25 FLOPs", not "1025 FLOPs"
    except (etree.ParserError, ValueError) as error:
        raise NotEurLex(f"unreadable HTML ({error})") from error
    return root


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _act_parts(root: etree._Element) -> list[etree._Element]:
    """The act without the EUR-Lex page chrome (menus, banners) around it."""
    outermost = "//div[contains(@class, 'eli-container')][not(ancestor::div[contains(@class, 'eli-container')])]"
    return root.xpath(outermost) or root.xpath("//body") or [root]


def _walk(element: etree._Element, depth: int) -> Iterator[Block]:
    for child in element:
        yield from _node(child, depth)


def _node(element: etree._Element, depth: int) -> Iterator[Block]:
    if not isinstance(element.tag, str):
        return
    if element.tag == "table":
        yield from _table(element, depth)
    elif element.tag == "p":
        block = _paragraph(element)
        if block:
            yield block
    elif element.tag in {"h1", "h2", "h3", "h4", "h5", "h6"}:
        text = _text(element)
        if text:
            yield Block("heading", text)
    else:
        yield from _walk(element, depth)


def _paragraph(p: etree._Element) -> Block | None:
    classes = {c.removeprefix("oj-") for c in (p.get("class") or "").split()}
    if classes & SKIPPED_CLASSES:
        return None
    text = _text(p)
    if not text:
        return None
    return Block("heading" if classes & HEADING_CLASSES else "text", text)


def _table(table: etree._Element, depth: int) -> Iterator[Block]:
    """A row of marker | content is a list point (spacer cells aside); anything else is plain text."""
    for row in table.xpath("./tr|./tbody/tr"):
        cells = [cell for cell in row.xpath("./td") if _text(cell)]
        if len(cells) == 2 and (marker := _text(cells[0])) and len(marker) <= 8:
            yield from _point(marker, cells[1], depth)
        else:
            for cell in cells:
                yield from _walk(cell, depth)


def _point(marker: str, content: etree._Element, depth: int) -> Iterator[Block]:
    first = True
    for child in content:
        if not isinstance(child.tag, str):
            continue
        if child.tag == "table":
            yield from _table(child, depth + 1)
            continue
        text = _text(child)
        if not text:
            continue
        if first:
            yield Block("item", text, marker=marker, depth=depth)
            first = False
        else:
            yield Block("text", text, depth=depth + 1)
    if first:
        yield Block("item", _text(content), marker=marker, depth=depth)


def _text(element: etree._Element) -> str:
    text = _SPACE.sub(" ", element.text_content()).strip()
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", text)
