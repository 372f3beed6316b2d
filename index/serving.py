"""What keeps one API worker answering ordinary questions while some clients are slow, greedy or hostile.

Four guards, each against one way a single process can be starved:

- `ModelProcess`: the models run in a child process, away from the GIL that the
  HTTP and search threads hold (see its docstring): in the same process, a busy
  interpreter made each batch of questions wait for the GIL between torch's operations.
- `FairEncoder`: the model is one thread (see its docstring), so whoever fills
  its queue decides everyone's latency. Queries are served by fair queuing on
  the model's time: the client that has used least goes next, a batch holds
  queries of similar length (a short question padded to a 300-token one costs
  what that one costs). A client that fills the queue waits behind itself,
  not others in front of it. Clients are told apart by address (behind a proxy
  elsewhere than on this machine, set FORWARDED_ALLOW_IPS so uvicorn reads X-Forwarded-For).
- `ClientSlots`: the fair queue orders only what reaches it, and searches reach it
  through a pool of threads taken first come, first served: one client with many
  connections held most of them, and the model's queue was then mostly its own
  (README, "Load"). Each client may hold a few of the threads; its other requests
  wait behind its own, and past a bound they are refused (429).
- `GuardedH11Protocol`: uvicorn's HTTP/1.1 protocol with a deadline for the
  request to arrive (headers and body) and a cap on open connections that drops
  the oldest unfinished request rather than refusing everyone. Stock uvicorn
  times out only idle keep-alive connections: 260 sockets that never finish
  their headers made every request answer 503 for as long as they stayed open.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cached_property
from multiprocessing.connection import Connection
from typing import Any, Protocol

import anyio
import h11
import numpy as np
from uvicorn.protocols.http.h11_impl import H11Protocol

from index.retrieval.embedder import Embedder, QueryTooLong, check_tokens

CLIENT: contextvars.ContextVar[str] = contextvars.ContextVar("regkb_client", default="local")


class QueryEncoder(Protocol):
    model_id: str

    def queries(self, texts: list[str]) -> np.ndarray: ...

    def tokens(self, text: str) -> int: ...


class ModelProcessError(RuntimeError):
    """The models could not be loaded, their process died twice running one request (a crash, the kernel's OOM
    killer) or did not answer in time, or it was asked after `close()`. The API answers 503."""


PASSAGES_PER_CALL = 16  # one batch of E5's (e5_torch.BATCH): a question waits for at most one
MAX_CHARGE = 2.0  # seconds of the model's time a batch is charged at most (a long batch takes about 0.2)
WAITING_PER_SLOT = 4  # ClientSlots: requests one client may queue per search it may have in flight
CHECK_RETRY = 5.0  # seconds between health checks that start failed models again
CALL_TIMEOUT = 300.0  # seconds for the child to load the models or answer one request, far above either (about
# 10 s and under 1 s); past it the child is killed rather than waited on


class ModelProcess(Embedder):
    """An `Embedder` whose models run in a child process: the same vectors, tokens and dimensions.

    Why a process: torch gives up the GIL for each operation of a forward pass and must win it
    back before the next, and a transformer is hundreds of operations. While search threads run
    Python, each win waits up to the interpreter's switch interval (5 ms). Measured on 2 cores, a
    batch of four questions took 27.8 ms alone and 4,886 ms beside two busy Python threads; under
    50 clients the encoder was busy 98% of the time at 190 ms a batch. A child has an interpreter
    of its own, and a pipe carries only texts and vectors.

    The child starts on first use and loads the models once. One request at a time goes through
    the pipes; `FairEncoder`'s single thread makes nearly all of them. If the child dies, it is
    started again and the request is sent once more.
    """

    def __init__(self, model: str, threads: int, nice: int = 0) -> None:
        super().__init__(model)
        self.threads, self.nice = threads, nice  # nice: steps below the server's CPU priority (Lanes)
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._to_child: Connection | None = None
        self._from_child: Connection | None = None
        self._closed = False
        self.problem = ""  # why the last call failed; "" once one succeeds
        self._failed_at = 0.0

    @cached_property
    def _encoders(self) -> list[_RemoteEncoder]:  # type: ignore[override]
        return [_RemoteEncoder(self, number, dim) for number, dim in enumerate(self.call(None, "dims"))]

    def call(self, encoder: int | None, method: str, *args: Any) -> Any:
        with self._lock:
            succeeded, value = self._recorded(encoder, method, args)
        if not succeeded:
            raise value
        return value

    def check(self) -> None:
        """Raise `ModelProcessError` while the models cannot answer. After a failure one check starts them again,
        at most every CHECK_RETRY seconds, and checks meanwhile, or while a request holds the process, repeat the
        failure without waiting: a health check that only repeated it would keep a server out of its load
        balancer for good, and one that waited for a load (seconds, up to CALL_TIMEOUT) would pile up threads.
        A process that died between requests is not a failure yet: the next request starts it again."""
        if not self.problem:
            return
        if time.monotonic() - self._failed_at < CHECK_RETRY or not self._lock.acquire(blocking=False):
            raise ModelProcessError(self.problem)
        try:
            self._recorded(None, "dims", ())
        finally:
            self._lock.release()

    def _recorded(self, encoder: int | None, method: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
        """`_call`, with the failure it ends in kept for `check` (the caller holds the lock)."""
        try:
            answer = self._call(encoder, method, args)
        except ModelProcessError as error:
            self.problem, self._failed_at = str(error), time.monotonic()
            raise
        self.problem = ""
        return answer

    def _call(self, encoder: int | None, method: str, args: tuple[Any, ...]) -> tuple[bool, Any]:
        for _ in range(2):
            if self._closed:
                raise ModelProcessError("the embedding models' process is closed (the server is stopping)")
            if self._child is None or self._child.poll() is not None:
                self._start()
            try:
                self._to_child.send((encoder, method, args))  # type: ignore[union-attr]
                return self._answer()
            except (EOFError, OSError):
                self._stop()
        raise ModelProcessError("the embedding models' process stopped twice while answering")

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()

    def _answer(self) -> tuple[bool, Any]:
        if not self._from_child.poll(CALL_TIMEOUT):  # type: ignore[union-attr]
            self._stop()
            raise ModelProcessError(f"the embedding models' process did not answer within {CALL_TIMEOUT:.0f} s")
        return self._from_child.recv()  # type: ignore[union-attr]

    def _start(self) -> None:
        """A fresh interpreter running `serve_models` on two pipes of its own. Not multiprocessing's spawn: that
        re-runs the parent's main module in the child, which is whatever script imported RegKB."""
        theirs_in, ours_out = os.pipe()
        ours_in, theirs_out = os.pipe()
        self._to_child, self._from_child = Connection(ours_out, readable=False), Connection(ours_in, writable=False)
        # the priority first, while the interpreter has one thread: on Linux a thread started later inherits it
        command = ("import os, sys; os.nice(int(sys.argv[5])); "
                   "from index.serving import serve_models; serve_models(*sys.argv[1:5])")
        try:
            self._child = subprocess.Popen([sys.executable, "-c", command, str(theirs_in), str(theirs_out),
                                            self.model_id, str(self.threads), str(self.nice)],
                                           pass_fds=(theirs_in, theirs_out))
        finally:
            os.close(theirs_in)
            os.close(theirs_out)
        try:
            loaded, error = self._answer()  # the child's first word: the models loaded, or why not
        except EOFError:
            loaded, error = False, "it exited while loading them (the server log has its traceback)"
        if not loaded:
            self._stop()
            raise ModelProcessError(f"the embedding models {self.model_id!r} could not be loaded: {error}")

    def _stop(self) -> None:
        for connection in (self._to_child, self._from_child):
            if connection is not None:
                connection.close()  # the child reads end-of-file and returns
        if self._child is not None:
            try:
                self._child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._child.kill()
                self._child.wait()
        self._child = self._to_child = self._from_child = None


