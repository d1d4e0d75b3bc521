"""The SDK against the live platform: a real HTTP server (pytest-django's ``live_server``, a
threaded WSGI server on the test database) and, where messages are delivered, the real Celery
worker of tests/pipeline. Tests are transactional (the server and the worker see committed rows)
and restore the migrations' data (plans) afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hookrelay import Client

from tests.conftest import Actor
from tests.pipeline.conftest import worker, workers  # noqa: F401 (fixtures)

CLI = Path(sys.executable).parent / "hookrelay"  # the console script of the installed package
DELIVERY_TIMEOUT = 60.0

live = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def api_url(live_server) -> str:
    return f"{live_server.url}/v1"


@pytest.fixture
def make_client(api_url, request) -> Iterator[Callable[..., Client]]:
    """Clients of the live server, closed at teardown (a kept-alive connection would hold a
    server thread, and its database session, past the test). The test's worker, if it started
    one, is ended here too, after the clients: its sessions must be gone before the table flush."""
    controller = request.getfixturevalue("workers")  # set up first, so torn down after this
    clients: list[Client] = []

    def make(token: str | None = None, **options: object) -> Client:
        clients.append(Client(api_url, token, **options))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
    controller.end()


@pytest.fixture
def sdk(make_client, owner: Actor) -> Client:
    """A client of the owner of account A (tests.conftest's cast)."""
    return make_client(owner.token)


@pytest.fixture
def anonymous(make_client) -> Client:
    return make_client()


def wait_for(predicate: Callable[[], object], what: str, timeout: float = DELIVERY_TIMEOUT) -> object:
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.1)
    return result


@pytest.fixture
def run_cli(tmp_path) -> Callable[..., subprocess.CompletedProcess]:
    """Run the ``hookrelay`` command with its config file in the test's folder."""

    def run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(CLI), *args],
            env=cli_env(tmp_path),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKRELAY_")}
    return {**env, "HOOKRELAY_CONFIG": str(tmp_path / "hookrelay.json"), "PYTHONUNBUFFERED": "1"}
