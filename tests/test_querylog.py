"""The administrators' query log: nothing kept unless switched on; then one row per question, from the app and the API,
exportable with the token, kept only as long as configured."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient
from streamlit.testing.v1 import AppTest

from index.api import ApiConfig, create_app
from index.querylog import QueryLog
from tests.test_app import APP, QUESTION

TOKEN = "s3cret-token"


@pytest.fixture
def data(mini_index, tmp_path):
    """A data folder of its own that serves the mini index, so each test's log starts empty."""
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "current").symlink_to(mini_index.current.resolve())
    return folder


def api(mini_index, embedder, data) -> TestClient:
    return TestClient(create_app(type(mini_index)(data, mini_index.model), ApiConfig(token=TOKEN), embedder))


def test_nothing_is_logged_unless_the_administrator_switches_it_on(mini_index, embedder, data, monkeypatch):
    monkeypatch.delenv("REGKB_QUERY_LOG", raising=False)
    with api(mini_index, embedder, data) as client:
        assert client.get("/search", params={"q": QUESTION}, headers={"Authorization": f"Bearer {TOKEN}"}).is_success
        off = client.get("/querylog/export", headers={"Authorization": f"Bearer {TOKEN}"})
    assert off.status_code == 404 and "REGKB_QUERY_LOG=1" in off.json()["error"]["message"]
    assert not (data / "querylog.sqlite3").exists()


def test_an_api_search_is_logged_and_exported_with_the_token(mini_index, embedder, data, monkeypatch):
    monkeypatch.setenv("REGKB_QUERY_LOG", "1")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with api(mini_index, embedder, data) as client:
        answer = client.get("/search", params={"q": QUESTION, "doc": "user-mini-act"}, headers=auth).json()
        assert client.get("/querylog/export").status_code == 401
        export = client.get("/querylog/export", headers=auth)
    [line] = [json.loads(line) for line in export.text.splitlines()]
    assert line["front"] == "api" and line["question"] == QUESTION
    assert line["filters"] == {"doc": ["user-mini-act"], "kind": [], "chapter": "", "as_of": "", "mode": "hybrid"}
    assert line["citations"] == [r["citation"] for r in answer["results"][:3]] and line["latency_ms"] > 0
    assert set(line) == {"created", "front", "question", "filters", "citations", "latency_ms"}  # nothing else


def test_the_app_logs_a_question_once_not_on_every_rerun(data, monkeypatch):
    monkeypatch.setenv("REGKB_QUERY_LOG", "1")
    monkeypatch.setenv("REGKB_DATA_DIR", str(data))
    app = AppTest.from_file(APP, default_timeout=180)
    app.query_params["q"] = QUESTION
    app.run()
    app.run()  # a rerun with the same question (a click elsewhere on the page)
    assert not app.exception, app.exception
    [entry] = QueryLog.from_environment(data).entries()
    assert entry.front == "app" and entry.question == QUESTION and len(entry.citations) == 3


def test_entries_beyond_the_retention_are_deleted_on_the_next_write(tmp_path):
    log = QueryLog(tmp_path / "querylog.sqlite3", retention_days=30)
    log.record("api", "old question", {}, ["Article 5 AI Act"], 12.0)
    old = (datetime.now(timezone.utc) - timedelta(days=31)).isoformat(timespec="seconds")
    with sqlite3.connect(log.path) as db:
        db.execute("UPDATE queries SET created = ?", (old,))
    log.record("app", "new question", {}, [], 3.0)
    assert [e.question for e in log.entries()] == ["new question"]


def test_a_server_without_a_token_does_not_export_the_log(mini_index, embedder, data, monkeypatch):
    monkeypatch.setenv("REGKB_QUERY_LOG", "1")
    with TestClient(create_app(type(mini_index)(data, mini_index.model), ApiConfig(), embedder)) as client:
        assert client.get("/search", params={"q": QUESTION}).is_success
        refused = client.get("/querylog/export")
    assert refused.status_code == 403 and "REGKB_API_TOKEN" in refused.json()["error"]["message"]


def test_a_log_that_cannot_be_written_does_not_fail_the_search(tmp_path):
    (tmp_path / "querylog.sqlite3").mkdir()  # a folder where the file should be: sqlite cannot open it
    log = QueryLog(tmp_path / "querylog.sqlite3", retention_days=30)
    assert log.record("api", "a question", {}, [], 1.0) is None