@dataclass(frozen=True)
class _RemoteEncoder:
    """One model of a `ModelProcess`, as `Embedder` sees an encoder."""

    process: ModelProcess
    number: int
    dim: int

    def passages(self, texts: list[str]) -> np.ndarray:
        """In slices, so that questions are encoded between them: the register's 228 passages in one call held
        every search for their 4.5 s."""
        if not texts:
            return self.process.call(self.number, "passages", texts)
        slices = [texts[start:start + PASSAGES_PER_CALL] for start in range(0, len(texts), PASSAGES_PER_CALL)]
        return np.vstack([self.process.call(self.number, "passages", part) for part in slices])

    def queries(self, texts: list[str]) -> np.ndarray:
        return self.process.call(self.number, "queries", texts)

    def tokens(self, text: str) -> int:
        return self.process.call(self.number, "tokens", text)


def serve_models(requests_fd: str, answers_fd: str, model: str, threads: str) -> None:
    """The child's loop: load the models, say so, then answer (encoder, method, args) until the parent hangs up.

    Ctrl-C reaches the whole process group: the child leaves stopping to its parent, which closes the pipes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    requests, answers = Connection(int(requests_fd), writable=False), Connection(int(answers_fd), readable=False)
    try:
        import torch

        torch.set_num_threads(int(threads))
        encoders = Embedder(model)._encoders
    except Exception as error:
        answers.send((False, f"{type(error).__name__}: {error}"))
        return
    answers.send((True, None))
    while True:
        try:
            encoder, method, args = requests.recv()
        except EOFError:
            return
        try:
            value = [e.dim for e in encoders] if method == "dims" else getattr(encoders[encoder], method)(*args)
        except Exception as error:  # the parent raises it where it asked
            answers.send((False, _picklable(error)))
        else:
            answers.send((True, value))


def _picklable(error: Exception) -> Exception:
    try:
        pickle.dumps(error)
    except Exception:
        return RuntimeError(f"{type(error).__name__}: {error}")
    return error


@dataclass(eq=False)
class _Pending:
    text: str
    client: str
    max_tokens: int | None
    tokens: int = 0
    done: threading.Event = field(default_factory=threading.Event)
    vector: np.ndarray | None = None
    error: Exception | None = None


class FairEncoder:
    """Encodes concurrent requests' queries on one thread of its own, fairly between clients.

    One thread, because a Hugging Face fast tokenizer is one Rust object: two
    threads using it at once can fail with "RuntimeError: Already borrowed" (and
    every thread that has run the model keeps its own allocator arena). Batches,
    because a batch of short queries costs the model far less than encoding them
    one by one (measured: ~1.8x the queries per second with 16 threads asking).
    The client of a query is `CLIENT` in the caller's context (the API sets it per
    request). `query(text)` gives what `Embedder.query(text)` gives (tests/test_api.py).
    """

    def __init__(self, embedder: QueryEncoder, max_batch: int = 16, batch_tokens: int = 512) -> None:
        self.model_id = embedder.model_id
        self.max_batch, self.batch_tokens = max_batch, batch_tokens
        self._embedder = embedder
        self._waiting: dict[str, deque[_Pending]] = {}
        self._spent: dict[str, float] = {}  # the model's seconds spent per client (start-time fair queuing)
        self._virtual = 0.0  # what the client served last had spent before it: where a newly active client starts
        self._wake = threading.Condition()
        self._worker: threading.Thread | None = None
        self._stopping = False

    def split(self, vectors: np.ndarray) -> list[np.ndarray]:
        return self._embedder.split(vectors)  # type: ignore[attr-defined]

    def query(self, text: str, max_tokens: int | None = None) -> np.ndarray:
        pending = _Pending(text, CLIENT.get(), max_tokens)
        self._enqueue(pending)
        pending.done.wait()
        if pending.error is not None:
            raise pending.error
        return pending.vector

    def warm_up(self) -> None:
        """The model loaded before the first request rather than during it."""
        self.query("warm-up")

    def close(self) -> None:
        """Stop the encoding thread once the queries already waiting are answered; a later query restarts it."""
        with self._wake:
            worker, self._stopping = self._worker, True
            self._wake.notify()
        if worker is not None:
            worker.join()
        with self._wake:
            self._worker, self._stopping = None, False

    def _enqueue(self, pending: _Pending) -> None:
        with self._wake:
            waiting = self._waiting.setdefault(pending.client, deque())
            if not waiting:  # a client back after a pause starts level with the others, not with a credit
                self._spent[pending.client] = max(self._spent.get(pending.client, 0), self._virtual)
            waiting.append(pending)
            if self._worker is None:
                self._worker = threading.Thread(target=self._serve, name="regkb-encoder", daemon=True)
                self._worker.start()
            self._wake.notify()

    def _serve(self) -> None:
        try:
            while batch := self._next_batch():
                self._charge(*self._encode(batch))
        finally:  # should this thread ever die, the next query starts another rather than waiting for it
            with self._wake:
                if self._worker is threading.current_thread():
                    self._worker = None

    def _next_batch(self) -> list[_Pending]:
        """Queries of similar length, the least-served client's first; [] once closed and drained."""
        with self._wake:
            while True:
                while not any(self._waiting.values()):
                    if self._stopping:
                        return []
                    self._wake.wait()
                if batch := self._batch():  # none when every head failed to be counted: look again
                    return batch

    def _batch(self) -> list[_Pending]:
        clients = sorted((c for c, w in self._waiting.items() if w), key=lambda c: self._spent[c])
        batch: list[_Pending] = []
        for client in clients:
            head = self._waiting[client][0]
            if not head.tokens and not self._count(head):
                self._waiting[client].popleft()
                continue
            if batch and not self._fits(batch, head):
                continue
            if not batch:
                self._virtual = self._spent[client]
            batch.append(self._waiting[client].popleft())
            if len(batch) == self.max_batch:
                break
        return batch

    def _count(self, pending: _Pending) -> bool:
        """Its tokens counted, or its request told why they could not be (the models' process is gone)."""
        try:
            pending.tokens = self._embedder.tokens(pending.text)
        except Exception as error:
            pending.error = error
            pending.done.set()
            return False
        return True

    def _fits(self, batch: list[_Pending], pending: _Pending) -> bool:
        """Padded to its longest query, a batch costs its size times that length."""
        longest = max(pending.tokens, *(p.tokens for p in batch))
        similar = pending.tokens <= 2 * batch[0].tokens + 32  # questions of 10 to 60 tokens batch together
        return similar and (len(batch) + 1) * longest <= self.batch_tokens

    def _charge(self, encoded: list[_Pending], seconds: float) -> None:
        """Each query encoded pays an equal share of its batch's time, which is what the model spent on it; at
        most MAX_CHARGE a batch, since the time also holds waits that are nobody's doing (the models' process
        embedding a slice of passages, or starting again).

        Not its tokens: a batch is padded to its longest query, a long one cannot share its pass with short
        ones, and attention grows faster than length, so a long question costs the model more than its tokens
        say, and clients sending only long questions took more than their share (README, "Load")."""
        with self._wake:
            for pending in encoded:
                self._spent[pending.client] += min(seconds, MAX_CHARGE) / len(encoded)
            self._forget_idle()

    def _forget_idle(self) -> None:
        """Clients with nothing waiting and no more spent than the virtual time would restart at it anyway."""
        for client in [c for c, w in self._waiting.items() if not w and self._spent.get(c, 0) <= self._virtual]:
            del self._waiting[client]
            self._spent.pop(client, None)

    def _encode(self, batch: list[_Pending]) -> tuple[list[_Pending], float]:
        """The queries encoded and the model's time for them: none when it failed, refused ones left out."""
        admitted = []
        for pending in batch:
            try:
                if pending.max_tokens is not None:
                    check_tokens(pending.tokens, pending.max_tokens)
                admitted.append(pending)
            except QueryTooLong as error:
                pending.error = error
                pending.done.set()
        started = time.perf_counter()
        try:
            vectors = self._embedder.queries([p.text for p in admitted]) if admitted else []
        except Exception as error:  # every request in the batch learns why
            vectors = [None] * len(admitted)
            for pending in admitted:
                pending.error = error
        seconds = time.perf_counter() - started
        for pending, vector in zip(admitted, vectors):
            pending.vector = vector
            pending.done.set()
        return [p for p in admitted if p.error is None], seconds


