"""One API worker under slow, greedy and malformed clients: fair encoding, request deadlines, JSON errors."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from bench.common import free_port
from bench.load_api import api_server
from index import serving
from index.api import ApiConfig, RequestLimits, create_app
from index.config import MAX_NICE
from index.serving import CLIENT, ClientBusy, ClientSlots, FairEncoder, Lanes, ModelProcess, ModelProcessError

# -- the encoder's fair queue ------------------------------------------------------------------------


def test_queued_queries_get_the_vectors_a_single_query_gets(embedder):
    questions = [f"question {i} about robot mowers and {'hedgehogs ' * i}" for i in range(12)]
    encoder = FairEncoder(embedder, max_batch=4)
    try:
        with ThreadPoolExecutor(8) as pool:
            queued = list(pool.map(encoder.query, questions))
    finally:
        encoder.close()
    for question, vector in zip(questions, queued):
        np.testing.assert_allclose(vector, embedder.query(question), atol=1e-5)


def test_the_models_process_gives_the_embedders_vectors_tokens_and_errors(embedder):
    question = "Can we use emotion recognition on our employees?"
    models = ModelProcess(embedder.model_id, threads=1)
    try:
        assert models.dims == embedder.dims and models.tokens(question) == embedder.tokens(question)
        np.testing.assert_allclose(models.query(question), embedder.query(question), atol=1e-5)
        passages = [f"Article {n}: {question}" for n in range(20)]  # more than one slice (PASSAGES_PER_CALL)
        cosines = np.sum(models.passages(passages) * embedder.passages(passages), axis=1)
        assert cosines.min() > 0.9999  # bfloat16 passages: a slice pads differently from the whole batch
        with pytest.raises(AttributeError):
            models.call(0, "no_such_method")
    finally:
        models.close()


def test_models_that_cannot_load_are_a_clear_error_not_a_hang():
    models = ModelProcess("/no/such/model", threads=1)
    started = time.monotonic()
    with pytest.raises(ModelProcessError, match="'/no/such/model' could not be loaded"):
        models.tokens("anything")
    assert time.monotonic() - started < 60
    models.close()
    with pytest.raises(ModelProcessError, match="closed"):
        models.tokens("anything")


def test_healthz_is_503_while_the_models_cannot_answer_and_ok_once_they_can_again(mini_index, embedder,
                                                                                   monkeypatch):
    monkeypatch.setattr(serving, "CHECK_RETRY", 0.0)
    models = ModelProcess(embedder.model_id, threads=1)
    with TestClient(create_app(mini_index, ApiConfig(), models)) as client:
        assert client.get("/healthz").status_code == 200
        working, models.model_id = models.model_id, "/no/such/model"  # what the next start of the process loads
        os.kill(models._child.pid, signal.SIGKILL)
        assert client.get("/search", params={"q": "robot mowers"}).status_code == 503
        health = client.get("/healthz")
        assert health.status_code == 503 and health.json()["error"]["code"] == "model_unavailable"
        assert "/no/such" not in health.text
        models.model_id = working
        with models._lock:  # a request is talking to the process: the check does not wait for it
            started = time.monotonic()
            assert client.get("/healthz").status_code == 503 and time.monotonic() - started < 5
        assert client.get("/healthz").status_code == 200  # the check itself started the models again
        assert client.get("/search", params={"q": "robot mowers"}).status_code == 200


class FailingModel:
    """A model whose process has gone: counting tokens fails, as `ModelProcess` does then."""

    model_id = "failing"

    def tokens(self, text: str) -> int:
        raise ModelProcessError("the embedding models' process stopped twice while answering")


class SlowFailingModel(FailingModel):
    def tokens(self, text: str) -> int:
        time.sleep(0.05)
        return super().tokens(text)


def test_queries_queued_behind_a_failing_one_are_answered_not_left_waiting():
    encoder = FairEncoder(SlowFailingModel())  # type: ignore[arg-type]
    errors = []

    def ask() -> None:
        try:
            encoder.query("obligations of providers")
        except ModelProcessError as error:
            errors.append(error)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    encoder.close()
    assert len(errors) == 6 and not any(thread.is_alive() for thread in threads)


def test_a_model_that_fails_is_each_requests_error_and_the_queue_keeps_serving():
    encoder = FairEncoder(FailingModel())  # type: ignore[arg-type]
    try:
        for _ in range(2):  # the second query finds a working queue, not a dead thread
            with pytest.raises(ModelProcessError):
                encoder.query("obligations of providers")
    finally:
        encoder.close()


class GatedModel:
    """Counts a query's tokens as its words; the first batch waits for the gate, so a queue can build up."""

    model_id = "gated"

    def __init__(self) -> None:
        self.gate, self.batches = threading.Event(), []

    def tokens(self, text: str) -> int:
        return len(text.split())

    def queries(self, texts: list[str]) -> np.ndarray:
        if not self.batches:
            self.gate.wait(10)
        self.batches.append(list(texts))
        return np.zeros((len(texts), 2), dtype=np.float32)


