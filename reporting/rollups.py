"""Keeping the traffic rollups (``reporting.models.Traffic``) from inside the pipeline.

Each pipeline step that changes what the reports count calls ``traffic_count`` once, in the
transaction that records the change, so the rollups never disagree with the messages: the counts
of a batch are summed here per row (a minute row and an hour row per key), then written in one
order, so that concurrent transactions lock rows in the same order, by one upsert (``INSERT ...
ON CONFLICT ... DO UPDATE``): on PostgreSQL one statement for all the rows (a JSON array),
on SQLite the statement executed for each row."""

from __future__ import annotations

import json
import random
import threading
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from functools import cache

from django.db import connection
from django.utils import timezone

from deliveries.models import Attempt, IncomingMessage, OutgoingMessage
from reporting.models import COUNTS, LATENCY_BOUNDS_MS, LATENCY_COLUMNS, Traffic

KEY_COLUMNS = ("account_id", "precision", "period", "bucket_id", "input_id", "destination_id", "stripe")
STRIPES = 16
_thread = threading.local()


def _stripe() -> int:
    """This thread's rollup rows (see ``Traffic``): always the same, so a transaction that counts
    twice never locks rows of two stripes, in an order another transaction could reverse."""
    if not hasattr(_thread, "stripe"):
        _thread.stripe = random.randrange(STRIPES)  # noqa: S311 (spreading load, not a secret)
    return _thread.stripe


PRECISIONS = {Traffic.Precision.MINUTE: "minute", Traffic.Precision.HOUR: "hour"}


def floor_to(at: datetime, unit: str) -> datetime:
    """The start of the minute or hour of ``at``."""
    at = at.replace(second=0, microsecond=0)
    return at.replace(minute=0) if unit == "hour" else at


def latency_column(elapsed_ms: int) -> str:
    """The histogram column of an attempt that took ``elapsed_ms``."""
    return LATENCY_COLUMNS[bisect_left(LATENCY_BOUNDS_MS, elapsed_ms)]


@cache
def _upsert_sql() -> str:
    quote = connection.ops.quote_name
    table = quote(Traffic._meta.db_table)
    columns = ", ".join(quote(column) for column in (*KEY_COLUMNS, *COUNTS))
    if connection.vendor == "postgresql":
        # Every row in one parameter (a JSON array of rows): one statement whatever their number,
        # prepared once by the server and short enough for psycopg's cache of converted queries.
        rows = f"SELECT {columns} FROM json_populate_recordset(NULL::{table}, %s)"  # noqa: S608 (names from the model)
    else:
        rows = "VALUES ({})".format(", ".join(["%s"] * (len(KEY_COLUMNS) + len(COUNTS))))
    return "INSERT INTO {} AS t ({}) {} ON CONFLICT ({}) DO UPDATE SET {}".format(
        table,
        columns,
        rows,
        ", ".join(quote(column) for column in KEY_COLUMNS),
        ", ".join(f"{quote(c)} = t.{quote(c)} + excluded.{quote(c)}" for c in COUNTS),
    )


class _Counts:
    """Counts summed per rollup row: (account, precision, period, bucket, input, destination), in
    this thread's stripe."""

    def __init__(self) -> None:
        self.rows: dict[tuple, dict[str, int]] = defaultdict(lambda: dict.fromkeys(COUNTS, 0))

    def add(self, *, key: tuple[str, str, str, str], at: datetime, **counts: int) -> None:
        account_id, bucket_id, input_id, destination_id = key
        for precision in PRECISIONS:
            row = self.rows[
                (account_id, precision, floor_to(at, precision), bucket_id, input_id, destination_id)
            ]
            for name, count in counts.items():
                row[name] += count

    def save(self) -> None:
        if not self.rows:
            return
        stripe = _stripe()
        rows = [(*key, stripe, *(row[c] for c in COUNTS)) for key, row in sorted(self.rows.items())]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                columns = (*KEY_COLUMNS, *COUNTS)
                batch = json.dumps(
                    [dict(zip(columns, row, strict=True)) for row in rows], default=datetime.isoformat
                )
                cursor.execute(_upsert_sql(), [batch])
            else:
                period = Traffic._meta.get_field("period")
                cursor.executemany(
                    _upsert_sql(),
                    [(*row[:2], period.get_db_prep_save(row[2], connection), *row[3:]) for row in rows],
                )


def _incoming_of(outgoings: list[OutgoingMessage]) -> dict[str, tuple[str, str]]:
    """(bucket_id, input_id) of these outgoing messages' incoming messages, loaded or read at once."""
    known = {
        outgoing.incoming_id: (outgoing.incoming.bucket_id, outgoing.incoming.input_id)
        for outgoing in outgoings
        if OutgoingMessage.incoming.is_cached(outgoing)
    }
    missing = {outgoing.incoming_id for outgoing in outgoings} - known.keys()
    if missing:
        rows = IncomingMessage.objects.filter(pk__in=missing).values_list("pk", "bucket_id", "input_id")
        known.update((pk, (bucket_id, input_id)) for pk, bucket_id, input_id in rows)
    return known


def traffic_count(
    *,
    incoming: Iterable[IncomingMessage] = (),
    outgoing: Iterable[OutgoingMessage] = (),
    attempts: Iterable[tuple[OutgoingMessage, Attempt, bool]] = (),
    sign: int = 1,
) -> None:
    """Count, in the caller's transaction: incoming messages (at their arrival), new outgoing
    messages (at their ``received_at``), and finished attempts given as (outgoing message,
    attempt, retried), counted when they finished: a success, a final failure, or a failure
    followed by a retry, with the attempt's elapsed time in the latency histogram.
    ``sign=-1`` takes incoming messages back (they are about to be processed again)."""
    counts = _Counts()
    for message in incoming:
        key = (message.account_id, message.bucket_id, message.input_id, "")
        counts.add(key=key, at=message.created, incoming=sign)
    outgoing, attempts = list(outgoing), list(attempts)
    origins = _incoming_of(outgoing + [message for message, _, _ in attempts])
    for message in outgoing:
        key = (message.account_id, *origins[message.incoming_id], message.destination_id)
        counts.add(key=key, at=message.received_at, outgoing=1)
    for message, attempt, retried in attempts:
        outcome = "retried" if retried else ("succeeded" if attempt.succeeded else "failed")
        key = (message.account_id, *origins[message.incoming_id], message.destination_id)
        counts.add(
            key=key,
            at=attempt.finished_at or timezone.now(),
            **{outcome: 1, latency_column(attempt.elapsed_ms or 0): 1},
        )
    counts.save()
