"""`make run`'s embedded default works on a bare machine and under load: with no DATABASE_URL,
REDIS_URL or CELERY_BROKER_URL the platform migrates SQLite, serves /v1/health on kombu's
filesystem broker, and carries webhooks from the gateway through a Celery worker to their
destinations, exactly once, with no ERROR in any log.

The platform is started once for the module by ``scripts/run.sh`` itself (what ``make run``
runs: gunicorn, a Celery worker and beat), in a temp HOOKRELAY_VAR_DIR, and driven only through
the HTTP API."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support.receivers import Receiver

BOOT_TIMEOUT_SECONDS = 120
DELIVERY_TIMEOUT_SECONDS = 120
SERVER_ENV_REMOVED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stack:
    url: str  # the API root, http://127.0.0.1:<port>/v1
    log: Path  # everything scripts/run.sh and the processes it starts printed
    token: str  # the demo account's API token, as printed

    def tail(self) -> str:
        """The end of the log, for assertion messages."""
        return f"\n--- {self.log.name} ---\n{self.log.read_text(errors='replace')[-4000:]}"


def wait_until(predicate: Callable[[], object], what: str, stack: Stack, timeout: float) -> object:
    """Poll ``predicate`` until it returns something truthy (returned), or fail with the log."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s{stack.tail()}")
        time.sleep(0.1)
    return result


@pytest.fixture(scope="module")
def stack(tmp_path_factory) -> Iterator[Stack]:
    """``scripts/run.sh`` on a fresh var dir, stopped (its whole process group) at teardown."""
    var_dir = tmp_path_factory.mktemp("var")
    env = {key: value for key, value in os.environ.items() if key not in SERVER_ENV_REMOVED}
    port = free_port()
    env.update(
        HOOKRELAY_VAR_DIR=str(var_dir),
        PORT=str(port),
        OUTBOUND_ALLOWED_NETWORKS="127.0.0.0/8",  # the loopback receivers
        PYTHONUNBUFFERED="1",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
    )
    log = var_dir / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["bash", "scripts/run.sh"],
            cwd=settings.BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Stack(url=f"http://127.0.0.1:{port}/v1", log=log, token="")
    try:

        def ready() -> bool:
            assert process.poll() is None, f"scripts/run.sh exited{running.tail()}"
            text = log.read_text(errors="replace")
            if " ready." not in text or "beat: Starting" not in text:
                return False
            try:
                return requests.get(f"{running.url}/health", timeout=5).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(ready, "the server, the worker and beat ready", running, BOOT_TIMEOUT_SECONDS)
        running.token = re.search(r"API token:\s+(\S+)", log.read_text()).group(1)
        yield running
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class Api:
    """The stack's /v1 API as one account's owner."""

    def __init__(self, stack: Stack, token: str) -> None:
        self.stack = stack
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, expected: int, **kwargs) -> dict:
        response = self.session.request(method, f"{self.stack.url}/{path}", timeout=30, **kwargs)
        assert response.status_code == expected, f"{method} {path}: {response.text}{self.stack.tail()}"
        return response.json()


def test_the_embedded_default_reports_healthy(stack):
    response = requests.get(f"{stack.url}/health", timeout=5)

    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}, stack.tail()


def test_a_webhook_travels_end_to_end_on_the_embedded_default(stack, receiver: Receiver):
    registered = requests.post(
        f"{stack.url}/register",
        json={
            "name": "Embedded, LLC",
            "first_name": "Bob",
            "last_name": "Smith",
            "email_address": "bob@example.com",
            "password": "Embedded-Default-2024",
            "password_confirm": "Embedded-Default-2024",
            "plan_id": "free",
        },
        timeout=30,
    )
    assert registered.status_code == 201, registered.text + stack.tail()
    api = Api(stack, registered.json()["api_token"])
    account = f"accounts/{registered.json()['account']['id']}"
    bucket = api.call("POST", f"{account}/buckets", 201, json={"name": "Embedded", "key": "embedded"})
    input_ = api.call("POST", f"{account}/inputs", 201, json={"bucket_id": bucket["id"], "name": "Orders"})
    api.call(
        "POST",
        f"{account}/inputs/{input_['id']}/destinations",
        201,
        json={"name": "Loopback", "endpoint_url": receiver.url},
    )

    body = json.dumps({"msg": {"event": "order.created", "id": 42}}).encode()
    sent = requests.post(input_["url"], data=body, headers={"Content-Type": "application/json"}, timeout=30)
    assert 200 <= sent.status_code < 300, f"{sent.status_code} {sent.text}{stack.tail()}"

    wait_until(lambda: receiver.requests, "the receiver getting the webhook", stack, DELIVERY_TIMEOUT_SECONDS)
    delivered = receiver.requests[0]
    assert delivered.body == body, stack.tail()
    assert delivered.message_id.startswith("OM"), delivered.headers

    incoming = api.call(
        "GET", f"{account}/incoming/{sent.json()['id']}", 200, params={"include_outgoing_messages": "true"}
    )
    assert [outgoing["id"] for outgoing in incoming["outgoing_messages"]] == [delivered.message_id]
    outgoing = settled(api, account, delivered.message_id)
    assert (outgoing["status"], outgoing["attempt_count"]) == ("succeeded", 1), f"{outgoing}{stack.tail()}"
    assert [(attempt["status_code"], attempt["succeeded"]) for attempt in outgoing["attempts"]] == [
        (200, True)
    ]
    assert len(receiver.requests) == 1, stack.tail()


