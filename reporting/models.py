from __future__ import annotations

from django.db import models
from django.db.models import Q

# Upper bounds (ms) of the delivery latency histogram: 2^(k/2) for k = 1..32, i.e. each bucket is
# √2 times as wide as the one before, from 1 ms to 65.5 s, plus one bucket for anything slower.
# Percentiles interpolated inside a bucket are within about ±20% of the true value, whatever the
# traffic, with a fixed number of columns that sums across rows (rollups add up by SQL).
LATENCY_BOUNDS_MS = tuple(round(2 ** (k / 2)) for k in range(1, 33))
LATENCY_COLUMNS = tuple(f"latency_{index:02d}" for index in range(len(LATENCY_BOUNDS_MS) + 1))
COUNTS = ("incoming", "outgoing", "succeeded", "failed", "retried", *LATENCY_COLUMNS)


class Traffic(models.Model):
    """Pre-aggregated traffic of one (account, bucket, input, destination) in one minute or hour,
    kept by the pipeline in the transactions that record what it counts (reporting.rollups).

    Ids are plain columns, not foreign keys: the history outlives purged messages and deleted
    objects. ``destination_id`` is empty on the rows counting incoming messages. Counts are
    signed: reprocessing an incoming message takes back its first count.

    A key's counts are spread over up to STRIPES rows (``stripe``), which the reports sum: every
    pipeline transaction of an account updates its rows, and holds their locks until it commits,
    so with one row per key the account's transactions would wait for each other."""

    class Precision(models.TextChoices):
        MINUTE = "minute"
        HOUR = "hour"

    account_id = models.CharField(max_length=34)
    bucket_id = models.CharField(max_length=34)
    input_id = models.CharField(max_length=34)
    destination_id = models.CharField(max_length=34, blank=True, default="")
    precision = models.CharField(max_length=6, choices=Precision.choices)
    period = models.DateTimeField(help_text="Start of the minute or hour (UTC).")
    incoming = models.IntegerField(default=0)
    outgoing = models.IntegerField(default=0)
    succeeded = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    retried = models.IntegerField(default=0, help_text="Failed attempts followed by a retry.")
    stripe = models.PositiveSmallIntegerField(default=0, help_text="Which of the key's rows this is.")

    class Meta:
        verbose_name_plural = "traffic"
        ordering = ["account_id", "precision", "period"]
        constraints = [
            # Also the index of every report: an account's rows of one precision by period.
            models.UniqueConstraint(
                fields=[
                    "account_id",
                    "precision",
                    "period",
                    "bucket_id",
                    "input_id",
                    "destination_id",
                    "stripe",
                ],
                name="traffic_one_row_per_period_and_stripe",
            )
        ]
        indexes = [
            models.Index(fields=["period"], name="traffic_minutes", condition=Q(precision="minute")),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.precision} {self.period:%Y-%m-%d %H:%M}"


# One column per histogram bucket: attempts whose elapsed time fell in it.
for _column in LATENCY_COLUMNS:
    Traffic.add_to_class(_column, models.IntegerField(default=0))
