"""Ingest killed at any point, files corrupted, rebuilds under live queries: the index keeps answering right.

The kill tests run the real CLI (`python -m ingest`) in a subprocess and send
SIGKILL or SIGINT at random moments and at chosen phases of the build write,
which lasts milliseconds and a random delay alone would almost never hit.
The random delays and jitters come from REGKB_CRASH_SEED (default 1689).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from index.answers.results import ask
from index.api import ApiConfig, create_app
from index.config import Settings
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.live import LiveBuild
from index.retrieval.search import Searcher
from ingest.pipeline import Ingestor
from ingest.sources import Resolver
from tests.conftest import FIXTURES, build_index

ROOT = Path(__file__).resolve().parents[1]
SEED = int(os.environ.get("REGKB_CRASH_SEED", "1689"))
PROBE = "may a robot mower frighten hedgehogs?"  # answered from the mini act, whatever else is indexed
NOTES_PROBE = "lithium cells stored in a dry shed over winter"


@dataclass(frozen=True)
class Trial:
    phase: str
    signal: signal.Signals
    returncode: int


def ingest_command(config: Settings, *args: str) -> list[str]:
    return [sys.executable, "-m", "ingest", *args, "--data-dir", str(config.data_dir), "--quiet", "--offline"]


def live_documents(config: Settings) -> set[str]:
    return {d["doc_id"] for d in store.load(config).manifest.documents}


def answers(searcher: Searcher, question: str = PROBE) -> list[dict[str, object]]:
    return [r.to_json() for r in ask(searcher, question, 3)]


def assert_serving(searcher: Searcher, config: Settings, embedder: Embedder) -> None:
    """The live build passes its checksums, and a searcher that ran all along answers as a fresh one on it does."""
    assert live_documents(config) >= {"user-mini-act"}
    expected = answers(Searcher(config, embedder))
    assert expected[0]["doc_id"] == "user-mini-act"
    assert answers(searcher) == expected
    assert searcher.index.path == store.current_build_path(config)


def new_staging(config: Settings, before: set[str]) -> Path | None:
    return next((p for p in config.builds.glob(".*.tmp") if p.name not in before), None)


def kill_during(process: subprocess.Popen, config: Settings, phase: Callable[[Path | None], bool],
                jitter: float, sig: signal.Signals, before: set[str], seconds: float = 60) -> int:
    """Send `sig` once `phase` holds (polled every half millisecond), `jitter` seconds later; the exit code."""
    deadline = time.monotonic() + seconds
    while process.poll() is None and time.monotonic() < deadline:
        if phase(new_staging(config, before)):
            time.sleep(jitter)
            process.send_signal(sig)
            break
        time.sleep(0.0005)
    return process.wait(timeout=seconds)


def after(delay: float) -> Callable[[Path | None], bool]:
    started = time.monotonic()
    return lambda _: time.monotonic() - started >= delay


def staging_has(name: str) -> Callable[[float], Callable[[Path | None], bool]]:
    return lambda _: lambda staging: staging is not None and (staging / name).exists()


PHASES: dict[str, Callable[[float], Callable[[Path | None], bool]]] = {
    "at a random moment": after,
    "once the build folder exists": staging_has("."),
    "once the vectors are written": staging_has("dense.faiss"),
    "once the manifest is written": staging_has("manifest.json"),
}


@pytest.fixture
def live(tmp_path: Path, embedder: Embedder) -> Settings:
    """A live index of the mini act, with the notes' vectors already cached so re-adding them needs no model."""
    config = build_index(tmp_path / "data", embedder, [FIXTURES / "mini-act.html", FIXTURES / "notes.txt"])
    resolver = Resolver(None, config.cache / "sources", offline=True)
    Ingestor(config, resolver, embedder, progress=False).run([], [], remove={"user-notes"})
    assert live_documents(config) == {"user-mini-act"}
    return config


