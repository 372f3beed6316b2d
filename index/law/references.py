"""Cross-references in the text ("Article 6(2)", "Articles 8 to 15", "Annex III", "Chapters I and II")
turned into links to provisions that exist in the index.

A reference to another act is followed only when that act is indexed too:
"Article 9(1) of Regulation (EU) 2016/679" links to the GDPR, "Article 263 TFEU"
and "Chapter III, Section 2, of that Regulation" link nowhere rather than to the
wrong document. A reference that names a point the index does not hold falls
back to the nearest citable parent ("Article 5(1), first subparagraph" -> Article 5(1)).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from index.law.catalog import Catalog
from index.law.labels import container_label, nearest, sort_key, unit_of
from index.model import Chunk

_ROMAN = r"[IVXLC]+"
_ITEM = r"\d+[a-z]?(?:\(\w{1,4}\))*"
_SEP = r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and|or|to)\s+)"
_POINTS = r"\(\w{1,4}\)(?:(?:\s*,\s*|\s+(?:and|or)\s+)\(\w{1,4}\))*"
# "Article 5(1), first subparagraph, points (ba) and (bb)": the points belong to the last article cited
_ARTICLES = re.compile(rf"\bArticles?\s+(?P<items>{_ITEM}(?:{_SEP}(?:{_ITEM}|\(\w{{1,4}}\)))*)"
                       rf"(?P<points>(?:,\s*(?:first|second|third|fourth|fifth|sixth)\s+subparagraph)?"
                       rf",\s*points?\s+{_POINTS})?")
_ANNEXES = re.compile(rf"\bAnnex(?:es)?\s+(?P<items>{_ROMAN}(?:{_SEP}{_ROMAN})*)\b"
                      rf"(?:,\s+(?P<part>Section\s+[A-Z]|point\s+\d+(?:\(\w{{1,4}}\))?))?")
_ANNEX_POINTS = re.compile(rf"\bpoints?\s+(?P<items>\d+(?:{_SEP}\d+)*)\s+of\s+Annex\s+(?P<annex>{_ROMAN})\b")
_CHAPTERS = re.compile(rf"\bChapters?\s+(?P<items>{_ROMAN}(?:{_SEP}{_ROMAN})*)\b"
                       rf"(?:,?\s+Sections?\s+(?P<section>\d+(?:{_SEP}\d+)*))?")
_SECTION_OF = re.compile(rf"\bSection\s+(?P<section>\d+)\s+of\s+Chapter\s+(?P<chapter>{_ROMAN})\b")
_SCOPE = re.compile(
    r"(?:,\s*(?:first|second|third|fourth|fifth|sixth)\s+subparagraph)?"
    r"(?:,?\s*points?\s+\(\w{1,4}\)(?:(?:\s*,\s*|\s+(?:and|or)\s+)\(\w{1,4}\))*)?"
    r",?\s+(?:of\s+(?P<act>this\s+\w+|that\s+\w+|the\s+\w+"
    r"|(?P<type>Regulation|Directive|Decision)\s+\((?:EU|EC|EEC|Euratom)\)\s+"
    r"(?P<no>No\s+)?(?P<first>\d+)/(?P<second>\d+))"
    r"|(?:TFEU|TEU)\b)"
)
_ELI = re.compile(r"/eli/(?P<type>reg|dir|dec)/(?P<year>\d{4})/(?P<number>\d+)")
_ACT_TYPES = {"Regulation": "reg", "Directive": "dir", "Decision": "dec"}


@dataclass(frozen=True)
class Reference:
    doc_id: str
    label: str  # "Article 6(2)", "Annex III", "Chapter III, Section 4"


@dataclass(frozen=True)
class ReferenceSpan:
    start: int
    end: int
    reference: Reference


def references_in(text: str, doc_id: str, catalog: Catalog) -> list[Reference]:
    """The provisions `text` (a passage of `doc_id`) refers to, resolved and in order of mention."""
    return list(dict.fromkeys(span.reference for span in reference_spans(text, doc_id, catalog)))


def reference_spans(text: str, doc_id: str, catalog: Catalog) -> list[ReferenceSpan]:
    """Where `text` refers to a provision the index holds, and which: the places a reader can follow. A list
    ("Articles 8 to 15") is one stretch of text resolving to several provisions, the first of them first."""
    spans = []
    for mention in _mentions(text, doc_id, catalog):
        label = nearest(mention.label, lambda candidate: catalog.exists(mention.doc_id, candidate))
        if label:
            spans.append(ReferenceSpan(mention.start, mention.end, Reference(mention.doc_id, label)))
    return spans


def related_provisions(catalog: Catalog, chunks: Iterable[Chunk]) -> list[Reference]:
    """What a provision points to, beyond itself: the "related provisions" of a card or a page."""
    chunks = list(chunks)
    own = {(c.doc_id, c.unit) for c in chunks}
    related: dict[Reference, None] = {}
    for chunk in chunks:
        for text in (chunk.heading, chunk.lead, chunk.text):
            for reference in references_in(text, chunk.doc_id, catalog):
                if (reference.doc_id, unit_of(reference.label)) not in own:
                    related.setdefault(reference)
    return list(related)


def citing_provisions(catalog: Catalog) -> dict[tuple[str, str], list[Reference]]:
    """Every provision's "cited by": for each (doc_id, unit), the provisions whose text refers to it (a recital
    that explains an article, an article that applies another), each once, in document order. A provision's
    references to itself do not count. One pass over the catalog: the front doors keep it per catalog."""
    cited_by: dict[tuple[str, str], dict[Reference, None]] = {}
    for doc_id, chunks in catalog.chunks_of.items():
        for chunk in chunks:
            for reference in references_in(chunk.text, doc_id, catalog):
                target = (reference.doc_id, unit_of(reference.label))
                if target != (doc_id, chunk.unit):
                    cited_by.setdefault(target, {})[Reference(doc_id, chunk.unit)] = None
    return {target: sorted(citing, key=lambda r: (r.doc_id != target[0], _enacting_first(r.label)))
            for target, citing in cited_by.items()}


def _enacting_first(label: str) -> tuple:
    """Articles and annexes before recitals: a reader looks for the rules that apply a provision first."""
    key = sort_key(label)
    return (key[0] == 0, *key)


@dataclass(frozen=True)
class _Mention:
    start: int
    end: int
    label: str  # as written, before checking that the index holds it
    doc_id: str

    def inside(self, other: _Mention) -> bool:
        same = (self.start, self.end) == (other.start, other.end)
        return other.start <= self.start and self.end <= other.end and not same


def _article_labels(match: re.Match[str]) -> list[str]:
    """ "8 to 15" -> Articles 8..15; "22(1) and (4)" -> 22(1), 22(4); "55 or 56" -> 55, 56."""
    labels: list[str] = []
    tokens = re.findall(rf"{_ITEM}|\(\w{{1,4}}\)|\bto\b", match["items"])
    for previous, token in zip([None, *tokens], tokens):
        if token == "to":
            continue
        if token.startswith("("):
            if labels:
                labels.append(re.sub(r"\(.*$", "", labels[-1]) + token)
        elif previous == "to" and labels and labels[-1].split()[-1].isdigit() and token.isdigit():
            first = int(labels[-1].split()[-1])
            labels.extend(f"Article {n}" for n in range(first + 1, min(int(token), first + 100) + 1))
        else:
            labels.append(f"Article {token}")
    if match["points"] and labels:
        last = labels.pop()
        labels.extend(last + point for point in re.findall(r"\(\w{1,4}\)", match["points"]))
    return labels


def _annex_labels(match: re.Match[str]) -> list[str]:
    part = f", {match['part']}" if match["part"] else ""
    return [f"Annex {number}{part}" for number in _listed(match["items"])]


def _annex_point_labels(match: re.Match[str]) -> list[str]:
    return [f"Annex {match['annex']}, point {number}" for number in _listed(match["items"])]


def _chapter_labels(match: re.Match[str]) -> list[str]:
    """ "Chapters I and II" -> both; "Chapter III, Sections 1, 2 and 3" -> those sections (sections belong to
    the last chapter named)."""
    *whole, last = _listed(match["items"])
    sections = _listed(match["section"] or "")
    return [*(f"Chapter {n}" for n in whole),
            *([container_label(f"Chapter {last}", f"Section {n}") for n in sections] or [f"Chapter {last}"])]


def _section_of_labels(match: re.Match[str]) -> list[str]:
    return [container_label(f"Chapter {match['chapter']}", f"Section {match['section']}")]


_READERS = ((_ARTICLES, _article_labels), (_ANNEXES, _annex_labels), (_ANNEX_POINTS, _annex_point_labels),
            (_CHAPTERS, _chapter_labels), (_SECTION_OF, _section_of_labels))


def _mentions(text: str, doc_id: str, catalog: Catalog) -> list[_Mention]:
    """Every reference in order; "Annex III" inside "points 1 and 6 of Annex III" is not a second one."""
    found = []
    for pattern, labels_of in _READERS:
        for match in pattern.finditer(text):
            target = _target_document(text, match.end(), doc_id, catalog)
            if target:
                found.extend(_Mention(match.start(), match.end(), label, target) for label in labels_of(match))
    return sorted((m for m in found if not any(m.inside(other) for other in found)), key=lambda m: m.start)


def _target_document(text: str, end: int, doc_id: str, catalog: Catalog) -> str | None:
    """The document a reference ending at `end` points into: this one, another indexed act, or none."""
    scope = _SCOPE.match(text, end)
    if scope is None or (scope.group("act") or "").startswith("this "):
        return doc_id
    if scope.group("type") is None:
        return None  # "of that Regulation", "of the Charter", "TFEU": not an act we can resolve
    first, second = int(scope.group("first")), int(scope.group("second"))
    year, number = (second, first) if scope.group("no") else (first, second)
    return _indexed_act(catalog, _ACT_TYPES[scope.group("type")], year, number, doc_id)


def _indexed_act(catalog: Catalog, act_type: str, year: int, number: int, source: str) -> str | None:
    """The indexed document of that act, in the source's language when there are several."""
    language = catalog.document(source).get("language")
    matches = [d for d in catalog.documents if (m := _ELI.search(d.get("eli") or ""))
               and (m["type"], int(m["year"]), int(m["number"])) == (act_type, year, number)]
    preferred = [d for d in matches if d.get("language") == language] or matches
    return preferred[0]["doc_id"] if preferred else None


