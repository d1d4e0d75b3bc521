"""Python load generators: keep-alive HTTP/1.1 clients on threads, bounded in count and time.

- ``send_all``: POST a list of bodies, as fast as ``connections`` clients go (``rate`` None) or
  paced at ``rate`` requests per second; returns every answer with its timing.
- ``fixed_duration``: POST one body for ``seconds`` (the fallback of figure 1 without wrk).
- ``session_loop``: the end-to-end reference, a plain ``requests.Session`` loop per thread.
"""

from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

TIMEOUT_SECONDS = 30.0


@dataclass
class Answer:
    index: int
    status: int  # 0: no answer (connection error)
    incoming_id: str
    sent: float  # unix times
    answered: float


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


def _post(connection: http.client.HTTPConnection, path: str, body: bytes) -> tuple[int, bytes]:
    """One POST on a keep-alive connection, reconnecting once if the server closed it."""
    headers = {"Content-Type": "application/json"}
    for attempt in (1, 2):
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            if attempt == 2:
                return 0, b""
    return 0, b""


def _connection(url: str) -> tuple[http.client.HTTPConnection, str]:
    parts = urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=TIMEOUT_SECONDS), parts.path


def send_all(
    url: str, bodies: list[bytes], *, connections: int, rate: float | None = None, within: float
) -> list[Answer]:
    """POST every body once, paced at ``rate``/s from the start when given; bodies not yet sent
    after ``within`` seconds are left out (a platform slower than offered is not waited for)."""
    answers: list[Answer | None] = [None] * len(bodies)
    lock = threading.Lock()
    cursor = iter(range(len(bodies)))
    started = time.time()

    def client() -> None:
        connection, path = _connection(url)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None or time.time() > started + within:
                break
            if rate:
                delay = started + index / rate - time.time()
                if delay > 0:
                    time.sleep(delay)
            sent = time.time()
            status, raw = _post(connection, path, bodies[index])
            incoming_id = ""
            if 200 <= status < 300:
                incoming_id = json.loads(raw).get("id", "")
            answers[index] = Answer(index, status, incoming_id, sent, time.time())
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [answer for answer in answers if answer is not None]


def fixed_duration(url: str, body: bytes, *, connections: int, seconds: float) -> dict:
    """wrk's job in Python: ``connections`` clients POST ``body`` for ``seconds``."""
    latencies: list[list[float]] = [[] for _ in range(connections)]
    failures = [0] * connections
    deadline = time.monotonic() + seconds

    def client(slot: int) -> None:
        connection, path = _connection(url)
        while time.monotonic() < deadline:
            began = time.monotonic()
            status, _raw = _post(connection, path, body)
            if 200 <= status < 300:
                latencies[slot].append(time.monotonic() - began)
            else:
                failures[slot] += 1
        connection.close()

    threads = [threading.Thread(target=client, args=(slot,)) for slot in range(connections)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    done = [latency for slot in latencies for latency in slot]
    return {
        "requests": len(done) + sum(failures),
        "ok": len(done),
        "failed": sum(failures),
        "per_second": len(done) / elapsed,
        "p50_ms": percentile(done, 0.50) * 1000,
        "p99_ms": percentile(done, 0.99) * 1000,
    }


def session_loop(url: str, *, threads: int, seconds: float) -> dict:
    """The reference of figure 2: POST 1 KiB to the sink from ``threads`` requests.Session loops."""
    counts = [0] * threads
    body = b"x" * 1024
    deadline = time.monotonic() + seconds

    def client(slot: int) -> None:
        with requests.Session() as session:
            while time.monotonic() < deadline:
                session.post(url, data=body, timeout=TIMEOUT_SECONDS).raise_for_status()
                counts[slot] += 1

    workers = [threading.Thread(target=client, args=(slot,)) for slot in range(threads)]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"requests": sum(counts), "per_second": sum(counts) / (time.monotonic() - began)}


def summary_ms(values: list[float]) -> dict:
    """p50/p99/max/mean of durations in seconds, as milliseconds."""
    return {
        "p50_ms": round(percentile(values, 0.50) * 1000, 1),
        "p99_ms": round(percentile(values, 0.99) * 1000, 1),
        "max_ms": round(max(values, default=0.0) * 1000, 1),
        "mean_ms": round(statistics.fmean(values) * 1000, 1) if values else 0.0,
    }
