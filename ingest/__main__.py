"""python -m ingest: build or update the index from the manifest's sources and your own files."""

from __future__ import annotations

import argparse
import os
import sys
import time
from contextlib import suppress
from pathlib import Path

from index.config import MAX_NICE
from index.config import settings as load_settings
from ingest.pipeline import IngestError, Ingestor, IngestResult
from ingest.sources import FORMATS, Resolver, Source, SourceError, load_manifest

DEFAULT_NICE = 10


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.nice:
        _below_serving(args.nice)
    try:
        settings = load_settings(args.data_dir, args.model)
    except ValueError as error:  # a setting from the environment that cannot be read
        return _fail(str(error))
    manifest = load_manifest()
    by_id = {s.id: s for s in manifest}
    unknown = [s for s in args.source if s not in by_id]
    if unknown:
        return _fail(f"unknown source {', '.join(unknown)}; known: {', '.join(by_id)}")
    if args.mirror and not args.mirror.is_dir():
        return _fail(f"--mirror {args.mirror}: not a folder")
    try:
        user_files = _expand(args.paths, args.follow_links)
    except SourceError as error:
        return _fail(str(error))
    if args.source:
        sources = with_amendments([by_id[s] for s in args.source], manifest)
        required = {s.id for s in sources}
    elif user_files or args.remove:
        sources, required = [], set()
    else:
        sources, required = manifest, set()
    resolver = Resolver(args.mirror.resolve() if args.mirror else None, settings.cache / "sources", offline=args.offline)
    started = time.perf_counter()
    try:
        result = Ingestor(settings, resolver, progress=not args.quiet).run(
            sources, user_files, required, set(args.remove))
    except (IngestError, SourceError) as error:
        return _fail(str(error))
    except KeyboardInterrupt:
        print("\ninterrupted: the previous index is still live; finished documents are cached", file=sys.stderr)
        return 130
    _print_summary(result, time.perf_counter() - started, settings.data_dir)
    for error in result.errors:
        print(f"error: {error}", file=sys.stderr)
    return 1 if result.errors else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("paths", nargs="*", type=Path, help="your own PDF, HTML, TXT or MD files or folders to add")
    parser.add_argument("--mirror", type=Path, help="folder holding local copies of the official files")
    parser.add_argument("--source", action="append", default=[], metavar="ID", help="only this manifest source")
    parser.add_argument("--remove", action="append", default=[], metavar="DOC_ID", help="drop a document")
    parser.add_argument("--offline", action="store_true", help="never try to download")
    parser.add_argument("--data-dir", help="index location (default: $REGKB_DATA_DIR or ./data)")
    parser.add_argument("--model", help="sentence-transformers model name or path (default: $REGKB_MODEL)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--follow-links", action="store_true",
                        help="ingest symbolic links that point outside the folder given (refused by default)")
    parser.add_argument("--nice", type=_steps, default=DEFAULT_NICE, metavar="N",
                        help=f"run N steps (0-{MAX_NICE}) below the CPU priority it was started with, so that a server "
                             f"on the same machine answers first (default {DEFAULT_NICE})")
    return parser


def _steps(value: str) -> int:
    if not value.isdigit() or int(value) > MAX_NICE:
        raise argparse.ArgumentTypeError(f"must be a whole number from 0 to {MAX_NICE}, got {value!r}")
    return int(value)


def _below_serving(steps: int) -> None:
    """Every thread of the ingest `steps` below its priority. Beside a serving API on 2 cores, a re-ingest took the
    cores the searches needed (README, "Load"); niced, it takes what they leave, and alone it runs as fast as before.
    Every thread, because on Linux a nice value is a thread's, and importing numpy has already started BLAS's."""
    os.nice(steps)
    priority = os.getpriority(os.PRIO_PROCESS, 0)
    tasks = Path("/proc/self/task")
    for task in tasks.iterdir() if tasks.is_dir() else ():
        with suppress(ProcessLookupError):  # a thread that ended meanwhile
            os.setpriority(os.PRIO_PROCESS, int(task.name), priority)


def with_amendments(selected: list[Source], manifest: list[Source]) -> list[Source]:
    """The sources asked for, plus what their text in force depends on: the acts amending them (or the act they
    are a language version of) and that act itself, so that `--source ai-act-fr` cannot pass off 2024 as today."""
    by_id = {s.id: s for s in manifest}
    celexes = {s.celex for s in selected if s.celex}
    amending = [s for s in manifest if s.amends in by_id and (
        s.amends in {x.id for x in selected} or by_id[s.amends].celex in celexes)]
    needed = [*selected, *amending, *(by_id[s.amends] for s in amending)]
    return list({s.id: s for s in needed}.values())


def _expand(paths: list[Path], follow_links: bool = False) -> list[Path]:
    """The files to ingest; a link that leads out of the folder given (or a file given as a link) is refused
    unless asked for, so that a stray link cannot serve /etc/passwd through search."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix.lower() in FORMATS and p.is_file())
            files.extend(_checked_link(p, path, follow_links) for p in found)
        elif path.is_file():
            files.append(_checked_link(path, None, follow_links))
        else:
            raise SourceError(f"{path}: no such file or folder")
    return files


def _checked_link(path: Path, folder: Path | None, follow_links: bool) -> Path:
    target = path.resolve()
    leaves = path.is_symlink() if folder is None else not target.is_relative_to(folder.resolve())
    if leaves and not follow_links:
        raise SourceError(f"{path} is a link to {target}, outside the folder given: "
                          "pass --follow-links to ingest it anyway")
    return path


def _print_summary(result: IngestResult, seconds: float, data_dir: Path) -> None:
    rows = [(r.doc_id, r.status, str(r.units), str(r.chunks), f"{r.seconds:.1f}") for r in result.reports]
    header = ("document", "status", "units", "chunks", "seconds")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print()
    for row in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(cell.ljust(w) if i < 2 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))))
    for report in result.reports:
        if report.message:
            print(f"  {report.doc_id}: {report.message}")
    if result.build and result.changed:
        print(f"\nindex {result.build.build_id}: {result.build.chunk_count} chunks, model {result.build.model_id}, "
              f"{seconds:.1f} s -> {data_dir}")
    elif result.build:
        print(f"\nindex up to date ({result.build.chunk_count} chunks); nothing written ({seconds:.1f} s)")


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
