"""Figures 2, 3 and 4: the end-to-end runs through the real pipeline, each message checked to
arrive exactly once per destination."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

from bench import load
from bench.stack import (
    Stack,
    body,
    celery_worker,
    children,
    cpu_seconds,
    database_cpu_seconds,
    flush_redis,
    http_get,
    machine_cpu_seconds,
    peak_rss_kib,
    redis_cpu_seconds,
    wait_for,
)


def retire(input, *, flush: bool = True) -> int:
    """Take what is left of a run out of the pipeline's way, so the next run starts from an empty
    one: unprocessed messages become processed, undelivered ones failed, and (with ``flush``) the
    broker and the throttles' state are flushed. Returns how many outgoing messages were left
    undelivered.

    The workers are still running: these bulk UPDATEs can deadlock with their transactions, and
    are tried again, a second apart (PostgreSQL aborts one side of a deadlock)."""
    from django.db import OperationalError, transaction
    from django.utils import timezone

    from deliveries.models import IncomingMessage, OutgoingMessage

    for tries_left in reversed(range(10)):
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
            time.sleep(1.0)  # the recording of the last deliveries may still be under way
    vacuum()
    if flush:
        flush_redis()
    return left


def vacuum() -> None:
    """VACUUM ANALYZE the pipeline's tables, as autovacuum would between runs: it is off on some
    servers (this machine's), and their dead rows and index entries would slow each later run."""
    from django.db import connection

    from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
    from reporting.models import Traffic

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        for model in (IncomingMessage, OutgoingMessage, Attempt, Traffic):
            cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


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


def cpu_used(cpu_of: dict[str, list[int]]) -> dict[str, float]:
    """CPU time used so far by the processes ``cpu_of`` names, by PostgreSQL and Redis (where the
    run has them) and by the whole machine."""
    from django.db import connection

    from core.redis import redis_client

    used = {name: cpu_seconds(pids) for name, pids in cpu_of.items()}
    if connection.vendor == "postgresql":
        used["database"] = database_cpu_seconds()
    if redis_client() is not None:
        used["redis"] = redis_cpu_seconds()
    return {**used, "machine": machine_cpu_seconds()}


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
    cpu_of: dict[str, list[int]] | None = None,
    latencies: list[float] | None = None,
    flush: bool = True,
) -> dict:
    """Send ``count`` messages to ``input`` (paced at ``rate``/s, or as fast as 16 clients go) for
    at most ``within`` seconds, wait for the sink, and check every accepted message arrived exactly
    once at every fast destination. Also the CPU time per accepted message of the processes
    ``cpu_of`` names and of the whole machine, from the first message sent to the last receipt.
    Each receipt's latency is added to ``latencies``, if given; ``flush``: see ``retire``."""
    from deliveries.models import OutgoingMessage
    from destinations.models import Destination

    destinations = list(Destination.objects.filter(input=input))
    paths = {d.pk: "/" + d.endpoint_url.removeprefix(sink + "/") for d in destinations}
    fast = {pk: path for pk, path in paths.items() if not path.startswith("/hang/")}
    http_get(f"{sink}/_dump?path={logs / 'receipts-before.jsonl'}")  # forget earlier receipts
    before = http_get(f"{sink}/_stats")  # counted since the sink started
    bodies = [body(seq, "bench.e2e") for seq in range(count)]
    cpu_before = cpu_used(cpu_of or {})
    answers = load.send_all(
        f"{base}/v1/{input.name}/{input.pk}",
        bodies,
        connections=args.send_connections,
        rate=rate,
        within=within,
    )
    accepted = {answer.incoming_id for answer in answers if answer.incoming_id}
    send_seconds = max(a.answered for a in answers) - min(a.sent for a in answers)
    segments = {path.split("/")[1] for path in fast.values()}
    drained = drain(
        sink, {segment: before.get(segment, 0) + len(accepted) for segment in segments}, drain_for
    )
    cpu = {name: used - cpu_before[name] for name, used in cpu_used(cpu_of or {}).items()}
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
        if incoming_id in accepted  # this run's (an input may serve several)
    }
    seen = Counter(message_id for _path, message_id, _t in receipts)
    latencies = [] if latencies is None else latencies
    earlier = len(latencies)
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
        "latency": load.summary_ms(latencies[earlier:]),
        "cpu_ms_per_message": {
            name: round(1000 * used / max(len(accepted), 1), 2) for name, used in cpu.items()
        },
        "hops": hops(input, receipts),
        "hang_receipts": hang_receipts,
        "left_undelivered": retire(input, flush=flush),
    }


HOPS = (
    "ingest -> dispatcher claim",
    "dispatch -> process start (a free processing thread)",
    "process start -> outgoing row built (or deliver task sent)",
    "row built -> request made (commit, a free sender; claim if by a task)",
    "request made -> sink receipt",
)


