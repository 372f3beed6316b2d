"""What each retrieval step adds, measured in one run on the question sets.

    python bench/retrieval_quality.py [--sets dev holdout blind] [--data-dir data]

Each set is also broken down by the document its questions are about, for the last row.

Rows, each on the index in --data-dir (built by `python -m ingest`):
  naive 500-char windows   fixed windows over the same documents, dense only: the baseline
                           legal chunking has to beat (a window counts as every unit it touches)
  BM25 / dense / hybrid    legal chunks, no query understanding
  + glossary               plain-language expansion and document routing (index/retrieval/data/synonyms.toml)
  + priors                 intent and structure: articles before recitals unless "why", language
  + exact references       "Article 6(3)" named in the query comes first
  + definition feedback    terms whose definitions (Article 3) the dense side found join the BM25
                           query
  + act of a bare number   "Article 50" with no act named pins the act the question's other words found
  + subject                of a question in several sentences, the embedder reads those that say what
                           it is about ("We built a chatbot.") and not its frame ("What must we do?")
  + modality               "can we" questions favour passages that prohibit, "when" ones those that
                           say from when rules apply
  + recitals lend          a recital among the first 20 passages that outranks the article passage
                           closest to it in meaning lends that passage 0.7 of its score
  + other languages lend   a passage of the act in another language than the question's lends 0.2 of
                           its score to the same provision in the question's language
  + when: the dating clause  a "when" question lends to the clause that says from when the rules apply
  + instructions defer     an applied amending instruction weighs less than the provision it wrote
  + written questions      each model's three provisions whose questions written per provision
                           (index/retrieval/data/phrasings.toml) are closest join the fusion
  + clear lead             a provision whose written question leads the next provision's by a clear
                           margin joins the fusion once more (the default)
  + rerank                 cross-encoder over the top 30, only when REGKB_RERANKER is set
"""

from __future__ import annotations

import argparse
import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from index.answers.results import ask  # noqa: E402
from index.config import settings  # noqa: E402
from index.evaluate import Outcome, Question, evaluate, load_questions, summary  # noqa: E402
from index.model import Chunk, Hit  # noqa: E402
from index.retrieval.search import Searcher, SearchOptions  # noqa: E402
from index.retrieval.store import LoadedIndex  # noqa: E402

WINDOW = 500
PLAIN = SearchOptions(expand=False, priors=False, exact=False, define=False, act=False, subject=False,
                      modality=False, lend=False, counterparts=False, dates=False, defer=False, reasons=False,
                      phrasings=False)
GLOSSARY = replace(PLAIN, expand=True)
PRIORS = replace(GLOSSARY, priors=True)
EXACT = replace(PRIORS, exact=True)
DEFINE = replace(EXACT, define=True)
ACT = replace(DEFINE, act=True)
SUBJECT = replace(ACT, subject=True)
MODALITY = replace(SUBJECT, modality=True)
LEND = replace(MODALITY, lend=True)
COUNTERPARTS = replace(LEND, counterparts=True)
DATES = replace(COUNTERPARTS, dates=True)
DEFER = replace(DATES, defer=True)
REASONS = replace(DEFER, reasons=True)
WRITTEN = replace(REASONS, phrasings=True, clear_lead=False)
STEPS: list[tuple[str, str, SearchOptions]] = [
    ("BM25 only", "lexical", PLAIN),
    ("dense only", "dense", PLAIN),
    ("hybrid (RRF)", "hybrid", PLAIN),
    ("+ glossary expansion/routing", "hybrid", GLOSSARY),
    ("+ intent/structure priors", "hybrid", PRIORS),
    ("+ exact references", "hybrid", EXACT),
    ("+ definition feedback", "hybrid", DEFINE),
    ("+ act of a bare article number", "hybrid", ACT),
    ("+ subject of compound questions", "hybrid", SUBJECT),
    ("+ can-we/when modality", "hybrid", MODALITY),
    ("+ recitals lend to articles", "hybrid", LEND),
    ("+ other languages lend", "hybrid", COUNTERPARTS),
    ("+ when: the dating clause", "hybrid", DATES),
    ("+ applied instructions defer", "hybrid", DEFER),
    ("+ why: the amending act's recitals", "hybrid", REASONS),
    ("+ written questions", "hybrid", WRITTEN),
    ("+ clear lead (default)", "hybrid", SearchOptions()),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["dev", "holdout"])
    parser.add_argument("--data-dir")
    args = parser.parse_args()
    searcher = Searcher(settings(args.data_dir))
    question_sets = {name: load_questions(ROOT / "bench" / f"{name}_questions.jsonl") for name in args.sets}
    steps = STEPS + ([("+ cross-encoder rerank", "hybrid", SearchOptions(rerank=True))] if searcher.reranker else [])
    naive = NaiveWindows(searcher)
    rows = [("naive 500-char windows, dense", {n: naive.evaluate(qs) for n, qs in question_sets.items()})]
    for name, mode, options in steps:
        run = lambda q, mode=mode, options=options: [r.hit for r in ask(searcher, q, 10, mode=mode, options=options)]  # noqa: E731
        rows.append((name, {n: evaluate(qs, run) for n, qs in question_sets.items()}))
    _print(rows, question_sets, searcher.index)


