"""Which models should embed which passages: quality and embedding cost of each configuration, in one run.

    python -m bench.configurations --data-dir DIR [--sets dev holdout blind blind2 amended blind3] [--extra FILE.jsonl]

DIR holds a build made with the default configuration (`python -m ingest`). Each model's vector of
every passage is taken from it, or embedded here where the build has none (MiniLM on the French
text), so every configuration is assembled from the same vectors, without re-ingesting: a
configuration is which passages each model's vectors are kept for. Each is written as a real build
in a temporary folder and searched through the real Searcher on every question set. Embedding cost:
each model's passages/s measured here on a sample of each language, times the passages the
configuration gives it (parsing and the build add about 15 s to any of them).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.common import REPO, print_table
from index.answers.results import ask
from index.config import E5, MINILM, settings
from index.evaluate import evaluate, load_questions, summary
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.search import Searcher

BOTH = ("en", "fr")
# name -> (languages MiniLM embeds, languages E5 embeds)
CONFIGURATIONS = {
    f"{MINILM}+{E5} (both models on everything)": (BOTH, BOTH),
    f"{MINILM}@en+{E5} (the default)": (("en",), BOTH),
    f"{MINILM}@en+{E5}@fr (one model per language)": (("en",), ("fr",)),
    f"{E5} alone": ((), BOTH),
    f"{MINILM} alone": (BOTH, ()),
}
SAMPLE = 150


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.configurations", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--sets", nargs="+", default=["dev", "holdout", "blind", "blind2", "amended", "blind3"])
    parser.add_argument("--extra", nargs="*", type=Path, default=[], help="more question sets (JSONL files)")
    args = parser.parse_args(argv)
    loaded = store.load(settings(args.data_dir))
    embedder = Embedder(f"{MINILM}+{E5}")
    languages = language_of_rows(loaded)
    vectors = every_vector(loaded, embedder, languages)
    rates = passage_rates(loaded, embedder, languages)
    sets = {name: load_questions(REPO / "bench" / f"{name}_questions.jsonl") for name in args.sets}
    sets |= {path.stem: load_questions(path) for path in args.extra}
    rows = []
    for name, (minilm, e5) in CONFIGURATIONS.items():
        kept = {MINILM: np.isin(languages, minilm), E5: np.isin(languages, e5)}
        seconds = sum((kept[m] & (languages == lang)).sum() / rates[m][lang] for m in kept for lang in BOTH)
        scores = quality(loaded, embedder, vectors, kept, sets)
        rows.append((name, f"{seconds:.0f}", *scores))
    header = ("configuration", "embed s", *(f"{s} R@5/MRR" for s in sets))
    print_table(f"{loaded.manifest.chunk_count:,} passages; passages/s "
                + ", ".join(f"{m} {lang} {rates[m][lang]:.1f}" for m in rates for lang in BOTH), header, rows)


def language_of_rows(loaded: store.LoadedIndex) -> np.ndarray:
    language = {d["doc_id"]: d.get("language", "en") for d in loaded.manifest.documents}
    return np.array([language[c.doc_id] for c in loaded.chunks])


def every_vector(loaded: store.LoadedIndex, embedder: Embedder, languages: np.ndarray) -> dict[str, np.ndarray]:
    """Each model's vector of every passage: the build's, or embedded now where the build kept none."""
    stored = dict(zip(embedder.models, embedder.split(loaded.dense.vectors())))
    vectors = {}
    for model, matrix in stored.items():
        matrix = np.array(matrix, dtype=np.float32)
        missing = np.flatnonzero(~np.any(matrix, axis=1))
        if len(missing):
            print(f"embedding {len(missing):,} passages with {model} (the build has none for them)", flush=True)
            matrix[missing] = embedder.model_passages(model, [loaded.chunks[i].passage for i in missing])
        vectors[model] = matrix / np.linalg.norm(matrix, axis=1, keepdims=True)
    return vectors


def passage_rates(loaded: store.LoadedIndex, embedder: Embedder,
                  languages: np.ndarray) -> dict[str, dict[str, float]]:
    """Passages per second for each model and language, on a sample of real passages."""
    rates: dict[str, dict[str, float]] = {}
    for model in embedder.models:
        for language in BOTH:
            rows = random.Random(0).sample(list(np.flatnonzero(languages == language)), SAMPLE)
            started = time.perf_counter()
            embedder.model_passages(model, [loaded.chunks[i].passage for i in rows])
            rates.setdefault(model, {})[language] = SAMPLE / (time.perf_counter() - started)
    return rates


def quality(loaded: store.LoadedIndex, embedder: Embedder, vectors: dict[str, np.ndarray],
            kept: dict[str, np.ndarray], sets: dict[str, list]) -> list[str]:
    """R@5 and MRR@10 on each set, searching a build that keeps each model's vectors where `kept` says."""
    models = [m for m in embedder.models if kept[m].any()]
    model_id = "+".join(models)
    parts = [np.where(kept[m][:, None], vectors[m], 0.0) for m in models]
    combined = np.ascontiguousarray(np.hstack(parts) / np.sqrt(len(parts)), dtype=np.float32)
    documents = []
    for doc in loaded.manifest.documents:
        rows = np.array([c.doc_id == doc["doc_id"] for c in loaded.chunks])
        embedded = [m for m in models if kept[m][rows].any()]
        documents.append({**doc, "model_id": model_id, "embedded": embedded})
    with tempfile.TemporaryDirectory() as folder:
        config = settings(folder, model_id)
        store.write_build(config, loaded.chunks, combined, documents, model_id, tuple(p.shape[1] for p in parts))
        return scores(Searcher(config, Embedder(model_id)), sets)


def scores(searcher: Searcher, sets: dict[str, list]) -> list[str]:
    """ "R@5/MRR@10" of the default search on each set, in order."""
    cells = []
    for questions in sets.values():
        metrics = summary(evaluate(questions, lambda q: [r.hit for r in ask(searcher, q, 10)], 10))
        cells.append(f"{metrics['recall@5']:.3f}/{metrics['mrr@10']:.3f}")
    return cells


if __name__ == "__main__":
    sys.exit(main())
