"""``make bench``: the platform's performance figures, each beside a reference measured in the same run.

It creates a dedicated database (``hr_bench``) and uses Redis database 8, starts the real stack on
loopback (gunicorn, Celery thread-pool workers, the loopback sink of ``bench/sink.py``), measures,
prints a table, writes ``bench/results/latest.json`` and stops everything it started.

1. Ingest: committed webhooks/s at the gateway (1 KiB JSON, wrk at 16 and 64 connections, p50/p99)
   against ``/bench/trivial`` on the same gunicorn. Celery workers are not running, so the figure is
   the gateway's alone; every accepted request is checked to be in the database.
2. End to end: N messages into one input fanned out to 3 sink destinations, sent as fast as 16
   clients go: deliveries/s from the first accept to the last receipt; then ingest->receipt latency
   at an offered rate. Reference: the sink driven by a requests.Session loop from 4 threads.
   Every accepted message must arrive exactly once per destination (ids checked against the
   database). Sending and waiting are bounded (--burst-send-limit, --*-drain), so a slow platform
   shows up as INCOMPLETE with its counts, not as a run that never ends; what a run leaves behind
   is retired before the next one starts.
3. Isolation: the paced run again with a 4th destination that hangs 30 s per request.
4. Recipes: ``bench/recipes.py``, when it exists.
5. Memory: peak RSS (VmHWM) of the web and worker processes after figure 2.

``--only ingest`` (or ``e2e``, ``recipes``) runs only those figures: figure 1 alone starts neither the
sink nor Celery, and writes ``latest-ingest.json`` (only a full run writes ``latest.json``).

``--profile`` also samples the gunicorn workers (ingest at 64 connections) and the Celery workers
(the end-to-end burst) with py-spy and prints where their CPU time goes (bench/results/profile-*).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter, defaultdict
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402

BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
PG_SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB", "hr_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
BODY_BYTES = 1024
USE_WRK = bool(shutil.which("wrk"))
FIGURES = ("ingest", "e2e", "recipes")


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

    def start(self, name: str, command: list[str]) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
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


# --- setup -------------------------------------------------------------------------------------


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


# --- figure 1 ----------------------------------------------------------------------------------


def wrk(url: str, payload: bytes, connections: int, seconds: float) -> dict:
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "-s",
            "bench/wrk.lua",
            url,
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_BODY": payload.decode()},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    raw = json.loads(line.removeprefix("BENCH_JSON "))
    ok = raw["requests"] - raw["non_2xx"]
    return {
        "requests": raw["requests"],
        "ok": ok,
        "failed": raw["non_2xx"] + raw["socket_errors"],
        "per_second": ok / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


def load_for(url: str, payload: bytes, connections: int, seconds: float) -> dict:
    if USE_WRK:
        return {**wrk(url, payload, connections, seconds), "tool": "wrk"}
    return {**load.fixed_duration(url, payload, connections=connections, seconds=seconds), "tool": "python"}


def figure_ingest(args, base: str, input, profiler) -> dict:
    from deliveries.models import IncomingMessage

    gateway = f"{base}/v1/ingest/{input.pk}"
    trivial = f"{base}/bench/trivial"
    payload = body(0, "bench.ingest")
    rows = IncomingMessage.objects.filter(input=input)
    figure = {}
    for connections in args.connections:
        load_for(trivial, payload, connections, args.warmup)
        reference = load_for(trivial, payload, connections, args.ingest_seconds)
        load_for(gateway, payload, connections, args.warmup)
        before = rows.count()
        with profiler("ingest" if connections == max(args.connections) else None):
            measured = load_for(gateway, payload, connections, args.ingest_seconds)
        time.sleep(1.0)  # requests wrk abandoned at its deadline may still commit
        stored = rows.count() - before
        figure[str(connections)] = {
            "gateway": measured,
            "trivial": reference,
            "ratio": round(measured["per_second"] / reference["per_second"], 3),
            "stored": stored,
            "all_accepted_stored": stored >= measured["ok"] and measured["failed"] == 0,
        }
    return figure


def retire(input) -> int:
    """Take what is left of a run out of the pipeline's way, so the next run starts from an empty
    one: unprocessed messages become processed, undelivered ones failed, and the broker is
    flushed. Returns how many outgoing messages were left undelivered.

    The workers are still running: these bulk UPDATEs can deadlock with their transactions, and
    are tried again (PostgreSQL aborts one side of a deadlock)."""
    from django.db import OperationalError, transaction
    from django.utils import timezone

    from deliveries.models import IncomingMessage, OutgoingMessage

    for tries_left in reversed(range(5)):
        now = timezone.now()
        try:
            with transaction.atomic():
                IncomingMessage.objects.filter(input=input, status=IncomingMessage.Status.RECEIVED).update(
                    status=IncomingMessage.Status.PROCESSED, lease_until=None, processed_at=now
                )
                left = OutgoingMessage.objects.filter(
                    incoming__input=input, status=OutgoingMessage.Status.PENDING
                ).update(
                    status=OutgoingMessage.Status.FAILED,
                    error="bench: left at the end of the run",
                    completed_at=now,
                )
            break
        except OperationalError:
            if not tries_left:
                raise
    flush_redis()
    return left


# --- figures 2 and 3 ---------------------------------------------------------------------------


def drain(sink: str, expected: dict[str, int], timeout: float, stall: float = 15.0) -> bool:
    """Wait until the sink received ``expected`` receipts per path segment; give up after
    ``timeout`` seconds, or ``stall`` seconds without a new receipt."""
    deadline = time.monotonic() + timeout
    last_total, last_progress = -1, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - last_progress < stall:
        counts = http_get(f"{sink}/_stats")
        if all(counts.get(segment, 0) >= count for segment, count in expected.items()):
            return True
        total = sum(counts.values())
        if total != last_total:
            last_total, last_progress = total, time.monotonic()
        time.sleep(0.25)
    return False


def delivery_run(
    args,
    base: str,
    sink: str,
    logs: Path,
    input,
    *,
    rate: float | None,
    count: int,
    within: float,
    drain_for: float,
) -> dict:
    """Send ``count`` messages to ``input`` (paced at ``rate``/s, or as fast as 16 clients go) for
    at most ``within`` seconds, wait for the sink, and check every accepted message arrived exactly
    once at every fast destination."""
    from deliveries.models import OutgoingMessage
    from destinations.models import Destination

    destinations = list(Destination.objects.filter(input=input))
    paths = {d.pk: "/" + d.endpoint_url.removeprefix(sink + "/") for d in destinations}
    fast = {pk: path for pk, path in paths.items() if not path.startswith("/hang/")}
    http_get(f"{sink}/_dump?path={logs / 'receipts-before.jsonl'}")  # forget earlier receipts
    bodies = [body(seq, "bench.e2e") for seq in range(count)]
    answers = load.send_all(
        f"{base}/v1/{input.name}/{input.pk}",
        bodies,
        connections=args.send_connections,
        rate=rate,
        within=within,
    )
    accepted = {answer.incoming_id for answer in answers if answer.incoming_id}
    send_seconds = max(a.answered for a in answers) - min(a.sent for a in answers)
    drained = drain(sink, {path.split("/")[1]: len(accepted) for path in fast.values()}, drain_for)
    dump = logs / f"receipts-{input.name}.jsonl"
    http_get(f"{sink}/_dump?path={dump}")
    receipts = [json.loads(line) for line in dump.read_text().splitlines()]
    hang_receipts = sum(1 for path, _m, _t in receipts if path.startswith("/hang/"))
    receipts = [receipt for receipt in receipts if receipt[0] in fast.values()]

    outgoing = {
        pk: (destination_id, incoming_id, created.timestamp())
        for pk, destination_id, incoming_id, created in OutgoingMessage.objects.filter(
            incoming__input=input
        ).values_list("pk", "destination_id", "incoming_id", "incoming__created")
    }
    seen = Counter(message_id for _path, message_id, _t in receipts)
    latencies = []
    received_by_destination: dict[str, set[str]] = defaultdict(set)
    unknown = 0
    last_receipt = 0.0
    for _path, message_id, arrived in receipts:
        if message_id not in outgoing:
            unknown += 1
            continue
        destination_id, incoming_id, created = outgoing[message_id]
        received_by_destination[destination_id].add(incoming_id)
        latencies.append(arrived - created)
        last_receipt = max(last_receipt, arrived)
    first_accept = min((created for _d, _i, created in outgoing.values()), default=0.0)
    delivered = sum(seen.values())
    exactly_once = (
        unknown == 0
        and all(times == 1 for times in seen.values())
        and all(received_by_destination[pk] == accepted for pk in fast)
    )
    span = last_receipt - first_accept if delivered else 0.0
    return {
        "messages": count,
        "sent": len(answers),
        "accepted": len(accepted),
        "offered_per_second": rate,
        "sent_per_second": round(len(answers) / send_seconds, 1) if send_seconds else None,
        "destinations": len(fast),
        "deliveries": delivered,
        "duplicates": sum(times - 1 for times in seen.values()),
        "drained": drained,
        "exactly_once": exactly_once,
        "seconds": round(span, 2),
        "deliveries_per_second": round(delivered / span, 1) if span else 0.0,
        "latency": load.summary_ms(latencies),
        "hang_receipts": hang_receipts,
        "left_undelivered": retire(input),
    }


def figures_delivery(
    args, stack: Stack, base: str, sink: str, logs: Path, world: dict, web_pid: int, profiler
) -> dict:
    """Figures 2, 3 and 5: the sink and the Celery workers are started for them (and stopped)."""
    stack.start("sink", [sys.executable, "-m", "bench.sink", str(sink.rsplit(":", 1)[1])])
    wait_for(lambda: http_get(f"{sink}/_stats") is not None, "the sink")
    results: dict = {}
    print("bench: figure 2 reference (requests.Session x4 -> sink)", flush=True)
    results["sink_reference"] = load.session_loop(
        f"{sink}/reference", threads=4, seconds=args.reference_seconds
    )
    workers = []
    for number in range(args.celery_workers):
        workers.append(
            stack.start(
                f"celery-{number}",
                [
                    str(BIN / "celery"),
                    "-A",
                    "config",
                    "worker",
                    "--pool",
                    "threads",
                    "--concurrency",
                    str(args.celery_threads),
                    "--loglevel",
                    "WARNING",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                    "-n",
                    f"bench{number}@%h",
                ],
            )
        )
    from config.celery import app

    wait_for(lambda: len(app.control.ping(timeout=1.0)) == args.celery_workers, "the Celery workers", 60)
    profiler.targets["delivery"] = [worker.pid for worker in workers]

    print(f"bench: figure 2 burst ({args.messages} messages x 3 destinations)", flush=True)
    with profiler("delivery"):
        burst = delivery_run(
            args,
            base,
            sink,
            logs,
            world["burst"],
            rate=None,
            count=args.messages,
            within=args.burst_send_limit,
            drain_for=args.burst_drain,
        )
    paced_count = int(args.rate * args.paced_seconds)
    print(f"bench: figure 2 latency ({paced_count} messages at {args.rate:.0f}/s)", flush=True)

    def paced_run(input) -> dict:
        return delivery_run(
            args,
            base,
            sink,
            logs,
            input,
            rate=args.rate,
            count=paced_count,
            within=2 * args.paced_seconds,
            drain_for=args.paced_drain,
        )

    paced = paced_run(world["paced"])
    results["end_to_end"] = {"burst": burst, "paced": paced}
    results["memory"] = {
        "web_mib": max(peak_rss_kib(pid) for pid in children(web_pid)) / 1024,
        "worker_mib": max(peak_rss_kib(worker.pid) for worker in workers) / 1024,
    }

    print("bench: figure 3 (the latency run with a 4th destination hanging 30 s)", flush=True)
    with_hang = paced_run(world["isolated"])
    results["isolation"] = {
        "with_hang": with_hang,
        "without_hang_p99_ms": paced["latency"]["p99_ms"],
        "ratio": round(with_hang["latency"]["p99_ms"] / max(paced["latency"]["p99_ms"], 0.1), 2),
    }
    for name in list(stack.processes):
        if name.startswith("celery"):
            stack.stop(name, grace=5.0)

    return results


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    with suppress(FileNotFoundError):
        return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


# --- profiling ---------------------------------------------------------------------------------


class Profiler:
    """With --profile: while a block runs, py-spy samples the given processes (``--gil``: only the
    thread holding the GIL, i.e. where Python spends CPU) and PostgreSQL's sessions are sampled
    for what they wait on; both are summarised in bench/results/profile-NAME.txt."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.targets: dict[str, list[int]] = {}

    @contextmanager
    def __call__(self, name: str | None):
        if not (self.enabled and name):
            yield
            return
        spies = [
            subprocess.Popen(
                [
                    str(BIN / "py-spy"),
                    "record",
                    "--pid",
                    str(pid),
                    "--gil",
                    "--nonblocking",
                    "--rate",
                    "200",
                    "--format",
                    "raw",
                    "--output",
                    str(RESULTS / f"profile-{name}-{pid}.raw"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for pid in self.targets[name]
        ]
        stop = threading.Event()
        waits: Counter[str] = Counter()
        sampler = threading.Thread(target=sample_database_waits, args=(stop, waits))
        sampler.start()
        try:
            yield
        finally:
            stop.set()
            sampler.join()
            for spy in spies:
                spy.send_signal(signal.SIGINT)
            for spy in spies:
                spy.wait(30)
            raw = sorted(RESULTS.glob(f"profile-{name}-*.raw"))
            summary = summarise_profile(raw) + summarise_waits(waits)
            for path in raw:
                path.unlink()
            (RESULTS / f"profile-{name}.txt").write_text(summary)
            print(f"profile {name}:\n{summary}", flush=True)


def sample_database_waits(stop: threading.Event, waits: Counter[str]) -> None:
    """Every 50 ms, what each active session of the bench database is doing or waiting on."""
    import psycopg

    with psycopg.connect(f"{PG_SERVER}/{DB_NAME}", autocommit=True) as connection:
        while not stop.wait(0.05):
            for wait, query in connection.execute(
                "SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU'), left(query, 60)"
                " FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND pid <> pg_backend_pid()",
                [DB_NAME],
            ):
                waits[f"{wait:28} {' '.join(query.split())}"] += 1
            waits["(samples)"] += 1


def summarise_waits(waits: Counter[str], top: int = 15) -> str:
    samples = waits.pop("(samples)", 0)
    if not samples:
        return ""
    lines = [f"PostgreSQL, active sessions per sample ({samples} samples), by wait and query:"]
    lines += [f"  {count / samples:6.2f}  {what}" for what, count in waits.most_common(top)]
    return "\n".join(lines) + "\n"


def _frame(frame: str) -> str:
    """``function (path/to/file.py:12)`` -> ``function (to/file.py)``."""
    function, _, where = frame.partition(" (")
    return f"{function} ({'/'.join(where.split(':')[0].split('/')[-2:])})" if where else frame


def summarise_profile(paths: list[Path], top: int = 40) -> str:
    """The functions holding the most GIL samples: inclusive (with what they call) and self."""
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    total = 0
    for path in paths:
        for line in path.read_text().splitlines():
            stack, _, samples = line.rpartition(" ")
            if not stack:
                continue
            frames = [_frame(frame) for frame in stack.split(";")]
            total += int(samples)
            for frame in set(frames):
                inclusive[frame] += int(samples)
            own[frames[-1]] += int(samples)
    if not total:
        return "no samples\n"
    lines = [f"{total} samples of the GIL holder over {len(paths)} process(es); inclusive:"]
    lines += [f"  {100 * count / total:5.1f}%  {frame}" for frame, count in inclusive.most_common(top)]
    lines += ["self:"] + [f"  {100 * count / total:5.1f}%  {frame}" for frame, count in own.most_common(top)]
    return "\n".join(lines) + "\n"


# --- report ------------------------------------------------------------------------------------


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


def table(results: dict) -> str:
    rows = [("figure", "measured", "reference (same run)", "ratio", "target", "met", "check")]
    for connections, f in results.get("ingest", {}).items():
        g, t = f["gateway"], f["trivial"]
        rows.append(
            (
                f"1 ingest, {connections} connections",
                f"{g['per_second']:.0f}/s p50 {g['p50_ms']:.1f} p99 {g['p99_ms']:.1f} ms",
                f"trivial view {t['per_second']:.0f}/s p50 {t['p50_ms']:.1f} p99 {t['p99_ms']:.1f} ms",
                f"{f['ratio']:.2f}",
                ">= 0.5",
                yes(f["ratio"] >= 0.5),
                "all stored" if f["all_accepted_stored"] else "LOST",
            )
        )
    if "end_to_end" in results:
        burst, paced = results["end_to_end"]["burst"], results["end_to_end"]["paced"]
        reference = results["sink_reference"]["per_second"]
        rows.append(
            (
                f"2 e2e throughput, {burst['accepted']} msgs x {burst['destinations']}",
                f"{burst['deliveries_per_second']:.0f} deliveries/s over {burst['seconds']:.0f} s",
                f"requests.Session x4 {reference:.0f}/s",
                f"{burst['deliveries_per_second'] / reference:.2f}",
                ">= 1000/s",
                yes(burst["deliveries_per_second"] >= 1000),
                check(burst),
            )
        )
        rows.append(
            (
                f"2 e2e latency, {paced['offered_per_second']:.0f} msg/s offered",
                f"p50 {paced['latency']['p50_ms']:.0f} p99 {paced['latency']['p99_ms']:.0f} ms",
                f"(sent {paced['sent_per_second']:.0f} msg/s, {paced['deliveries_per_second']:.0f} deliveries/s)",
                "",
                "p99 < 150 ms",
                yes(paced["latency"]["p99_ms"] < 150),
                check(paced),
            )
        )
        isolation = results["isolation"]
        rows.append(
            (
                "3 isolation, + a destination hanging 30 s",
                f"fast p99 {isolation['with_hang']['latency']['p99_ms']:.0f} ms",
                f"without it: p99 {isolation['without_hang_p99_ms']:.0f} ms",
                f"{isolation['ratio']:.2f}",
                "<= 1.1x",
                yes(isolation["ratio"] <= 1.1),
                check(isolation["with_hang"]),
            )
        )
    recipes = results.get("recipes") or {}
    warm, cold = recipes.get("warm, message form"), recipes.get("cold (fresh V8 context), message form")
    if warm:
        rows.append(
            (
                "4 recipe per message (warm context)",
                f"median {warm['median_ms']:.2f} p99 {warm['p99_ms']:.2f} ms",
                f"cold context: median {cold['median_ms']:.2f} ms" if cold else "",
                "",
                "median < 2 ms",
                yes(warm["median_ms"] < 2),
                "",
            )
        )
    if "memory" in results:
        memory = results["memory"]
        rows.append(
            (
                "5 peak RSS after figure 2",
                f"web {memory['web_mib']:.0f} MiB, worker {memory['worker_mib']:.0f} MiB",
                "",
                "",
                "",
                "",
                "",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def yes(met: bool) -> str:
    return "yes" if met else "NO"


def check(run: dict) -> str:
    if not run["drained"]:
        return f"INCOMPLETE ({run['deliveries']} of {run['accepted'] * run['destinations']})"
    return "exactly once" if run["exactly_once"] else "MISMATCH"


# --- main --------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    # gthread: a thread waiting for its commit (or a sync relay) leaves the process to the others,
    # and concurrent rows share one commit (core.group_commit); one process per core here.
    parser.add_argument("--web-workers", type=int, default=2)
    parser.add_argument("--web-threads", type=int, default=16, help="> 1: gunicorn's gthread worker")
    parser.add_argument("--celery-workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--celery-threads", type=int, default=16, help="threads per Celery worker")
    parser.add_argument("--max-in-flight", type=int, default=8, help="DESTINATION_MAX_IN_FLIGHT")
    parser.add_argument("--connections", type=int, nargs="+", default=[16, 64])
    parser.add_argument("--ingest-seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--messages", type=int, default=10_000, help="figure 2's burst")
    parser.add_argument("--rate", type=float, default=300.0, help="figure 2's offered msg/s")
    parser.add_argument("--paced-seconds", type=float, default=15.0, help="length of the paced runs")
    parser.add_argument("--send-connections", type=int, default=16)
    parser.add_argument("--burst-send-limit", type=float, default=90.0, help="stop sending the burst after")
    parser.add_argument("--burst-drain", type=float, default=100.0, help="wait at most this for receipts")
    parser.add_argument("--paced-drain", type=float, default=60.0, help="wait at most this for receipts")
    parser.add_argument("--reference-seconds", type=float, default=5.0)
    parser.add_argument(
        "--only",
        nargs="+",
        choices=FIGURES,
        default=FIGURES,
        help="run only these figures (e2e: 2, 3 and 5, with the sink and Celery; ingest alone needs neither)",
    )
    parser.add_argument("--profile", action="store_true", help="py-spy the ingest and delivery paths")
    parser.add_argument("--keep-db", action="store_true", help="leave the hr_bench database behind")
    parser.add_argument("--no-wrk", action="store_true", help="figure 1 with the Python load generator")
    args = parser.parse_args()
    global USE_WRK
    USE_WRK = USE_WRK and not args.no_wrk

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
            print("bench: figure 1 (ingest)", flush=True)
            results["ingest"] = figure_ingest(args, base, world["ingest"], profiler)
        if "e2e" in args.only:
            retire(world["ingest"])  # not for the Celery workers about to start
            results.update(figures_delivery(args, stack, base, sink, logs, world, gunicorn.pid, profiler))
        recipes = ROOT / "bench" / "recipes.py"
        if "recipes" in args.only and recipes.exists():
            print("bench: figure 4 (bench/recipes.py)", flush=True)
            results["recipes"] = run_recipes(recipes)

        results["settings"] = {
            "django_settings": "bench.settings (config.settings.production + /bench/trivial)",
            "gunicorn": " ".join(web[1:]).replace(f"127.0.0.1:{web_port}", "127.0.0.1:PORT"),
            "celery": f"{args.celery_workers} x --pool threads --concurrency {args.celery_threads}",
            "DESTINATION_MAX_IN_FLIGHT": args.max_in_flight,
            "load": "wrk -t2" if USE_WRK else "python (bench/load.py)",
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
