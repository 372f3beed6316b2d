"""Feedback from readers: stored server-side, exported as evaluation questions, kept only as long as configured."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import pytest
from fastapi.testclient import TestClient

from index.api import ApiConfig, create_app
from index.evaluate import load_questions
from index.feedback import FeedbackStore

TOKEN = "s3cret-token"


@pytest.fixture
def client(mini_index, embedder, tmp_path):
    settings = type(mini_index)(tmp_path / "data", mini_index.model)
    settings.data_dir.mkdir()
    (settings.data_dir / "current").symlink_to(mini_index.current.resolve())
    with TestClient(create_app(settings, ApiConfig(token=TOKEN), embedder)) as client:
        yield client


def test_feedback_round_trips_through_the_api_and_the_export(client, tmp_path):
    created = client.post("/feedback", json={"question": "Can mowers read hedgehogs' feelings?", "helpful": False,
                                             "expected": "Article 2(1)(b) mini-act"})
    assert created.status_code == 201, created.text
    assert created.json()["resolved"] == "Article 2(1)(b)" and created.json()["doc_id"] == "user-mini-act"
    assert client.post("/feedback", json={"question": "mowing noise", "helpful": True}).status_code == 201
    assert client.post("/feedback", json={"question": "x", "helpful": True, "expected": None}).status_code == 201
    assert client.get("/feedback/export").status_code == 401
    export = client.get("/feedback/export", headers={"Authorization": f"Bearer {TOKEN}"})
    assert export.status_code == 200 and export.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in export.text.splitlines()]
    assert lines == [{"id": "feedback-1", "question": "Can mowers read hedgehogs' feelings?",
                      "gold": ["Article 2"], "doc": "user-mini-act"}]
    exported = tmp_path / "feedback.jsonl"
    exported.write_text(export.text, encoding="utf-8")
    assert load_questions(exported)[0].gold == ("Article 2",)  # `python -m index eval` reads it as it is


@pytest.mark.parametrize("body", [{"question": "", "helpful": True}, {"question": "q"},
                                  {"question": "q", "helpful": "maybe"}, {"question": "q" * 1001, "helpful": True}])
def test_bad_feedback_is_400_and_stores_nothing(client, body):
    assert client.post("/feedback", json=body).status_code == 400
    export = client.get("/feedback/export", headers={"Authorization": f"Bearer {TOKEN}"})
    assert export.text == ""


def test_items_beyond_the_retention_are_deleted_on_the_next_write(tmp_path):
    store = FeedbackStore(tmp_path / "feedback.sqlite3", retention_days=30)
    old = store.add("an old question", True, "Article 5")
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE feedback SET created = ? WHERE id = ?",
                   ((datetime.now(timezone.utc) - timedelta(days=31)).isoformat(), old.id))
    store.add("a new question", False)
    assert [item.question for item in store.items()] == ["a new question"]


def test_the_app_stores_a_readers_feedback(mini_index, monkeypatch, tmp_path):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP, QUESTION

    data = tmp_path / "data"
    data.mkdir()
    (data / "current").symlink_to(mini_index.current.resolve())
    monkeypatch.setenv("REGKB_DATA_DIR", str(data))
    app = AppTest.from_file(APP, default_timeout=180)
    app.query_params["q"] = QUESTION
    app.run()
    app.radio(key="fb-helpful").set_value("Not helpful")
    app.text_input(key="fb-expected").set_value("Article 2(1)(b)")
    app.button[-1].click().run()
    assert not app.exception, app.exception
    assert "your feedback is stored" in app.success[0].value
    [item] = FeedbackStore.in_folder(data).items()
    assert (item.question, item.helpful, item.unit, item.doc_id) == (QUESTION, False, "Article 2", "user-mini-act")