def ask_as(encoder: FairEncoder | Lanes, client: str, text: str) -> threading.Thread:
    def run() -> None:
        CLIENT.set(client)
        encoder.query(text)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def wait_for(condition, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_a_greedy_client_does_not_make_an_ordinary_question_wait_behind_its_queue():
    model = GatedModel()
    encoder = FairEncoder(model, batch_tokens=512)
    heavy = " ".join(["emoji"] * 300)
    greedy = [ask_as(encoder, "greedy", f"{heavy} {i}") for i in range(4)]
    wait_for(lambda: len(encoder._waiting["greedy"]) == 3)  # one in the model, three waiting
    reader = ask_as(encoder, "reader", "can we use emotion recognition at work?")
    wait_for(lambda: len(encoder._waiting.get("reader", ())) == 1)
    model.gate.set()
    for thread in [*greedy, reader]:
        thread.join(10)
    encoder.close()
    assert model.batches[1] == ["can we use emotion recognition at work?"]  # next, not after the greedy queue
    assert all(len(batch) == 1 for batch in model.batches)  # a short question is never padded to a long one


class QuadraticModel(GatedModel):
    """A batch takes time that grows with the square of its longest query, as attention does."""

    def queries(self, texts: list[str]) -> np.ndarray:
        if self.batches:
            time.sleep(0.000001 * max(self.tokens(t) for t in texts) ** 2)
        return super().queries(texts)


def test_the_fair_queue_charges_a_client_the_models_time_not_its_tokens():
    model = QuadraticModel()
    encoder = FairEncoder(model)
    first = ask_as(encoder, "first", "warm")  # holds the model at the gate while both queues fill
    wait_for(lambda: not encoder._waiting.get("first"))
    long, short = " ".join(["word"] * 299), " ".join(["word"] * 99)  # too long to share a batch
    asking = [ask_as(encoder, "long", f"{long} {i}") for i in range(3)]
    wait_for(lambda: len(encoder._waiting.get("long", ())) == 3)
    asking += [ask_as(encoder, "short", f"{short} {i}") for i in range(12)]
    wait_for(lambda: len(encoder._waiting.get("short", ())) == 12)
    model.gate.set()
    for thread in [first, *asking]:
        thread.join(10)
    encoder.close()
    order = ["long" if len(batch[0].split()) > 200 else "short" for batch in model.batches[1:]]
    assert all(len(batch) == 1 for batch in model.batches)
    # a long question takes 9 times a short one's time (3 times its tokens): by time, the short client is
    # served about 9 questions for each long one, where charging tokens served it 3
    assert order.index("long", order.index("long") + 1) >= 8, order


def test_short_questions_from_many_clients_share_a_batch():
    model = GatedModel()
    encoder = FairEncoder(model, max_batch=16)
    first = ask_as(encoder, "first", "warm")
    wait_for(lambda: len(model.batches) == 0 and not encoder._waiting.get("first"))
    others = [ask_as(encoder, f"reader-{i}", f"question {i} on the AI Act") for i in range(6)]
    wait_for(lambda: sum(len(w) for w in encoder._waiting.values()) == 6)
    model.gate.set()
    for thread in [first, *others]:
        thread.join(10)
    encoder.close()
    assert sorted(model.batches[1]) == sorted(f"question {i} on the AI Act" for i in range(6))


def test_a_short_question_is_answered_while_a_long_one_holds_its_own_lanes_model():
    short_model, long_model = GatedModel(), GatedModel()
    short_model.gate.set()  # only the long lane's first pass is held
    lanes = Lanes(FairEncoder(short_model), FairEncoder(long_model), long_chars=200)
    long = ask_as(lanes, "heavy", "word " * 60)
    wait_for(lambda: not lanes.long._waiting.get("heavy"))  # in the long lane's model, at its gate
    short = ask_as(lanes, "reader", "can we use emotion recognition at work?")
    short.join(5)
    assert not short.is_alive() and short_model.batches == [["can we use emotion recognition at work?"]]
    assert long.is_alive() and not long_model.batches
    long_model.gate.set()
    long.join(5)
    lanes.close()
    assert long_model.batches == [["word " * 60]]


def test_a_query_over_the_token_cap_is_refused_by_the_api(client_on_mini):
    emoji = client_on_mini.get("/search", params={"q": "ok \N{GRINNING FACE}" * 250})
    assert emoji.status_code == 400 and "model tokens" in emoji.json()["error"]["message"]
    words = ("Which duties does a deployer of a high-risk AI system have towards its workers? " * 13)[:1000]
    assert client_on_mini.get("/search", params={"q": words}).status_code == 200


@pytest.fixture(scope="module")
def client_on_mini(mini_index, embedder) -> Iterator[TestClient]:
    with TestClient(create_app(mini_index, ApiConfig(), embedder)) as running:
        yield running


# -- one client's many connections ---------------------------------------------------------------------


def test_a_clients_requests_past_its_slots_wait_in_its_own_line_and_past_that_are_refused():
    slots, entered = ClientSlots(per_client=1), []

    async def hold(client: str, release: anyio.Event) -> None:
        CLIENT.set(client)
        async with slots.slot():
            entered.append(client)
            await release.wait()

    async def scenario() -> None:
        release = anyio.Event()
        async with anyio.create_task_group() as tasks:
            for _ in range(1 + slots.waiting):
                tasks.start_soon(hold, "greedy", release)
            await anyio.wait_all_tasks_blocked()
            assert entered == ["greedy"]  # one in flight, the others in its own line
            CLIENT.set("greedy")
            with pytest.raises(ClientBusy):
                async with slots.slot():
                    pass
            tasks.start_soon(hold, "reader", release)
            await anyio.wait_all_tasks_blocked()
            assert entered == ["greedy", "reader"]  # in at once, not behind the greedy line
            release.set()
        assert entered.count("greedy") == 1 + slots.waiting and not slots._lines  # all served, no line left

    anyio.run(scenario)


def test_a_slot_passing_to_a_clients_waiting_request_is_not_taken_by_its_next_one():
    slots, entered = ClientSlots(per_client=1), []

    async def hold(name: str, release: anyio.Event) -> None:
        CLIENT.set("one client")
        async with slots.slot():
            entered.append(name)
            await release.wait()

    async def scenario() -> None:
        releases = {name: anyio.Event() for name in ("first", "second", "third")}
        async with anyio.create_task_group() as tasks:
            for name in ("first", "second"):
                tasks.start_soon(hold, name, releases[name])
                await anyio.wait_all_tasks_blocked()
            releases["first"].set()
            tasks.start_soon(hold, "third", releases["third"])  # asks while the slot passes to "second"
            await anyio.wait_all_tasks_blocked()
            assert entered == ["first", "second"] and slots.queued("one client") == 1  # one in flight, not two
            releases["second"].set()
            await anyio.wait_all_tasks_blocked()
            assert entered == ["first", "second", "third"]
            releases["third"].set()
        assert not slots._open and not slots._lines

    anyio.run(scenario)


class GatedEmbedder:
    """The real embedder, whose queries wait for a gate once it is closed: searches pile up behind it."""

    def __init__(self, embedder) -> None:
        self._embedder, self.gate = embedder, threading.Event()
        self.gate.set()

    def __getattr__(self, name: str):
        return getattr(self._embedder, name)

    def queries(self, texts: list[str]) -> np.ndarray:
        self.gate.wait(10)
        return self._embedder.queries(texts)


def test_one_client_past_its_searches_and_their_line_gets_a_json_429_with_retry_after(mini_index, embedder):
    gated = GatedEmbedder(embedder)
    app = create_app(mini_index, ApiConfig(client_searches=1), gated)
    slots = app.state.client_slots
    with TestClient(app) as api:
        gated.gate.clear()
        with ThreadPoolExecutor(1 + slots.waiting) as pool:
            held = [pool.submit(api.get, "/search", params={"q": f"emotion recognition {i}"})
                    for i in range(1 + slots.waiting)]
            wait_for(lambda: slots.queued("testclient") == slots.waiting)  # one at the model, the rest in line
            refused = api.get("/search", params={"q": "one more"})
            gated.gate.set()
            answered = [future.result(timeout=30) for future in held]
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert refused.json()["error"]["code"] == "too_many_requests"
    assert [r.status_code for r in answered] == [200] * len(held)


# -- HTTP details: JSON everywhere, HEAD, no redirects ------------------------------------------------


def test_head_answers_as_get_without_a_body(client_on_mini):
    head, get = client_on_mini.head("/healthz"), client_on_mini.get("/healthz")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]


