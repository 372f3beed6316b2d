"""Reading the corpus by structure rather than by query: documents, and the passages of one provision."""

from __future__ import annotations

import re
from typing import Any

from index.model import Chunk
from index.store import LoadedIndex


def documents(index: LoadedIndex) -> list[dict[str, Any]]:
    return list(index.manifest.documents)


def unit_chunks(index: LoadedIndex, doc_id: str, label: str) -> list[Chunk]:
    """Every chunk of a provision or sub-provision, in document order.

    "Article 5" returns the whole article, "Article 5(1)" its first paragraph
    with all its points, "Article 5(1)(f)" that point alone.
    """
    wanted = re.compile(rf"^{re.escape(label)}(?:$|[(,#])")
    return [c for c in index.chunks if c.doc_id == doc_id and (c.unit == label or wanted.match(c.label))]