def _listed(items: str) -> list[str]:
    return re.findall(rf"\b(?:{_ROMAN}|\d+)\b", items)



# How readers type citations, in the languages of the corpus's users, rewritten to the law's own form
_READER_FORMS = (
    (re.compile(r"\b(?:articles?|artikel|art\.?)\s*(\d{1,3}[a-z]{0,2})\b", re.IGNORECASE), r"Article \1"),
    (re.compile(r"\b(?:recitals?|consid[ée]rants?|erw[äa]gungsgr[üu]nde?|rec\.)\s*\(?(\d{1,3})\)?", re.IGNORECASE),
     r"Recital \1"),
    (re.compile(r"\b(?:annex(?:es)?|annexe|anhang)\s+([1-9]\d?|[ivxlc]+)\b", re.IGNORECASE),
     lambda m: f"Annex {_roman(m.group(1))}"),
    (re.compile(r"\b(?:chapters?|chapitre|kapitel)\s+([1-9]\d?|[ivxlc]+)\b", re.IGNORECASE),
     lambda m: f"Chapter {_roman(m.group(1))}"),
    # "Article 6 paragraph 3", "Article 6, paragraphe 3", "Article 6 Abs. 3", "Article 6 § 3", "Article 6 (3)"
    (re.compile(r"(Article \d{1,3}[a-z]{0,2}\b(?:\(\w{1,4}\))*)\s*,?\s*(?:(?:paragraphs?|paragraphe|para\.?|par\.|"
                r"absatz|abs\.|§)\s*\(?(\d{1,2})\)?|\((\d{1,2})\))(?![\d/])", re.IGNORECASE),
     lambda m: f"{m.group(1)}({m.group(2) or m.group(3)})"),
    # "Article 5(1) point (f)", "Art. 5 Abs. 1 lit. f", "Article 5(1) (f)"
    (re.compile(r"(Article \d{1,3}[a-z]{0,2}\b(?:\(\w{1,4}\))+)\s*,?\s*(?:(?:points?|lit\.?|letter|buchstabe)\s*"
                r"\(?([a-z]{1,2})\)?|\(([a-z]{1,2})\))(?![\w/])", re.IGNORECASE),
     lambda m: f"{m.group(1)}({m.group(2) or m.group(3)})"),
)
_RECITAL_LABEL = re.compile(r"\bRecital \d{1,3}\b")


