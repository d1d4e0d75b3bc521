"""The pipeline harness: a real Celery worker (a subprocess on the test database and Redis),
loopback receivers with programmable answers, and a way to ingest messages.

Tests are transactional (rows are committed, so the worker sees them). Every test that needs a
worker gets its own, started on a flushed Redis database and killed at teardown before
pytest-django truncates the tables."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.test import Client

from deliveries.models import IncomingMessage
from destinations.models import Destination
from inputs.models import Input
from tests.factories import make_account
from tests.routing_factories import DestinationFactory, InputFactory

ROOT = Path(__file__).resolve().parents[2]
# Short leases and sweep deadline so recovery scenarios finish in seconds. A delivery lease must
# outlive one request (connect + read timeout), so the timeouts are shortened too.
WORKER_ENV = {
    "PROCESSING_LEASE_SECONDS": "3",
    "DELIVERY_LEASE_SECONDS": "5",
    "SWEEP_AFTER_SECONDS": "1",
    "OUTBOUND_CONNECT_TIMEOUT": "1",
    "OUTBOUND_READ_TIMEOUT": "3",
}
SWEEP_AFTER_SECONDS = 1
WORKER_START_TIMEOUT = 30.0


# --- waiting --------------------------------------------------------------------------------


def wait_until(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> object:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(
                f"Timed out after {timeout} s waiting for {getattr(predicate, '__name__', predicate)}"
            )
        time.sleep(interval)


def backends_waiting_on_a_lock() -> int:
    """Database sessions (the worker's) blocked on a lock, e.g. one the test holds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")  # fresh figures inside a transaction
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


# --- receivers ------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float  # time.time()

    @property
    def message_id(self) -> str:
        return self.headers.get("X-Webhooks-Message-Id", "")


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0  # seconds before answering (a hang when longer than the read timeout)


Responder = Callable[[int, Received], Reply]


def always(reply: Reply) -> Responder:
    return lambda index, request: reply


def fail_times(times: int, failure: Reply | None = None) -> Responder:
    """Fail the first ``times`` requests of each message, then answer 200."""
    failure = failure or Reply(status=500)
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def respond(index: int, request: Received) -> Reply:
        with lock:
            seen[request.message_id] = seen.get(request.message_id, 0) + 1
            count = seen[request.message_id]
        return failure if count <= times else Reply()

    return respond


def random_failures(probability: float, seed: int = 7, delay: float = 0.0) -> Responder:
    rng = random.Random(seed)
    lock = threading.Lock()

    def respond(index: int, request: Received) -> Reply:
        with lock:
            failed = rng.random() < probability
        return Reply(status=503 if failed else 200, delay=delay)

    return respond


class ScriptedReceiver:
    """A threaded HTTP/1.1 server on loopback recording every request (with its arrival time)
    and answering what ``responder`` decides per request; tracks the most requests in flight at
    once. (tests.support.receivers.Receiver answers one fixed reply and keeps no timings.)"""

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder = responder or always(Reply())
        self.requests: list[Received] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True
            timeout = 30

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = Received(
                    method=self.command,
                    path=self.path,
                    headers=dict(self.headers.items()),
                    body=self.rfile.read(length),
                    arrived=time.time(),
                )
                reply = receiver._record(request)
                try:
                    if reply.delay:
                        receiver._closing.wait(reply.delay)
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                except OSError:
                    self.close_connection = True  # the client gave up (timeout)
                finally:
                    with receiver._lock:
                        receiver.in_flight -= 1

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()

    def _record(self, request: Received) -> Reply:
        with self._lock:
            index = len(self.requests)
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        return self.responder(index, request)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def message_ids(self) -> list[str]:
        with self._lock:
            return [request.message_id for request in self.requests]

    def close(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def make_scripted_receiver() -> Iterator[Callable[..., ScriptedReceiver]]:
    receivers: list[ScriptedReceiver] = []

    def make(responder: Responder | None = None) -> ScriptedReceiver:
        receiver = ScriptedReceiver(responder)
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.close()


# --- the worker -----------------------------------------------------------------------------


def _database_url() -> str:
    db = settings.DATABASES["default"]
    auth = quote(db["USER"] or "postgres")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def flush_redis() -> None:
    """Empty our Redis database: queued and unacknowledged tasks, countdowns, rate counters."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()


class Workers:
    """Starts, kills and restarts the Celery worker subprocess of one test."""

    def __init__(self, email_dir: Path, log_dir: Path) -> None:
        self.email_dir = email_dir
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.started = 0

    def start(self, *, flush: bool = True, **env: str) -> None:
        """Start a worker (on a flushed Redis unless ``flush=False``) and wait until it is ready."""
        assert self.process is None, "a worker is already running"
        assert settings.DATABASES["default"]["NAME"].startswith("test_"), "not on the test database"
        assert settings.CELERY_BROKER_URL.startswith("redis://"), "the pipeline tests need Redis"
        if flush:
            flush_redis()
        self.started += 1
        self.log_path = self.log_dir / f"worker-{self.started}.log"
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.pipeline.worker_settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PIPELINE_EMAIL_DIR": str(self.email_dir),
            "PYTHONUNBUFFERED": "1",
            **WORKER_ENV,
            **env,
        }
        command = [
            sys.executable, "-m", "celery", "-A", "config", "worker",
            "--pool", "threads", "--concurrency", "16",
            "--without-gossip", "--without-mingle", "--without-heartbeat",
            "-Q", "celery", "--loglevel", "INFO", "-n", f"pipeline-{uuid.uuid4().hex[:8]}@%h",
        ]  # fmt: skip
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + WORKER_START_TIMEOUT
        while b" ready." not in self.log_path.read_bytes():
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_text = self.log_path.read_text(errors="replace")
                self.kill()
                pytest.fail(f"The Celery worker did not start:\n{log_text[-3000:]}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the worker: no warm shutdown, tasks in flight are lost."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def restart(self, **env: str) -> None:
        self.kill()
        self.start(flush=False, **env)

    def emails(self) -> list[str]:
        if not self.email_dir.exists():
            return []
        return [path.read_text(errors="replace") for path in sorted(self.email_dir.iterdir())]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""


def _wait_for_backends_to_close() -> None:
    """Killed workers' database sessions end when PostgreSQL notices; the table flush and the
    final DROP DATABASE must not race them."""
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


@pytest.fixture
def workers(transactional_db, django_db_serialized_rollback, tmp_path) -> Iterator[Workers]:
    """A worker controller; nothing runs until a test calls ``start()``. The test is
    transactional (the worker must see committed rows); its tables are truncated afterwards and
    the migrations' data (plans) restored before the next test."""
    controller = Workers(email_dir=tmp_path / "mail", log_dir=tmp_path)
    controller.email_dir.mkdir()
    yield controller
    controller.kill()
    _wait_for_backends_to_close()


@pytest.fixture
def worker(workers) -> Workers:
    """A running worker."""
    workers.start()
    return workers


# --- the world and ingest -------------------------------------------------------------------


@pytest.fixture
def account(db):
    return make_account(name="Pipeline")


@pytest.fixture
def make_input(account) -> Callable[..., Input]:
    def make(**fields) -> Input:
        fields.setdefault("name", f"hooks-{uuid.uuid4().hex[:6]}")
        fields.setdefault("event_location", Input.EventLocation.HEADER)
        fields.setdefault("event_path", "X-Event-Type")
        return InputFactory(account=account, **fields)

    return make


@pytest.fixture
def make_destination(account) -> Callable[..., Destination]:
    def make(input: Input, receiver: ScriptedReceiver, **fields) -> Destination:
        fields.setdefault("rate_limit", None)
        fields.setdefault("retry_policy_id", "fixed")
        fields.setdefault("retry_count", 3)
        fields.setdefault("retry_interval", 1)
        return DestinationFactory(account=account, input=input, endpoint_url=receiver.url, **fields)

    return make


def ingest(
    input: Input,
    payload: dict | None = None,
    *,
    event: str = "",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
) -> IncomingMessage:
    """POST one message to the input through the HTTP gateway; it is committed (and its
    processing enqueued) when this returns."""
    if body is None:
        body = json.dumps(payload if payload is not None else {"type": event}).encode()
    headers = dict(headers or {})
    if event:
        headers["X-Event-Type"] = event
    response = Client().post(
        f"/v1/{input.name}/{input.pk}", data=body, content_type="application/json", headers=headers
    )
    assert response.status_code == 200, response.content
    return IncomingMessage.objects.get(pk=response.json()["id"])
