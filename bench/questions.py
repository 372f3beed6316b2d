"""The benchmark query set: the 141 dev and holdout questions, plus a keyword and a reworded variant of each.

Users type both full questions and keyword strings, and latency depends on
length (BM25 postings walked, tokens through the encoder and the reranker), so
the variants are made to change length and wording, not just to add rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bm25s.stopwords import STOPWORDS_EN

from bench.common import REPO

QUESTION_FILES = (REPO / "bench" / "dev_questions.jsonl", REPO / "bench" / "holdout_questions.jsonl")
MINIMUM = 200
KEYWORDS_KEPT = 10
_WORD = re.compile(r"[\w^'-]+")
_QUESTION_WORDS = frozenset("can could we our us i my you your what when where which who how does do did is are should would".split())
_DROPPED = frozenset(STOPWORDS_EN) | _QUESTION_WORDS
_REWORDINGS = (
    ("Can we", "Are we allowed to"), ("allowed", "permitted"), ("AI system", "artificial intelligence system"),
    ("company", "business"), ("must", "have to"), ("rules", "requirements"), ("use", "deploy"),
    ("ban", "prohibition"), ("data", "information"), ("What", "Which"),
)
_FRAMES = ("Under EU law: {q}", "{q} Which provision says so?", "Quick question from the compliance team: {q}")


def questions(paths: tuple[Path, ...] = QUESTION_FILES) -> list[str]:
    return [json.loads(line)["question"] for path in paths
            for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def keywords(question: str) -> str:
    """What someone types into a search box: the content words in order, no grammar."""
    words = [w for w in _WORD.findall(question) if w.lower() not in _DROPPED]
    return " ".join(words[:KEYWORDS_KEPT])


def reworded(question: str, variant: int) -> str:
    """The same question with common synonyms swapped and one of three framings around it."""
    text = question
    for old, new in _REWORDINGS:
        text = re.sub(rf"\b{re.escape(old)}\b", new, text)
    return _FRAMES[variant % len(_FRAMES)].format(q=text)


def query_set(minimum: int = MINIMUM) -> list[str]:
    """Originals, then keyword variants, then reworded variants (423 from 141 questions)."""
    base = questions()
    queries = base + [keywords(q) for q in base] + [reworded(q, i) for i, q in enumerate(base)]
    if len(queries) < minimum:
        raise ValueError(f"only {len(queries)} queries from {len(base)} questions; {minimum} needed")
    return queries
