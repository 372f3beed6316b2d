"""The HTTP API on the mini index: the same records as the CLI, JSON errors, access control, limits."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from bench.common import free_port
from bench.load_api import api_server
from index.answers.question import answer
from index.answers.results import catalog_of
from index.api import MAX_URL_BYTES, ApiConfig, create_app
from index.config import DEFAULT_MODEL, Settings, settings
from index.retrieval import store
from index.retrieval.embedder import Embedder
from index.retrieval.search import Searcher
from index.serving import FairEncoder

TOKEN = "s3cret-Token_1"


def client_for(config: Settings, embedder: Embedder, api: ApiConfig = ApiConfig()) -> TestClient:
    return TestClient(create_app(config, api, embedder))


@pytest.fixture(scope="module")
def client(mini_index: Settings, embedder: Embedder) -> Iterator[TestClient]:
    with client_for(mini_index, embedder) as running:  # runs the lifespan: index and model warmed up
        yield running


def assert_error(response: httpx.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    problem = response.json()["error"]
    assert problem["code"] and all(w in problem["message"] for w in words), problem


# -- endpoints ------------------------------------------------------------------------------


def test_search_returns_the_cli_records(client, mini_searcher: Searcher):
    question = "may a robot mower frighten hedgehogs?"
    response = client.get("/search", params={"q": question, "k": 3})
    assert response.status_code == 200
    body = response.json()
    cli = answer(mini_searcher, catalog_of(mini_searcher.index), question, k=3)
    assert body["results"] == [r.to_json() for r in cli.results]
    assert body["results"][0]["applies_from"] and body["results"][0]["status"] == "unchanged"
    assert body["results"][0]["doc_id"] == "user-mini-act" and body["k"] == 3


def test_search_filters_by_document_and_kind(client):
    only_notes = client.get("/search", params={"q": "robot mowers", "doc": "user-notes"}).json()["results"]
    assert only_notes and {r["doc_id"] for r in only_notes} == {"user-notes"}
    articles = client.get("/search", params={"q": "hedgehogs", "kind": "article"}).json()["results"]
    assert articles and {r["kind"] for r in articles} == {"article"}


@pytest.mark.parametrize(("params", "words"), [
    ({"q": "mowers", "k": 0}, ["k"]),
    ({"q": "mowers", "k": 51}, ["k", "50"]),
    ({"q": "mowers", "k": "ten"}, ["k"]),
    ({}, ["q"]),
    ({"q": "   "}, ["empty"]),
    ({"q": "x" * 1001}, ["q", "1000"]),
    ({"q": "mowers", "doc": "no-such-act"}, ["unknown document", "user-notes"]),
    ({"q": "mowers", "mode": "psychic"}, ["mode"]),
    ({"q": "mowers", "kind": "chapter"}, ["kind"]),
])
def test_bad_search_parameters_are_400_with_a_reason(client, params, words):
    assert_error(client.get("/search", params=params), 400, *words)


def test_a_provision_with_all_its_passages_in_order(client):
    body = client.get("/units/user-mini-act/Article 2").json()
    labels = [c["label"] for c in body["chunks"]]
    assert labels == ["Article 2(1)(a)", "Article 2(1)(b)", "Article 2(1)", "Article 2(2)"]
    assert body["document"]["attribution"] == "Your document: mini-act.html"
    point = client.get("/units/user-mini-act/Annex I, point 1(a)").json()["chunks"]
    assert [c["label"] for c in point] == ["Annex I, point 1(a)"]


def test_a_provision_as_in_force_with_its_text_status_and_dates(client):
    body = client.get("/units/user-mini-act/Article 3", params={"as_of": "2099-12-01"}).json()
    assert (body["as_of"], body["status"], body["history"]) == ("2099-12-01", "unchanged", [])
    assert body["text"].splitlines()[0].startswith("1. Infringements of Article 2")
    assert body["applies_from"] == [{"date": "2099-11-01", "condition": "Article 3 applies from 1 November 2099",
                                   "source": "Article 4"}]
    assert body["version"]["date"] == "" or body["version"]["text"]
    assert_error(client.get("/units/user-mini-act/Article 3", params={"as_of": "1.12.2099"}), 400, "YYYY-MM-DD")


def test_the_timeline_of_an_act_is_read_from_its_text(client):
    body = client.get("/timeline/user-mini-act").json()
    assert body["source"] == "Article 4"
    assert [(m["date"], m["covers"], m["previous_date"]) for m in body["milestones"]] == [
        ("2099-05-01", ["Article 2"], None), ("2099-11-01", ["Article 3"], None), ("2100-05-01", [], None)]
    assert_error(client.get("/timeline/user-notes"), 404, "no dated application clause")


@pytest.mark.parametrize(("path", "words"), [
    ("/units/user-mini-act/Article 99", ["Article 99", "Article 5(1)(f)"]),
    ("/units/user-mini-act/Article 2(1)(z)/extra", ["no provision"]),
    ("/units/no-such-act/Article 1", ["unknown document", "user-mini-act"]),
    ("/nowhere", ["Not Found"]),
])
def test_unknown_provisions_and_routes_are_404_json(client, path, words):
    assert_error(client.get(path), 404, *words)


def test_a_provision_needs_a_label(client):
    assert_error(client.get("/units/user-mini-act/"), 400, "label")


def test_documents_carry_version_and_attribution_but_not_bookkeeping(client, mini_index):
    body = client.get("/documents").json()
    assert body["build_id"] == store.load(mini_index).manifest.build_id
    notes = next(d for d in body["documents"] if d["doc_id"] == "user-notes")
    assert {"title", "version_date", "attribution", "sha256", "chunks"} <= set(notes)
    assert "cache_key" not in notes


def test_health_names_model_build_and_size(client, mini_index):
    manifest = store.load(mini_index).manifest
    assert client.get("/healthz").json() == {
        "status": "ok", "model_id": DEFAULT_MODEL, "build_id": manifest.build_id,
        "built": manifest.created, "chunks": manifest.chunk_count, "documents": 2, "problem": "",
        "stage": "full", "embedding": "",
    }


def test_openapi_documents_the_endpoints_and_limits(client):
    schema = client.get("/openapi.json").json()
    assert {"/search", "/units/{doc_id}/{label}", "/documents", "/healthz"} <= set(schema["paths"])
    k = next(p for p in schema["paths"]["/search"]["get"]["parameters"] if p["name"] == "k")
    assert k["schema"]["maximum"] == 50
    assert "/assess" in schema["paths"]
    for page in ("/docs", "/redoc"):  # their scripts come from a CDN: not served, nothing leaves the machine
        assert_error(client.get(page), 404, "Not Found")


# -- no index, wrong use -----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/search?q=mowers", "/units/ai-act/Article 5", "/documents", "/healthz"])
def test_without_an_index_every_endpoint_is_503_naming_the_command(tmp_path, embedder, path):
    response = client_for(settings(tmp_path), embedder).get(path)
    assert_error(response, 503, "python -m ingest")
    assert str(tmp_path) not in response.text and "/tmp" not in response.text  # no server path in any answer


def test_wrong_methods_oversized_urls_and_bodies_are_refused_as_json(client):
    assert_error(client.post("/search?q=mowers"), 405, "Method Not Allowed")
    assert_error(client.get("/search", params={"q": "x" * MAX_URL_BYTES}), 414, "limit")
    assert_error(client.request("GET", "/search?q=mowers", content=b"{}"), 413, "no request body")


# -- access --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(mini_index, embedder) -> TestClient:
    return client_for(mini_index, embedder, ApiConfig(token=TOKEN, cors_origins=("https://kb.example",)))


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x",
                                           "Bearer caf\xe9"])
def test_a_missing_or_wrong_token_is_401(guarded, authorization):
    headers = {"Authorization": authorization.encode("latin-1")} if authorization else {}
    response = guarded.get("/documents", headers=headers)
    assert_error(response, 401, "bearer token")
    assert response.headers["www-authenticate"] == "Bearer"


def test_the_right_token_opens_the_data_and_health_needs_none(guarded):
    assert guarded.get("/search?q=mowers", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert guarded.get("/healthz").status_code == 200
    assert_error(guarded.get("/openapi.json"), 401, "bearer token")
    schema = guarded.get("/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_cors_answers_only_listed_origins(guarded):
    auth = {"Authorization": f"Bearer {TOKEN}"}
    allowed = guarded.get("/documents", headers={**auth, "Origin": "https://kb.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://kb.example"
    other = guarded.get("/documents", headers={**auth, "Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers
    preflight = guarded.options("/search", headers={"Origin": "https://kb.example",
                                                   "Access-Control-Request-Method": "GET",
                                                   "Access-Control-Request-Headers": "Authorization"})
    assert preflight.status_code == 200 and "GET" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize("environ", [{"REGKB_API_TOKEN": "has space"}, {"REGKB_API_TOKEN": "tökén"},
                                     {"REGKB_API_SEARCH_THREADS": "0"}, {"REGKB_API_SEARCH_THREADS": "two"},
                                     {"REGKB_API_CLIENT_SEARCHES": "0"}, {"REGKB_API_LONG_QUESTION_CHARS": "-1"},
                                     {"REGKB_API_LONG_LANE_NICE": "20"}])
def test_bad_access_settings_fail_at_start(environ):
    with pytest.raises(ValueError, match="REGKB_API"):
        ApiConfig.from_env(environ)


def test_access_settings_from_the_environment():
    origins = " https://a.example, https://b.example,"
    config = ApiConfig.from_env({"REGKB_API_TOKEN": TOKEN, "REGKB_CORS_ORIGINS": origins})
    assert config == ApiConfig(TOKEN, ("https://a.example", "https://b.example"), ApiConfig.search_threads)
    assert ApiConfig.from_env({"REGKB_API_CLIENT_SEARCHES": "2"}) == ApiConfig(client_searches=2)
    assert ApiConfig.from_env({"REGKB_API_LONG_QUESTION_CHARS": "0"}) == ApiConfig(long_question_chars=0)
    assert ApiConfig.from_env({"REGKB_API_LONG_LANE_NICE": "0"}) == ApiConfig(long_lane_nice=0)


# -- the model behind concurrent requests ----------------------------------------------------------


class BrokenModel:
    model_id = "broken"

    def tokens(self, text: str) -> int:
        return len(text.split())

    def queries(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError("the model file is gone")


def test_an_encoding_failure_reaches_the_request_and_the_encoder_restarts_after_close():
    encoder = FairEncoder(BrokenModel())  # type: ignore[arg-type]
    for _ in range(2):
        with pytest.raises(RuntimeError, match="model file is gone"):
            encoder.query("mowers")
        encoder.close()


# -- the documented command ------------------------------------------------------------------------


def test_python_m_index_api_serves_on_loopback(mini_index):
    port = free_port()
    with api_server(mini_index.data_dir, port) as server:
        hits = httpx.get(f"http://127.0.0.1:{port}/search", params={"q": "lithium cells in winter", "k": 1},
                         timeout=30).json()
        assert hits["results"][0]["doc_id"] == "user-notes"
    assert server.returncode == 0



def test_search_results_list_the_provisions_they_cite(client: TestClient) -> None:
    results = client.get("/search", params={"q": "fines for breaking the mowing rules", "k": 3}).json()["results"]
    penalties = next(r for r in results if r["unit"] == "Article 3")
    assert {"doc_id": "user-mini-act", "label": "Article 2"} in penalties["related"]
