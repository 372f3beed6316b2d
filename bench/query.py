"""Query latency against the floor set by the embedding model.

Every query must be encoded once, so (a) bare encoding is a floor no search can
beat; dense, hybrid and reranked search are reported as multiples of it, which
keeps the figures comparable across noisy, shared machines. Every query runs
through every stage back to back, in an order shuffled per query (seeded), so that
a noisy neighbour slows all stages alike, and so does what a stage leaves behind for
the next one (a thread pool still spinning: a rotating order put the floor after a
hybrid stage every time).

The rerank stage runs when a cross-encoder is configured (REGKB_RERANKER).
No cross-encoder's weights can be installed here, so --rerank-proxy times one
with random weights in the shape of a real one (minilm-l6: ms-marco-MiniLM-L-6-v2;
tinybert-l2: ms-marco-TinyBERT-L-2-v2): the latency is representative, the
ranking meaningless. --rerank-depth sets how many fused passages it scores.

    python -m bench.query [--data-dir DIR] [--warmup 10] [--limit N] [--long N]
                          [--rerank-proxy minilm-l6|tinybert-l2] [--rerank-depth 30]

--long N times N rounds of the load bench's long question (bench/load_api.py, 1,000 characters,
236 tokens) instead of the query set: what such a question costs the search outside the model
(hybrid minus the floor) against what it costs the model (the floor).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench.common import Summary, print_table, summarise, verdict
from bench.cross_encoders import MINILM_L6, TINYBERT_L2, save_untrained_cross_encoder
from bench.load_api import HEAVY_QUERIES
from bench.questions import query_set
from index.answers.results import ask
from index.config import MINILM
from index.config import settings as load_settings
from index.retrieval.embedder import model_path
from index.retrieval.rerank import Reranker
from index.retrieval.search import Searcher, SearchOptions

HYBRID_GOAL = 1.5  # hybrid median at most this multiple of the encoding floor
RERANK_GOAL_MS = 250.0
PROXIES = {"minilm-l6": MINILM_L6, "tinybert-l2": TINYBERT_L2}


@dataclass(frozen=True)
class Stage:
    name: str
    run: Callable[[str], object]


def stages(searcher: Searcher) -> tuple[list[Stage], str]:
    """The stages to time, and a note when the rerank stage cannot run."""
    unwritten = SearchOptions(phrasings=False)  # what the questions written per provision cost, side by side
    found = [
        Stage("(a) encode query: floor", searcher.embedder.query),
        Stage("(b) dense", lambda q: ask(searcher, q, mode="dense")),
        Stage("(c0) hybrid without the written questions", lambda q: ask(searcher, q, options=unwritten)),
        Stage("(c) hybrid", lambda q: ask(searcher, q)),
    ]
    if searcher.reranker is None:
        return found, ("(d) hybrid + rerank: skipped, no cross-encoder configured "
                       "(set REGKB_RERANKER to a sentence-transformers CrossEncoder folder)")
    rerank = SearchOptions(rerank=True)
    return [*found, Stage("(d) hybrid + rerank", lambda q: ask(searcher, q, options=rerank))], ""


def warm_up(stage_list: list[Stage], queries: list[str]) -> tuple[list[Stage], str]:
    """Load the model, page the index in; a stage that fails here (no reranker model installed) is dropped."""
    kept, notes = [], []
    for stage in stage_list:
        try:
            for query in queries:
                stage.run(query)
        except Exception as error:  # noqa: BLE001 - any failure of an optional stage is reported, not fatal
            notes.append(f"{stage.name}: skipped, it failed on warm-up ({type(error).__name__}: {error})")
            continue
        kept.append(stage)
    return kept, "\n".join(notes)


def time_rounds(stage_list: list[Stage], queries: list[str]) -> dict[str, list[float]]:
    """Milliseconds per stage, each query through the stages in its own order: none always follows another."""
    times: dict[str, list[float]] = {s.name: [] for s in stage_list}
    shuffler = random.Random(0)
    for query in queries:
        for stage in shuffler.sample(stage_list, len(stage_list)):
            started = time.perf_counter()
            stage.run(query)
            times[stage.name].append((time.perf_counter() - started) * 1000)
    return times


def report(times: dict[str, list[float]], notes: list[str], index_chunks: int) -> None:
    summaries = {name: summarise(values) for name, values in times.items()}
    floor = next(iter(summaries.values()))
    rows = [(name, s.median, s.p95, f"{s.median / floor.median:.2f}x", f"{s.p95 / floor.p95:.2f}x")
            for name, s in summaries.items()]
    print_table(f"Query latency, {floor.count} queries, index of {index_chunks:,} chunks (ms)",
                ("stage", "median", "p95", "median/floor", "p95/floor"), rows)
    for note in filter(None, notes):
        print(note)
    _print_goals(summaries, floor)


def _print_goals(summaries: dict[str, Summary], floor: Summary) -> None:
    hybrid = summaries["(c) hybrid"].median / floor.median
    print(f"goal: hybrid median <= {HYBRID_GOAL}x floor: {hybrid:.2f}x, {verdict(hybrid <= HYBRID_GOAL)}")
    rerank = summaries.get("(d) hybrid + rerank")
    if rerank:
        print(f"goal: rerank median <= {RERANK_GOAL_MS:.0f} ms: {rerank.median:.1f} ms, "
              f"{verdict(rerank.median <= RERANK_GOAL_MS)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.query", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", help="index location (default: $REGKB_DATA_DIR or ./data)")
    parser.add_argument("--warmup", type=int, default=10, help="queries run untimed through every stage first")
    parser.add_argument("--limit", type=int, help="time only the first N queries (default: all 423)")
    parser.add_argument("--long", type=int, metavar="N", help="time N rounds of the load bench's long question")
    parser.add_argument("--rerank-proxy", choices=sorted(PROXIES),
                        help="without REGKB_RERANKER, time an untrained cross-encoder of this shape")
    parser.add_argument("--rerank-depth", type=int, default=30, help="fused passages the proxy scores")
    args = parser.parse_args(argv)
    config = load_settings(args.data_dir)
    with tempfile.TemporaryDirectory(prefix="regkb-proxy-") as folder:
        proxy = None
        if args.rerank_proxy and not Reranker.from_environment():
            shape = PROXIES[args.rerank_proxy]
            proxy = Reranker(str(save_untrained_cross_encoder(Path(folder), shape, model_path(MINILM))),
                             depth=args.rerank_depth)
        searcher = Searcher(config, reranker=proxy)
        queries = HEAVY_QUERIES["long"] * args.long if args.long else query_set()[:args.limit]
        stage_list, missing = stages(searcher)
        stage_list, failed = warm_up(stage_list, queries[:args.warmup])
        proxy_note = f"(d) uses an untrained {args.rerank_proxy} cross-encoder, depth {args.rerank_depth}"
        report(time_rounds(stage_list, queries), [missing, failed, proxy_note if proxy else ""],
               searcher.index.manifest.chunk_count)


if __name__ == "__main__":
    main()
