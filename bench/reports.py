"""Figure 6, reports: ``stats/overview`` over 30 days by hour and the request log's first page,
answered by gunicorn with 1,000,000 incoming messages and 3,000,000 attempts stored.

The data is loaded by ``bench/run.py --only reports`` (part of a full run) before the figure:
one account, one input fanned out to 3 destinations, 1,000,000 incoming messages spread evenly
over the last 30 days, each with an outgoing message and one attempt per destination (2% of them
failed with a 500), and the traffic rollups the pipeline would have kept for them. Each table is
written with one ``COPY`` (not the ORM), the four in parallel, with foreign-key triggers off for
the load (``session_replication_role = replica``: the rows are consistent by construction), then
``ANALYZE``. Bodies are 256 bytes, to keep the load quick; the queries measured never read them.

The figure is the median of ``RUNS`` requests of each kind over HTTP, after a warm-up; the
reference is ``/bench/trivial`` on the same gunicorn in the same run."""

from __future__ import annotations

import json
import random
import statistics
import threading
import time
import urllib.request
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from functools import partial

RUNS = 30
DAYS = 30
DESTINATIONS = 3
FAILED_SHARE = 0.02
CHUNK = 20_000
BUILDERS = 3  # index builds at once
BODY = json.dumps({"event": "order.created", "order": {"id": 1, "note": "x" * 200}}).encode()[:256]


def _world() -> dict:
    """The account (enterprise: 90 days of retention), its input, destinations and an API token."""
    from accounts.models import Plan, User
    from accounts.services import account_create, api_token_issue
    from buckets.models import Bucket
    from destinations.models import Destination
    from inputs.authentication_options import new_signing_secret
    from inputs.models import Input

    account = account_create(name="Reports", plan=Plan.objects.get(pk="enterprise"))
    bucket = Bucket.objects.create(account=account, name="Reports", key="reports")
    input_ = Input.objects.create(account=account, bucket=bucket, name="reports", key="reports")
    destinations = [
        Destination.objects.create(
            account=account,
            input=input_,
            name=f"reports-{n}",
            key=f"reports-{n}",
            endpoint_url=f"http://127.0.0.1:9/reports-{n}",
            secret=new_signing_secret(),
        )
        for n in range(DESTINATIONS)
    ]
    user = User.objects.create_user(
        "reports@example.com", account=account, first_name="Bench", last_name="Reports"
    )
    token = api_token_issue(user=user)
    return {
        "account": account,
        "bucket": bucket,
        "input": input_,
        "destinations": destinations,
        "token": token,
    }


def _outcomes(count: int) -> tuple[bytearray, array]:
    """Whether each delivery failed, and its attempt's duration (ms), drawn once for every table."""
    rng = random.Random(6)  # noqa: S311 (bench data, not secrets)
    failed = bytearray(rng.random() < FAILED_SHARE for _ in range(count))
    elapsed = array("i", (min(int(rng.lognormvariate(3.5, 0.8)), 30_000) for _ in range(count)))
    return failed, elapsed


