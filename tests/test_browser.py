"""End to end in a real headless Chromium: `streamlit run app.py` on loopback, a shared URL, a cited answer.

Uses Debian's chromium and chromium-driver (no browser download) and selenium from
PyPI; skips, saying why, when any of them is missing. Screenshots and the measured
times go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from index.config import Settings

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--no-first-run")
QUESTION = "Can a lawnmower infer the emotions of hedgehogs?"
STARTUP_SECONDS = 120


@dataclass(frozen=True)
class Server:
    url: str
    started: float  # time.perf_counter() when the process was launched


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server(mini_index: Settings, tmp_path: Path) -> Iterator[Server]:
    yield from serve(mini_index, tmp_path)


@pytest.fixture
def corpus_server(corpus_index: Settings, tmp_path: Path) -> Iterator[Server]:
    yield from serve(corpus_index, tmp_path)


def serve(index: Settings, tmp_path: Path) -> Iterator[Server]:
    port = free_loopback_port()
    log = (tmp_path / "streamlit.log").open("w")
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
         "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "REGKB_DATA_DIR": str(index.data_dir)}, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", process, tmp_path / "streamlit.log")
        yield Server(f"http://127.0.0.1:{port}", started)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def wait_until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"streamlit exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer on {url} within {STARTUP_SECONDS} s:\n{log.read_text()}")


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install -y chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})  # every request the pages make
    driver = webdriver.Chrome(service=webdriver.ChromeService(str(CHROMEDRIVER)), options=options)
    driver.set_window_size(1280, 1000)
    yield driver
    driver.quit()


def wait_for_text(driver: object, text: str, timeout: float = STARTUP_SECONDS) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, timeout).until(lambda d: text in d.find_element(By.TAG_NAME, "body").text)


def wait_until_idle(driver: object) -> None:
    """Streamlit shows a status widget while the script runs and skeletons for what is still coming."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 60).until(lambda d: d.execute_script(
        "return !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-testid=\"stSkeleton\"]')"))


def save_full_page(driver: object, name: str) -> Path:
    height = driver.execute_script("return document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    driver.set_window_size(1280, min(int(height) + 120, 8000))
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def requested_hosts(driver: object) -> set[str]:
    """The hosts of every request the pages made since the last call (Chrome's performance log)."""
    hosts = set()
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = urlsplit(message["params"]["request"]["url"])
            if url.scheme in {"http", "https", "ws", "wss"}:
                hosts.add(url.hostname or "")
    return hosts


def test_a_shared_question_url_opens_on_its_cited_answer(server: Server, browser: object) -> None:
    browser.get(f"{server.url}/?{urlencode({'q': QUESTION})}")
    wait_for_text(browser, "Article 2(1)(b)")
    cold_start = time.perf_counter() - server.started
    wait_until_idle(browser)
    body = browser.find_element("tag name", "body").text
    assert "At a glance" in body and "Not legal advice" in body and "Your document: mini-act.html" in body
    save_full_page(browser, "ask.png")

    hostile = "<img src=x onerror=alert(1)> hedgehog emotions"
    asked = time.perf_counter()
    browser.get(f"{server.url}/?{urlencode({'embed': 'true', 'q': hostile})}")
    wait_for_text(browser, "Article 2(1)(b)")
    warm_answer = time.perf_counter() - asked
    wait_until_idle(browser)
    assert browser.execute_script("return document.querySelectorAll('img[src=\"x\"]').length") == 0
    save_full_page(browser, "embed.png")

    assert requested_hosts(browser) == {"127.0.0.1"}  # no font, icon or script from any other host

    (ARTIFACTS / "browser-timings.txt").write_text(
        f"cold start (server launch to first cited answer): {cold_start:.1f} s\n"
        f"warm page load to cited answer (embed=true): {warm_answer:.1f} s\n")


def test_the_embed_shows_a_cited_answer_above_the_fold_in_a_900_pixel_frame(server: Server, browser: object) -> None:
    browser.set_window_size(900, 900)
    browser.get(f"{server.url}/?{urlencode({'embed': 'true', 'q': QUESTION})}")
    wait_for_text(browser, "Article 2(1)(b)")
    wait_until_idle(browser)
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "embed-900.png"))
    fold = browser.execute_script("return window.innerHeight")
    first_card = browser.execute_script(  # a card's title: its citation in bold, outside the at-a-glance list
        "const card = [...document.querySelectorAll('[data-testid=\"stMain\"] strong')]"
        ".find(e => /^(Article|Annex|Recital) /.test(e.textContent) && !e.closest('li'));"
        "return card ? card.getBoundingClientRect().bottom : null")
    assert first_card is not None and first_card < fold, (first_card, fold)
    assert not browser.execute_script(
        "const w = document.querySelector('[data-testid=\"stStatusWidget\"]');"
        "return w && w.offsetParent !== null")  # no Stop button for the readers of an intranet page


def test_back_returns_from_a_provision_to_the_answer(server: Server, browser: object) -> None:
    """Provisions open by links, one history entry each (a reference in a provision's text is one too);
    Back goes through them to the answer, its URL as it was."""
    from selenium.webdriver.common.by import By

    asked = f"{server.url}/?{urlencode({'q': QUESTION})}"
    browser.get(asked)
    wait_for_text(browser, "Read all of Article 2")
    wait_until_idle(browser)
    entries = browser.execute_script("return history.length")
    clicked = time.perf_counter()
    browser.find_element(By.PARTIAL_LINK_TEXT, "Read all of Article 2").click()
    wait_for_text(browser, "Article 2 — Prohibited mowing practices")
    opened = time.perf_counter() - clicked
    wait_until_idle(browser)
    assert browser.current_url == f"{server.url}/?{urlencode({'view': 'Browse', 'open': 'Article 2'})}"
    browser.find_element(By.LINK_TEXT, "Article 3").click()  # "Cited by: Article 3"
    wait_for_text(browser, "Article 3 — Penalties")
    wait_until_idle(browser)
    save_full_page(browser, "browse-article.png")
    in_text = browser.find_element(By.XPATH, "//p[starts-with(., '1. Infringements of')]/a")
    assert (in_text.text, in_text.get_attribute("target")) == ("Article 2", "_self")
    assert browser.execute_script("return history.length") == entries + 2

    browser.back()
    wait_for_text(browser, "Article 2 — Prohibited mowing practices")
    browser.back()
    wait_for_text(browser, "At a glance")
    assert browser.current_url == asked and "Read all of Article 2" in browser.find_element(By.TAG_NAME, "body").text
    with (ARTIFACTS / "browser-timings.txt").open("a") as timings:
        timings.write(f"a provision opened from an answer by its link: {opened:.1f} s\n")


@pytest.mark.slow
def test_assess_my_system_in_the_browser(corpus_server: Server, browser: object) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{corpus_server.url}/?{urlencode({'view': 'Assess my system'})}")
    wait_for_text(browser, "Describe your AI system")
    box = browser.find_element(By.TAG_NAME, "textarea")
    box.send_keys("We built a tool that screens CVs and ranks job applicants for recruiters.")
    box.send_keys("\ue009\ue007")  # Ctrl+Enter submits a Streamlit text area
    wait_for_text(browser, "Your duties as provider")
    wait_until_idle(browser)
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "High-risk" in body and "Annex III, point 4(a)" in body and "Article 6(3)" in body
    assert requested_hosts(browser) == {"127.0.0.1"}
    save_full_page(browser, "assess.png")