def _roman(number: str) -> str:
    if not number.isdigit():
        return number.upper()
    value, numeral = int(number), ""
    for amount, letters in ((40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while value >= amount:
            numeral, value = numeral + letters, value - amount
    return numeral


def in_law_form(text: str) -> str:
    """A reader's citation in the form the law writes it: "Art. 6 Abs. 3" -> "Article 6(3)", "Annex 3" ->
    "Annex III", "considérant 12" -> "Recital 12"."""
    for pattern, replacement in _READER_FORMS:
        text = pattern.sub(replacement, text)
    return text


def cited_provision(catalog: Catalog, text: str, prefer: str = "") -> Reference | None:
    """The provision a reader's citation names ("Article 5(1)(f)", "Art. 22 GDPR", "Annex 3"), in the document
    whose short name it gives, else in the first document that has it: `prefer` (the one being read), then the
    catalog's order (the AI Act first)."""
    text = in_law_form(text)
    named = [d for d in catalog.records if (short := catalog.short_name(d)) and short.lower() in text.lower()]
    bare = re.sub("|".join(re.escape(catalog.short_name(d)) for d in named), " ", text, flags=re.IGNORECASE) \
        if named else text
    recital = _RECITAL_LABEL.search(bare)
    for doc_id in named or sorted(catalog.records, key=lambda d: d != prefer):
        if recital and catalog.exists(doc_id, recital.group(0)):
            return Reference(doc_id, recital.group(0))
        found = references_in(bare, doc_id, catalog)
        if found and found[0].doc_id == doc_id:
            return found[0]
    return None