class _Data:
    """The rows of every table, as COPY text chunks generated on demand."""

    def __init__(self, world: dict, messages: int) -> None:
        from django.utils import timezone

        self.account, self.bucket, self.input = world["account"].pk, world["bucket"].pk, world["input"].pk
        self.destinations = [destination.pk for destination in world["destinations"]]
        self.messages = messages
        now = timezone.now()
        self.start, self.step = now - timedelta(days=DAYS), timedelta(days=DAYS) / messages
        self.failed, self.elapsed = _outcomes(messages * DESTINATIONS)
        # Arrival times as COPY text, shared by the tables (formatting them is a good part of the work).
        self.times = [(self.start + self.step * n).isoformat() for n in range(messages)]

    def _chunks(self, row) -> Iterator[str]:
        for first in range(0, self.messages, CHUNK):
            lines = []
            for n in range(first, min(first + CHUNK, self.messages)):
                row(lines, n, self.times[n])
            yield "".join(lines)

    def incoming(self) -> Iterator[str]:
        body = "\\\\x" + BODY.hex()
        fixed = f"\t{self.account}\t{self.bucket}\t{self.input}\n"

        def row(lines: list[str], n: int, at: str) -> None:
            lines.append(
                f"IM{n:032x}\tprocessed\tPOST\t/v1/reports/{self.input}\t\t{{}}\t{body}\tapplication/json"
                f"\torder.created\t127.0.0.1\t\t\t\\N\t{at}\t{at}{fixed}"
            )

        return self._chunks(row)

    def outgoing(self) -> Iterator[str]:
        def row(lines: list[str], n: int, at: str) -> None:
            for d, destination in enumerate(self.destinations):
                index = n * DESTINATIONS + d
                status, code, error = (
                    ("failed", 500, "HTTP 500") if self.failed[index] else ("succeeded", 200, "")
                )
                lines.append(
                    f"OM{index:032x}\t{status}\t{at}\t1\t{at}\t\\N\t\\N\t\\N\t{code}\t{error}\t{at}\t{at}"
                    f"\t{self.account}\t{destination}\tIM{n:032x}\t\\N\n"
                )

        return self._chunks(row)

    def attempts(self) -> Iterator[str]:
        def row(lines: list[str], n: int, at: str) -> None:
            for d in range(DESTINATIONS):
                index = n * DESTINATIONS + d
                code, ok = (500, "f") if self.failed[index] else (200, "t")
                lines.append(
                    f"AT{index:032x}\t1\tPOST\thttp://127.0.0.1:9/reports-{d}\t{{}}\t{code}\t{{}}\t\\\\x\t{ok}"
                    f"\t\t\t{self.elapsed[index]}\t127.0.0.1\t{at}\t{at}\t{self.account}\tOM{index:032x}\n"
                )

        return self._chunks(row)

    def traffic(self) -> Iterator[str]:
        """The rollups the pipeline would have kept for these messages (reporting.rollups)."""
        from reporting.models import COUNTS
        from reporting.rollups import floor_to, latency_column

        rows: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))
        for n in range(self.messages):
            created = self.start + self.step * n
            periods = [("minute", floor_to(created, "minute")), ("hour", floor_to(created, "hour"))]
            for precision, period in periods:
                rows[(precision, period, "")]["incoming"] += 1
            for d, destination in enumerate(self.destinations):
                index = n * DESTINATIONS + d
                status, latency = (
                    "failed" if self.failed[index] else "succeeded",
                    latency_column(self.elapsed[index]),
                )
                for precision, period in periods:
                    counts = rows[(precision, period, destination)]
                    counts["outgoing"] += 1
                    counts[status] += 1
                    counts[latency] += 1
        yield "".join(
            f"{self.account}\t{self.bucket}\t{self.input}\t{destination}\t{precision}\t{period.isoformat()}\t"
            + "\t".join(str(counts[c]) for c in COUNTS)
            + "\n"
            for (precision, period, destination), counts in rows.items()
        )


def _connect():
    """A connection of its own for a thread of the load."""
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    return psycopg.connect(
        host=database["HOST"], port=database["PORT"] or 5432, user=database["USER"],
        password=database["PASSWORD"] or None, dbname=database["NAME"], autocommit=True,
    )  # fmt: skip


def _in_parallel(jobs: list[Callable[[], None]]) -> None:
    """Run each job in a thread of its own (the database works on them at once); raise the first error."""
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as error:  # raised in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def _copy(table: str, columns: list[str], chunks: Iterator[str]) -> None:
    """One COPY of every chunk into ``table``, foreign-key triggers off (consistent rows)."""
    with _connect() as connection:
        connection.execute("SET session_replication_role = replica")
        with connection.cursor().copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for chunk in chunks:
                copy.write(chunk)


def _build(definitions: Iterator[str]) -> None:
    """Create indexes again, taking the next definition until none is left (several builders
    share one iterator, so the largest table's indexes do not end the load on one core)."""
    with _connect() as connection:
        connection.execute("SET maintenance_work_mem = '256MB'")
        for definition in definitions:
            connection.execute(definition)