class Lanes:
    """Two fair queues, each with a model process of its own: questions of `long_chars` characters or more in one,
    the rest in the other.

    Why: a model pass cannot be interrupted, and a long question cannot share its pass with short ones, so on one
    queue every question that arrived during a long one's 150-200 ms waited for it whatever the fair queue's order;
    ten clients sending long questions raised the others' p95 by more than ten more ordinary clients did (README,
    "Load"). In a lane of their own they take turns among themselves, on the core the short lane is not using
    (each process runs torch on one thread), and a short question never waits behind one. The cost is the models'
    memory a second time. Characters, not tokens, choose the lane, because counting tokens is the model process's
    work; each lane still counts them and refuses those over the cap.

    The long lane's process runs at a lower CPU priority (`ApiConfig.long_lane_nice`): on 2 cores it also competed
    with the searches and the short lane, and with every mix at once ordinary readers' p95 stayed 1.4-2 s above
    what they measured without heavy clients; niced, long passes take the CPU time the others leave, so the heavy
    clients wait longer instead of everyone (README, "Load"). Where cores are idle, the priority changes nothing."""

    def __init__(self, short: FairEncoder, long: FairEncoder, long_chars: int) -> None:
        self.model_id = short.model_id
        self.short, self.long, self.long_chars = short, long, long_chars

    def split(self, vectors: np.ndarray) -> list[np.ndarray]:
        return self.short.split(vectors)

    def query(self, text: str, max_tokens: int | None = None) -> np.ndarray:
        lane = self.long if len(text) >= self.long_chars else self.short
        return lane.query(text, max_tokens)

    def warm_up(self) -> None:
        """Both lanes' models loaded before the first request rather than during it."""
        self.short.warm_up()
        self.long.warm_up()

    def close(self) -> None:
        self.short.close()
        self.long.close()


