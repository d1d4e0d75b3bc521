"""`make run`'s embedded default works on a bare machine: with no DATABASE_URL, REDIS_URL or
CELERY_BROKER_URL the platform migrates SQLite, serves /v1/health on kombu's filesystem broker,
and carries a webhook from the gateway through a Celery worker to its destination.

The stack is started once for the module as ``scripts/run.sh`` starts it (gunicorn with gthread
workers, a Celery worker on the threads pool; beat only sweeps lost messages, so it is left out),
in a temp HOOKRELAY_VAR_DIR, and driven only through the HTTP API."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support.receivers import Receiver

BOOT_TIMEOUT_SECONDS = 30
DELIVERY_TIMEOUT_SECONDS = 30
SERVER_ENV_REMOVED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    url: str  # the API root, http://127.0.0.1:<port>/v1
    logs: list[Path]

    def tails(self) -> str:
        """The end of every process's log, for assertion messages."""
        return "".join(
            f"\n--- {log.name} ---\n{log.read_text(errors='replace')[-3000:]}" for log in self.logs
        )


def wait_until(predicate: Callable[[], object], what: str, stack: Stack, timeout: float) -> object:
    """Poll ``predicate`` until it returns something truthy (returned), or fail with the logs."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s{stack.tails()}")
        time.sleep(0.05)
    return result


def stop(processes: list[subprocess.Popen]) -> None:
    """Ask every process to stop at once (their shutdowns overlap), kill what outlives 10 s."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """Migrated SQLite, gunicorn and a Celery worker on the embedded default, stopped at teardown
    (even when the setup fails half way)."""
    var_dir = tmp_path_factory.mktemp("var")
    env = {key: value for key, value in os.environ.items() if key not in SERVER_ENV_REMOVED}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.base",
        HOOKRELAY_VAR_DIR=str(var_dir),
        OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",  # the loopback receiver
        PYTHONUNBUFFERED="1",
    )
    base_dir = settings.BASE_DIR
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=base_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert (var_dir / "hookrelay.sqlite3").exists()
    for folder in ("broker", "broker-processed"):  # as scripts/run.sh does
        (var_dir / folder).mkdir()

    port = free_port()
    commands = {
        "server.log": [
            str(BIN / "gunicorn"), "config.wsgi", "--bind", f"127.0.0.1:{port}",
            "--worker-class", "gthread", "--workers", "1", "--threads", "4", "--access-logfile", "-",
            "--no-control-socket",  # not ~/.gunicorn/gunicorn.ctl, which another gunicorn may hold
        ],
        "worker.log": [
            str(BIN / "celery"), "-A", "config", "worker", "--loglevel", "INFO",
            "--pool", "threads", "--concurrency", "4",
        ],
    }  # fmt: skip
    running = Stack(url=f"http://127.0.0.1:{port}/v1", logs=[var_dir / name for name in commands])
    processes: list[subprocess.Popen] = []
    try:
        for log_path, command in zip(running.logs, commands.values(), strict=True):
            with log_path.open("wb") as log:
                processes.append(
                    subprocess.Popen(command, cwd=base_dir, env=env, stdout=log, stderr=subprocess.STDOUT)
                )

        def ready() -> bool:
            for process in processes:
                assert process.poll() is None, f"{process.args[0]} exited{running.tails()}"
            if b" ready." not in running.logs[1].read_bytes():
                return False
            with contextlib.suppress(requests.ConnectionError):
                return requests.get(f"{running.url}/health", timeout=5).status_code == 200
            return False

        wait_until(
            ready, "the server answering /v1/health and the worker ready", running, BOOT_TIMEOUT_SECONDS
        )
        yield running
    finally:
        stop(processes)


def test_the_embedded_default_reports_healthy(stack):
    response = requests.get(f"{stack.url}/health", timeout=5)

    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}, stack.tails()


def test_a_webhook_travels_end_to_end_on_the_embedded_default(stack, receiver: Receiver):
    api = requests.Session()

    def call(method: str, path: str, expected: int, **kwargs) -> dict:
        response = api.request(method, f"{stack.url}/{path}", timeout=10, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.text}{stack.tails()}"
        return response.json()

    registered = call(
        "POST",
        "register",
        201,
        json={
            "name": "Embedded, LLC",
            "first_name": "Bob",
            "last_name": "Smith",
            "email_address": "bob@example.com",
            "password": "Embedded-Default-2024",
            "password_confirm": "Embedded-Default-2024",
            "plan_id": "free",
        },
    )
    api.headers["Authorization"] = f"Bearer {registered['api_token']}"
    account = f"accounts/{registered['account']['id']}"
    bucket = call("POST", f"{account}/buckets", 201, json={"name": "Embedded", "key": "embedded"})
    input_ = call("POST", f"{account}/inputs", 201, json={"bucket_id": bucket["id"], "name": "Orders"})
    call(
        "POST",
        f"{account}/inputs/{input_['id']}/destinations",
        201,
        json={"name": "Loopback", "endpoint_url": receiver.url},
    )

    body = json.dumps({"msg": {"event": "order.created", "id": 42}}).encode()
    sent = requests.post(input_["url"], data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert 200 <= sent.status_code < 300, f"{sent.status_code} {sent.text}{stack.tails()}"

    wait_until(lambda: receiver.requests, "the receiver getting the webhook", stack, DELIVERY_TIMEOUT_SECONDS)
    delivered = receiver.requests[0]
    assert delivered.body == body, stack.tails()
    assert delivered.message_id.startswith("OM"), delivered.headers

    incoming = call(
        "GET", f"{account}/incoming/{sent.json()['id']}", 200, params={"include_outgoing_messages": "true"}
    )
    assert [outgoing["id"] for outgoing in incoming["outgoing_messages"]] == [delivered.message_id]

    def settled() -> dict | None:
        """The outgoing message once its outcome is recorded (a commit after the request)."""
        outgoing = call("GET", f"{account}/outgoing/{delivered.message_id}", 200)
        return outgoing if outgoing["status"] != "pending" else None

    outgoing = wait_until(settled, "the outgoing message leaving 'pending'", stack, DELIVERY_TIMEOUT_SECONDS)
    assert (outgoing["status"], outgoing["attempt_count"]) == ("succeeded", 1), f"{outgoing}{stack.tails()}"
    assert [(attempt["status_code"], attempt["succeeded"]) for attempt in outgoing["attempts"]] == [
        (200, True)
    ]
    assert len(receiver.requests) == 1, stack.tails()

    # The reports (rollups upserted by the worker) and the request log work on SQLite too.
    summary = call("GET", f"{account}/stats/summary", 200)
    assert (summary["incoming"], summary["outgoing"], summary["succeeded"], summary["attempts"]) == (
        1,
        1,
        1,
        1,
    )
    for precision, start in (("hour", "today"), ("month", "this month")):
        params = {"start_date": start, "end_date": "now", "precision": precision}
        overview = call("GET", f"{account}/stats/overview", 200, params=params)
        assert sum(point["succeeded"] for point in overview["results"]) == 1, overview
    log = call("GET", f"{account}/log", 200, params={"start_date": "last 24 hours"})
    assert [entry["id"] for entry in log["results"]] == [sent.json()["id"]]
