"""`make run`'s embedded default boots on a bare machine: with no DATABASE_URL, REDIS_URL or
CELERY_BROKER_URL the platform migrates SQLite and serves /v1/health on kombu's filesystem broker."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

BOOT_TIMEOUT_SECONDS = 30
SERVER_ENV_REMOVED = ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in SERVER_ENV_REMOVED}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.base", HOOKRELAY_VAR_DIR=str(tmp_path))
    return env


def wait_for_health(url: str, server: subprocess.Popen) -> requests.Response:
    deadline = time.monotonic() + BOOT_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the server exited with {server.returncode}"
        try:
            response = requests.get(url, timeout=5)
        except requests.ConnectionError:
            time.sleep(0.2)
            continue
        if response.status_code == 200:
            return response
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer 200 within {BOOT_TIMEOUT_SECONDS} s")


def test_the_embedded_default_boots_and_reports_healthy(embedded_env, tmp_path):
    base_dir = settings.BASE_DIR
    migrate = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=base_dir,
        env=embedded_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr[-2000:]
    assert (tmp_path / "hookrelay.sqlite3").exists()

    port = free_port()
    log_path = tmp_path / "server.log"
    with log_path.open("w") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                "config.wsgi",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
            ],
            cwd=base_dir,
            env=embedded_env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            response = wait_for_health(f"http://127.0.0.1:{port}/v1/health", server)
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}, log_path.read_text()[-2000:]