class ClientBusy(RuntimeError):
    """Too many of one client's requests are already waiting: it is told to come back (429, Retry-After)."""


class ClientSlots:
    """At most `per_client` of one client's requests in flight, WAITING_PER_SLOT times as many queued behind them,
    the rest refused.

    A request waits here, in its client's own line, before it takes one of the shared search threads, so a
    client's many connections cost the others no more than its `per_client`. The line is short because a
    request at its end waits for all those ahead: under 50 busy clients a search takes about 3 s, and with
    32 queued behind 4 in flight, requests waited past a client's 30 s timeout. The client is `CLIENT`, as
    for the fair queue. A client's requests are counted here, not read from the limiter (whose count of
    holders, while a released slot passes to a waiter, differs between anyio versions), and its line goes
    when the last of them ends, so the table holds only clients with a request open."""

    def __init__(self, per_client: int) -> None:
        self.per_client, self.waiting = per_client, WAITING_PER_SLOT * per_client
        self._lines: dict[str, anyio.CapacityLimiter] = {}
        self._open: dict[str, int] = {}  # per client: its requests in flight and queued

    def queued(self, client: str) -> int:
        """The client's requests waiting for one of its slots."""
        return max(0, self._open.get(client, 0) - self.per_client)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        client = CLIENT.get()
        if self._open.get(client, 0) >= self.per_client + self.waiting:
            raise ClientBusy(f"{self.per_client + self.waiting} requests from this client are open; "
                             "wait for their answers before sending more")
        line = self._lines.setdefault(client, anyio.CapacityLimiter(self.per_client))
        self._open[client] = self._open.get(client, 0) + 1
        try:
            async with line:
                yield
        finally:
            self._open[client] -= 1
            if not self._open[client]:
                del self._open[client], self._lines[client]