def test_a_trailing_slash_is_a_json_404_not_a_redirect(client_on_mini):
    response = client_on_mini.get("/healthz/", follow_redirects=False)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_a_refused_cors_preflight_is_json(mini_index, embedder):
    api = TestClient(create_app(mini_index, ApiConfig(cors_origins=("https://intranet.example",)), embedder))
    response = api.options("/search", headers={"Origin": "https://elsewhere.example",
                                               "Access-Control-Request-Method": "GET"})
    assert response.status_code == 400 and "origin" in response.json()["error"]["message"].lower()


def test_past_the_in_flight_cap_the_answer_is_a_json_503_with_retry_after():
    async def app(scope, receive, send):  # never reached
        raise AssertionError

    response = TestClient(RequestLimits(app, max_in_flight=0)).get("/search?q=x")
    assert response.status_code == 503 and response.headers["retry-after"] == "1"
    assert response.json()["error"]["code"] == "overloaded"


# -- the real server: slow and malformed clients -------------------------------------------------------


@pytest.fixture(scope="module")
def guarded_server(mini_index) -> Iterator[str]:
    port = free_port()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("REGKB_API_REQUEST_TIMEOUT", "2")
        env.setenv("REGKB_API_MAX_CONNECTIONS", "20")
        with api_server(mini_index.data_dir, port):
            yield f"127.0.0.1:{port}"


