"""Retrieval metrics over a question set: did the provisions that answer it come back, and how high?

A question is found at k when one of the first k results is one of its gold
units (the top-level provision: "Article 50", "Annex III"). Results are counted
per unit, as the user sees them, so five chunks of Article 5 are one result.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from index.model import Hit


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    gold: tuple[str, ...]
    doc: str


@dataclass(frozen=True)
class Outcome:
    question: Question
    rank: int | None  # 1-based rank of the first gold unit, None when absent from the top k
    ndcg: float
    units: tuple[str, ...]
    ms: float


def load_questions(path: Path) -> list[Question]:
    questions = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            questions.append(Question(raw["id"], raw["question"], tuple(raw["gold"]), raw["doc"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}:{number}: not a question record ({error})") from error
    return questions


def ranked_units(hits: list[Hit]) -> list[tuple[str, str]]:
    """(doc_id, unit) in order of first appearance."""
    seen: dict[tuple[str, str], None] = {}
    for hit in hits:
        seen.setdefault((hit.chunk.doc_id, hit.chunk.unit), None)
    return list(seen)


def score(question: Question, hits: list[Hit], k: int, ms: float) -> Outcome:
    units = ranked_units(hits)[:k]
    relevant = [(doc == question.doc and unit in question.gold) for doc, unit in units]
    rank = relevant.index(True) + 1 if any(relevant) else None
    dcg = sum(1 / math.log2(i + 2) for i, r in enumerate(relevant) if r)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(question.gold), k)))
    return Outcome(question, rank, dcg / ideal if ideal else 0.0, tuple(u for _, u in units), ms)


def evaluate(questions: list[Question], search: Callable[[str], list[Hit]], k: int = 10) -> list[Outcome]:
    outcomes = []
    for question in questions:
        started = time.perf_counter()
        hits = search(question.question)
        outcomes.append(score(question, hits, k, (time.perf_counter() - started) * 1000))
    return outcomes


def summary(outcomes: list[Outcome]) -> dict[str, float]:
    n = len(outcomes) or 1

    def recall(k: int) -> float:
        return sum(1 for o in outcomes if o.rank is not None and o.rank <= k) / n

    return {
        "questions": len(outcomes),
        "recall@1": recall(1), "recall@5": recall(5), "recall@10": recall(10),
        "mrr@10": sum(1 / o.rank for o in outcomes if o.rank is not None and o.rank <= 10) / n,
        "ndcg@10": sum(o.ndcg for o in outcomes) / n,
        "median_ms": statistics.median(o.ms for o in outcomes) if outcomes else 0.0,
    }