def test_ingest_killed_anywhere_leaves_the_previous_index_serving(live, embedder, tmp_path):
    rng = random.Random(SEED)
    serving = Searcher(live, embedder)
    trials: list[Trial] = []
    for phase_name, phase in PHASES.items():
        for sig in (signal.SIGKILL, signal.SIGINT):
            notes_live = "user-notes" in live_documents(live)
            toggle = ("--remove", "user-notes") if notes_live else (str(FIXTURES / "notes.txt"),)
            before = {p.name for p in live.builds.glob(".*.tmp")}
            process = subprocess.Popen(ingest_command(live, *toggle), cwd=ROOT, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.DEVNULL)
            code = kill_during(process, live, phase(rng.uniform(0.0, 1.5)), rng.uniform(0.0, 0.02), sig, before)
            trials.append(Trial(phase_name, sig, code))
            print(trials[-1])  # shown by pytest if an assertion below fails
            assert_serving(serving, live, embedder)
            if sig == signal.SIGINT:
                assert new_staging(live, before) is None, f"Ctrl-C left its half-written build behind: {trials}"
    assert any(t.returncode != 0 for t in trials), f"no trial was interrupted: {trials}"

    extra = tmp_path / "extra-briefing.txt"
    extra.write_text(f"Solar sheds\n\nA garden shed with solar panels needs permit number {SEED} first.\n")
    process = subprocess.Popen(ingest_command(live, str(extra)), cwd=ROOT, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    kill_during(process, live, after(rng.uniform(0.0, 8.0)), 0.0, rng.choice([signal.SIGKILL, signal.SIGINT]), set())
    assert_serving(serving, live, embedder)

    finished = subprocess.run(ingest_command(live, str(extra), str(FIXTURES / "notes.txt")), cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
    assert finished.returncode == 0, finished.stderr
    assert live_documents(live) == {"user-mini-act", "user-notes", "user-extra-briefing"}
    assert_serving(serving, live, embedder)
    assert answers(serving, NOTES_PROBE)[0]["doc_id"] == "user-notes"


def test_searches_during_a_rebuild_never_fail_and_then_see_the_new_document(live, embedder):
    serving = Searcher(live, embedder)
    seen: list[set[str]] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def query_in_a_loop() -> None:
        while not stop.is_set():
            try:
                seen.append({r.hit.chunk.doc_id for r in ask(serving, NOTES_PROBE, 3)})
            except BaseException as error:  # noqa: BLE001 - any failure at all is what this test looks for
                errors.append(error)

    reader = threading.Thread(target=query_in_a_loop)
    reader.start()
    try:
        # Its own model instance: one tokenizer is not to be shared by two threads (see index.serving.FairEncoder).
        build_index(live.data_dir, Embedder(), [FIXTURES / "notes.txt"])
        deadline = time.monotonic() + 30
        while not any("user-notes" in docs for docs in seen) and time.monotonic() < deadline and not errors:
            time.sleep(0.05)
    finally:
        stop.set()
        reader.join(timeout=60)
    assert errors == []
    switch = next(i for i, docs in enumerate(seen) if "user-notes" in docs)
    assert switch > 0 and all("user-notes" not in docs for docs in seen[:switch])
    assert all("user-notes" in docs for docs in seen[switch:])


# -- corruption --------------------------------------------------------------------------------


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def retitle(path: Path) -> None:
    """Still valid JSON, still the same length: only the manifest's own checksum can tell."""
    path.write_text(path.read_text().replace("mini-act", "mini-ACT"))


@pytest.fixture
def copy_of_mini(mini_index: Settings, tmp_path: Path) -> Callable[[], Settings]:
    def copy() -> Settings:
        target = tmp_path / f"data-{len(list(tmp_path.iterdir()))}"
        shutil.copytree(mini_index.data_dir, target, symlinks=True)
        return replace(mini_index, data_dir=target)

    return copy


@pytest.mark.parametrize("damage", [truncate, flip_a_byte])
def test_every_damaged_index_file_is_detected_by_name(copy_of_mini, embedder, damage):
    names = ["manifest.json", *store.load(copy_of_mini()).manifest.files]
    assert {"chunks.jsonl", "dense.faiss"} < set(names) and any(n.startswith("lexical/") for n in names)
    for name in names:
        config = copy_of_mini()
        damage(store.current_build_path(config) / name)
        with pytest.raises(store.IndexUnavailable, match=rf"{name}.*(corrupted|unreadable).*python -m ingest"):
            Searcher(config, embedder).search(PROBE)


def test_an_altered_manifest_fails_its_own_checksum(copy_of_mini):
    config = copy_of_mini()
    retitle(store.current_build_path(config) / "manifest.json")
    with pytest.raises(store.IndexUnavailable, match="manifest.json is corrupted"):
        store.load(config)


@pytest.mark.parametrize("checksum", [None, ""], ids=["removed", "emptied"])
def test_a_manifest_without_its_checksum_is_refused_not_trusted(copy_of_mini, checksum):
    """Every build of this format is written with a checksum: one without has been tampered with."""
    config = copy_of_mini()
    path = store.current_build_path(config) / "manifest.json"
    fields = json.loads(path.read_text())
    if checksum is None:
        del fields["checksum"]
    else:
        fields["checksum"] = checksum
    fields["documents"][0]["title"] = "Altered"
    path.write_text(json.dumps(fields))
    with pytest.raises(store.IndexUnavailable, match="no checksum"):
        store.load(config)


def switch_current(config: Settings, build: Path) -> None:
    link = config.data_dir / ".current-test"
    os.symlink(os.path.relpath(build, config.data_dir), link)
    os.replace(link, config.current)


def damaged_copy(config: Settings) -> Path:
    damaged = config.builds / "damaged"
    shutil.copytree(store.current_build_path(config), damaged)
    flip_a_byte(damaged / "chunks.jsonl")
    return damaged


def test_a_switch_to_a_corrupted_build_keeps_the_last_good_one_and_says_so(copy_of_mini, embedder):
    config = copy_of_mini()
    good = store.current_build_path(config)
    serving = Searcher(config, embedder)
    with TestClient(create_app(config, ApiConfig(), embedder)) as api:  # started on the good build
        before = answers(serving)
        switch_current(config, damaged_copy(config))
        assert answers(serving) == before
        assert api.get("/search", params={"q": PROBE}).status_code == 200
        health = api.get("/healthz").json()
        assert health["status"] == "degraded" and health["build_id"] == good.name
        assert "damaged failed to load" in health["problem"] and "chunks.jsonl is corrupted" in health["problem"]
        assert str(config.data_dir) not in health["problem"]
        switch_current(config, good)  # repaired: the report goes
        assert api.get("/healthz").json() == {**health, "status": "ok", "problem": ""}
    fresh = TestClient(create_app(config, ApiConfig(), embedder))
    switch_current(config, config.builds / "damaged")  # a server with no good build to fall back on
    response = fresh.get("/search", params={"q": PROBE})
    assert response.status_code == 503 and "chunks.jsonl is corrupted" in response.json()["error"]["message"]


def test_a_dangling_current_is_reported_not_healthy(copy_of_mini, embedder):
    config = copy_of_mini()
    with TestClient(create_app(config, ApiConfig(), embedder)) as api:
        gone = damaged_copy(config)
        switch_current(config, gone)
        shutil.rmtree(gone)
        health = api.get("/healthz").json()
        assert health["status"] == "degraded" and "does not exist" in health["problem"]
        assert api.get("/search", params={"q": PROBE}).status_code == 200


def test_a_failed_build_is_retried_after_a_back_off_not_on_every_request(copy_of_mini):
    config, now, loads = copy_of_mini(), [0.0], []

    def load(build: Path | None) -> str:
        loads.append(build)
        return store.load(config, build).manifest.build_id

    live = LiveBuild(config, load, first_retry=2.0, max_retry=8.0, clock=lambda: now[0])
    good = live.get()
    switch_current(config, damaged_copy(config))
    for moment in (0.0, 1.0, 1.9, 2.1, 2.2, 5.0, 6.2):
        now[0] = moment
        assert live.get() == good
    assert len(loads) == 1 + 3  # the first load, then attempts at 0 s, 2.1 s (after 2 s), 6.2 s (after 4 s)
    assert "attempt 4 in 8 s" in live.problem
