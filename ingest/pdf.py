"""PDF to blocks via pypdf: one `line` block per text line, with its page number."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from ingest.model import Block
from ingest.pages import clean_pages


class UnreadablePdf(ValueError):
    """Corrupt, truncated, encrypted or image-only PDF."""


def read_blocks(data: bytes) -> tuple[list[Block], int]:
    """Return the blocks and the page count; raise `UnreadablePdf` with the reason."""
    pages = _extract_pages(data)
    if not any(line.strip() for lines in pages for line in lines):
        raise UnreadablePdf("no text layer (scanned or image-only PDF?); OCR is not supported")
    blocks = [
        Block("line", line, page=number)
        for number, lines in enumerate(clean_pages(pages), start=1)
        for line in lines
        if line
    ]
    return blocks, len(pages)


def _extract_pages(data: bytes) -> list[list[str]]:
    if not data.startswith(b"%PDF"):
        raise UnreadablePdf("not a PDF (no %PDF header)")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UnreadablePdf("encrypted PDF")
        return [(page.extract_text() or "").splitlines() for page in reader.pages]
    except UnreadablePdf:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, OSError,
            NotImplementedError) as error:  # NotImplementedError: a stream filter pypdf does not know
        raise UnreadablePdf(f"corrupt or truncated PDF ({type(error).__name__}: {error})") from error
