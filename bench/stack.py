"""The benchmarked stack: where it runs (its own database and Redis database), the processes the
bench starts and stops by their own ids, the world it measures (an account, inputs, sink
destinations), and the facts printed with the figures (machine, revision)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "hr_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
BODY_BYTES = 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def body(seq: int, event: str) -> bytes:
    """A JSON document of exactly BODY_BYTES bytes."""
    head = json.dumps({"event": event, "seq": seq, "pad": ""})
    pad = "x" * (BODY_BYTES - len(head))
    return json.dumps({"event": event, "seq": seq, "pad": pad}).encode()


def stack_env(args: argparse.Namespace) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": f"{PG_SERVER}/{DB_NAME}",
        "REDIS_URL": REDIS_URL,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "OUTBOUND_ALLOWED_NETWORKS": "127.0.0.0/8",
        "DESTINATION_MAX_IN_FLIGHT": str(args.max_in_flight),
        "INGEST_RATE_LIMIT_PER_SECOND": "1000000",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        "PYTHONPATH": str(ROOT),  # this tree's code, whichever checkout the venv was made in
    }


class Stack:
    """The processes this run started; ``stop`` ends each by its own id (process group)."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.processes[name] = process
        return process

    def stop(self, name: str, grace: float = 10.0) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.processes):
            self.stop(name)


def celery_worker(app: str, threads: int, name: str) -> list[str]:
    """The command of one Celery worker of the delivery figures (ours or the peer's)."""
    return [
        str(BIN / "celery"), "-A", app, "worker", "--pool", "threads", "--concurrency", str(threads),
        "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", f"{name}@%h",
    ]  # fmt: skip


def wait_for(check, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(Exception):
            if check():
                return
        time.sleep(0.2)
    raise SystemExit(f"bench: {what} did not come up within {timeout:.0f} s")


def http_get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (loopback only)
        return json.loads(response.read())


def recreate_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def create_world(sink: str) -> dict:
    """One enterprise account, and one input per run with its sink destinations (no rate limit)."""
    from accounts.models import Plan
    from accounts.services import account_create
    from buckets.models import Bucket
    from destinations.models import Destination
    from inputs.authentication_options import new_signing_secret
    from inputs.models import Input

    account = account_create(name="Bench", plan=Plan.objects.get(pk="enterprise"))
    bucket = Bucket.objects.create(account=account, name="Bench", key="bench")
    world = {}
    for run, paths in {
        "ingest": [],
        "burst": ["burst-a", "burst-b", "burst-c"],
        "paced": ["paced-a", "paced-b", "paced-c"],
        "isolated": ["iso-a", "iso-b", "iso-c", "hang/iso-d"],
    }.items():
        input = Input.objects.create(account=account, bucket=bucket, name=run, key=run)
        for path in paths:
            Destination.objects.create(
                account=account,
                input=input,
                name=path,
                key=path.replace("/", "-"),
                endpoint_url=f"{sink}/{path}",
                rate_limit=None,
                secret=new_signing_secret(),
            )
        world[run] = input
    return world


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time used so far by these processes (all their threads)."""
    ticks = 0
    for pid in pids:
        with suppress(FileNotFoundError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """CPU time the PostgreSQL server has used so far (on this machine): its postmaster, the
    backends it has reaped (counted in its children's time) and those still running."""
    from django.db import connections

    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    status = Path(f"/proc/{backend}/status").read_text()
    postmaster = int(status.split("PPid:", 1)[1].split()[0])
    fields = Path(f"/proc/{postmaster}/stat").read_text().rpartition(")")[2].split()
    reaped = (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    return cpu_seconds([postmaster, *children(postmaster)]) + reaped


def redis_cpu_seconds() -> float:
    """CPU time the Redis server has used so far (its own account, ``INFO cpu``)."""
    from core.redis import redis_client

    cpu = redis_client().info("cpu")
    return cpu["used_cpu_user"] + cpu["used_cpu_sys"]


def machine_cpu_seconds() -> float:
    """CPU time the whole machine has spent busy (not idle nor waiting for I/O), all cores."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    with suppress(FileNotFoundError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def revision() -> str:
    """The commit measured, with ``+changes`` when the work tree differs from it."""
    git = ["git", "-C", str(ROOT)]
    try:
        commit = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    except FileNotFoundError:
        commit = None
    if commit is None or commit.returncode:
        return os.environ.get("BENCH_REVISION", "unknown")
    changes = subprocess.run(
        [*git, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True
    )
    return commit.stdout.strip() + ("+changes" if changes.stdout.strip() else "")


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = int(Path("/proc/meminfo").read_text().split()[1]) // 1024 // 1024
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": memory,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
