"""Parsing cost of large user files: read_blocks, build_units and chunking at 1, 8 and 32 MB.

Three shapes of plain text, each built from the same words so only the shape differs:
prose (paragraphs of sentences, blank lines between), notes (paragraphs that end
without a full stop, which one section collects: what a quadratic join made 30 s
at 8 MB) and run-on (no sentence end and no line break: one unit that chunking
has to cut). A linear pass takes about 8x as long at 8 MB as at 1 MB, and 4x
again at 32 MB. No embedding: that is linear in the chunks and measured by
bench/ingest.py.

    python -m bench.large_files [--sizes 1,8,32] [--shapes prose,notes,run-on]
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable

from bench.common import MB, print_table
from ingest.chunking import chunk_units
from ingest.structure import build_units
from ingest.text import read_blocks

WORDS = ("the provider shall ensure that any system placed on the market complies with the requirements set out in "
         "this regulation on data governance risk management and human oversight").split()


def _words(rng: random.Random, count: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(count))


def _paragraphs(size: int, paragraph: Callable[[random.Random], str]) -> str:
    rng, parts, length = random.Random(0), [], 0
    while length < size:
        parts.append(paragraph(rng))
        length += len(parts[-1]) + 2
    return "\n\n".join(parts)


def prose(size: int) -> str:
    def paragraph(rng: random.Random) -> str:
        return " ".join(f"{_words(rng, rng.randint(8, 25)).capitalize()}." for _ in range(rng.randint(2, 6)))

    return _paragraphs(size, paragraph)


def notes(size: int) -> str:
    return _paragraphs(size, lambda rng: _words(rng, rng.randint(20, 60)))


def run_on(size: int) -> str:
    return _words(random.Random(0), size // 6)[:size]


SHAPES = {"prose": prose, "notes": notes, "run-on": run_on}


def measure(shape: str, megabytes: int) -> tuple[object, ...]:
    text = SHAPES[shape](megabytes * MB)
    started = time.perf_counter()
    blocks, _ = read_blocks(text)
    read = time.perf_counter()
    units = build_units(blocks)
    built = time.perf_counter()
    chunks = chunk_units("user-bench", "bench", units, lambda unit: "")
    chunked = time.perf_counter()
    return (f"{shape} {megabytes} MB", read - started, built - read, chunked - built, len(units), len(chunks),
            max(len(c.text) for c in chunks))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.large_files", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1,8,32", help="megabytes, comma-separated (default: %(default)s)")
    parser.add_argument("--shapes", default=",".join(SHAPES), help="default: %(default)s")
    args = parser.parse_args(argv)
    rows = [measure(shape, int(size)) for shape in args.shapes.split(",") for size in args.sizes.split(",")]
    header = ("file", "read_blocks s", "build_units s", "chunking s", "units", "chunks", "longest chunk")
    print_table("Parsing large plain-text files (no embedding)", header, rows)


if __name__ == "__main__":
    main()