def half_requests(address: str, count: int) -> list[socket.socket]:
    """Connections that send part of their headers and then nothing: the slow-headers attack."""
    host, port = address.split(":")
    sockets = []
    for _ in range(count):
        s = socket.create_connection((host, int(port)), timeout=10)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        sockets.append(s)
    return sockets


def test_connections_that_never_finish_their_headers_do_not_lock_readers_out(guarded_server):
    stalled = half_requests(guarded_server, 60)  # three times the connection cap
    try:
        started = time.monotonic()
        health = httpx.get(f"http://{guarded_server}/healthz", timeout=10)
        assert health.status_code == 200 and time.monotonic() - started < 2
        time.sleep(2.5)  # past the request deadline: every stalled connection has been answered and closed
        answers = [s.recv(4096) for s in stalled]
        assert all(a == b"" or a.startswith(b"HTTP/1.1 408") for a in answers)
        assert any(a.startswith(b"HTTP/1.1 408") and b'"request_timeout"' in a for a in answers)
    finally:
        for s in stalled:
            s.close()


def test_the_server_embeds_in_a_child_process_and_starts_it_again_if_it_dies(mini_index):
    port = free_port()
    with api_server(mini_index.data_dir, port) as server:
        search = {"q": "obligations of providers", "k": "3"}
        assert httpx.get(f"http://127.0.0.1:{port}/search", params=search, timeout=60).status_code == 200
        children = {int(pid) for task in Path(f"/proc/{server.pid}/task").iterdir()
                    for pid in (task / "children").read_text().split()}  # each thread's own children
        lanes = [pid for pid in children if b"serve_models" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(lanes) == 2  # one model process for short questions, one for long ones (serving.Lanes)
        server_priority = os.getpriority(os.PRIO_PROCESS, server.pid)
        long_lane = min(server_priority + ApiConfig.long_lane_nice, MAX_NICE)
        # every thread of each lane; as sorted lists, since sets sort by inclusion, not by their members
        assert sorted(sorted(_priorities(pid)) for pid in lanes) == [[server_priority], [long_lane]]
        for child in lanes:
            os.kill(child, signal.SIGKILL)
        again = httpx.get(f"http://127.0.0.1:{port}/search", params=search, timeout=60)
        assert again.status_code == 200 and again.json()["results"]
        long = httpx.get(f"http://127.0.0.1:{port}/search", params={**search, "q": "providers " * 60}, timeout=60)
        assert long.status_code == 200 and long.json()["results"]


def _priorities(pid: int) -> set[int]:
    return {os.getpriority(os.PRIO_PROCESS, int(task.name)) for task in Path(f"/proc/{pid}/task").iterdir()}


def test_a_malformed_request_gets_a_json_400(guarded_server):
    host, port = guarded_server.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400") and b"application/json" in reply and b'"bad_request"' in reply