def load(messages: int = 1_000_000) -> dict:
    """Create the world and store ``messages`` incoming messages (and 3 outgoing messages and 3
    attempts each) with their rollups; returns the world and the load's durations.

    The secondary indexes are dropped for the COPY and built again afterwards, the same
    definitions (``pg_indexes``): building an index once is cheaper than growing it row by row."""
    from django.db import connection

    from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
    from reporting.models import COUNTS, Traffic

    started = time.monotonic()
    world = _world()
    data = _Data(world, messages)
    # Columns in the order of the rows _Data writes (the tables' own order).
    copies = [
        (IncomingMessage, "id status method path query_string headers body content_type event_type source_ip "
         "target_url error lease_until created processed_at account_id bucket_id input_id", data.incoming()),
        (OutgoingMessage, "id status received_at attempt_count next_attempt_at lease_until enqueued_at transformed "
         "last_status_code error created completed_at account_id destination_id incoming_id resent_from_id",
         data.outgoing()),
        (Attempt, "id number request_method request_url request_headers status_code response_headers response_body "
         "succeeded error_kind error elapsed_ms remote_address started_at finished_at account_id outgoing_id",
         data.attempts()),
        (Traffic, " ".join(["account_id bucket_id input_id destination_id precision period", *COUNTS]), data.traffic()),
    ]  # fmt: skip
    tables = [model._meta.db_table for model, _, _ in copies]
    indexes: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
            [tables],
        )
        for table, name, definition in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            indexes.append((table, definition))
    _in_parallel(
        [partial(_copy, model._meta.db_table, names.split(), chunks) for model, names, chunks in copies]
    )
    world["copy_seconds"] = round(time.monotonic() - started, 1)
    # The largest tables' first; threads may share a list iterator (each next() is atomic).
    rows = {IncomingMessage._meta.db_table: messages, Traffic._meta.db_table: 0}
    definitions = iter([d for _, d in sorted(indexes, key=lambda item: -rows.get(item[0], 3 * messages))])
    _in_parallel([partial(_build, definitions) for _ in range(BUILDERS)])
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")
    world["load_seconds"] = round(time.monotonic() - started, 1)
    return world


def _timed_get(url: str, token: str | None = None) -> tuple[float, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (loopback only)
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback only)
        body = response.read()
    return (time.perf_counter() - started) * 1000, json.loads(body)


def _median_ms(url: str, token: str | None, runs: int) -> tuple[float, dict]:
    for _ in range(3):  # warm-up: connections, caches
        _timed_get(url, token)
    timings, body = [], {}
    for _ in range(runs):
        elapsed, body = _timed_get(url, token)
        timings.append(elapsed)
    return round(statistics.median(timings), 1), body


def figure(base: str, messages: int = 1_000_000, runs: int = RUNS) -> dict:
    """Load the data, then the median latency of each report over HTTP at ``base``."""
    from deliveries.models import Attempt, IncomingMessage

    world = load(messages)
    account, token = world["account"].pk, world["token"]
    api = f"{base}/v1/accounts/{account}"
    overview_ms, overview = _median_ms(
        f"{api}/stats/overview?start_date=30+days+ago&end_date=now&precision=hour", token, runs
    )
    log_ms, log = _median_ms(f"{api}/log", token, runs)
    summary_ms, summary = _median_ms(f"{api}/stats/summary", token, runs)
    failed_ms, _ = _median_ms(
        f"{api}/log?destination_id={world['destinations'][0].pk}&status=failed", token, runs
    )
    trivial_ms, _ = _median_ms(f"{base}/bench/trivial", None, runs)
    return {
        "incoming_stored": IncomingMessage.objects.filter(account_id=account).count(),
        "attempts_stored": Attempt.objects.filter(account_id=account).count(),
        "load_seconds": world["load_seconds"],
        "copy_seconds": world["copy_seconds"],
        "runs": runs,
        "overview_30_days_by_hour_ms": overview_ms,
        "overview_points": len(overview["results"]),
        "overview_incoming": sum(point["incoming"] for point in overview["results"]),
        "log_first_page_ms": log_ms,
        "log_page_size": len(log["results"]),
        "summary_ms": summary_ms,
        "summary_incoming": summary["incoming"],
        "log_failed_for_one_destination_ms": failed_ms,
        "trivial_view_ms": trivial_ms,
    }
