"""From a fresh clone to the first cited answer: the README's first command, timed from outside.

Clones the repository's HEAD into a temporary folder, runs `./run.sh` there (the
README's first command: install, ingest in stages, app) and watches it:

  install        until run.sh starts the ingest (its log file appears)
  app up         until the app answers its health check
  first answer   until `python -m index search` in the clone answers a question with a cited
                 passage from the live build (the library the app calls, models loaded cold)
  each stage     when the live build first serves BM25 alone, the fast model, every model
  full index     when the live build is complete and the ingest has finished

The ingest's peak memory is sampled from /proc once a second. The clone and its
data are removed at the end (--keep leaves them).

    python -m bench.fresh_start [--corpus ../shared/corpus] [--timeout 1500] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.common import CORPUS, REPO, free_port, print_table, verdict
from index.retrieval.progress import Coverage

QUESTION = "Can we use emotion recognition on our employees?"
FIRST_ANSWER_GOAL_S = 180
FULL_INDEX_GOAL_S = 480


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fresh_start", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--timeout", type=float, default=1500.0)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="regkb-fresh-"))
    clone = folder / "regkb"
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
    port = free_port()
    env = {**os.environ, "REGKB_MIRROR": str(args.corpus.resolve()), "PORT": str(port)}
    env.pop("REGKB_DATA_DIR", None)
    env.pop("VIRTUAL_ENV", None)
    started = time.monotonic()
    run = subprocess.Popen(["./run.sh"], cwd=clone, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                           start_new_session=True)
    try:
        marks, peak = watch(clone, port, run, started, args.timeout)
    finally:
        os.killpg(run.pid, signal.SIGTERM)
        run.wait(timeout=30)
    report(marks, peak, clone)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


def watch(clone: Path, port: int, run: subprocess.Popen, started: float,
          timeout: float) -> tuple[dict[str, float], float]:
    """Seconds from the command's start to each mark, and the ingest's peak RSS in MB."""
    marks: dict[str, float] = {}
    peak = 0.0
    data = clone / "data"
    while time.monotonic() - started < timeout:
        now = time.monotonic() - started
        if run.poll() is not None:
            raise SystemExit(f"./run.sh exited with {run.returncode}; see {data / 'ingest.log'}")
        if "install" not in marks and (data / "ingest.log").exists():
            marks["install"] = now
        if "app up" not in marks and _healthy(port):
            marks["app up"] = time.monotonic() - started
        if (stage := _stage(data)) and f"stage: {stage}" not in marks:
            marks[f"stage: {stage}"] = now
        if "first answer" not in marks and "app up" in marks and stage and _answers(clone):
            marks["first answer"] = time.monotonic() - started
        peak = max(peak, _ingest_rss_mb())
        if stage == "full" and not (data / "progress.json").exists() and "first answer" in marks:
            marks["full index"] = now
            return marks, peak
        time.sleep(1)
    raise SystemExit(f"not complete after {timeout:.0f} s: {marks}")


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _stage(data: Path) -> str:
    """The live build's stage, read as the app reads it; "" while there is none."""
    try:
        manifest = json.loads((data / "current" / "manifest.json").read_text())
    except (OSError, ValueError):
        return ""
    return Coverage.of(manifest["documents"], tuple(manifest["model_id"].split("+"))).stage


def _answers(clone: Path) -> bool:
    result = subprocess.run([str(clone / ".venv" / "bin" / "python"), "-m", "index", "search", QUESTION, "-k", "3",
                             "--json"], cwd=clone, capture_output=True, text=True, timeout=300)
    try:
        return result.returncode == 0 and any(r.get("citation") for r in json.loads(result.stdout))
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def _ingest_rss_mb() -> float:
    """The resident memory of the running `python -m ingest`, if one is running."""
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"-m\x00ingest" in status.read_bytes():
                for line in (status.parent / "status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            continue
    return 0.0


def report(marks: dict[str, float], peak: float, clone: Path) -> None:
    rows = [(name, f"{seconds:.0f} s", f"{seconds / 60:.1f} min") for name, seconds in
            sorted(marks.items(), key=lambda item: item[1])]
    print_table(f"./run.sh on a fresh clone, {os.cpu_count()} cores ({clone})", ("mark", "seconds", "minutes"), rows)
    print(f"ingest peak RSS {peak:.0f} MB")
    print(f"first cited answer within {FIRST_ANSWER_GOAL_S} s: {verdict(marks['first answer'] <= FIRST_ANSWER_GOAL_S)}")
    print(f"full index within {FULL_INDEX_GOAL_S} s: {verdict(marks['full index'] <= FULL_INDEX_GOAL_S)}")
    log = (clone / "data" / "ingest.log").read_text(errors="replace").replace("\r", "\n")
    print("\n".join(line for line in log.splitlines() if "chunk/s" not in line and line.strip())[-2500:])


if __name__ == "__main__":
    sys.exit(main())
