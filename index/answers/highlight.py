"""Which sentences of a retrieved passage answer the question, and an extractive "at a glance".

Everything here quotes: a highlight marks sentences of the official text, the
glance lines are sentences of the retrieved passages with their citations, so
nothing is shown that the sources do not say. Matching uses the BM25 tokenizer
(stemmed, stopwords dropped), each term weighted by its rarity in the whole corpus:
"AI system" is in a fifth of all passages, "emotion" in a dozen, so a sentence
that has "emotion" answers "emotion recognition at work" and one with only "AI" does not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.analysis import TermStatistics, tokenize
from index.answers.results import Result
from index.model import Chunk

# a sentence ends at . ; : ! ? followed by a capital, a quote or a point marker "(a)"; "p. 24" does not end one
_SENTENCE_END = re.compile(r"(?<=[.;:!?])\s+(?=[(‘“\"'«A-ZÀ-Ý])")
_PARAGRAPH_NUMBER = re.compile(r"^\d+\.\s+")  # "3. " opening a paragraph
# the words that make a question a question: rare in legal text, so they would outweigh what is asked about
QUESTION_WORDS = frozenset(tokenize(
    "what which when where who whom whose why how can could do does did must should would may might will "
    "is are am be been have has had i we you my our your me us there anything something"
))
MIN_COVERAGE = 0.25  # a sentence must carry a quarter of the question's weight to be highlighted
NEAR_BEST = 0.6  # ... and come close to the passage's best sentence
GLANCE_ITEMS = 3
GLANCE_CHARS = 280
LEAD_CHARS = 160


@dataclass(frozen=True)
class Segment:
    text: str
    matched: bool = False


@dataclass(frozen=True)
class GlanceItem:
    quote: str  # words of the source, shortened only with an ellipsis
    citation: str  # "Article 5(1)(f) AI Act"
    doc_id: str
    label: str


def sentences(text: str) -> list[str]:
    """The sentences of `text` with their trailing space, so that joining them gives `text` back.

    A paragraph number ("3. Deployers shall ...") stays with its sentence.
    """
    cuts = [m.end() for m in _SENTENCE_END.finditer(text) if not _PARAGRAPH_NUMBER.fullmatch(text[:m.end()])]
    return [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)]) if text[a:b]]


class Highlighter:
    """Scores sentences against one question."""

    def __init__(self, question: str, statistics: TermStatistics) -> None:
        self.weights = {term: statistics.weight(term) for term in set(tokenize(question)) - QUESTION_WORDS}
        self.terms = set(self.weights)
        self.total = sum(self.weights.values())

    def score(self, sentence: str) -> float:
        return sum(self.weights[t] for t in set(tokenize(sentence)) & self.terms)

    def segments(self, text: str) -> list[Segment]:
        """`text` cut into sentences, those that answer the question marked."""
        parts = sentences(text)
        scores = [self.score(s) for s in parts]
        best = max(scores, default=0.0)
        return [Segment(s, self._answers(score, best)) for s, score in zip(parts, scores)]

    def best_sentence(self, text: str) -> str:
        """The sentence of `text` that matches best; the first one when none matches at all."""
        parts = sentences(text)
        return max(parts, key=self.score).strip() if parts else ""

    def _answers(self, score: float, best: float) -> bool:
        return score > 0 and score >= NEAR_BEST * best and score >= MIN_COVERAGE * self.total


def at_a_glance(results: list[Result], highlighter: Highlighter, items: int = GLANCE_ITEMS,
                deciding: tuple[Chunk, str] | None = None) -> list[GlanceItem]:
    """The best sentence of each of the top results, after the words that introduce it ("shall be prohibited:").

    `deciding` (the passage a verdict rests on, with its citation) comes first.
    """
    quoted = [*([deciding] if deciding else []), *((r.hit.chunk, r.hit.citation) for r in results)]
    return [_glance_item(chunk, citation, highlighter) for chunk, citation in list(dict.fromkeys(quoted))[:items]]


def _glance_item(chunk: Chunk, citation: str, highlighter: Highlighter) -> GlanceItem:
    sentence = shorten(_PARAGRAPH_NUMBER.sub("", highlighter.best_sentence(chunk.text)), GLANCE_CHARS)
    lead = shorten(_PARAGRAPH_NUMBER.sub("", chunk.lead), LEAD_CHARS)
    quote = f"{lead} {sentence}" if lead else sentence
    return GlanceItem(quote, citation, chunk.doc_id, chunk.label)


def shorten(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis; a quote may be shortened, never reworded."""
    text = text.strip()
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"
