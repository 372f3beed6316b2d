"""Ingest cost: a cold full-corpus build, then re-runs with nothing changed.

Each run is `python -m ingest --mirror CORPUS --offline --quiet` in its own
process on a temporary data directory (the live ./data is never touched);
--offline keeps the sources that have no local copy from waiting on a network
this machine does not have. Peak memory is each process's own (wait4).

    python -m bench.ingest [--corpus ../shared/corpus] [--warm-runs 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from bench.common import CORPUS, ChildRun, print_table, run_child, summarise, verdict
from index.config import settings as load_settings
from index.retrieval import store

WARM_GOAL_SECONDS = 3.0


def ingest(data_dir: Path, corpus: Path) -> ChildRun:
    env = {**os.environ, "REGKB_DATA_DIR": str(data_dir)}
    run = run_child([sys.executable, "-m", "ingest", "--mirror", str(corpus), "--offline", "--quiet"], env)
    if run.returncode:
        raise SystemExit(f"ingest failed (exit {run.returncode}):\n{run.output[-3000:]}")
    return run


def chunk_count(data_dir: Path) -> int:
    build = store.current_build_path(load_settings(data_dir))
    return store.read_manifest(build).chunk_count if build else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="folder of official files (default: %(default)s)")
    parser.add_argument("--warm-runs", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="regkb-bench-ingest-") as folder:
        data_dir = Path(folder)
        cold = ingest(data_dir, args.corpus.resolve())
        chunks = chunk_count(data_dir)
        warm = [ingest(data_dir, args.corpus.resolve()) for _ in range(args.warm_runs)]
    rows = [("cold (parse, embed, build)", cold.seconds, chunks / cold.seconds, cold.peak_rss_mb)]
    rows += [(f"warm #{i} (nothing changed)", run.seconds, "", run.peak_rss_mb) for i, run in enumerate(warm, 1)]
    print_table(f"Ingest of {args.corpus.name}: {chunks:,} chunks", ("run", "seconds", "chunks/s", "peak RSS MB"), rows)
    median = summarise([run.seconds for run in warm]).median
    print(f"goal: warm re-ingest <= {WARM_GOAL_SECONDS:.0f} s: median {median:.2f} s, "
          f"{verdict(median <= WARM_GOAL_SECONDS)}")


if __name__ == "__main__":
    main()