class NaiveWindows:
    """Fixed 500-character windows over each document's text, embedded as they are."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        index = searcher.index
        self.windows = [w for doc in _documents(index) for w in _windows(index, doc)]
        self.vectors = self._embed([text for text, _ in self.windows])

    def _embed(self, texts: list[str]) -> np.ndarray:
        key = hashlib.sha256(("\x00".join(texts) + self.searcher.embedder.model_id).encode()).hexdigest()[:16]
        cache = self.searcher.settings.cache / "bench" / f"naive-{key}.npy"
        if cache.is_file():
            return np.load(cache)
        vectors = self.searcher.embedder.passages(texts)
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.save(cache, vectors)
        return vectors

    def evaluate(self, questions: list[Question]) -> list[Outcome]:
        return evaluate(questions, self._search)

    def _search(self, question: str) -> list[Hit]:
        scores = self.vectors @ self.searcher.embedder.query(question)
        hits = []
        for row in np.argsort(-scores)[:10]:
            _, units = self.windows[row]
            hits.extend(_pseudo_hit(doc, unit, float(scores[row])) for doc, unit in units)
        return hits


def _documents(index: LoadedIndex) -> list[str]:
    return [d["doc_id"] for d in index.manifest.documents if d.get("language", "en") == "en"]


def _windows(index: LoadedIndex, doc_id: str) -> list[tuple[str, list[tuple[str, str]]]]:
    text, owners = "", []
    for chunk in (c for c in index.chunks if c.doc_id == doc_id):
        piece = chunk.text + "\n"
        owners.append((len(text), len(text) + len(piece), chunk.unit))
        text += piece
    windows = []
    for start in range(0, len(text), WINDOW):
        end = start + WINDOW
        units = list(dict.fromkeys(unit for a, b, unit in owners if a < end and b > start))
        windows.append((text[start:end], [(doc_id, unit) for unit in units]))
    return windows


def _pseudo_hit(doc_id: str, unit: str, score: float) -> Hit:
    chunk = Chunk(f"{doc_id}/{unit}", doc_id, unit, unit, "", "", (), "", "", "", "", None, 0)
    return Hit(chunk, score, {})


def _print(rows: list[tuple[str, dict[str, list[Outcome]]]], sets: dict[str, list[Question]],
           index: LoadedIndex) -> None:
    print(f"index {index.manifest.build_id}: {index.manifest.chunk_count} chunks, model {index.manifest.model_id}")
    for name, questions in sets.items():
        print(f"\n{name}: {len(questions)} questions")
        print(f"{'configuration':<38} {'R@1':>6} {'R@5':>6} {'R@10':>6} {'MRR@10':>7} {'nDCG@10':>8} {'ms (median)':>12}")
        for label, outcomes in rows:
            m = summary(outcomes[name])
            print(f"{label:<38} {m['recall@1']:>6.3f} {m['recall@5']:>6.3f} {m['recall@10']:>6.3f} "
                  f"{m['mrr@10']:>7.3f} {m['ndcg@10']:>8.3f} {m['median_ms']:>12.1f}")
    label, outcomes = rows[-1]
    print(f"\n{label.strip()}, by the document a question is about (French questions are ai-act-fr's)")
    print(f"{'set':<10} {'document':<20} {'questions':>9} {'R@5':>6} {'MRR@10':>7}")
    for name in sets:
        for doc in sorted({o.question.doc for o in outcomes[name]}):
            part = [o for o in outcomes[name] if o.question.doc == doc]
            m = summary(part)
            print(f"{name:<10} {doc:<20} {len(part):>9} {m['recall@5']:>6.3f} {m['mrr@10']:>7.3f}")


if __name__ == "__main__":
    main()
