"""``make bench``: the platform's performance figures, each beside a reference measured in the same run.

It creates a dedicated database (``BENCH_DB``, default ``hr_bench``) and uses a Redis database
(``BENCH_REDIS_URL``, default database 8), starts the real stack on
loopback (gunicorn, Celery thread-pool workers, the loopback sink of ``bench/sink.py``), measures,
prints a table, writes ``bench/results/latest.json`` and stops everything it started.

Figures (issue 12's numbering; each module's docstring says how it is measured):

1. Peer (``bench/peer.py``): figure 2's burst through django-webhook; ours / the peer's deliveries/s.
2. End to end (``bench/e2e.py``): N messages into one input fanned out to 3 sink destinations, sent
   as fast as 16 clients go: deliveries/s from the first accept to the last receipt, against the
   sink driven by a requests.Session loop from 4 threads. Every accepted message must arrive
   exactly once per destination (ids checked against the database). Sending and waiting are
   bounded (--burst-send-limit, --*-drain), so a slow platform shows up as INCOMPLETE with its
   counts, not as a run that never ends; what a run leaves behind is retired before the next one.
3. Latency (``bench/e2e.py``): ingest->receipt p50/p99 at --rate msg/s offered for --paced-seconds,
   and each hop's share (dispatcher, Celery hops, processing, the request).
4. Isolation (``bench/e2e.py``): figure 3 again with a 4th destination hanging 30 s per request.
5. Ingest (``bench/ingest.py``): committed webhooks/s at the gateway (1 KiB JSON, wrk at 16 and 64
   connections) against ``/bench/trivial`` on the same gunicorn, Celery not running; every
   accepted request is checked to be in the database.
6. Embedded (``bench/embedded.py``): figure 2 on SQLite and the filesystem broker.

Also: recipes (``bench/recipes.py``), peak RSS of the web and worker processes after figure 2, and
reports (``bench/reports.py``: overview and request log with 1,000,000 messages stored).

``--only ingest`` (or ``e2e``, ``peer``, ``embedded``, ``recipes``, ``reports``) runs only those:
ingest alone starts neither the sink nor Celery; a partial run writes ``latest-NAMES.json`` (only
a full run writes ``latest.json``).

``--profile`` also samples the gunicorn workers (ingest at 64 connections) and the Celery workers
(the end-to-end burst) with py-spy and prints where their CPU time goes (bench/results/profile-*).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import e2e, embedded, ingest, peer  # noqa: E402
from bench.profiling import Profiler  # noqa: E402
from bench.stack import (  # noqa: E402
    BIN,
    DB_NAME,
    REDIS_URL,
    RESULTS,
    Stack,
    children,
    create_world,
    drop_database,
    flush_redis,
    free_port,
    http_get,
    machine,
    recreate_database,
    revision,
    stack_env,
    wait_for,
)
from bench.table import table  # noqa: E402

FIGURES = ("ingest", "e2e", "peer", "embedded", "recipes", "reports")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # gthread: a thread waiting for its commit (or a sync relay) leaves the process to the others,
    # and concurrent rows share one commit (core.group_commit); one process per core here.
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=16, help="> 1: gunicorn's gthread worker")
    parser.add_argument("--celery-workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--celery-threads", type=int, default=8, help="threads per Celery worker")
    parser.add_argument("--max-in-flight", type=int, default=8, help="DESTINATION_MAX_IN_FLIGHT")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--ingest-seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--messages", type=int, default=10_000, help="figure 2's burst")
    parser.add_argument("--rate", type=float, default=50.0, help="figures 3 and 4: offered msg/s")
    parser.add_argument("--paced-seconds", type=float, default=60.0, help="length of the paced runs")
    parser.add_argument("--peer-send-limit", type=float, default=400.0, help="figure 1: stop sending after")
    parser.add_argument("--peer-drain", type=float, default=600.0, help="figure 1: wait at most this")
    parser.add_argument("--embedded-messages", type=int, default=10_000, help="figure 6's burst")
    parser.add_argument("--send-connections", type=int, default=16)
    parser.add_argument("--burst-send-limit", type=float, default=90.0, help="stop sending the burst after")
    parser.add_argument("--burst-drain", type=float, default=100.0, help="wait at most this for receipts")
    parser.add_argument("--paced-drain", type=float, default=60.0, help="wait at most this for receipts")
    parser.add_argument("--reference-seconds", type=float, default=5.0)
    parser.add_argument("--report-messages", type=int, default=1_000_000, help="figure 6's incoming messages")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=FIGURES,
        default=FIGURES,
        help="run only these figures (ingest: 5; e2e: 2, 3, 4 and memory; peer: 1; embedded: 6)",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the ingest and delivery paths")
    parser.add_argument("--keep-db", action="store_true", help="leave the hr_bench database behind")
    parser.add_argument("--no-wrk", action="store_true", help="figure 1 with the Python load generator")
    args = parser.parse_args()
    use_wrk = ingest.USE_WRK and not args.no_wrk

    started = time.monotonic()
    load_at_start = os.getloadavg()
    os.environ.update(stack_env(args))
    logs = Path(tempfile.mkdtemp(prefix="hr_bench_logs_"))
    RESULTS.mkdir(parents=True, exist_ok=True)
    if args.profile:
        for old in RESULTS.glob("profile-*"):
            old.unlink()
    stack = Stack(logs)
    print(f"bench: database {DB_NAME}, Redis {REDIS_URL}, logs in {logs}", flush=True)
    try:
        recreate_database()
        flush_redis()
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True)
        import django

        django.setup()
        sink_port, web_port = free_port(), free_port()
        sink, base = f"http://127.0.0.1:{sink_port}", f"http://127.0.0.1:{web_port}"
        world = create_world(sink)
        web = [
            str(BIN / "gunicorn"),
            "config.wsgi",
            "--bind",
            f"127.0.0.1:{web_port}",
            "--workers",
            str(args.web_workers),
            "--backlog",
            "2048",
            "--no-control-socket",  # gunicorn's default socket is one per user: another gunicorn's
        ]
        if args.web_threads > 1:
            # No keep-alive: a kept connection stays with the worker that accepted it, so the load
            # splits unevenly between the workers (wrk at 64 connections: half the throughput).
            web += ["--worker-class", "gthread", "--threads", str(args.web_threads), "--keep-alive", "0"]
        gunicorn = stack.start("gunicorn", web)
        wait_for(lambda: http_get(f"{base}/bench/trivial") is not None, "gunicorn")
        wait_for(lambda: len(children(gunicorn.pid)) == args.web_workers, "gunicorn's workers")
        profiler = Profiler(args.profile)
        profiler.targets["ingest"] = children(gunicorn.pid)

        print(f"bench: setup done in {time.monotonic() - started:.0f} s", flush=True)
        results: dict = {}
        if "ingest" in args.only:
            print("bench: figure 5 (ingest)", flush=True)
            results["ingest"] = ingest.figure_ingest(args, base, world["ingest"], profiler, use_wrk=use_wrk)
        if {"e2e", "peer"} & set(args.only):
            stack.start("sink", [sys.executable, "-m", "bench.sink", str(sink_port)])
            wait_for(lambda: http_get(f"{sink}/_stats") is not None, "the sink")
        if "e2e" in args.only:
            e2e.retire(world["ingest"])  # not for the Celery workers about to start
            results.update(e2e.figures_delivery(args, stack, base, sink, logs, world, gunicorn.pid, profiler))
        if "peer" in args.only:
            print(f"bench: figure 1 (the peer, django-webhook: {args.messages} messages x 3)", flush=True)
            results["peer"] = peer.figure(args, stack, sink, logs)
        if "embedded" in args.only:
            print(
                f"bench: figure 6 (embedded: SQLite, filesystem broker; {args.embedded_messages} x 3)",
                flush=True,
            )
            results["embedded"] = embedded.figure(args, logs)
        recipes = ROOT / "bench" / "recipes.py"
        if "recipes" in args.only and recipes.exists():
            print("bench: recipes (bench/recipes.py)", flush=True)
            results["recipes"] = run_recipes(recipes)
        if "reports" in args.only:
            from bench import reports

            print(f"bench: reports ({args.report_messages:,} messages loaded with COPY)", flush=True)
            results["reports"] = reports.figure(base, messages=args.report_messages)

        results["settings"] = {
            "django_settings": "bench.settings (config.settings.production + /bench/trivial)",
            "gunicorn": " ".join(web[1:]).replace(f"127.0.0.1:{web_port}", "127.0.0.1:PORT"),
            "celery": f"{args.celery_workers} x --pool threads --concurrency {args.celery_threads}",
            "DESTINATION_MAX_IN_FLIGHT": args.max_in_flight,
            "load": "wrk -t2" if use_wrk else "python (bench/load.py)",
        }
        results["machine"] = {
            **machine(),
            "load_average_at_start": load_at_start,
            "load_average_at_end": os.getloadavg(),
        }
        results["revision"] = revision()
        results["taken_at"] = datetime.now(UTC).isoformat(timespec="seconds")
        results["wall_seconds"] = round(time.monotonic() - started, 1)
        # A partial run (--only) never overwrites the full run's latest.json.
        name = "latest.json" if set(args.only) == set(FIGURES) else f"latest-{'-'.join(args.only)}.json"
        (RESULTS / name).write_text(json.dumps(results, indent=2) + "\n")
        print(
            f"\nrevision {results['revision']}; load average at start {load_at_start[0]:.1f}, at end {os.getloadavg()[0]:.1f}"
        )
        print(table(results))
        print(f"\nbench: {results['wall_seconds']:.0f} s; wrote bench/results/{name}")
    finally:
        stack.stop_all()
        from django.db import connections

        connections.close_all()
        if not args.keep_db:
            with suppress(Exception):
                drop_database()
        flush_redis()


def run_recipes(script: Path) -> dict:
    """Run bench/recipes.py; it prints one line per case: ``LABEL runs=N median=X ms p99=Y ms ...``."""
    output = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    cases = {
        match["label"].strip(): {"median_ms": float(match["median"]), "p99_ms": float(match["p99"])}
        for match in re.finditer(
            r"^(?P<label>.+?)\s+runs=\s*\d+\s+median=\s*(?P<median>[\d.]+) ms\s+p99=\s*(?P<p99>[\d.]+) ms",
            output.stdout,
            re.MULTILINE,
        )
    }
    if output.returncode or not cases:
        print(output.stdout[-2000:], output.stderr[-2000:])
        return {"error": f"bench/recipes.py exited {output.returncode}"}
    return cases


if __name__ == "__main__":
    main()
