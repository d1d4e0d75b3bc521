"""Figure 1, the peer: figure 2's burst (the same messages, 3 destinations, sink, PostgreSQL
server, Redis database and Celery worker settings) through ``django-webhook``, the way a Django
project sends webhooks today: one Celery task per delivery, ``requests`` and a row per attempt
(``bench/peers/``). Its deliveries/s is what ours is divided by.

Its requests carry no message id, so exactly-once is checked by counts: every destination
received as many requests as messages were accepted, and every event row reads SUCCESS."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench import load
from bench.e2e import drain
from bench.stack import (
    BIN,
    PG_SERVER,
    REDIS_URL,
    ROOT,
    Stack,
    body,
    celery_worker,
    free_port,
    http_get,
    wait_for,
)

PATHS = ("/peer-a", "/peer-b", "/peer-c")


def figure(args, stack: Stack, sink: str, logs: Path) -> dict:
    import psycopg

    database = f"{os.environ.get('BENCH_DB', 'hr_bench')}_peer"
    with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{database}"')
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.peers.settings",
        "DATABASE_URL": f"{PG_SERVER}/{database}",
        "REDIS_URL": REDIS_URL,
    }
    try:
        return _run(args, stack, sink, logs, env)
    finally:
        for name in ("peer-gunicorn", *(f"peer-celery-{n}" for n in range(args.celery_workers))):
            stack.stop(name, grace=5.0)
        with psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def _run(args, stack: Stack, sink: str, logs: Path, env: dict) -> dict:
    subprocess.run([sys.executable, "-m", "bench.peers.setup", sink], cwd=ROOT, env=env, check=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    web = [str(BIN / "gunicorn"), "bench.peers.wsgi", "--bind", f"127.0.0.1:{port}"]
    web += ["--workers", str(args.web_workers), "--no-control-socket", "--backlog", "2048"]
    if args.web_threads > 1:
        web += ["--worker-class", "gthread", "--threads", str(args.web_threads), "--keep-alive", "0"]
    stack.start("peer-gunicorn", web, env=env)
    for number in range(args.celery_workers):
        stack.start(
            f"peer-celery-{number}",
            celery_worker("bench.peers.celery_app", args.celery_threads, f"peer{number}"),
            env=env,
        )
    url = f"{base}/peer/ingest"
    wait_for(
        lambda: load.send_all(url, [body(-1, "warm")], connections=1, rate=None, within=5)[0].status == 202,
        "the peer",
        60,
    )
    segments = [path.strip("/") for path in PATHS]
    if not drain(sink, {segment: 1 for segment in segments}, timeout=60):
        raise SystemExit("bench: the peer's warm-up message did not arrive within 60 s")
    http_get(f"{sink}/_dump?path={logs / 'receipts-peer-warm.jsonl'}")  # forget the warm-up
    before = http_get(f"{sink}/_stats")
    bodies = [body(seq, "bench.peer") for seq in range(args.messages)]
    answers = load.send_all(
        url, bodies, connections=args.send_connections, rate=None, within=args.peer_send_limit
    )
    accepted = sum(1 for answer in answers if answer.incoming_id)
    expected = {segment: before.get(segment, 0) + accepted for segment in segments}
    drained = drain(sink, expected, args.peer_drain)
    dump = logs / "receipts-peer.jsonl"
    http_get(f"{sink}/_dump?path={dump}")
    receipts = [json.loads(line) for line in dump.read_text().splitlines()]
    receipts = [receipt for receipt in receipts if receipt[0] in PATHS]
    per_path = {path: sum(1 for receipt in receipts if receipt[0] == path) for path in PATHS}
    events = _event_statuses(env)
    first_sent = min(answer.sent for answer in answers)
    span = max((arrived for _p, _m, arrived in receipts), default=first_sent) - first_sent
    return {
        "name": "django-webhook 0.0.15",
        "messages": args.messages,
        "sent": len(answers),
        "accepted": accepted,
        "destinations": len(PATHS),
        "deliveries": len(receipts),
        "per_destination": per_path,
        "event_rows": events,
        "drained": drained,
        "exactly_once": all(count == accepted for count in per_path.values())
        and events == {"SUCCESS": 3 * (accepted + 1)},  # + the warm-up message
        "seconds": round(span, 2),
        "deliveries_per_second": round(len(receipts) / span, 1) if span > 0 else 0.0,
    }


def _event_statuses(env: dict) -> dict[str, int]:
    """The peer's WebhookEvent rows by status (a row per attempt)."""
    import psycopg

    with psycopg.connect(env["DATABASE_URL"]) as connection:
        return dict(
            connection.execute(
                "SELECT status, count(*) FROM django_webhook_webhookevent GROUP BY status"
            ).fetchall()
        )