REQUEST_TIMEOUT = {"code": "request_timeout", "message": "the request did not arrive in time"}


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request to arrive and a cap on open connections.

    Configured through class attributes (`configured`), since uvicorn builds one protocol per connection."""

    request_timeout: float = 10.0
    max_connections: int = 512

    @classmethod
    def configured(cls, request_timeout: float, max_connections: int) -> type[GuardedH11Protocol]:
        return type("GuardedH11", (cls,), {"request_timeout": request_timeout, "max_connections": max_connections})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._opened = self.loop.time()
        self._deadline: asyncio.TimerHandle | None = None
        self._arm()
        if len(self.connections) > self.max_connections:
            self._drop_oldest_unfinished()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self._arrived():
            self._disarm()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._opened = self.loop.time()
            self._arm()  # the next request on this keep-alive connection gets its own deadline

    def _arrived(self) -> bool:
        """The whole request (headers and body) has been read."""
        return self.conn.their_state not in (h11.IDLE, h11.SEND_BODY)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.request_timeout, self._expire)

    def _disarm(self) -> None:
        if getattr(self, "_deadline", None) is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self) -> None:
        self._deadline = None
        if self._arrived() or self.transport.is_closing():
            return
        if self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete):
            self._write_error(408, "Request Timeout", REQUEST_TIMEOUT)
        self.transport.close()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a malformed request, in the API's JSON error shape rather than plain text."""
        self._write_error(400, "Bad Request", {"code": "bad_request", "message": msg})
        self.transport.close()

    def _write_error(self, status: int, reason: str, problem: dict[str, str]) -> None:
        body = json.dumps({"error": problem}).encode()
        self.transport.write(b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\nconnection: close\r\n"
                             b"content-length: %d\r\n\r\n%s" % (status, reason.encode(), len(body), body))

    def _drop_oldest_unfinished(self) -> None:
        """Over the cap, the connection waiting longest for its request goes: a slow client, not a reader."""
        waiting = [c for c in self.connections if isinstance(c, GuardedH11Protocol) and not c._arrived()]
        if waiting:
            min(waiting, key=lambda c: c._opened)._expire_now()

    def _expire_now(self) -> None:
        self._disarm()
        self._expire()
