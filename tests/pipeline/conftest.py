"""The pipeline harness: a real Celery worker (a subprocess on the test database and Redis),
loopback receivers with programmable answers (tests.support.receivers), and a way to ingest
messages.

Tests are transactional (rows are committed, so the worker sees them). Every test that needs a
worker gets its own, started on a flushed Redis database and killed at teardown before
pytest-django truncates the tables."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
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
from tests.support.receivers import Receiver

ROOT = Path(__file__).resolve().parents[2]
# The database sessions of the workers and beat the tests start (libpq's PGAPPNAME).
SESSION_NAME = "pipeline-test-worker"
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
WORKER_START_TIMEOUT = 60.0
# How long a test waits for an event before failing: generous, for a busy shared CI machine. A
# wait ends as soon as the event happens, so it costs nothing when things go well.
WAIT_CEILING = 60.0


# --- waiting --------------------------------------------------------------------------------


def wait_until(
    predicate: Callable[[], object], timeout: float = WAIT_CEILING, interval: float = 0.05
) -> object:
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


@pytest.fixture
def make_scripted_receiver(make_receiver) -> Callable[..., Receiver]:
    """A receiver at ``/hook`` answering what ``responder`` decides per request (200 by default)."""
    return lambda responder=None: make_receiver(responder=responder, path="/hook")


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
    """Starts, kills and restarts the Celery worker subprocess of one test, and Celery beat
    beside it when the test asks (``start_beat``): scheduled work runs as in production."""

    def __init__(self, email_dir: Path, log_dir: Path) -> None:
        self.email_dir = email_dir
        self.log_dir = log_dir
        self.process: subprocess.Popen | None = None
        self.log_path: Path | None = None
        self.beat: subprocess.Popen | None = None
        self.started = 0

    def _environment(self, env: dict[str, str]) -> dict[str, str]:
        assert settings.DATABASES["default"]["NAME"].startswith("test_"), "not on the test database"
        assert settings.CELERY_BROKER_URL.startswith("redis://"), "the pipeline tests need Redis"
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.pipeline.worker_settings",
            "DATABASE_URL": _database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
            "PIPELINE_EMAIL_DIR": str(self.email_dir),
            "PYTHONUNBUFFERED": "1",
            "PGAPPNAME": SESSION_NAME,
            **WORKER_ENV,
            **env,
        }

    def start(self, *, flush: bool = True, **env: str) -> None:
        """Start a worker (on a flushed Redis unless ``flush=False``) and wait until it is ready."""
        assert self.process is None, "a worker is already running"
        environment = self._environment(env)
        if flush:
            flush_redis()
        self.started += 1
        self.log_path = self.log_dir / f"worker-{self.started}.log"
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

    def start_beat(self, **env: str) -> None:
        """Start ``celery beat`` (as ``make run`` does) with every entry due each second."""
        assert self.beat is None, "beat is already running"
        environment = self._environment(
            {
                "SWEEP_INTERVAL_SECONDS": "1",
                "DISABLE_FAILING_INTERVAL_SECONDS": "1",
                "RETENTION_INTERVAL_SECONDS": "1",
                **env,
            }
        )
        command = [
            sys.executable, "-m", "celery", "-A", "config", "beat", "--loglevel", "INFO",
            "--schedule", str(self.log_dir / "celerybeat-schedule"),
        ]  # fmt: skip
        with self.beat_log_path.open("wb") as log:
            self.beat = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

    @property
    def beat_log_path(self) -> Path:
        return self.log_dir / "beat.log"

    def kill(self) -> None:
        """SIGKILL the worker: no warm shutdown, tasks in flight are lost."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        """SIGTERM the worker (a warm shutdown, as its service manager stops it) and wait for it to exit."""
        self.process.terminate()
        self.process.wait(timeout=WAIT_CEILING)
        self.process = None

    def kill_beat(self) -> None:
        if self.beat is not None:
            self.beat.kill()
            self.beat.wait(timeout=10)
            self.beat = None

    def end(self) -> None:
        """Kill beat and the worker, and wait until their database sessions have ended (the table
        flush must not race them)."""
        self.kill_beat()
        self.kill()
        _wait_for_backends_to_close()

    def restart(self, **env: str) -> None:
        self.kill()
        self.start(flush=False, **env)

    def emails(self) -> list[str]:
        if not self.email_dir.exists():
            return []
        return [path.read_text(errors="replace") for path in sorted(self.email_dir.iterdir())]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def beat_log(self) -> str:
        return self.beat_log_path.read_text(errors="replace") if self.beat else ""


def _wait_for_backends_to_close() -> None:
    """Killed workers' database sessions (named SESSION_NAME) end when PostgreSQL notices; the
    table flush and the final DROP DATABASE must not race them."""
    with connection.cursor() as cursor:
        for _ in range(100):
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                [SESSION_NAME],
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
    controller.end()


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
    def make(input: Input, receiver: Receiver, **fields) -> Destination:
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