def hops(input, receipts: list) -> dict:
    """Where the ingest->receipt time of each first attempt goes, hop by hop: p50 and p99 of each
    hop and its share of the mean latency. From the rows' timestamps (incoming created,
    dispatched_at and processed_at, which is taken as processing starts; the outgoing message's
    enqueued_at, set as processing builds it, or as a ``deliver`` task is sent for it; the
    attempt's started_at, set as its request is made) and the sink's receipt time, all on this
    machine's clock."""
    from deliveries.models import Attempt, OutgoingMessage

    started = dict(
        Attempt.objects.filter(outgoing__incoming__input=input, number=1).values_list(
            "outgoing_id", "started_at"
        )
    )
    rows = {
        pk: times
        for pk, *times in OutgoingMessage.objects.filter(incoming__input=input).values_list(
            "pk", "incoming__created", "incoming__dispatched_at", "incoming__processed_at", "enqueued_at"
        )
    }
    spans: dict[str, list[float]] = {name: [] for name in HOPS}
    for _path, message_id, arrived in receipts:
        times = [*rows.get(message_id, [None]), started.get(message_id)]
        if None in times:
            continue
        points = [moment.timestamp() for moment in times] + [arrived]
        for name, start, end in zip(HOPS, points, points[1:], strict=False):
            spans[name].append(end - start)
    total = sum(sum(values) for values in spans.values()) or 1.0
    return {
        name: {**load.summary_ms(values), "share": round(sum(values) / total, 3), "count": len(values)}
        for name, values in spans.items()
    }


# Figure 4 alternates runs without and with the hanging destination, this many of each, and
# compares their pooled latencies: this machine's speed drifts by tens of percent within minutes
# (other tenants of its host), which two runs minutes apart would measure too.
ISOLATION_ROUNDS = 3


def pooled(runs: list[dict], latencies: list[float]) -> dict:
    """Runs of one condition as one: their counts summed, their checks all passed, their
    latencies pooled, their CPU per message averaged."""
    counts = ("messages", "sent", "accepted", "deliveries", "duplicates", "hang_receipts", "left_undelivered")
    return {
        **{key: sum(run[key] for run in runs) for key in counts},
        "destinations": runs[0]["destinations"],
        "drained": all(run["drained"] for run in runs),
        "exactly_once": all(run["exactly_once"] for run in runs),
        "latency": load.summary_ms(latencies),
        "cpu_ms_per_message": {
            name: round(statistics.fmean(run["cpu_ms_per_message"][name] for run in runs), 2)
            for name in runs[0]["cpu_ms_per_message"]
        },
        "runs": runs,
    }


def start_workers(stack: Stack, args) -> list:
    """The Celery workers of the delivery figures (no beat: no sweeper helps)."""
    return [
        stack.start(f"celery-{number}", celery_worker("config", args.celery_threads, f"bench{number}"))
        for number in range(args.celery_workers)
    ]


def figures_delivery(
    args, stack: Stack, base: str, sink: str, logs: Path, world: dict, web_pid: int, profiler
) -> dict:
    """Figures 2, 3, 4 and the memory figure, with the sink running: the Celery workers are started
    for them (and stopped)."""
    results: dict = {}

    def reference(when: str) -> dict:
        print(f"bench: figure 2 reference {when} the burst (requests.Session x4 -> sink)", flush=True)
        return load.session_loop(f"{sink}/reference", threads=4, seconds=args.reference_seconds)

    # Before and after the burst: their mean is the reference, less skewed by the machine's drift.
    results["sink_reference"] = reference("before")
    workers = start_workers(stack, args)
    from config.celery import app

    wait_for(lambda: len(app.control.ping(timeout=1.0)) == args.celery_workers, "the Celery workers", 60)
    profiler.targets["delivery"] = [worker.pid for worker in workers]
    cpu_of = {"workers": profiler.targets["delivery"], "web": [web_pid, *children(web_pid)]}

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
            cpu_of=cpu_of,
        )
    results["sink_reference_after"] = reference("after")
    paced_count = int(args.rate * args.paced_seconds)
    print(f"bench: figure 3 latency ({paced_count} messages at {args.rate:.0f}/s)", flush=True)

    def paced_run(input, count: int = paced_count, **options) -> dict:
        return delivery_run(
            args,
            base,
            sink,
            logs,
            input,
            rate=args.rate,
            count=count,
            within=2 * count / args.rate,
            drain_for=args.paced_drain,
            cpu_of=cpu_of,
            **options,
        )

    profiler.targets["latency"] = profiler.targets["delivery"]
    with profiler("latency"):
        paced = paced_run(world["paced"])
    results["end_to_end"] = {"burst": burst, "paced": paced}
    results["memory"] = {
        "web_mib": max(peak_rss_kib(pid) for pid in children(web_pid)) / 1024,
        "worker_mib": max(peak_rss_kib(worker.pid) for worker in workers) / 1024,
    }

    segment = paced_count // ISOLATION_ROUNDS
    print(
        f"bench: figure 4 ({ISOLATION_ROUNDS} rounds of {segment} messages at {args.rate:.0f}/s without, "
        "then with, a 4th destination hanging 30 s)",
        flush=True,
    )
    profiler.targets["isolation"] = profiler.targets["delivery"]
    runs: dict[str, list[dict]] = {"without_hang": [], "with_hang": []}
    latencies: dict[str, list[float]] = {"without_hang": [], "with_hang": []}
    for _ in range(ISOLATION_ROUNDS):
        # Not flushed between rounds: the hanging destination's slots stay as in one long run.
        runs["without_hang"].append(
            paced_run(world["paced"], segment, latencies=latencies["without_hang"], flush=False)
        )
        with profiler("isolation"):  # the last round's
            runs["with_hang"].append(
                paced_run(world["isolated"], segment, latencies=latencies["with_hang"], flush=False)
            )
    flush_redis()
    results["isolation"] = {name: pooled(runs[name], latencies[name]) for name in runs}
    p99s = [results["isolation"][name]["latency"]["p99_ms"] for name in ("with_hang", "without_hang")]
    results["isolation"]["ratio"] = round(p99s[0] / max(p99s[1], 0.1), 2)
    for name in list(stack.processes):
        if name.startswith("celery"):
            stack.stop(name, grace=5.0)

    return results
