"""Cold start to first answer, and resident memory, for the core path and the Streamlit app.

Core path: a fresh Python process imports RegKB, loads the index, loads the
embedding model and answers one question; the clock starts before the process
is spawned, so interpreter start-up counts. Each run is a new process, but the
OS page cache stays warm after the first: run 1 is the closest to a cold boot.

Streamlit (when app.py exists): the server is started headless on a free
loopback port and timed until /_stcore/health answers; the first answer is
timed through streamlit's AppTest in a fresh process, which runs app.py the way
a session on the server would. With Chromium and selenium installed, a real
browser opens the page as a reader would: the server spawned, the question box
on the page (a reader can type), the question typed and sent, the first cited
answer drawn.

    python -m bench.startup [--runs 3] [--app app.py] [--question TEXT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.common import REPO, free_port, print_table, process_memory_mb, run_child, summarise, verdict

GOAL_SECONDS = 10.0
QUESTION = "Is emotion recognition in the workplace prohibited?"
HEALTH_TIMEOUT = 120.0
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@dataclass(frozen=True)
class Start:
    label: str
    stages: dict[str, float]  # cumulative seconds since spawn, in order
    rss_mb: float
    peak_rss_mb: float

    @property
    def total(self) -> float:
        return list(self.stages.values())[-1]


# -- children: they print one JSON line with wall-clock marks (time.time(), comparable across processes) ----------
def core_child(question: str) -> dict[str, object]:
    marks = {"python up": time.time()}
    from index.answers.results import ask
    from index.config import settings
    from index.retrieval.search import Searcher

    marks["imports"] = time.time()
    searcher = Searcher(settings())
    _ = searcher.index
    marks["index loaded"] = time.time()
    _ = searcher.embedder.dim  # loads the model
    marks["model loaded"] = time.time()
    ask(searcher, question)
    marks["first answer"] = time.time()
    return {"marks": marks, "memory": process_memory_mb()}


def apptest_child(app: str, question: str) -> dict[str, object]:
    marks = {"python up": time.time()}
    from streamlit.testing.v1 import AppTest

    marks["imports"] = time.time()
    tester = AppTest.from_file(app, default_timeout=HEALTH_TIMEOUT)
    tester.run()
    marks["first page"] = time.time()
    boxes = [*tester.chat_input, *tester.text_input, *tester.text_area]
    if not boxes:
        raise SystemExit(f"{app}: no text or chat input to type a question into")
    boxes[0].set_value(question)
    tester.run()
    if tester.exception:
        raise SystemExit(f"{app} raised: {tester.exception[0].message}")
    marks["first answer"] = time.time()
    return {"marks": marks, "memory": process_memory_mb()}


def _child_main(argv: list[str]) -> None:
    kind, *rest = argv
    result = core_child(*rest) if kind == "core" else apptest_child(*rest)
    print("RESULT " + json.dumps(result))


# -- parent ---------------------------------------------------------------------------------------------------------
def timed_child(label: str, args: list[str]) -> Start:
    spawned = time.time()
    run = run_child([sys.executable, "-m", "bench.startup", "--child", *args])
    line = next((x for x in run.output.splitlines() if x.startswith("RESULT ")), None)
    if run.returncode or line is None:
        raise SystemExit(f"{label} failed (exit {run.returncode}):\n{run.output[-3000:]}")
    result = json.loads(line.removeprefix("RESULT "))
    stages = {name: mark - spawned for name, mark in result["marks"].items()}
    rss, peak = result["memory"]
    return Start(label, stages, rss, max(peak, run.peak_rss_mb))


def server_health(app: Path) -> tuple[float, float]:
    """Seconds from spawning `streamlit run` to a healthy /_stcore/health, and the server's RSS then."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", server)
        return time.perf_counter() - started, process_memory_mb(server.pid)[0]
    finally:
        server.terminate()
        server.wait(timeout=30)


def _wait_healthy(url: str, server: subprocess.Popen) -> None:
    deadline = time.perf_counter() + HEALTH_TIMEOUT
    while time.perf_counter() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"streamlit exited with {server.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.05)
    raise SystemExit(f"{url} did not answer within {HEALTH_TIMEOUT:.0f} s")


def browser_start(app: Path, question: str) -> Start | None:
    """Spawn `streamlit run`, open the page in headless Chromium, type the question when the box appears."""
    try:
        from selenium import webdriver
        from selenium.webdriver.common.by import By
        from selenium.webdriver.common.keys import Keys
        from selenium.webdriver.support.ui import WebDriverWait
    except ImportError:
        return None
    if not all(Path(p).is_file() for p in (CHROMIUM, CHROMEDRIVER)):
        return None
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(app), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService(CHROMEDRIVER), options=options)
    started = time.perf_counter()
    server = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/_stcore/health", server)
        stages = {"server healthy": time.perf_counter() - started}
        driver.get(f"http://127.0.0.1:{port}/")
        wait = WebDriverWait(driver, HEALTH_TIMEOUT)
        box = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "input[aria-label='Your question']"))
        stages["question box"] = time.perf_counter() - started
        box.send_keys(question + Keys.ENTER)
        wait.until(lambda d: "Read all of" in d.find_element(By.TAG_NAME, "body").text)
        stages["first cited answer"] = time.perf_counter() - started
        return Start("browser", stages, *process_memory_mb(server.pid))
    finally:
        driver.quit()
        server.terminate()
        server.wait(timeout=30)


def report(starts: list[Start], health: list[tuple[float, float]]) -> None:
    for label in dict.fromkeys(s.label for s in starts):
        runs = [s for s in starts if s.label == label]
        header = ("run", *runs[0].stages, "RSS MB", "peak MB")
        rows = [(f"{label} #{i}", *s.stages.values(), s.rss_mb, s.peak_rss_mb) for i, s in enumerate(runs, 1)]
        print_table(f"{label}: seconds since spawn (cumulative), memory after the first answer", header, rows)
        median = summarise([s.total for s in runs]).median
        print(f"goal: {label} cold start to first answer <= {GOAL_SECONDS:.0f} s: median {median:.1f} s, "
              f"{verdict(median <= GOAL_SECONDS)}")
    if health:
        print_table("streamlit server: spawn to /_stcore/health", ("run", "seconds", "server RSS MB"),
                    [(f"#{i}", seconds, rss) for i, (seconds, rss) in enumerate(health, 1)])


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--child"]:
        return _child_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench.startup", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--app", type=Path, default=REPO / "app.py", help="Streamlit script (skipped if absent)")
    parser.add_argument("--question", default=QUESTION)
    args = parser.parse_args(argv)
    starts = [timed_child("core", ["core", args.question]) for _ in range(args.runs)]
    health: list[tuple[float, float]] = []
    if args.app.is_file():
        health = [server_health(args.app) for _ in range(args.runs)]
        starts += [timed_child("streamlit AppTest", ["apptest", str(args.app), args.question])
                   for _ in range(args.runs)]
        starts += [start for _ in range(args.runs) if (start := browser_start(args.app, args.question))]
    report(starts, health)
    if not args.app.is_file():
        print(f"streamlit: skipped, {args.app} does not exist yet")


if __name__ == "__main__":
    main()