def settled(api: Api, account: str, outgoing_id: str) -> dict:
    """The outgoing message once its outcome is recorded (a commit after the request)."""

    def outcome() -> dict | None:
        outgoing = api.call("GET", f"{account}/outgoing/{outgoing_id}", 200)
        return outgoing if outgoing["status"] != "pending" else None

    return wait_until(outcome, f"{outgoing_id} leaving 'pending'", api.stack, DELIVERY_TIMEOUT_SECONDS)


WEBHOOKS, SENDERS = 200, 16


def test_webhooks_posted_concurrently_are_each_delivered_once_with_no_error_logged(stack, make_receiver):
    """200 webhooks from 16 threads to an input with 2 destinations, on SQLite and the filesystem
    broker: every one reaches both destinations exactly once, and no process logs an ERROR
    (SQLite's "database is locked" above all)."""
    api = Api(stack, stack.token)
    account = "accounts/" + re.search(r"Demo account:\s+(\S+)", stack.log.read_text()).group(1)
    bucket = api.call("POST", f"{account}/buckets", 201, json={"name": "Load", "key": "load"})
    input_ = api.call("POST", f"{account}/inputs", 201, json={"bucket_id": bucket["id"], "name": "Load"})
    receivers = [make_receiver(), make_receiver()]
    for number, receiver in enumerate(receivers):
        api.call(
            "POST",
            f"{account}/inputs/{input_['id']}/destinations",
            201,
            json={"name": f"Loopback {number}", "endpoint_url": receiver.url},
        )

    def post(n: int) -> int:
        with requests.post(input_["url"], json={"n": n}, timeout=60) as response:
            return response.status_code

    started = time.monotonic()
    with ThreadPoolExecutor(SENDERS) as senders:
        answers = Counter(senders.map(post, range(WEBHOOKS)))
    assert answers == {200: WEBHOOKS}, f"{answers}{stack.tail()}"
    for receiver in receivers:
        wait_until(
            lambda receiver=receiver: len(receiver.requests) >= WEBHOOKS,
            "every webhook at both receivers",
            stack,
            DELIVERY_TIMEOUT_SECONDS,
        )
    elapsed = time.monotonic() - started

    for receiver in receivers:
        assert sorted(json.loads(request.body)["n"] for request in receiver.requests) == list(range(WEBHOOKS))
        assert len(set(receiver.message_ids())) == WEBHOOKS
    outgoing_ids = [message_id for receiver in receivers for message_id in receiver.message_ids()]
    outcomes = Counter(
        (outgoing["status"], outgoing["attempt_count"])
        for outgoing in (settled(api, account, outgoing_id) for outgoing_id in outgoing_ids)
    )
    assert outcomes == {("succeeded", 1): 2 * WEBHOOKS}, stack.tail()
    print(
        f"\nembedded default: {2 * WEBHOOKS} deliveries in {elapsed:.1f} s ({2 * WEBHOOKS / elapsed:.0f}/s)"
    )
    errors = [
        line
        for line in stack.log.read_text(errors="replace").splitlines()
        if re.search(r"ERROR|CRITICAL|Traceback|database is locked", line)
    ]
    assert errors == [], "\n".join(errors[:20])


def test_beat_has_the_sweep_run_on_the_embedded_default(stack):
    """Beat sends the sweep every 10 s and the worker runs it (Celery refused it once)."""
    wait_until(
        lambda: re.search(r"Task deliveries\.tasks\.sweep\[\S+\] succeeded", stack.log.read_text()),
        "a sweep sent by beat and run by the worker",
        stack,
        60,
    )
    assert "Couldn't apply scheduled task" not in stack.log.read_text(), stack.tail()
